"""The inspector's model field: the configured credentials' models to pick from, free text still allowed.

The list comes from the model cache at once (no waiting, no network: it works offline); the
refresh button, or a credential never listed before, asks the servers in a worker thread and
fills the list when they answer, so the window never waits on a slow or absent server. The
worker touches no Qt object: it fills a Future that a timer of this widget looks at, so a field
closed before the servers answer is simply gone (its timer with it).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from concurrent.futures import Future

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QToolButton, QWidget

from flowdesk.providers.model_list import Listing, ModelCache, listable
from flowdesk.providers.settings import LLMSettings, SettingsError, load_settings

log = logging.getLogger(__name__)


def _settings() -> LLMSettings:
    try:
        return load_settings()
    except SettingsError:
        return LLMSettings()  # the Settings dialog reports a broken file; here it only means no models


class ModelPicker(QWidget):
    """An editable list of ``provider:model``; ``edited(text)`` when the person picks or types one."""

    edited = Signal(str)

    def __init__(self, parent: QWidget | None = None, *, auto_refresh: bool = True) -> None:
        super().__init__(parent)
        self.combo = QComboBox()
        self.combo.setEditable(True)
        self.combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.refresh_button = QToolButton()
        self.refresh_button.setText("↻")
        self.refresh_button.setToolTip("Ask the servers of your credentials which models they offer")
        self.refresh_button.clicked.connect(self.refresh)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.combo, 1)
        layout.addWidget(self.refresh_button)
        self.combo.currentTextChanged.connect(self._typed)
        self._pending: Future[list[Listing]] | None = None
        self._poll = QTimer(self)
        self._poll.setInterval(50)
        self._poll.timeout.connect(self._check_answer)
        self._settings = _settings()
        self._cache = ModelCache.load()
        self._filling = False
        self.problems: list[str] = []
        self._fill()
        unlisted = [n for n in listable(self._settings) if n not in self._cache.listings]
        if auto_refresh and unlisted:
            self.refresh()

    # ------------------------------------------------------------ value
    def text(self) -> str:
        return self.combo.currentText().strip()

    def set_text(self, value: str) -> None:
        if self.combo.currentText() != value:
            self._filling = True
            try:
                self.combo.setCurrentText(value)
            finally:
                self._filling = False

    def models(self) -> list[str]:
        return [self.combo.itemText(i) for i in range(self.combo.count())]

    def _typed(self, text: str) -> None:
        if not self._filling:
            self.edited.emit(text.strip())

    # ------------------------------------------------------------ list
    def _fill(self) -> None:
        """The cached models, the current text kept as it is."""
        current = self.combo.currentText()
        self._filling = True
        try:
            self.combo.clear()
            for model, credential in self._cache.all_models(self._settings):
                self.combo.addItem(model)
                if credential:
                    self.combo.setItemData(self.combo.count() - 1, f"from credential '{credential}'", 3)
            self.combo.setCurrentText(current)
        finally:
            self._filling = False

    def refresh(self) -> None:
        """Ask every credential's server, in a worker thread; the list updates when they answer."""
        names = listable(self._settings)
        if not names or not self.refresh_button.isEnabled():
            return
        self.refresh_button.setEnabled(False)
        self.refresh_button.setToolTip("Asking the servers…")
        self._pending = Future()
        threading.Thread(target=_ask, args=(self._settings, names, self._pending), daemon=True).start()
        self._poll.start()

    def _check_answer(self) -> None:
        if self._pending is None or not self._pending.done():
            return
        self._poll.stop()
        listings, self._pending = self._pending.result(), None
        self._show_answer(listings)

    def _show_answer(self, listings: list[Listing]) -> None:
        from flowdesk.providers.model_list import merge

        merged = merge(self._cache, listings)
        self.problems = [f"{item.credential}: {item.error}" for item in merged if item.error]
        self._fill()
        self.refresh_button.setEnabled(True)
        tip = "Ask the servers of your credentials which models they offer"
        if self.problems:
            tip += "\n\nLast time:\n" + "\n".join(p[:200] for p in self.problems)
        self.refresh_button.setToolTip(tip)


def _ask(settings: LLMSettings, names: list[str], answer: Future[list[Listing]]) -> None:
    """The worker thread: every credential's listing (a failure as its error), into ``answer``."""
    from flowdesk.providers.model_list import fetch

    try:
        answer.set_result(asyncio.run(fetch(settings, names)))
    except Exception as exc:  # whatever failed is shown on the button, never raised in a thread
        log.debug("the model lists could not be fetched", exc_info=True)
        answer.set_result([Listing(name, "", error=str(exc) or type(exc).__name__) for name in names])
