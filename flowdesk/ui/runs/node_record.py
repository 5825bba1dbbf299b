"""What one node did in the shown run: its inputs, outputs, error, attempts, timing, tokens and cost.

Read from the run journal, so it works the same for a run in progress, one that ended an hour ago
and one from before a restart. A node that ran several times (loop passes, retries) has one page
per attempt, stepped through with the arrows; a map node also pages through its items (with the Dask
worker that ran each, when the run was sent to a cluster).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from flowdesk.engine.children import child_key
from flowdesk.nodes.context import SUB_WORKFLOW_LABEL
from flowdesk.store.database import LibraryError
from flowdesk.store.runs import RunInfo, StepInfo
from flowdesk.store.store import Store
from flowdesk.store.workflows import NotFoundError
from flowdesk.ui.runs.runs_panel import STATUS_MARK, duration_text, money
from flowdesk.ui.runs.value_view import ValueView
from flowdesk.ui.runs.workers import WorkerNames
from flowdesk.ui.theming import set_tone


@dataclass(frozen=True)
class Page:
    """One page of a node's record: an attempt of a pass, one item of a map, or a sub-workflow node's run."""

    title: str
    step: StepInfo | None = None
    item_run: str | None = None


class NodeRecord(QWidget):
    pin_requested = Signal(str, dict, str)
    """(node id, outputs, run id): keep these outputs pinned on the node."""
    rerun_requested = Signal(str)
    decision = Signal(str, bool, str)
    """(node id, approved, comment) for a waiting approval node."""

    def __init__(
        self, store: Store, title_of: Callable[[str], str] = str, parent: QWidget | None = None,
        delivers: Callable[[str], str | None] = lambda _node_id: None,
    ) -> None:  # fmt: skip
        """``title_of`` names a node for a person (its title and id) from the open document; ``delivers``
        says under which run output an Output node puts its value (None for other nodes)."""
        super().__init__(parent)
        self.store = store
        self.title_of = title_of
        self.delivers = delivers
        self.run_id: str | None = None
        self.node_id: str | None = None
        self.pages: list[Page] = []
        self.page = 0
        self.workers = WorkerNames(store)
        self._build()
        self.show_node(None, None)

    def _build(self) -> None:
        self.heading = QLabel()
        self.heading.setWordWrap(True)
        self.heading.setTextFormat(Qt.TextFormat.PlainText)
        self.prev_button = QToolButton(text="◀")
        self.next_button = QToolButton(text="▶")
        self.prev_button.setToolTip("Previous pass, attempt or item")
        self.next_button.setToolTip("Next pass, attempt or item")
        self.prev_button.clicked.connect(lambda: self.show_page(self.page - 1))
        self.next_button.clicked.connect(lambda: self.show_page(self.page + 1))
        self.page_label = QLabel()
        pager = QHBoxLayout()
        pager.addWidget(self.prev_button)
        pager.addWidget(self.page_label, 1, Qt.AlignmentFlag.AlignCenter)
        pager.addWidget(self.next_button)
        self.facts = QFormLayout()
        self.facts.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error.setStyleSheet("font-weight: 600;")
        set_tone(self.error, "error")
        self.inputs = ValueView("no inputs recorded")
        self.outputs = ValueView("no outputs recorded")
        self.values = QTabWidget()
        self.values.addTab(self.outputs, "Outputs")
        self.values.addTab(self.inputs, "Inputs")
        self.pin_button = QPushButton("Pin this output")
        self.pin_button.setToolTip("Keep these outputs on the node while designing: it is not run, they flow on")
        self.pin_button.clicked.connect(self._pin)
        self.rerun_button = QPushButton("Re-run from here")
        self.rerun_button.setToolTip("A new run reusing everything upstream of this node")
        self.rerun_button.clicked.connect(lambda: self.node_id and self.rerun_requested.emit(self.node_id))
        actions = QHBoxLayout()
        actions.addWidget(self.pin_button)
        actions.addWidget(self.rerun_button)
        self.approval = self._approval_box()
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addLayout(pager)
        layout.addLayout(self.facts)
        layout.addWidget(self.error)
        layout.addWidget(self.approval)
        layout.addWidget(self.values, 1)
        layout.addLayout(actions)

    def _approval_box(self) -> QWidget:
        box = QWidget()
        self.comment = QLineEdit()
        self.comment.setPlaceholderText("Comment (optional)")
        approve = QPushButton("✔ Approve")
        reject = QPushButton("✖ Reject")
        approve.clicked.connect(lambda: self._decide(True))
        reject.clicked.connect(lambda: self._decide(False))
        self.approve_button, self.reject_button = approve, reject
        row = QHBoxLayout(box)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.comment, 1)
        row.addWidget(approve)
        row.addWidget(reject)
        return box

    # ------------------------------------------------------------ showing
    def show_node(self, run_id: str | None, node_id: str | None, *, keep_page: bool = False) -> None:
        """Show ``node_id`` as run ``run_id`` recorded it (None for either: say what to do)."""
        same = keep_page and (run_id, node_id) == (self.run_id, self.node_id)
        self.run_id, self.node_id = run_id, node_id
        self.pages = self._pages() if run_id and node_id else []
        if not self.pages:
            self._show_empty()
            return
        self.show_page(self.page if same else len(self.pages) - 1)

    def _pages(self) -> list[Page]:
        assert self.run_id is not None and self.node_id is not None
        try:
            steps = [s for s in self.store.runs.steps(self.run_id) if s.node_id == self.node_id]
            items = [
                r for r in self.store.runs.list(parent_run_id=self.run_id, include_children=True, limit=None)
                if r.parent_node_id == self.node_id and r.kind == "child"
            ]  # fmt: skip
        except (NotFoundError, LibraryError):
            return []
        passes = len({s.iteration for s in steps})
        pages = []
        for step in steps:
            parts = [f"pass {step.iteration + 1} of {passes}"] if passes > 1 else []
            if step.attempt > 1 or any(s.attempt > 1 and s.iteration == step.iteration for s in steps):
                parts.append(f"attempt {step.attempt}")
            pages.append(Page(", ".join(parts) or "the run's record", step=step))
        calls = [i for i in reversed(items) if child_key(i.id) == SUB_WORKFLOW_LABEL]  # listed newest first
        items = sorted((i for i in reversed(items) if child_key(i.id) != SUB_WORKFLOW_LABEL), key=_item_index)
        for index, call in enumerate(calls):  # a sub-workflow node's run (one per pass and attempt)
            count = f" {index + 1} of {len(calls)}" if len(calls) > 1 else ""
            pages.append(Page(f"sub-workflow run{count}", item_run=call.id))
        for position, item in enumerate(items):  # a map's items, in list order: "item 2" as its messages say
            index = _item_index(item)
            number = index + 1 if index >= 0 else position + 1
            pages.append(Page(f"item {number} of {len(items)}", item_run=item.id))
        return pages

    def _show_empty(self) -> None:
        self.heading.setText(
            "Select a node to see what it received and produced in the shown run."
            if self.run_id
            else "No run is shown. Run the workflow (F5) or pick a run in the Runs panel."
        )
        if self.run_id and self.node_id:
            self.heading.setText(f"{self.title_of(self.node_id)} has not run in this run (yet).")
        self.page_label.setText("")
        for widget in (self.prev_button, self.next_button, self.values, self.pin_button, self.rerun_button):
            widget.setEnabled(False)
        self.error.hide()
        self.approval.hide()
        self._set_facts([])
        self.inputs.set_value({})
        self.outputs.set_value({})

    def show_page(self, page: int) -> None:
        if not self.pages:
            return
        self.page = max(0, min(page, len(self.pages) - 1))
        shown = self.pages[self.page]
        self.page_label.setText(f"{shown.title}  ({self.page + 1}/{len(self.pages)})")
        self.prev_button.setEnabled(self.page > 0)
        self.next_button.setEnabled(self.page < len(self.pages) - 1)
        self.values.setEnabled(True)
        if shown.step is not None:
            self._show_step(shown.step)
        elif shown.item_run is not None:
            self._show_item(shown.item_run, shown.title)

    def _show_step(self, step: StepInfo) -> None:
        inputs, outputs = self.store.runs.step_values(step.id)
        mark = STATUS_MARK.get(step.status, "")
        how = {"pinned": " (pinned output)", "restored": " (reused from an earlier run)"}.get(step.source, "")
        self.heading.setText(f"{self.title_of(step.node_id)}: {mark} {step.status}{how}")
        facts = [
            ("Started", _clock(step.started_at)),
            ("Took", duration_text(step.duration_s) if step.finished_at else "still going"),
        ]
        if step.input_tokens or step.output_tokens:
            facts.append(("Tokens", f"{step.input_tokens:,} in, {step.output_tokens:,} out"))
            facts.append(("Cost", money(step.cost_usd)))
        worker = self.workers.worker(self.run_id, (step.node_id, step.iteration, step.attempt)) if self.run_id else None
        if worker:
            facts.append(("Ran on", f"Dask worker {worker}"))
        self._set_facts(facts)
        message = (step.error or {}).get("message")
        self.error.setText(f"Error: {message}" if message else "")
        self.error.setVisible(bool(message))
        self.approval.setVisible(step.status == "waiting")
        self.inputs.set_value(inputs)
        self.outputs.set_value(outputs or self._delivered(step))
        self.pin_button.setEnabled(step.status == "succeeded" and bool(outputs))
        self.rerun_button.setEnabled(True)

    def _delivered(self, step: StepInfo) -> dict[str, Any]:
        """An Output node has no output ports: what it produced is its entry in the run's outputs."""
        name = self.delivers(step.node_id)
        if name is None or step.status != "succeeded" or self.run_id is None:
            return {}
        _, run_outputs = self.store.runs.run_values(self.run_id)
        return {name: run_outputs[name]} if name in run_outputs else {}

    def _show_item(self, item_run: str, name: str) -> None:
        info = self.store.runs.get(item_run)
        inputs, outputs = self.store.runs.run_values(item_run)
        title = self.title_of(self.node_id or "")
        self.heading.setText(f"{title}: {name} {STATUS_MARK.get(info.status, '')} {info.status}")
        facts = [("Started", _clock(info.started_at)), ("Took", duration_text(info.duration_s))]
        worker = self.workers.worker(self.run_id, item_run) if self.run_id else None
        self._set_facts([*facts, ("Ran on", f"Dask worker {worker}")] if worker else facts)
        message = (info.error or {}).get("message")
        self.error.setText(f"Error: {message}" if message else "")
        self.error.setVisible(bool(message))
        self.approval.hide()
        self.inputs.set_value(inputs)
        self.outputs.set_value(outputs)
        self.pin_button.setEnabled(False)

    def _set_facts(self, facts: list[tuple[str, str]]) -> None:
        while self.facts.rowCount():
            self.facts.removeRow(0)
        for name, value in facts:
            label = QLabel(value)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.facts.addRow(name, label)

    # ------------------------------------------------------------ actions
    def _pin(self) -> None:
        page = self.pages[self.page] if self.pages else None
        if page is None or page.step is None or self.node_id is None or self.run_id is None:
            return
        _, outputs = self.store.runs.step_values(page.step.id)
        self.pin_requested.emit(self.node_id, outputs, self.run_id)

    def _decide(self, approved: bool) -> None:
        if self.node_id is not None:
            self.decision.emit(self.node_id, approved, self.comment.text())
            self.comment.clear()


def _clock(ts: float | None) -> str:
    return "—" if ts is None else time.strftime("%d %b %H:%M:%S", time.localtime(ts)) + f".{int(ts * 1000) % 1000:03d}"


def _item_index(run: RunInfo) -> int:
    """The index in its list of the item a child run ran (its key is "item N", N from 0); -1 for a run
    started under another key (a plugin's own), which keeps its place in start order."""
    key = child_key(run.id)
    return int(key[5:]) if key.startswith("item ") and key[5:].isdigit() else -1
