"""The runs panel: the open workflow's runs, newest first, re-runs under the run they came from.

Read from the library, so it shows runs from before a restart too; live runs update in place.
Selecting a run shows it: its node states on the canvas, its log, its timeline.
"""

from __future__ import annotations

import json
import textwrap
import time
from typing import Any

from PySide6.QtCore import QEvent, QObject, QPoint, Qt, Signal
from PySide6.QtGui import QHelpEvent
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QMenu, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from flowdesk.nodes.llm_contract import cost_text
from flowdesk.store.database import LibraryError
from flowdesk.store.runs import RunInfo
from flowdesk.store.store import Store
from flowdesk.store.workflows import NotFoundError
from flowdesk.ui.runs.trace import RunTrace
from flowdesk.ui.theming import tone

STATUS_MARK = {
    "pending": "○",
    "running": "▶",
    "paused": "❙❙",
    "waiting": "⚑",
    "succeeded": "✔",
    "failed": "✖",
    "cancelled": "⊘",
    "interrupted": "⚡",
}
STATUS_TONE = {
    "running": "running",
    "paused": "paused",
    "waiting": "warning",
    "succeeded": "success",
    "failed": "error",
    "cancelled": "muted",
    "interrupted": "warning",
}
"""The meaning of each run status, coloured by theming.tone (a shade that reads on the current theme)."""
COLUMNS = ("Run", "Started", "Took", "Tokens", "Cost", "Ver.")
"""Short headers: the columns size to their contents, so the status column keeps its words at 1024 px."""
RUN_ID_ROLE = Qt.ItemDataRole.UserRole
TONE_ROLE = Qt.ItemDataRole.UserRole + 1
"""The status's meaning, kept on the row so a theme switch can recolour it."""
PREVIEWED_ROLE = Qt.ItemDataRole.UserRole + 2
"""Whether the row's tooltip has its outputs' preview yet."""
NOTES_ROLE = Qt.ItemDataRole.UserRole + 3
"""What the row says after the status (a re-run's origin, a cluster), kept while a live run's status changes."""
PREVIEW_CHARS = 300


def money(cost: float) -> str:
    return "—" if not cost else cost_text(cost)


