"""Running and inspecting in the window: the Run menu, the shown run on the canvas, its panels.

One run is *shown* at a time: its node states are painted on the canvas, its lines fill the log,
its attempts the timeline, and the Run data tab shows what the selected node received and
produced in it. Starting a run shows it; picking one in the Runs panel shows that one. Other runs
(also of other workflows) go on meanwhile and are followed all the same.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QPoint, Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QApplication, QMenu, QMessageBox

from flowdesk.engine.services import EngineServices
from flowdesk.model.commands import SetNodeOptions
from flowdesk.model.workflow import PinnedOutput
from flowdesk.nodes.registry import Registry
from flowdesk.providers.settings import SettingsError, load_settings
from flowdesk.providers.setup import LLMServices, llm_services
from flowdesk.store.running import RunService
from flowdesk.store.store import Store
from flowdesk.ui.open_document import FollowsDocument
from flowdesk.ui.runs.canvas_paint import paint_trace
from flowdesk.ui.runs.cluster_runs import ClusterRuns
from flowdesk.ui.runs.controller import RunController
from flowdesk.ui.runs.launch import decide_run, rerun_run, resume_run, run_workflow
from flowdesk.ui.runs.log_model import LogModel
from flowdesk.ui.runs.log_panel import LogPanel
from flowdesk.ui.runs.node_menu import node_menu
from flowdesk.ui.runs.node_record import NodeRecord
from flowdesk.ui.runs.result_view import ResultView
from flowdesk.ui.runs.run_menu import build_run_menu, run_toolbar_actions
from flowdesk.ui.runs.runs_panel import RunsPanel
from flowdesk.ui.runs.status_line import RunStatusLine
from flowdesk.ui.runs.summary import run_summary, run_title
from flowdesk.ui.runs.timeline import Timeline
from flowdesk.ui.runs.trace import RunTrace

if TYPE_CHECKING:
    from flowdesk.ui.main_window import MainWindow

log = logging.getLogger(__name__)


class RunWorkbench(FollowsDocument, QObject):
    run_asked = Signal()
    """F5 was pressed: whatever covers the canvas makes way for the workflow about to run."""

    def __init__(
        self, window: MainWindow, store: Store, registry: Registry, services: EngineServices,
        llm: LLMServices | None = None,
    ) -> None:  # fmt: skip
        """``llm`` are the providers built from the person's settings (rebuilt when Settings are saved)."""
        super().__init__(window)
        self.llm = llm
        self.window = window
        window.document_opened.connect(self.follow)  # handed each open document
        self.store = store
        self.registry = registry
        self.controller = RunController(store, RunService(store, registry, services), self)
        self.controller.service.trace_to = _trace_url()  # the opt-in: every run's trace to a collector
        self.clusters = ClusterRuns(lambda: self.controller.service, lambda: self.llm.credentials if self.llm else None)
        self.connecting: asyncio.Future[None] | None = None
        """F5's connection to a cluster while it is being made (then the run starts)."""
        self.log_panel = LogPanel()
        self.runs_panel = RunsPanel(store)
        self.timeline = Timeline()
        self.timeline.chart.names = self._node_name
        self.record = NodeRecord(store, self._node_title, delivers=self._output_name)
        self.logs: dict[str, LogModel] = {}
        self.shown: str | None = None
        self.result_view: ResultView | None = None
        self._build_status_bar()
        self._connect()

    # ------------------------------------------------------------ building
    def _build_status_bar(self) -> None:
        self.status_line = RunStatusLine(self.window.statusBar())
        self.progress = self.status_line.progress
        self.run_status = self.status_line.run_status
        self.failed_button = self.status_line.failed_button
        self.result_button = self.status_line.result_button
        self.failed_button.clicked.connect(self._select_failed)
        self.result_button.clicked.connect(lambda: self.show_result(self.shown))

    def _connect(self) -> None:
        c = self.controller
        c.run_started.connect(self._on_started)
        c.run_events.connect(self._on_events)
        c.run_changed.connect(self._on_changed)
        c.run_finished.connect(self._on_finished)
        self.runs_panel.run_selected.connect(self.show_run)
        self.runs_panel.result_requested.connect(self.show_result)
        self.log_panel.node_clicked.connect(self.select_node)
        self.timeline.chart.node_clicked.connect(self.select_node)
        self.record.pin_requested.connect(self.pin_output)
        self.record.rerun_requested.connect(self.rerun_from)
        self.record.decision.connect(self.decide)

    def build_menu(self, menu: QMenu) -> None:
        """The Run menu (the window adds it to its menu bar and the same actions to its toolbar)."""
        build_run_menu(self, menu)
        self.update_actions()

    def toolbar_actions(self) -> list[QAction]:
        return run_toolbar_actions(self)

    # ------------------------------------------------------------ the open workflow
    def document_loaded(self) -> None:
        """Another workflow is open: list its runs; show its live run if one is going."""
        document, view = self.document, self.view
        if view is not None:
            view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
            assert self.doc is not None
            self.doc.link(view.customContextMenuRequested, self._canvas_menu)
        workflow_id = document.workflow.id if document is not None else None
        stored = workflow_id is not None and self.store.workflows.exists(workflow_id)
        self.runs_panel.show_workflow(workflow_id if stored else None)
        live = [r for r in self.controller.running_ids() if self.controller.live[r].workflow_id == workflow_id]
        self.shown = None
        if live:
            self.runs_panel.select(live[-1])
            self.show_run(live[-1])
        else:
            self._show_nothing()

    def selection_changed(self, node_ids: list[str]) -> None:
        node = node_ids[0] if len(node_ids) == 1 else None
        self.record.show_node(self.shown, node)
        self.update_actions()

    def _node_title(self, node_id: str) -> str:
        document = self.document
        node = document.node(node_id) if document is not None else None
        return f"{node.title} ({node_id})" if node is not None and node.title != node_id else node_id

    def _node_name(self, node_id: str) -> str:
        """A node's name as the canvas shows it (its id when it is not in the open workflow)."""
        node = self.document.node(node_id) if self.document is not None else None
        return node.title if node is not None else node_id

    def _output_name(self, node_id: str) -> str | None:
        """The run output an Output node of the open workflow fills (None for any other node)."""
        node = self.document.node(node_id) if self.document is not None else None
        if node is None or node.kind != "output":
            return None
        return str(node.config.get("name", "result"))

    def selected_node(self) -> str | None:
        scene = self.scene
        nodes = scene.selected_node_ids() if scene is not None else []
        return nodes[0] if len(nodes) == 1 else None

    def select_node(self, node_id: str) -> None:
        scene, view = self.scene, self.view
        if scene is None or view is None or self.document is None:
            return
        if self.document.node(node_id) is None:
            self.window.say(f"'{node_id}' is not in the open workflow any more")
            return
        scene.select([node_id])
        view.centerOn(scene.node_item(node_id))

    # ------------------------------------------------------------ starting
    def run_workflow(self) -> None:
        """F5: check, ask for inputs, save, start a recorded run here or on a cluster, and show it (launch.py)."""
        self.run_asked.emit()
        run_workflow(self)

    def rerun_from(self, node_id: str | None) -> None:
        """Ctrl+Shift+F5: save (as F5 does), then re-run what is on the canvas from ``node_id``."""
        window = self.window
        if node_id is None or self.shown is None or self.document is None:
            window.say("Select a node, and a run in the Runs panel, to re-run from that node")
            return
        workflow = self.document.workflow
        if not window.import_guard.may_run(workflow):
            return
        if (window.dirty or not self.store.workflows.exists(workflow.id)) and not window.save():
            return
        rerun_run(self, self.shown, node_id, self.document.workflow)  # here, or on the workflow's cluster

    def resume_shown(self) -> None:
        if self.shown is not None:
            resume_run(self, self.shown)  # where its workflow's executor says

    def decide(self, node_id: str, approved: bool, comment: str = "") -> None:
        if self.shown is not None:
            decide_run(self, self.shown, node_id, approved, comment)  # a recorded run: where its workflow runs

    # ------------------------------------------------------------ steering
    def stop(self) -> None:
        if self.shown is not None:
            self.controller.cancel(self.shown)

    def pause(self) -> None:
        if self.shown is not None:
            self.controller.pause(self.shown)

    def continue_run(self) -> None:
        if self.shown is not None:
            self.controller.resume_paused(self.shown)

    def step(self) -> None:
        if self.shown is not None:
            self.controller.step(self.shown)

    def toggle_breakpoint(self) -> None:
        node_id, window = self.selected_node(), self.window
        if node_id is None or self.document is None or self.stack is None:
            window.say("Select one node to toggle its breakpoint")
            return
        node = self.document.node(node_id)
        self.stack.push_command(SetNodeOptions(self.document, node_id, breakpoint=not node.breakpoint))

    def pin_output(self, node_id: str, outputs: dict[str, Any], run_id: str) -> None:
        window = self.window
        if self.document is None or self.stack is None or self.document.node(node_id) is None:
            window.say(f"'{node_id}' is not in the open workflow; nothing pinned")
            return
        pinned = PinnedOutput(outputs=outputs, source_run=run_id)
        refused = self.stack.push_command(SetNodeOptions(self.document, node_id, pinned=pinned))
        if refused is None:
            window.say(f"Pinned the outputs of '{node_id}' from run {run_id[:8]}: it is not run while pinned")

    def unpin(self, node_id: str) -> None:
        if self.document is not None and self.stack is not None:
            self.stack.push_command(SetNodeOptions(self.document, node_id, pinned=None))

    def update_actions(self) -> None:
        if not hasattr(self, "run_action"):
            return
        trace = self.controller.trace(self.shown) if self.shown else None
        live = self.shown is not None and self.controller.handle(self.shown) is not None
        status = trace.status if trace is not None else None
        blocker = self._run_blocker()
        self.run_action.setEnabled(blocker is None)
        self.run_action.setToolTip(f"Cannot run: {blocker}" if blocker else "Run the workflow (saves it first)")
        self.run_action.setStatusTip(self.run_action.toolTip())
        if trace is None:  # nothing shown: the status bar says why Run is off, if it is
            self.run_status.setText(f"⚠ Cannot run: {blocker}" if blocker else "")
            self.run_status.setToolTip(blocker or "")
        self.stop_action.setEnabled(live)
        self.pause_action.setEnabled(live and status == "running")
        self.continue_action.setEnabled(live and status == "paused")
        self.step_action.setEnabled(live and status == "paused")
        self.rerun_action.setEnabled(self.shown is not None and self.selected_node() is not None)
        self.resume_action.setEnabled(not live and status in ("interrupted", "failed", "cancelled"))
        self.breakpoint_action.setEnabled(self.selected_node() is not None)
        self.result_action.setEnabled(status in ("succeeded", "failed", "cancelled", "interrupted"))

    def _run_blocker(self) -> str | None:
        """The first error the Problems panel knows of (no validation forced here: this runs every tick)."""
        problems = getattr(self.window, "problems", None)
        if problems is None:
            return None
        return next((p.message for p in problems.problems if p.severity == "error"), None)

    # ------------------------------------------------------------ following
    def _on_started(self, run_id: str) -> None:
        live = self.controller.live[run_id]
        self.logs[run_id] = LogModel(
            live.trace, self, self._node_name
        )  # the live view (it starts from the record of a resumed run)
        document = self.document
        if document is not None and live.workflow_id == document.workflow.id:
            self.runs_panel.workflow_id = live.workflow_id  # the first run of a workflow saved just now
            self.runs_panel.refresh(select=run_id)
            self.show_run(run_id)
        where = live.extra.get("where")
        self.window.say(f"Run {run_id[:8]} started" + (f" on {where}" if where else ""))

    def _on_events(self, run_id: str, events: list[Any]) -> None:
        model = self.logs.get(run_id)
        if model is not None:
            model.sync()
        if run_id == self.shown:
            for event in events:
                if event.type == "node_waiting" and event.run_id == run_id:
                    self._prompt_approval(event.node_id, event.message)

    def _prompt_approval(self, node_id: str, message: str) -> None:
        """A node waits for a person: select it, open its Run data (where Approve / Reject are), say so."""
        self.select_node(node_id)
        self.window.show_run_data()
        self.record.show_node(self.shown, node_id)
        self.window.say(f"Approval needed at '{self._node_title(node_id)}': {message}")
        QApplication.alert(self.window)

    def _on_changed(self, run_id: str) -> None:
        if run_id != self.shown:
            return
        trace = self.controller.trace(run_id)
        if trace is None:
            return
        self._paint(trace, trace.take_changes())
        self.runs_panel.update_live(run_id, trace)
        self._show_progress(trace)
        if self.timeline.isVisible():
            self.timeline.chart.refresh()
        selected = self.selected_node()
        if selected is not None and selected in trace.nodes:
            self.record.show_node(run_id, selected, keep_page=True)
        self.update_actions()

    def _on_finished(self, run_id: str, status: str) -> None:
        trace = self.controller.trace(run_id)
        if run_id == self.shown:
            self.runs_panel.refresh(select=run_id)
            self.log_panel.run_label.setText(run_title(self.store, run_id))  # "handled by run ..." once known
            if trace is not None:
                self._paint(trace, set(trace.nodes))
                self._show_progress(trace)
                self.timeline.chart.refresh()
            self.update_actions()
        self.window.say(run_summary(self.store, run_id, status, trace, self._node_title))
        if self.result_view is not None and self.result_view.isVisible() and self.result_view.run_id == run_id:
            self.result_view.show_run(run_id)  # open on this run while it went on: now its result is known

    def show_result(self, run_id: str | None) -> None:
        """Open the Result view on ``run_id`` (from the status bar's link or a run's row)."""
        if run_id is None:
            self.window.say("Pick a run in the Runs panel to see its result")
            return
        if self.result_view is None:
            self.result_view = ResultView(self.store, self._node_title, self.window)
        if not self.result_view.show_run(run_id):
            self.window.say(f"The result of run {run_id[:8]} cannot be read from the library")
            return
        self.result_view.show()
        self.result_view.raise_()
        self.result_view.activateWindow()

    # ------------------------------------------------------------ showing a run
    def show_run(self, run_id: str | None) -> None:
        """Paint ``run_id`` on the canvas and fill the log, timeline and Run data with it."""
        if run_id is None:
            self._show_nothing()
            return
        trace = self.controller.trace(run_id)
        if trace is None:
            self._show_nothing()
            return
        self.shown = run_id
        if self.scene is not None:
            self.scene.clear_states()
        self._paint(trace, set(trace.nodes))
        trace.take_changes()
        model = self.logs.get(run_id)
        if model is None:
            model = self.logs[run_id] = self._recorded_log(run_id)
        self.log_panel.show_model(model, run_title(self.store, run_id))
        self.timeline.chart.set_trace(trace)
        self._show_progress(trace)
        self.record.show_node(run_id, self.selected_node())
        self.update_actions()

    def _show_nothing(self) -> None:
        self.shown = None
        if self.scene is not None:
            self.scene.clear_states()
        self.log_panel.show_model(None, "No run shown")
        self.timeline.chart.set_trace(None)
        self.record.show_node(None, None)
        self.status_line.clear()
        self.update_actions()

    def _recorded_log(self, run_id: str) -> LogModel:
        """The run's log: its read model's lines (the live one while this window follows the run)."""
        view = self.controller.trace(run_id)
        return LogModel(view if view is not None else run_id, self, self._node_name)

    def _paint(self, trace: RunTrace, node_ids: set[str]) -> None:
        if self.scene is not None and self.document is not None:
            paint_trace(self.scene, self.document, trace, node_ids)

    def _show_progress(self, trace: RunTrace) -> None:
        live = self.controller.live.get(trace.run_id)
        self.status_line.show_trace(trace, live.extra.get("where") if live is not None else None)

    def _select_failed(self) -> None:
        trace = self.controller.trace(self.shown) if self.shown else None
        if trace is not None and trace.error_node:
            self.select_node(trace.error_node)
            self.window.show_run_data()  # where its error and what it received are

    # ------------------------------------------------------------ context menu
    def _canvas_menu(self, pos: QPoint) -> None:
        """Right-click on a node: run actions for it (see ``node_menu.py``)."""
        menu = node_menu(self, pos)
        if menu is not None and self.view is not None:
            self.context_menu = menu  # kept for tests
            menu.popup(self.view.viewport().mapToGlobal(pos))

    def pin_from_shown(self, node_id: str) -> None:
        """Pin the outputs ``node_id`` produced (last) in the shown run."""
        if self.shown is None:
            return
        _, outputs = self.store.runs.node_results(self.shown)
        if outputs.get(node_id):
            self.pin_output(node_id, outputs[node_id], self.shown)
        else:
            self.window.say(f"'{node_id}' has no recorded outputs in the shown run")

    # ------------------------------------------------------------ settings
    def reload_providers(self) -> None:
        """Settings were saved: later runs use the new credentials, base URLs and prices (live runs keep theirs)."""
        self.controller.service.trace_to = _trace_url()
        if self.llm is None:
            return
        try:
            llm = llm_services(load_settings(), http=self.llm.http)
        except SettingsError as exc:
            self.window.say(f"Settings not applied: {exc}")
            return
        self.llm = llm
        service = self.controller.service
        service.services = replace(service.services, providers=llm.providers, secrets=llm.credentials)

    async def llm_close(self) -> None:
        await self.clusters.close_all()
        if self.llm is not None:
            await self.llm.aclose()

    # ------------------------------------------------------------ closing
    def live_count(self) -> int:
        return len(self.controller.running_ids())

    def may_close(self) -> bool:
        """Runs still going are cancelled (after asking) and given a moment to journal their end."""
        count = self.live_count()
        if not count:
            return True
        answer = QMessageBox.question(
            self.window,
            "Runs in progress",
            f"{count} run{'s are' if count > 1 else ' is'} still going. Cancel and quit? "
            "(A cancelled run can be resumed later from the Runs panel.)",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        )
        if answer != QMessageBox.StandardButton.Yes:
            return False
        self.controller.cancel_all_blocking()
        return True


def _trace_url() -> str | None:
    """The collector the settings send every run's trace to (None: off, or settings that cannot be read)."""
    try:
        return load_settings().trace_otlp_url
    except SettingsError:
        return None
