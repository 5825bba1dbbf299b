"""Settings: the default model for new LLM nodes, named credentials, price overrides, a connection test,
traces and where runs run (Settings > Execution, ``execution_settings.py``).

Nothing here ever shows a stored key: the key field of a credential is a password field that
starts empty ("leave empty to keep the stored key"), and the table says only where a key comes
from. Keys go to the OS keyring on Save; the rest goes to the settings file. The connection test
runs on the app's asyncio loop (qasync), so the window stays responsive while the server answers.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from flowdesk.nodes.llm_contract import LLMError
from flowdesk.providers.catalog import PROVIDERS
from flowdesk.providers.credentials import CredentialError, Credentials, KeyStore
from flowdesk.providers.settings import (
    MODEL_REF,
    CredentialInfo,
    LLMSettings,
    PriceOverride,
    SettingsError,
    save_settings,
)
from flowdesk.providers.setup import check_connection, llm_services
from flowdesk.ui.credential_editor import CredentialEditor
from flowdesk.ui.execution_settings import ExecutionGroup
from flowdesk.ui.theming import set_tone

log = logging.getLogger(__name__)

SUGGESTED_MODELS = (
    "offline:echo",
    "offline:lorem",
    *(f"{name}:{spec.example_model}" for name, spec in PROVIDERS.items() if spec.default_base_url and spec.makes_calls),
)
Launcher = Callable[[Coroutine[Any, Any, None]], Any]


class _PendingKeys(KeyStore):
    """Keys typed in this dialog and not saved yet, in front of the keyring (for the connection test)."""

    def __init__(self, pending: dict[str, str], stored: KeyStore) -> None:
        super().__init__()
        self._pending = pending
        self._stored = stored

    def get(self, name: str) -> str | None:
        return self._pending.get(name) or self._stored.get(name)


class SettingsDialog(QDialog):
    """The Settings window (File > Settings…). ``launch`` schedules a coroutine on the running asyncio loop."""

    def __init__(
        self,
        settings: LLMSettings,
        *,
        keys: KeyStore | None = None,
        path: Path | None = None,
        launch: Launcher | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.settings = settings
        self._keys = keys or KeyStore()
        self._path = path
        self._launch: Launcher = launch or asyncio.ensure_future
        self._new_keys: dict[str, str] = {}
        self._removed: set[str] = set()
        self.task: Any = None
        layout = QVBoxLayout(self)
        layout.addWidget(self._model_group())
        layout.addWidget(self._credentials_group(), 1)
        layout.addWidget(self._prices_group())
        self.execution = ExecutionGroup(settings.default_executor, self._launch)
        row = QHBoxLayout()  # side by side: the dialog must fit a 700-pixel-high screen with its tables readable
        row.addWidget(self._traces_group(), 1)
        row.addWidget(self.execution, 1)
        layout.addLayout(row)
        self.status = QLabel()
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.resize(720, 640)
        self._fill_credentials()

    # ------------------------------------------------------------ sections
    def _model_group(self) -> QGroupBox:
        group = QGroupBox("Default model for new LLM nodes")
        self.default_model = QComboBox()
        self.default_model.setEditable(True)
        self.default_model.addItems(SUGGESTED_MODELS)
        self.default_model.setCurrentText(self.settings.default_model)
        self.default_model.setToolTip("provider:model, e.g. openai:gpt-4o-mini or anthropic:claude-3-5-haiku-latest")
        form = QFormLayout(group)
        form.addRow("Model", self.default_model)
        return group

    def _traces_group(self) -> QGroupBox:
        group = QGroupBox("Traces (OpenTelemetry)")
        self.trace_url = QLineEdit(self.settings.trace_otlp_url or "")
        self.trace_url.setPlaceholderText("off — e.g. http://localhost:4318")
        self.trace_url.setToolTip("An OTLP/HTTP collector (Jaeger, Tempo, an OpenTelemetry Collector); empty: off")
        about = QLabel("Each run's trace is sent to this OTLP/HTTP collector as the run ends. Empty: off.")
        about.setWordWrap(True)
        form = QFormLayout(group)
        form.addRow("Send runs to", self.trace_url)
        form.addRow("", about)
        return group

    def _credentials_group(self) -> QGroupBox:
        group = QGroupBox("Credentials")
        self.table = QTableWidget(0, 5)
        self.table.setHorizontalHeaderLabels(["Name", "Provider", "Base URL", "Key", "May go to"])
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        for column in (0, 1, 3, 4):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.keyring_note = QLabel()
        self.keyring_note.setWordWrap(True)
        set_tone(self.keyring_note, "warning")
        self.keyring_note.setVisible(False)
        self.add_button = QPushButton("Add…")
        self.edit_button = QPushButton("Edit…")
        self.remove_button = QPushButton("Remove")
        self.add_button.clicked.connect(lambda: self.edit_credential(None))
        self.edit_button.clicked.connect(lambda: self.edit_credential(self.selected()))
        self.remove_button.clicked.connect(self.remove_selected)
        self.test_model = QLineEdit()
        self.test_model.setPlaceholderText("model to ask, e.g. gpt-4o-mini")
        self.test_button = QPushButton("Test connection")
        self.test_button.clicked.connect(self.start_test)
        self.test_result = QLabel("Select a credential and a model, then test it with one small request.")
        self.test_result.setWordWrap(True)
        row = QHBoxLayout()
        for button in (self.add_button, self.edit_button, self.remove_button):
            row.addWidget(button)
        row.addStretch(1)
        row.addWidget(self.test_model)
        row.addWidget(self.test_button)
        box = QVBoxLayout(group)
        box.addWidget(self.table)
        box.addWidget(self.keyring_note)
        box.addLayout(row)
        box.addWidget(self.test_result)
        return group

    def _prices_group(self) -> QGroupBox:
        group = QGroupBox("Price overrides (US$ per million tokens)")
        self.prices = QTableWidget(0, 3)
        self.prices.setHorizontalHeaderLabels(["Model", "Input", "Output"])
        self.prices.verticalHeader().setVisible(False)
        self.prices.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.prices.setMaximumHeight(110)
        for name, price in sorted(self.settings.prices.items()):
            self.add_price_row(name, price.input_per_mtok, price.output_per_mtok)
        add = QPushButton("Add price")
        add.clicked.connect(lambda: self.add_price_row("", 0.0, 0.0))
        remove = QPushButton("Remove price")
        remove.clicked.connect(lambda: self.prices.removeRow(self.prices.currentRow()))
        row = QHBoxLayout()
        row.addWidget(add)
        row.addWidget(remove)
        row.addStretch(1)
        box = QVBoxLayout(group)
        box.addWidget(self.prices)
        box.addLayout(row)
        return group

    # ------------------------------------------------------------ credentials
    def _fill_credentials(self) -> None:
        credentials = Credentials(self.settings, self._keys)
        problems: set[str] = set()
        self.table.setRowCount(0)
        for info in self.settings.credentials:
            source = "new key, saved on Save" if info.name in self._new_keys else credentials.key_source(info.name)
            short, _, why = source.partition(" (")  # the keyring's trouble goes to the tooltip, not the column
            hosts = ", ".join(info.allowed_hosts())
            cells = [info.name, info.provider, info.effective_base_url() or "", short, hosts]
            row = self.table.rowCount()
            self.table.insertRow(row)
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(source if column == 3 else text)
                self.table.setItem(row, column, item)
            if why and info.name not in self._new_keys:
                problems.add(why.removesuffix(")"))
        self.keyring_note.setVisible(bool(problems))
        if problems:
            self.keyring_note.setText(
                f"{_sentence(sorted(problems)[0])}: keys typed here cannot be stored. Set FLOWDESK_CREDENTIAL_<NAME> "
                "(or OPENAI_API_KEY / ANTHROPIC_API_KEY) in the environment instead."
            )
        if self.settings.credentials and not self.table.selectedItems():
            self.table.selectRow(0)

    def selected(self) -> CredentialInfo | None:
        row = self.table.currentRow()
        item = self.table.item(row, 0) if row >= 0 else None
        return self.settings.credential(item.text()) if item is not None else None

    def edit_credential(self, info: CredentialInfo | None) -> CredentialEditor:
        """Open the editor (non-blocking: tests drive it); its OK applies to this dialog's settings."""
        taken = {c.name for c in self.settings.credentials} - ({info.name} if info else set())
        editor = CredentialEditor(info, taken, self)
        editor.accepted.connect(lambda: self.apply_credential(info, editor))
        editor.open()
        return editor

    def apply_credential(self, old: CredentialInfo | None, editor: CredentialEditor) -> None:
        new = editor.result_info
        if new is None:
            return
        settings = self.settings
        if old is not None and old.name != new.name:
            settings = settings.without_credential(old.name)
            self._removed.add(old.name)
            moved = self._new_keys.pop(old.name, None)
            if moved and not editor.key:
                editor.key = moved
        self.settings = settings.with_credential(new)
        self._removed.discard(new.name)
        if editor.key:
            self._new_keys[new.name] = editor.key
        self._fill_credentials()

    def remove_selected(self) -> None:
        info = self.selected()
        if info is None:
            return
        self.settings = self.settings.without_credential(info.name)
        self._new_keys.pop(info.name, None)
        self._removed.add(info.name)
        self._fill_credentials()

    # ------------------------------------------------------------ prices
    def add_price_row(self, name: str, input_price: float, output_price: float) -> None:
        row = self.prices.rowCount()
        self.prices.insertRow(row)
        for column, text in enumerate((name, f"{input_price:g}", f"{output_price:g}")):
            self.prices.setItem(row, column, QTableWidgetItem(text))

    def _price_overrides(self) -> dict[str, PriceOverride]:
        """The price table's rows; a bad one raises ValueError naming its row and model."""
        prices: dict[str, PriceOverride] = {}
        for row in range(self.prices.rowCount()):
            cells = [(self.prices.item(row, c).text() if self.prices.item(row, c) else "").strip() for c in range(3)]
            if not any(cells):
                continue
            name = cells[0]
            if not name:
                raise ValueError(f"price row {row + 1}: the model name is empty")
            try:
                prices[name] = PriceOverride(input_per_mtok=float(cells[1]), output_per_mtok=float(cells[2]))
            except (ValueError, ValidationError):
                raise ValueError(
                    f"price row {row + 1} ({name}): input and output are US$ per million tokens, numbers of 0 or more"
                ) from None
        return prices

    # ------------------------------------------------------------ connection test
    def start_test(self) -> None:
        """One small real request through the selected credential, on the asyncio loop (not blocking the UI)."""
        info = self.selected()
        model = self.test_model.text().strip()
        if info is None or not model:
            self.test_result.setText("Select a credential and type a model name to test.")
            return
        self.test_button.setEnabled(False)
        self.test_result.setText(f"Testing {info.name} with {model}…")
        self.task = self._launch(self._test(info, model))

    async def _test(self, info: CredentialInfo, model: str) -> None:
        keys = _PendingKeys(dict(self._new_keys), self._keys)  # test the key typed in, before it is saved
        services = llm_services(self.settings, keys=keys, shared_client=False)
        try:
            credential = services.credentials.resolve(info.name, info.provider)
            result = await check_connection(services, credential, model)
        except (CredentialError, LLMError) as exc:
            self._show_test(f"Failed: {exc}", ok=False)
        except Exception as exc:  # whatever else went wrong is shown to the person who asked
            log.debug("connection test failed", exc_info=True)
            self._show_test(f"Failed: {type(exc).__name__}: {exc}", ok=False)
        else:
            usage = result.usage
            self._show_test(
                f"Connected: {model} answered {result.text.strip()[:60]!r} "
                f"({usage.input_tokens}+{usage.output_tokens} tokens).",
                ok=True,
            )

    def _show_test(self, text: str, *, ok: bool) -> None:
        self.test_result.setText(text)
        set_tone(self.test_result, None if ok else "error")
        self.test_button.setEnabled(True)

    # ------------------------------------------------------------ saving
    def collected(self) -> LLMSettings:
        """The settings as the dialog shows them; ValueError with a located message when one is invalid."""
        model = self.default_model.currentText().strip()
        if not re.match(MODEL_REF, model):
            raise ValueError(f"default model {model!r} must be provider:model, e.g. openai:gpt-4o-mini")
        try:
            trace_url = LLMSettings.model_validate({"trace_otlp_url": self.trace_url.text()}).trace_otlp_url
        except ValidationError as exc:
            raise ValueError(exc.errors()[0]["msg"].removeprefix("Value error, ")) from None
        update = {"default_model": model, "prices": self._price_overrides(), "trace_otlp_url": trace_url}
        return self.settings.model_copy(update={**update, "default_executor": self.execution.value()})

    def save(self) -> None:
        """Write the settings file and the keyring; on a problem, say it here and stay open."""
        try:
            settings = self.collected()
            save_settings(settings, self._path)
            for name in self._removed:
                self._keys.delete(name)
            for name, key in self._new_keys.items():
                self._keys.set(name, key)
        except (ValueError, SettingsError, CredentialError) as exc:
            self.status.setText(str(exc))
            set_tone(self.status, "error")
            return
        self.settings = settings
        self._new_keys.clear()
        self._removed.clear()
        self.accept()


def open_settings(parent: QWidget | None = None) -> SettingsDialog | None:
    """File > Settings…: the dialog over the current settings file (a broken file is reported, not opened)."""
    from PySide6.QtWidgets import QMessageBox

    from flowdesk.providers.settings import load_settings

    try:
        settings = load_settings()
    except SettingsError as exc:
        QMessageBox.warning(parent, "Settings cannot be read", f"{exc}\n\nFix or remove the file, then try again.")
        return None
    dialog = SettingsDialog(settings, parent=parent)
    dialog.open()
    return dialog


def _sentence(text: str) -> str:
    """``text`` with a capital first letter, the rest as it is (str.capitalize lowercases names)."""
    return text[:1].upper() + text[1:]