def duration_text(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes} min {secs:02d} s" if minutes < 60 else f"{minutes // 60} h {minutes % 60:02d} min"


def when(ts: float) -> str:
    """Today's runs by time of day; older ones with their date."""
    same_day = time.localtime(ts)[:3] == time.localtime()[:3]
    return time.strftime("%H:%M:%S" if same_day else "%d %b %H:%M", time.localtime(ts))


class RunsPanel(QWidget):
    run_selected = Signal(str)
    result_requested = Signal(str)
    """A run's Result view was asked for (double-click on its row, or its context menu)."""

    def __init__(self, store: Store, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.workflow_id: str | None = None
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(list(COLUMNS))
        self.tree.setRootIsDecorated(True)
        self.tree.setUniformRowHeights(True)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        header = self.tree.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in range(1, len(COLUMNS)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.currentItemChanged.connect(self._current_changed)
        self.tree.setToolTip(
            "Runs of the open workflow; select one to see it on the canvas, double-click for its result"
        )
        self.tree.itemDoubleClicked.connect(lambda item, _column: self.result_requested.emit(item.data(0, RUN_ID_ROLE)))
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.tree.customContextMenuRequested.connect(self._row_menu)
        self.tree.viewport().installEventFilter(self)
        self._items: dict[str, QTreeWidgetItem] = {}
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.tree)

    def show_workflow(self, workflow_id: str | None) -> None:
        """List the runs of ``workflow_id`` (None: nothing, e.g. a workflow not saved yet)."""
        self.workflow_id = workflow_id
        self.refresh()

    def refresh(self, select: str | None = None) -> None:
        current = select or self.current_run()
        self.tree.blockSignals(True)
        self.tree.clear()
        self._items.clear()
        runs = self.store.runs.list(self.workflow_id, limit=500) if self.workflow_id else []
        by_id = {run.id: run for run in runs}
        for run in reversed(runs):  # parents (older) first, so a re-run finds its parent's item
            parent = self._items.get(run.parent_run_id or "") if run.parent_run_id in by_id else None
            item = QTreeWidgetItem()
            item.setData(0, RUN_ID_ROLE, run.id)
            self._fill(item, run)
            if parent is not None:
                parent.insertChild(0, item)
                parent.setExpanded(True)
            else:
                self.tree.insertTopLevelItem(0, item)
            self._items[run.id] = item
        self.tree.blockSignals(False)
        if current in self._items:
            self.tree.setCurrentItem(self._items[current])

    def _fill(self, item: QTreeWidgetItem, run: RunInfo) -> None:
        notes = ""
        if run.kind == "rerun" and run.parent_node_id:
            notes += f" · from {run.parent_node_id}"
            reused = run.options.get("rerun", {}).get("reused")
            if reused is not None:
                notes += f" · {len(reused)} reused"
        cluster = run.options.get("cluster")
        if cluster:
            notes += " · on a cluster"
        item.setData(0, NOTES_ROLE, notes)
        item.setText(0, f"{STATUS_MARK.get(run.status, '?')} {run.status}{notes}")
        item.setData(0, PREVIEWED_ROLE, False)
        _set_tone(item, STATUS_TONE.get(run.status, "neutral"))
        where = (
            f"\nran with the Dask cluster at {cluster} (its map items, sub-workflows and remote nodes)"
            if cluster
            else ""
        )
        item.setToolTip(
            0, f"run {run.id}" + where + _rerun_note(run) + (f"\n{run.error.get('message', '')}" if run.error else "")
        )
        item.setText(1, when(run.created_at))
        ended = run.finished_at or (time.time() if run.status in ("running", "paused") else None)
        seconds = run.duration_s if run.finished_at else (ended - run.started_at if ended and run.started_at else None)
        item.setText(2, duration_text(seconds))
        tokens = run.input_tokens + run.output_tokens
        item.setText(3, f"{tokens:,}" if tokens else "—")
        item.setText(4, money(run.cost_usd))
        item.setText(5, f"v{run.workflow_version}" if run.workflow_version else "—")

    def update_live(self, run_id: str, trace: RunTrace) -> None:
        """A live run's row follows its trace without re-reading the library."""
        item = self._items.get(run_id)
        if item is None:
            return
        item.setText(0, f"{STATUS_MARK.get(trace.status, '?')} {trace.status}{item.data(0, NOTES_ROLE) or ''}")
        _set_tone(item, STATUS_TONE.get(trace.status, "neutral"))
        if trace.started_at is not None:
            item.setText(2, duration_text((trace.finished_at or time.time()) - trace.started_at))
        inputs, outputs, cost = trace.totals()
        item.setText(3, f"{inputs + outputs:,}" if inputs + outputs else "—")
        item.setText(4, money(cost))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """A row's tooltip gets its outputs' preview when first shown (read then, not for every row listed)."""
        if event.type() == QEvent.Type.ToolTip and watched is self.tree.viewport():
            assert isinstance(event, QHelpEvent)
            item = self.tree.itemAt(event.pos())
            if item is not None and not item.data(0, PREVIEWED_ROLE):
                item.setData(0, PREVIEWED_ROLE, True)
                preview = result_preview(self.store, item.data(0, RUN_ID_ROLE))
                if preview:
                    item.setToolTip(0, f"{item.toolTip(0)}\n{preview}")
        return super().eventFilter(watched, event)

    def _row_menu(self, pos: QPoint) -> None:
        item = self.tree.itemAt(pos)
        if item is None:
            return
        menu = QMenu(self)
        run_id = item.data(0, RUN_ID_ROLE)
        menu.addAction("Show result", lambda: self.result_requested.emit(run_id))
        self.row_menu = menu  # kept for tests
        menu.popup(self.tree.viewport().mapToGlobal(pos))

    def changeEvent(self, event: QEvent) -> None:
        """A theme switch: each row's status takes the shade that reads on the new background."""
        if event.type() == QEvent.Type.PaletteChange:
            for item in self._items.values():
                _set_tone(item, item.data(0, TONE_ROLE) or "neutral")
        super().changeEvent(event)

    def current_run(self) -> str | None:
        item = self.tree.currentItem()
        return None if item is None else item.data(0, RUN_ID_ROLE)

    def select(self, run_id: str) -> None:
        if run_id not in self._items:
            self.refresh(select=run_id)
        elif self._items[run_id] is not self.tree.currentItem():
            self.tree.setCurrentItem(self._items[run_id])

    def _current_changed(self, current: QTreeWidgetItem | None, _previous: QTreeWidgetItem | None) -> None:
        if current is not None:
            self.run_selected.emit(current.data(0, RUN_ID_ROLE))


def outputs_line(outputs: dict[str, Any], chars: int) -> str:
    """``name = value; ...`` cut to ``chars`` (a preview; the Result view has them whole)."""
    shown = "; ".join(
        f"{name} = {json.dumps(value, ensure_ascii=False, default=str)}" for name, value in outputs.items()
    )
    return f"{shown[: chars - 1]}…" if len(shown) > chars else shown


def result_preview(store: Store, run_id: str) -> str:
    """A finished run's outputs in a few lines (its row's tooltip); "" while it has none to show."""
    try:
        run = store.runs.get(run_id)
        _, outputs = store.runs.run_values(run_id) if run.status == "succeeded" else ({}, {})
    except (LibraryError, NotFoundError):
        return ""
    if run.status != "succeeded":
        return ""
    if not outputs:
        return "result: no outputs (double-click for why)"
    text = outputs_line(outputs, PREVIEW_CHARS)
    return "result: " + "\n".join(textwrap.wrap(text, 80)) + "\n(double-click for the whole result)"


def _rerun_note(run: RunInfo) -> str:
    """For a re-run: the version it ran and the results it reused, and what ran again because it changed."""
    details = run.options.get("rerun") if run.kind == "rerun" else None
    if details is None:
        return ""
    if details.get("recorded"):
        ran = "the version the earlier run ran"
    else:
        ran = f"version {run.workflow_version}" if run.workflow_version else "the workflow file as it was then"
    note = f"\nre-run of {run.parent_run_id} from '{run.parent_node_id}' on {ran}"
    reused = details.get("reused") or []
    note += f"\nreused: {', '.join(reused[:12])}{' …' if len(reused) > 12 else ''}" if reused else "\nreused nothing"
    changed = details.get("changed") or []
    if changed:
        note += f"\nchanged since, so run again: {', '.join(changed[:12])}"
    return note


def _set_tone(item: QTreeWidgetItem, meaning: str) -> None:
    item.setData(0, TONE_ROLE, meaning)
    item.setForeground(0, tone(meaning))
