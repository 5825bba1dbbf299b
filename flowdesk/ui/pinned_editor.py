"""The inspector's "Pinned output" box: see, write, change or remove a node's pinned outputs.

A pinned node is not run; its pinned values flow on (docs/architecture.md §3), which lets a person work on
the nodes after an expensive LLM call without paying for it each run. Pins usually come from a
run (Run data > Pin this output), but a person may also type one, e.g. to try a downstream node on
an answer the model has not given yet. What they type is JSON, one value per output port, checked
before it is applied: a mistake is named (line, column, port) and nothing changes.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QGroupBox, QHBoxLayout, QLabel, QPlainTextEdit, QPushButton, QVBoxLayout

from flowdesk.model.workflow import Node, PinnedOutput
from flowdesk.ui.theming import set_tone

MAX_SHOWN_CHARS = 200_000
"""A pinned value larger than this is shown cut short and cannot be edited here (the text box would crawl)."""


def parse_pinned(text: str, ports: list[str]) -> dict[str, Any]:
    """The outputs typed in ``text``; ValueError naming the line and column or the port at fault."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"line {exc.lineno}, column {exc.colno}: {exc.msg}") from exc
    if not isinstance(value, dict):
        raise ValueError('write an object with one value per output port, e.g. {"text": "..."}')
    unknown = [name for name in value if name not in ports]
    if unknown:
        raise ValueError(f"'{unknown[0]}' is not an output of this node (its outputs: {', '.join(ports) or 'none'})")
    return value


class PinnedEditor(QGroupBox):
    """Shows one node's pin; ``on_pin(PinnedOutput | None)`` is called to change it (through a command)."""

    def __init__(self, on_pin: Callable[[PinnedOutput | None], str | None]) -> None:
        super().__init__("Pinned output")
        self._on_pin = on_pin
        self._ports: list[str] = []
        self._node: Node | None = None
        self.state = QLabel()
        self.state.setWordWrap(True)
        self.text = QPlainTextEdit()
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.text.setTabChangesFocus(True)
        self.text.setFixedHeight(self.text.fontMetrics().lineSpacing() * 6 + 12)
        self.text.textChanged.connect(self._typed)
        self.pin_button = QPushButton("Pin")
        self.pin_button.setToolTip("Keep these values on the node: it is not run, they flow on")
        self.pin_button.clicked.connect(self.apply)
        self.unpin_button = QPushButton("Unpin")
        self.unpin_button.setToolTip("Run the node again")
        self.unpin_button.clicked.connect(lambda: self._on_pin(None))
        self.message = QLabel()
        self.message.setWordWrap(True)
        set_tone(self.message, "error")
        buttons = QHBoxLayout()
        buttons.addWidget(self.pin_button)
        buttons.addWidget(self.unpin_button)
        buttons.addStretch(1)
        box = QVBoxLayout(self)
        for widget in (self.state, self.text, self.message):
            box.addWidget(widget)
        box.addLayout(buttons)

    def show_node(self, node: Node, ports: list[str]) -> None:
        """Show ``node``'s pin (or a template to write one) unless the person is in the middle of typing it."""
        same_node = self._node is not None and self._node.id == node.id
        pin_changed = not same_node or self._node is None or self._node.pinned != node.pinned
        self._node, self._ports = node, ports
        if node.pinned is None:
            where = "Not pinned: the node runs. Type its outputs below and press Pin to skip it while designing."
        elif node.pinned.source_run:
            where = f"Pinned from run {node.pinned.source_run[:8]}: not run; these values flow on."
        else:
            where = "Pinned by hand: not run; these values flow on."
        self.state.setText(where)
        self.unpin_button.setEnabled(node.pinned is not None)
        if pin_changed:
            self._set_text(node, ports)

    def _set_text(self, node: Node, ports: list[str]) -> None:
        values = node.pinned.outputs if node.pinned is not None else {name: None for name in ports[:1]}
        text = json.dumps(values, indent=2, ensure_ascii=False)
        too_big = len(text) > MAX_SHOWN_CHARS
        self.text.blockSignals(True)
        self.text.setPlainText(text[:MAX_SHOWN_CHARS] + ("\n…" if too_big else ""))
        self.text.blockSignals(False)
        self.text.setReadOnly(too_big)
        self._say("Too large to edit here; Unpin and pin it again from a run." if too_big else "")
        self.pin_button.setEnabled(False)

    def _typed(self) -> None:
        self.pin_button.setEnabled(not self.text.isReadOnly())
        self._say("")

    def _say(self, message: str) -> None:
        self.message.setText(message)
        self.message.setVisible(bool(message))

    def apply(self) -> bool:
        """Pin what is typed; False (and the reason shown) when it cannot be."""
        try:
            outputs = parse_pinned(self.text.toPlainText(), self._ports)
        except ValueError as exc:
            self._say(str(exc))
            return False
        refused = self._on_pin(PinnedOutput(outputs=outputs))
        if refused:
            self._say(refused)
            return False
        self.pin_button.setEnabled(False)
        return True
