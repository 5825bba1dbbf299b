"""The lines of a run's log, and the filter the log dock shows them through.

The lines are the run's read model's (``flowdesk.engine.readmodel.RunView.lines``): the same lines,
in the same words, whether the run is followed live or reopened from the library. This model
shows them, taking a tick's new lines in one insertion so thousands of events a second cost one
model update per tick; an LLM's streamed line grows in place. The filter is by node, lowest level
and text; it is evaluated only for new lines as they come, and for everything only when the
filter itself changes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, QSortFilterProxyModel, Qt

from flowdesk.engine.readmodel import MAX_LINES, LogLine, RunView
from flowdesk.ui.theming import tone

LEVELS = ("debug", "info", "warning", "error")
_RANK = {level: rank for rank, level in enumerate(LEVELS)}
__all__ = ["LEVELS", "MAX_LINES", "LogFilter", "LogLine", "LogModel", "line_text", "stamp"]
COLUMNS = ("Time", "Node", "Level", "Message")
LEVEL_MARK = {"debug": "·", "info": "", "warning": "▲", "error": "✖"}
LEVEL_TONE = {"debug": "muted", "warning": "warning", "error": "error"}
"""A shape beside the level's colour, so the level reads without colour vision."""
_Index = QModelIndex | QPersistentModelIndex


def line_text(line: LogLine, label: str | None = None) -> str:
    """A line as copied to the clipboard: time, node (``label``: as shown), level and text separated by tabs."""
    return f"{stamp(line.ts)}\t{line.label if label is None else label}\t{line.level}\t{line.text}"


def stamp(ts: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(ts)) + f".{int(ts * 1000) % 1000:03d}"


class LogModel(QAbstractTableModel):
    """The log lines of one run's read model; ``sync`` shows what it gained since the last call."""

    def __init__(self, view: RunView | str, parent: Any = None, names: Callable[[str], str] | None = None) -> None:
        """``names`` gives a node's name for its id (the read model's lines name nodes by id); asked at
        each paint, so a node renamed on the canvas reads the same in the log."""
        super().__init__(parent)
        self.names = names or (lambda node_id: node_id)
        self.view = view if isinstance(view, RunView) else RunView(view)
        self.run_id = self.view.run_id
        self.lines: list[LogLine] = []
        self._seen = 0
        """Lines of the view taken so far, counted from its first line ever."""
        self._removed = 0
        self._rows: dict[int, int] = {}
        """Each stream line shown (by identity): its row counted from the first line ever."""
        self.sync()

    # ------------------------------------------------------------ Qt model
    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 (Qt's signature)
        return 0 if parent.isValid() else len(self.lines)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return COLUMNS[section]
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        line = self.lines[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if column == 0:
                return stamp(line.ts)
            if column == 1:
                return self.label_of(line)
            if column == 2:
                return f"{LEVEL_MARK[line.level]} {line.level}".strip()
            return line.text if len(line.text) < 500 else line.text[:500] + "…"
        if role == Qt.ItemDataRole.ToolTipRole and column == 3 and len(line.text) > 80:
            return line.text[:4000]
        if role == Qt.ItemDataRole.ForegroundRole and column in (2, 3):
            meaning = LEVEL_TONE.get(line.level)
            return tone(meaning) if meaning else None  # chosen per paint: follows a theme switch
        return None

    # ------------------------------------------------------------ filling
    def append_events(self, events: Iterable[Any]) -> None:
        """Fold events into this model's own view and show them (for a view nobody else folds)."""
        for event in events:
            if event.type != "events_dropped":
                self.view.apply(event)
        self.sync()

    def sync(self) -> None:
        """Show the view's new lines in one insertion, and its grown stream lines in one update."""
        view = self.view
        total = view.lines_dropped + len(view.lines)
        fresh = min(total - self._seen, len(view.lines))
        self._seen = total
        self._add(view.lines[len(view.lines) - fresh :] if fresh > 0 else [])
        rows = [self._rows[id(line)] - self._removed for line in view.take_grown() if id(line) in self._rows]
        rows = [row for row in rows if row >= 0]
        if rows:
            self.dataChanged.emit(self.index(min(rows), 3), self.index(max(rows), 3))

    def _add(self, new: list[LogLine]) -> None:
        if not new:
            return
        overflow = len(self.lines) + len(new) - MAX_LINES
        if overflow > 0:
            overflow = min(overflow, len(self.lines))
            self.beginRemoveRows(QModelIndex(), 0, overflow - 1)
            del self.lines[:overflow]
            self._removed += overflow
            self.endRemoveRows()
        first = len(self.lines)
        self.beginInsertRows(QModelIndex(), first, first + len(new) - 1)
        self.lines.extend(new)
        self.endInsertRows()
        base = self._removed + first
        for offset, line in enumerate(new):
            if line.kind == "llm_stream":
                self._rows[id(line)] = base + offset

    def node_ids(self) -> list[str]:
        return sorted({line.node_id for line in self.lines if line.node_id}, key=self.names)

    def label_of(self, line: LogLine) -> str:
        """The Node column: the node's name where the read model has its id (with its pass, its sub-run node)."""
        node_id = line.node_id
        if not node_id or not line.label.startswith(node_id):
            return line.label
        return self.names(node_id) + line.label[len(node_id) :]


class LogFilter(QSortFilterProxyModel):
    """Shows the lines of one node (or all), at or above a level, containing a text."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.node: str | None = None
        self.min_level = "debug"
        self.text = ""

    def set_filter(self, *, node: str | None = None, min_level: str = "debug", text: str = "") -> None:
        self.beginFilterChange()
        self.node, self.min_level, self.text = node, min_level, text.casefold()
        self.endFilterChange()

    def filterAcceptsRow(self, source_row: int, source_parent: _Index) -> bool:
        model = self.sourceModel()
        assert isinstance(model, LogModel)
        line = model.lines[source_row]
        if self.node is not None and line.node_id != self.node:
            return False
        if _RANK.get(line.level, 1) < _RANK[self.min_level]:
            return False
        label = model.label_of(line).casefold()
        return not self.text or self.text in line.text.casefold() or self.text in label
