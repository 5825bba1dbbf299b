"""The node palette: every installed node kind by category, searchable, dragged onto the canvas.

Typing filters at once (name, category and description all match, any case); a category stays
visible while any of its kinds matches. Drag a kind onto the canvas, or double-click it / press
Enter to add it at the centre of the view. The drag carries the kind's name under
``KIND_MIME``, so the canvas (and only it) knows what to do with the drop.
"""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import QMimeData, QModelIndex, QRectF, QSize, QSortFilterProxyModel, Qt, Signal
from PySide6.QtGui import QColor, QFont, QIcon, QPainter, QPixmap, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QAbstractItemView, QLineEdit, QTreeView, QVBoxLayout, QWidget

from flowdesk.model.kinds import KindSpec
from flowdesk.paths import resources_dir
from flowdesk.ui.canvas.theme import category_colour

KIND_MIME = "application/x-flowdesk-kind"
KIND_ROLE = Qt.ItemDataRole.UserRole + 1


def kind_icon(spec: KindSpec, size: int = 32) -> QIcon:
    """The kind's icon from resources/icons/<icon>.svg, or a lettered badge in its category's colour.

    The badge is drawn at several sizes, so it stays sharp on high-DPI screens (Qt picks the one
    that fits the device pixels) instead of being scaled up from one small bitmap.
    """
    path = resources_dir() / "icons" / f"{spec.icon}.svg"
    if path.is_file():
        return QIcon(str(path))
    icon = QIcon()
    for pixels in (size // 2, size, size * 2, size * 3):
        icon.addPixmap(_badge(spec, pixels))
    return icon


def _badge(spec: KindSpec, size: int) -> QPixmap:
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setBrush(category_colour(spec.category))
    painter.setPen(Qt.PenStyle.NoPen)
    inset = max(1.0, size / 32)
    painter.drawRoundedRect(QRectF(inset, inset, size - 2 * inset, size - 2 * inset), size / 4, size / 4)
    font = QFont()
    font.setBold(True)
    font.setPixelSize(max(6, int(size * 0.55)))
    painter.setFont(font)
    painter.setPen(QColor("white"))
    painter.drawText(pixmap.rect(), Qt.AlignmentFlag.AlignCenter, spec.display_name[:1].upper())
    painter.end()
    return pixmap


class _KindModel(QStandardItemModel):
    def mimeTypes(self) -> list[str]:
        return [KIND_MIME]

    def mimeData(self, indexes: list[QModelIndex]) -> QMimeData:
        data = QMimeData()
        kinds = [i.data(KIND_ROLE) for i in indexes if i.data(KIND_ROLE)]
        if kinds:
            data.setData(KIND_MIME, kinds[0].encode("utf-8"))
            data.setText(kinds[0])
        return data


class _Filter(QSortFilterProxyModel):
    """Matches a kind on its name, display name, category or description; categories follow their kinds."""

    def __init__(self) -> None:
        super().__init__()
        self.setRecursiveFilteringEnabled(True)
        self.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self._needle = ""

    def set_needle(self, text: str) -> None:
        self.beginFilterChange()
        self._needle = text.strip().lower()
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, row: int, parent: QModelIndex) -> bool:
        if not self._needle:
            return True
        index = self.sourceModel().index(row, 0, parent)
        haystack = index.data(Qt.ItemDataRole.UserRole + 2) or ""
        return all(word in haystack for word in self._needle.split())


class Palette(QWidget):
    """Emits ``kind_activated(name)`` on double-click or Enter; drags carry the kind under KIND_MIME."""

    kind_activated = Signal(str)

    def __init__(self, kinds: Iterable[KindSpec], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.search = QLineEdit(placeholderText="Search nodes…")
        self.search.setClearButtonEnabled(True)
        self.tree = QTreeView()
        self.tree.setHeaderHidden(True)
        self.tree.setDragEnabled(True)
        self.tree.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.tree.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.tree.setIconSize(QSize(20, 20))
        self.model = _KindModel()
        self.proxy = _Filter()
        self.proxy.setSourceModel(self.model)
        self.tree.setModel(self.proxy)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.search)
        layout.addWidget(self.tree)
        self._fill(kinds)
        self.search.textChanged.connect(self._filter)
        self.search.returnPressed.connect(self._activate_first)
        self.tree.activated.connect(self._activated)

    def _fill(self, kinds: Iterable[KindSpec]) -> None:
        groups: dict[str, QStandardItem] = {}
        specs = sorted(kinds, key=lambda s: (s.category, s.display_name))
        for spec in specs:
            if spec.name.startswith("placeholder"):
                continue
            group = groups.get(spec.category)
            if group is None:
                group = groups[spec.category] = QStandardItem(spec.category)
                group.setEditable(False)
                group.setDragEnabled(False)
                font = group.font()
                font.setBold(True)
                group.setFont(font)
                self.model.appendRow(group)
            item = QStandardItem(kind_icon(spec), spec.display_name)
            item.setEditable(False)
            item.setData(spec.name, KIND_ROLE)
            item.setData(f"{spec.name} {spec.display_name} {spec.category} {spec.description}".lower(), KIND_ROLE + 1)
            item.setToolTip(f"<b>{spec.display_name}</b> <i>({spec.name})</i><br>{spec.description}")
            group.appendRow(item)
        self.tree.expandAll()

    def _filter(self, text: str) -> None:
        self.proxy.set_needle(text)
        self.tree.expandAll()
        first = self._first_kind()
        if first.isValid():
            self.tree.setCurrentIndex(first)

    def _first_kind(self) -> QModelIndex:
        for row in range(self.proxy.rowCount()):
            group = self.proxy.index(row, 0)
            if self.proxy.rowCount(group):
                return self.proxy.index(0, 0, group)
        return QModelIndex()

    def _activate_first(self) -> None:
        index = self.tree.currentIndex()
        if not index.isValid() or not index.data(KIND_ROLE):
            index = self._first_kind()
        self._activated(index)

    def _activated(self, index: QModelIndex) -> None:
        name = index.data(KIND_ROLE) if index.isValid() else None
        if name:
            self.kind_activated.emit(name)

    def visible_kinds(self) -> list[str]:
        """Kind names the filter shows, in display order (for tests and the Tab search)."""
        shown = []
        for row in range(self.proxy.rowCount()):
            group = self.proxy.index(row, 0)
            shown.extend(self.proxy.index(r, 0, group).data(KIND_ROLE) for r in range(self.proxy.rowCount(group)))
        return shown
