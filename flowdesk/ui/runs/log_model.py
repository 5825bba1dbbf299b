"""The lines of a run's log, and the filter the log dock shows them through.

One line per event (time, node, level, message), appended a tick's batch at a time so thousands of
events a second cost one model update per tick. An LLM's streamed text is one line per node pass
that grows as the tokens arrive. The filter is by node, lowest level and text; it is evaluated
only for new lines as they come, and for everything only when the filter itself changes.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, QSortFilterProxyModel, Qt

from flowdesk.engine.describe import describe, level_of
from flowdesk.store.runs import LogInfo
from flowdesk.ui.theming import tone

LEVELS = ("debug", "info", "warning", "error")
_RANK = {level: rank for rank, level in enumerate(LEVELS)}
MAX_LINES = 200_000
"""Oldest lines go first beyond this many (the journal keeps the run's record; this is the view)."""
MAX_STREAM_CHARS = 200_000
COLUMNS = ("Time", "Node", "Level", "Message")
LEVEL_MARK = {"debug": "·", "info": "", "warning": "▲", "error": "✖"}
LEVEL_TONE = {"debug": "muted", "warning": "warning", "error": "error"}
"""A shape beside the level's colour, so the level reads without colour vision."""
_Index = QModelIndex | QPersistentModelIndex


@dataclass(slots=True)
class LogLine:
    ts: float
    node_id: str | None
    """The node of *this* run the line is about (a sub-run's lines name the node that started it)."""
    label: str
    level: str
    text: str
    kind: str

    def as_text(self) -> str:
        return f"{stamp(self.ts)}\t{self.label}\t{self.level}\t{self.text}"


def stamp(ts: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(ts)) + f".{int(ts * 1000) % 1000:03d}"


class LogModel(QAbstractTableModel):
    """A run's log lines; ``append_events`` takes the engine's events as they arrive."""

    def __init__(self, run_id: str, parent: Any = None) -> None:
        super().__init__(parent)
        self.run_id = run_id
        self.lines: list[LogLine] = []
        self._streams: dict[tuple[str, str, int], tuple[LogLine, int | None]] = {}
        """Each node pass's stream line and its row counted from the first line ever (None until shown)."""
        self._removed = 0
        self._unplaced: list[tuple[str, str, int]] = []
        self._children: dict[str, str] = {}
        """Sub-run id -> the node of this run that started it."""

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
                return line.label
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
        """Add a batch of live events: new lines in one insertion, grown stream lines in one update."""
        new: list[LogLine] = []
        grown: set[int] = set()
        for event in events:
            if event.type == "llm_delta":
                self._stream(event, new, grown)
                continue
            if event.type == "run_started" and event.parent_run_id is not None:
                # a sub-run's lines are shown under the node of this run that started it
                self._children[event.run_id] = self._children.get(event.parent_run_id, event.parent_node_id or "")
                continue
            text = describe(event)
            if text is None:
                continue
            node_id, label = self._who(event)
            new.append(LogLine(getattr(event, "ts", time.time()), node_id, label, level_of(event), text, event.type))
        self._add(new)
        rows = [row - self._removed for row in grown if row >= self._removed]
        if rows:
            self.dataChanged.emit(self.index(min(rows), 3), self.index(max(rows), 3))

    def _who(self, event: Any) -> tuple[str | None, str]:
        node = getattr(event, "node_id", None)
        run_id = getattr(event, "run_id", self.run_id)
        iteration = getattr(event, "iteration", 0)
        label = f"{node}#{iteration + 1}" if node and iteration else (node or "")
        if run_id != self.run_id and run_id in self._children:
            parent = self._children[run_id]
            return parent, f"{parent} › {label}" if label else parent
        if event.type.startswith("run_") and event.type != "run_paused":
            return None, ""
        return node, label

    def _stream(self, event: Any, new: list[LogLine], grown: set[int]) -> None:
        """Deltas grow their node pass's stream line; ``grown`` collects absolute rows already shown."""
        key = (event.run_id, event.node_id, event.iteration)
        known = self._streams.get(key)
        if known is not None and len(known[0].text) < MAX_STREAM_CHARS:
            line, row = known
            line.text += event.text
            if row is not None:
                grown.add(row)
            return
        node_id, label = self._who(event)
        line = LogLine(event.ts, node_id, label, "info", "› " + event.text, "llm_stream")
        self._streams[key] = (line, None)
        self._unplaced.append(key)
        new.append(line)

    def append_lines(self, lines: list[LogLine]) -> None:
        self._add(lines)

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
        for key in self._unplaced:  # stream lines inserted just now: remember where, counted absolutely
            line = self._streams[key][0]
            self._streams[key] = (line, self._removed + first + _index_of(new, line))
        self._unplaced.clear()

    def node_ids(self) -> list[str]:
        return sorted({line.node_id for line in self.lines if line.node_id})


def _index_of(lines: list[LogLine], line: LogLine) -> int:
    return next(i for i, candidate in enumerate(lines) if candidate is line)


def recorded_lines(logs: Iterable[LogInfo], steps: Iterable[Any]) -> list[LogLine]:
    """A past run's log from its journal: each step's start and end, and the recorded log lines."""
    lines: list[LogLine] = []
    for step in steps:
        label = f"{step.node_id}#{step.iteration + 1}" if step.iteration else step.node_id
        if step.started_at is not None:
            attempt = f" (attempt {step.attempt})" if step.attempt > 1 else ""
            lines.append(LogLine(step.started_at, step.node_id, label, "info", "started" + attempt, "node_started"))
        if step.finished_at is not None and step.status not in ("failed",):
            how = {"pinned": " (pinned)", "restored": " (reused)"}.get(step.source, "")
            text = f"{step.status}{how} in {step.duration_s:.3f}s"
            lines.append(LogLine(step.finished_at, step.node_id, label, "info", text, "node_" + step.status))
    for entry in logs:
        label = f"{entry.node_id}#{entry.iteration + 1}" if entry.node_id and entry.iteration else entry.node_id or ""
        level = entry.level if entry.level in _RANK else "info"
        lines.append(LogLine(entry.ts, entry.node_id, label, level, entry.message, entry.kind))
    lines.sort(key=lambda line: line.ts)
    return lines


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
        return not self.text or self.text in line.text.casefold() or self.text in line.label.casefold()
