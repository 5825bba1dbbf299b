"""The log panel: the shown run's lines, filtered by node, level and text, following the tail.

It follows new lines while the view is scrolled to the bottom and stops following as soon as the
person scrolls up to read (scrolling back down resumes it). Clicking a line selects its node on
the canvas; Ctrl+C (or the context menu) copies the selected lines as tab-separated text.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPoint, Qt, Signal
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from flowdesk.ui.runs.log_model import LEVELS, LogFilter, LogModel, line_text

ALL_NODES = "All nodes"


class LogPanel(QWidget):
    node_clicked = Signal(str)
    """A line about a node was clicked: select that node."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model: LogModel | None = None
        self.proxy = LogFilter(self)
        self.follow = True
        self._build()

    def _build(self) -> None:
        self.node_box = QComboBox()
        self.node_box.setMinimumContentsLength(14)
        self.node_box.addItem(ALL_NODES)
        self.node_box.setToolTip("Show the lines of one node only")
        self.level_box = QComboBox()
        self.level_box.addItems([f"{level} and above" if level != "error" else "errors" for level in LEVELS])
        self.level_box.setCurrentIndex(1)
        self.level_box.setToolTip("Lowest level shown")
        self.search = QLineEdit()
        self.search.setPlaceholderText("Filter lines…")
        self.search.setClearButtonEnabled(True)
        self.run_label = QLabel("No run shown")
        self.run_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        for widget in (self.node_box, self.level_box):
            widget.currentIndexChanged.connect(self._refilter)
        self.search.textChanged.connect(self._refilter)
        bar = QHBoxLayout()
        bar.addWidget(self.run_label, 1)
        bar.addWidget(self.node_box)
        bar.addWidget(self.level_box)
        bar.addWidget(self.search, 1)
        self.table = self._table()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(bar)
        layout.addWidget(self.table)
        self._refilter()

    def _table(self) -> QTableView:
        table = QTableView()
        table.setModel(self.proxy)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setWordWrap(False)
        table.setShowGrid(False)
        table.setAlternatingRowColors(True)
        table.verticalHeader().hide()
        rows = table.verticalHeader()
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)  # uniform rows: no per-row measuring
        rows.setDefaultSectionSize(table.fontMetrics().height() + 6)
        header = table.horizontalHeader()
        header.setStretchLastSection(True)
        for column, width in enumerate((96, 150, 80)):
            table.setColumnWidth(column, width)
        table.clicked.connect(self._clicked)
        table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        table.customContextMenuRequested.connect(self._menu)
        copy = QAction("Copy", table)
        copy.setShortcut(QKeySequence.StandardKey.Copy)
        copy.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        copy.triggered.connect(self.copy_selected)
        table.addAction(copy)
        scroll = table.verticalScrollBar()
        scroll.valueChanged.connect(lambda value: setattr(self, "follow", value >= scroll.maximum()))
        self.proxy.rowsInserted.connect(self._after_insert)
        return table

    # ------------------------------------------------------------ which run
    def show_model(self, model: LogModel | None, title: str) -> None:
        """Show another run's lines (the models live in the window's log store, one per run)."""
        if self.model is not None:
            self.model.rowsInserted.disconnect(self._new_nodes)
        self.model = model
        self.proxy.setSourceModel(model)
        self.run_label.setText(title)
        self._fill_nodes()
        if model is not None:
            model.rowsInserted.connect(self._new_nodes)
        self.follow = True
        self.table.scrollToBottom()

    def _fill_nodes(self) -> None:
        current = self.node_box.currentData()
        self.node_box.blockSignals(True)
        self.node_box.clear()
        self.node_box.addItem(ALL_NODES)
        for node_id in self.model.node_ids() if self.model is not None else []:
            self.node_box.addItem(self.model.names(node_id), node_id)
        self.node_box.setCurrentIndex(max(0, self.node_box.findData(current)))
        self.node_box.blockSignals(False)

    def _new_nodes(self, _parent: QModelIndex, first: int, last: int) -> None:
        assert self.model is not None
        known = {self.node_box.itemData(i) for i in range(self.node_box.count())}
        for line in self.model.lines[first : last + 1]:
            if line.node_id and line.node_id not in known:
                self.node_box.addItem(self.model.names(line.node_id), line.node_id)
                known.add(line.node_id)

    # ------------------------------------------------------------ filter, follow, copy
    def show_node(self, node_id: str | None) -> None:
        """Filter to one node's lines (None: all)."""
        index = self.node_box.findData(node_id) if node_id else 0
        if index < 0:
            self.node_box.addItem(self.model.names(node_id) if self.model is not None else node_id, node_id)
            index = self.node_box.count() - 1
        self.node_box.setCurrentIndex(index)

    def _refilter(self) -> None:
        node = self.node_box.currentData()
        self.proxy.set_filter(
            node=node or None,
            min_level=LEVELS[self.level_box.currentIndex()],
            text=self.search.text(),
        )
        if self.follow:
            self.table.scrollToBottom()

    def _after_insert(self) -> None:
        if self.follow:
            self.table.scrollToBottom()

    def shown_lines(self) -> list[str]:
        """The lines the filter shows, as text (what a person sees, in order)."""
        model = self.model
        if model is None:
            return []
        rows = (self.proxy.mapToSource(self.proxy.index(r, 0)).row() for r in range(self.proxy.rowCount()))
        return [line_text(model.lines[row], model.label_of(model.lines[row])) for row in rows]

    def copy_selected(self) -> None:
        if self.model is None:
            return
        rows = sorted({self.proxy.mapToSource(index).row() for index in self.table.selectionModel().selectedRows()})
        lines = [self.model.lines[row] for row in rows]
        text = "\n".join(line_text(line, self.model.label_of(line)) for line in lines)
        if text:
            QGuiApplication.clipboard().setText(text)

    def copy_shown(self) -> None:
        QGuiApplication.clipboard().setText("\n".join(self.shown_lines()))

    def _clicked(self, index: QModelIndex) -> None:
        if self.model is None:
            return
        line = self.model.lines[self.proxy.mapToSource(index).row()]
        if line.node_id:
            self.node_clicked.emit(line.node_id)

    def _menu(self, pos: QPoint) -> None:
        menu = QMenu(self)
        menu.addAction("Copy selected lines", self.copy_selected)
        menu.addAction("Copy all shown lines", self.copy_shown)
        menu.addSeparator()
        menu.addAction("Show all nodes", lambda: self.show_node(None))
        menu.exec(self.table.viewport().mapToGlobal(pos))
