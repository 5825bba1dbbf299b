"""A recorded value shown two ways: a JSON tree to browse and the raw JSON text to read or copy.

Values can be large (a fetched page, a long LLM reply, a list of ten thousand rows), so both views
are bounded for display: the tree lists the first items of each level and says how many more
there are, the text stops after a limit; "Show all" lifts the limit for the value on screen.
"""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QTabWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

TREE_ITEMS = 200
"""Children listed per level of the tree before "… n more"."""
TREE_TEXT = 300
RAW_CHARS = 100_000


def value_summary(value: Any) -> str:
    if isinstance(value, dict):
        return f"{{…}} {len(value)} key{'s' * (len(value) != 1)}"
    if isinstance(value, list):
        return f"[…] {len(value)} item{'s' * (len(value) != 1)}"
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= TREE_TEXT else text[:TREE_TEXT] + f"… ({len(text):,} characters)"


def fill_tree(parent: QTreeWidgetItem, value: Any, limit: int | None = TREE_ITEMS) -> None:
    """Children of ``parent`` for the items of ``value`` (containers get their own children, bounded)."""
    items = list(value.items()) if isinstance(value, dict) else list(enumerate(value))
    shown = items if limit is None else items[:limit]
    for key, item in shown:
        child = QTreeWidgetItem(parent, [str(key), value_summary(item)])
        if isinstance(item, (dict, list)) and item:
            fill_tree(child, item, limit)
    if len(shown) < len(items):
        QTreeWidgetItem(parent, ["…", f"{len(items) - len(shown):,} more (see Raw, or Show all)"])


class ValueView(QWidget):
    """Tree and raw text of a mapping of named values (a node's inputs or outputs)."""

    def __init__(self, empty_text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.empty_text = empty_text
        self.value: dict[str, Any] = {}
        self.full = False
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["Name", "Value"])
        self.tree.setColumnWidth(0, 140)
        self.raw = QPlainTextEdit()
        self.raw.setReadOnly(True)
        self.raw.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.tree, "Tree")
        self.tabs.addTab(self.raw, "Raw")
        self.note = QLabel()
        self.show_all = QPushButton("Show all")
        self.show_all.setToolTip("Show the whole value (it may be slow for very large values)")
        self.show_all.clicked.connect(self._show_all)
        bottom = QHBoxLayout()
        bottom.addWidget(self.note, 1)
        bottom.addWidget(self.show_all)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.tabs)
        layout.addLayout(bottom)
        self.set_value({})

    def set_value(self, value: dict[str, Any] | None) -> None:
        self.value, self.full = dict(value or {}), False
        self._render()

    def _render(self) -> None:
        self.tree.clear()
        limit = None if self.full else TREE_ITEMS
        if not self.value:
            QTreeWidgetItem(self.tree, ["", self.empty_text])
        else:
            fill_tree(self.tree.invisibleRootItem(), self.value, limit)
            self.tree.expandToDepth(0)
        text = json.dumps(self.value, indent=2, ensure_ascii=False, default=str) if self.value else ""
        cut = not self.full and len(text) > RAW_CHARS
        self.raw.setPlainText(text[:RAW_CHARS] + "\n…" if cut else text)
        large = cut or (not self.full and _has_long_level(self.value))
        self.note.setText(f"{len(text):,} characters; shown in part" if large else "")
        self.show_all.setVisible(large)

    def _show_all(self) -> None:
        self.full = True
        self._render()

    def raw_text(self) -> str:
        return self.raw.toPlainText()


def _has_long_level(value: Any) -> bool:
    if isinstance(value, dict):
        return len(value) > TREE_ITEMS or any(_has_long_level(v) for v in value.values())
    if isinstance(value, list):
        return len(value) > TREE_ITEMS or any(_has_long_level(v) for v in value[:TREE_ITEMS])
    return False
