"""The Result view: a run's answer shown whole and readable, where a person looks when the run ends.

The status bar's line and a run row's tooltip are previews cut to a line; reading an answer (a long
LLM reply, a JSON report) needs the whole of it: strings wrapped as text, everything else as
indented JSON, each output copyable on its own. A run that has no outputs says why (it failed, was
stopped, reached no Output node, or a loop ran out of passes before one), so an empty window never
leaves a person guessing. The view reads the library, so runs from before a restart show the same.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from flowdesk.store.database import LibraryError
from flowdesk.store.runs import RunInfo
from flowdesk.store.store import Store
from flowdesk.store.workflows import NotFoundError
from flowdesk.ui.runs.runs_panel import STATUS_MARK, duration_text
from flowdesk.ui.runs.summary import no_outputs_reason

log = logging.getLogger(__name__)
SHOWN_CHARS = 200_000
"""How much of one output the view holds (a larger value is cut, and says so; Copy copies it whole)."""


def readable(value: Any) -> str:
    """A value as a person reads it: text as itself, anything else as indented JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


def result_state(run: RunInfo, title_of: Callable[[str], str]) -> str:
    """One sentence on how the run ended and, when it has no outputs, why."""
    message = (run.error or {}).get("message") or ""
    where = (run.error or {}).get("node_id")
    ended = f"{STATUS_MARK.get(run.status, '')} {run.status}"
    if run.status == "failed" and where:
        ended += f" at '{title_of(where)}'"
    if run.finished_at:
        ended += f" in {duration_text(run.duration_s)}"
    if run.status == "failed":
        return f"{ended}: {message}" if message else ended
    if run.status in ("running", "paused", "pending"):
        return f"{ended}: the result shows here when the run ends"
    if run.status == "waiting":
        return f"{ended}: it waits for an approval (see Run data)"
    if run.status in ("cancelled", "interrupted"):
        return f"{ended} before it finished{': ' + message if message else ''}; it can be resumed from the Run menu"
    return ended


class OutputBox(QFrame):
    """One output: its name, its value (wrapped, selectable), a button that copies the whole value."""

    def __init__(self, name: str, value: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self.full_text = readable(value)
        heading = QLabel(f"<b>{_escape(name)}</b>")
        self.copy_button = QPushButton("Copy")
        self.copy_button.setToolTip(f"Copy the whole of '{name}' to the clipboard")
        self.copy_button.clicked.connect(self.copy)
        top = QHBoxLayout()
        top.addWidget(heading, 1)
        top.addWidget(self.copy_button)
        self.text = QPlainTextEdit()
        self.text.setReadOnly(True)
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        if not isinstance(value, str):
            self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        cut = len(self.full_text) > SHOWN_CHARS
        shown = self.full_text[:SHOWN_CHARS] + f"\n… ({len(self.full_text):,} characters; Copy copies all)"
        self.text.setPlainText(shown if cut else self.full_text)
        wrapped = len(self.full_text) // 90  # about the lines a long paragraph wraps into at this width
        lines = min(max(self.full_text.count("\n") + 2 + wrapped, 3), 18)
        self.text.setMinimumHeight(self.text.fontMetrics().lineSpacing() * lines + 12)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 4)
        layout.addLayout(top)
        layout.addWidget(self.text)

    def copy(self) -> None:
        QGuiApplication.clipboard().setText(self.full_text)


class ResultView(QDialog):
    """A window beside the main one (not modal: the canvas stays usable) showing one run's result."""

    def __init__(self, store: Store, title_of: Callable[[str], str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("result-view")
        self.store = store
        self.title_of = title_of
        self.run_id: str | None = None
        self.outputs: dict[str, Any] = {}
        self.boxes: list[OutputBox] = []
        self.heading = QLabel()
        self.heading.setWordWrap(True)
        self.state = QLabel()
        self.state.setWordWrap(True)
        self.body = QWidget()
        self.body_layout = QVBoxLayout(self.body)
        self.body_layout.setContentsMargins(0, 0, 0, 0)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(self.body)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.copy_all = buttons.addButton("Copy all as JSON", QDialogButtonBox.ButtonRole.ActionRole)
        self.copy_all.clicked.connect(self._copy_all)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(self.state)
        layout.addWidget(scroll, 1)
        layout.addWidget(buttons)
        self.resize(720, 560)

    def show_run(self, run_id: str) -> bool:
        """Fill the view with ``run_id``'s result; False (and nothing changed) if the library cannot say."""
        try:
            run = self.store.runs.get(run_id)
            _, outputs = self.store.runs.run_values(run_id)
        except (LibraryError, NotFoundError) as exc:
            log.info("cannot read the result of run %s: %s", run_id, exc)
            return False
        self.run_id, self.outputs = run.id, outputs
        version = f" · version {run.workflow_version}" if run.workflow_version else ""
        self.setWindowTitle(f"Result of run {run.id[:8]} — {run.workflow_name}")
        self.heading.setText(f"<b>{_escape(run.workflow_name)}</b> · run {run.id[:8]}{version}")
        state = result_state(run, self.title_of)
        if not outputs and run.status == "succeeded":
            state += f": no outputs: {no_outputs_reason(self.store, run.id)}"
        self.state.setText(state)
        self._fill(outputs)
        self.copy_all.setEnabled(bool(outputs))
        return True

    def _fill(self, outputs: dict[str, Any]) -> None:
        while self.body_layout.count():
            item = self.body_layout.takeAt(0)
            widget = item.widget()
            if widget is not None:
                widget.deleteLater()
        self.boxes = [OutputBox(name, value) for name, value in outputs.items()]
        for box in self.boxes:
            self.body_layout.addWidget(box)
        self.body_layout.addStretch(1)

    def _copy_all(self) -> None:
        QGuiApplication.clipboard().setText(json.dumps(self.outputs, indent=2, ensure_ascii=False, default=str))


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
