"""The Problems dock, and the problem badges on the canvas: validation while editing.

The open workflow is validated as a run would validate it (``for_run=True``), so what this panel
lists is exactly what would stop Run. Edits re-validate after a short pause (a debounce timer), so
typing in the inspector stays smooth however large the workflow; whoever needs the verdict at
once (Run, about to start) calls :meth:`ProblemsPanel.first_error`, which validates any pending
edit first. Each problem shows as a badge on its wire (when it names one) or its node, with the
message as tooltip, and as a line in the list; double-clicking the line selects and centres it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtWidgets import QLabel, QListWidget, QListWidgetItem, QStyle, QVBoxLayout, QWidget
from shiboken6 import isValid

from flowdesk.engine.source_reader import SourceReader
from flowdesk.model.document import Change, EdgeAdded, NodeAdded, NodesMoved, WorkflowDocument
from flowdesk.model.kinds import Catalog
from flowdesk.model.problems import Problem
from flowdesk.model.validation import validate
from flowdesk.ui.canvas.scene import WorkflowScene
from flowdesk.ui.canvas.view import WorkflowView

log = logging.getLogger(__name__)

DEBOUNCE_MS = 300
"""Quiet time after the last edit before validating again."""


class ProblemsPanel(QWidget):
    """Lists the open workflow's problems and badges them on the canvas.

    ``problems_changed(list[Problem])`` is emitted after every validation whose result differs
    from the one before (the Run action listens to enable itself, with ``first_error`` as the reason).
    """

    problems_changed = Signal(list)

    def __init__(self, catalog: Catalog, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.catalog = catalog
        self.sources = SourceReader()
        """Reads templates and expressions as they are typed; it keeps what it read, by text."""
        self.summary = QLabel()
        self.list = QListWidget()
        self.list.setAlternatingRowColors(True)
        self.list.setWordWrap(True)  # a problem is a sentence: read whole in a narrow dock, not scrolled sideways
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.list.itemActivated.connect(self._activated)
        self.list.itemDoubleClicked.connect(self._activated)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.summary)
        layout.addWidget(self.list)
        self._timer = QTimer(self, singleShot=True, interval=DEBOUNCE_MS)
        self._timer.timeout.connect(self.validate_now)
        self._problems: list[Problem] = []
        self._document: WorkflowDocument | None = None
        self._scene: WorkflowScene | None = None
        self._view: WorkflowView | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._badged: tuple[dict[str, tuple[str, ...]], dict[str, tuple[str, ...]]] = ({}, {})
        self.last_duration_s = 0.0
        """How long the last validation took (shown in the debug log; benchmarks read it)."""

    def sizeHint(self) -> QSize:
        """A few lines high: the canvas above it should keep the room."""
        return QSize(600, 130)

    # ------------------------------------------------------------- following a document
    def attach(self, document: WorkflowDocument, scene: WorkflowScene, view: WorkflowView) -> None:
        """Follow a newly opened workflow (the previous one is let go) and validate it now."""
        if self._unsubscribe is not None:
            self._unsubscribe()
        self._document, self._scene, self._view = document, scene, view
        self._badged = ({}, {})
        self._unsubscribe = document.subscribe(self._changed)
        self.validate_now()

    def _changed(self, change: Change) -> None:
        """Any edit: validate once the person pauses. A re-added item (undo) has no badge yet.

        A move is no edit to validate: where a card sits decides no problem, and the badges ride on the
        cards. (Validating 5,000 nodes took 130 ms after each nudge or drag, stalling the next one.)
        """
        if isinstance(change, NodesMoved):
            return
        if isinstance(change, NodeAdded):
            self._badged[0].pop(change.node.id, None)
        elif isinstance(change, EdgeAdded):
            self._badged[1].pop(change.edge.id, None)
        self._timer.start()

    @property
    def problems(self) -> list[Problem]:
        return list(self._problems)

    @property
    def pending(self) -> bool:
        """An edit has not been validated yet (the debounce timer is running)."""
        return self._timer.isActive()

    def first_error(self) -> str | None:
        """Why the workflow cannot run now (its first error's message), or None when it can."""
        if self.pending:
            self.validate_now()
        return next((p.message for p in self._problems if p.severity == "error"), None)

    def validate_now(self) -> None:
        """Validate the open workflow and show the result (badges, list, summary)."""
        self._timer.stop()
        if self._document is None:
            return
        start = time.perf_counter()
        problems = validate(self._document.workflow, self.catalog, for_run=True, sources=self.sources)
        self.last_duration_s = time.perf_counter() - start
        log.debug("validated %d nodes in %.1f ms", len(self._document.nodes), self.last_duration_s * 1000)
        changed = problems != self._problems
        self._problems = problems
        self._show_badges()
        if changed:
            self._fill_list()
            self.problems_changed.emit(list(problems))

    # ------------------------------------------------------------- showing them
    def _show_badges(self) -> None:
        scene = self._scene
        if scene is None or not isValid(scene):
            return
        on_nodes: dict[str, list[str]] = {}
        on_edges: dict[str, list[str]] = {}
        doc = scene.document
        for problem in self._problems:
            if problem.edge_id is not None and doc.has_edge(problem.edge_id):
                on_edges.setdefault(problem.edge_id, []).append(str(problem))
            elif problem.node_id is not None and doc.has_node(problem.node_id):
                on_nodes.setdefault(problem.node_id, []).append(str(problem))
        new_nodes = {k: tuple(v) for k, v in on_nodes.items()}
        new_edges = {k: tuple(v) for k, v in on_edges.items()}
        old_nodes, old_edges = self._badged
        for node_id in old_nodes.keys() | new_nodes.keys():
            if old_nodes.get(node_id) != new_nodes.get(node_id) and doc.has_node(node_id):
                scene.set_node_problems(node_id, new_nodes.get(node_id, ()))
        for edge_id in old_edges.keys() | new_edges.keys():
            if old_edges.get(edge_id) != new_edges.get(edge_id) and doc.has_edge(edge_id):
                scene.set_edge_problems(edge_id, new_edges.get(edge_id, ()))
        self._badged = (new_nodes, new_edges)

    def _fill_list(self) -> None:
        style = self.style()
        icons = {
            "error": style.standardIcon(QStyle.StandardPixmap.SP_MessageBoxCritical),
            "warning": style.standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning),
        }
        self.list.clear()
        for index, problem in enumerate(self._problems):
            item = QListWidgetItem(icons[problem.severity], problem.message)
            item.setData(Qt.ItemDataRole.UserRole, index)
            where = problem.edge_id or problem.node_id
            item.setToolTip(f"{problem.severity} ({problem.code}){f' at {where}' if where else ''}")
            self.list.addItem(item)
        errors = sum(p.severity == "error" for p in self._problems)
        warnings = len(self._problems) - errors
        if not self._problems:
            self.summary.setText("No problems: the workflow can run.")
        else:
            parts = [f"{errors} error{'s' * (errors != 1)}"] if errors else []
            parts += [f"{warnings} warning{'s' * (warnings != 1)}"] if warnings else []
            self.summary.setText(", ".join(parts) + (" — Run is blocked until the errors are fixed." if errors else ""))

    def _activated(self, item: QListWidgetItem) -> None:
        """Select the node or wire a problem is about and bring it to the middle of the view."""
        index = item.data(Qt.ItemDataRole.UserRole)
        if self._scene is None or self._view is None or not isValid(self._scene) or index is None:
            return
        problem = self._problems[index]
        doc = self._scene.document
        if problem.edge_id is not None and doc.has_edge(problem.edge_id):
            self._scene.select(edge_ids=[problem.edge_id])
            self._view.centerOn(self._scene.edge_item(problem.edge_id))
        elif problem.node_id is not None and doc.has_node(problem.node_id):
            self._scene.select([problem.node_id])
            self._view.centerOn(self._scene.node_item(problem.node_id))
        else:
            return
        self._view.setFocus()
