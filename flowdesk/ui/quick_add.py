"""The quick-add search: Tab on the canvas, or a wire dropped on empty canvas, opens it at the cursor.

Type to filter the node kinds, arrows to move, Enter (or a click) to add, Escape to close. When
it opens from a dropped wire it lists only the kinds with an input that wire can feed, and the
new node is connected to it in the same undo step.
"""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import QEvent, QObject, QPoint, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QFrame, QLineEdit, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from flowdesk.model.kinds import KindSpec
from flowdesk.model.types import ValueType, compatible
from flowdesk.ui.palette import kind_icon


def first_compatible_input(spec: KindSpec, value_type: ValueType) -> str | None:
    """The first input port of a new ``spec`` node that accepts ``value_type``, or None."""
    for port in spec.ports_for(spec.default_config()).inputs:
        if compatible(value_type, port.type):
            return port.name
    return None


class QuickAdd(QFrame):
    """A popup list of kinds; emits ``chosen(kind)`` and closes."""

    chosen = Signal(str)

    def __init__(self, kinds: Iterable[KindSpec], parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Popup)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.search = QLineEdit(placeholderText="Add a node…")
        self.list = QListWidget()
        self.list.setMinimumWidth(260)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.search)
        layout.addWidget(self.list)
        for spec in sorted(kinds, key=lambda s: (s.category, s.display_name)):
            item = QListWidgetItem(kind_icon(spec), f"{spec.display_name}  ·  {spec.category}")
            item.setData(Qt.ItemDataRole.UserRole, spec.name)
            item.setToolTip(spec.description)
            item.setData(Qt.ItemDataRole.UserRole + 1, f"{spec.name} {spec.display_name} {spec.category}".lower())
            self.list.addItem(item)
        self.resize(300, 320)
        self.search.textChanged.connect(self._filter)
        self.search.installEventFilter(self)
        self.list.itemActivated.connect(self._choose)
        self.list.itemClicked.connect(self._choose)
        self._filter("")

    def popup(self, global_pos: QPoint) -> None:
        self.move(global_pos)
        self.show()
        self.search.setFocus()

    def visible_kinds(self) -> list[str]:
        return [
            self.list.item(i).data(Qt.ItemDataRole.UserRole)
            for i in range(self.list.count())
            if not self.list.item(i).isHidden()
        ]

    def _filter(self, text: str) -> None:
        words = text.lower().split()
        first = None
        for i in range(self.list.count()):
            item = self.list.item(i)
            hay = item.data(Qt.ItemDataRole.UserRole + 1)
            item.setHidden(not all(w in hay for w in words))
            if first is None and not item.isHidden():
                first = item
        self.list.setCurrentItem(first)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Arrows and Enter in the search box drive the list, so the hands stay on the keys."""
        if watched is self.search and event.type() == QEvent.Type.KeyPress:
            assert isinstance(event, QKeyEvent)
            key = event.key()
            if key in (Qt.Key.Key_Down, Qt.Key.Key_Up):
                self._step(1 if key == Qt.Key.Key_Down else -1)
                return True
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                self._choose(self.list.currentItem())
                return True
        return super().eventFilter(watched, event)

    def _step(self, delta: int) -> None:
        rows = [i for i in range(self.list.count()) if not self.list.item(i).isHidden()]
        if not rows:
            return
        current = self.list.currentRow()
        at = rows.index(current) if current in rows else -1
        self.list.setCurrentRow(rows[max(0, min(len(rows) - 1, at + delta))])

    def _choose(self, item: QListWidgetItem | None) -> None:
        if item is None or item.isHidden():
            return
        self.close()
        self.chosen.emit(item.data(Qt.ItemDataRole.UserRole))
