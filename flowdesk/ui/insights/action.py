"""View > Insights: opens the Insights window (pyqtgraph is imported then, not at the app's start),
and opens in the main window a run picked there."""

from __future__ import annotations

import importlib
import logging
import sys
import threading
from typing import TYPE_CHECKING, Any

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu

from flowdesk.store.store import Store

if TYPE_CHECKING:
    from flowdesk.ui.insights.window import InsightsWindow

log = logging.getLogger(__name__)


class InsightsAction:
    """The menu entry, the one Insights window it opens, and the way back from a run to the main window."""

    def __init__(self, window: Any, store: Store, menu: QMenu) -> None:
        self.window = window
        self.store = store
        self.view: InsightsWindow | None = None
        self.action = QAction("&Insights…", window)
        self.action.setShortcut(QKeySequence("Ctrl+Shift+Y"))
        self.action.setStatusTip("How workflows do over time: runs, success, durations, cost, slow nodes")
        self.action.triggered.connect(self.open)
        menu.addSeparator()
        menu.addAction(self.action)
        self._warming: threading.Thread | None = None
        menu.aboutToShow.connect(self.warm)

    @classmethod
    def install(cls, window: Any, store: Store, menu: QMenu) -> InsightsAction:
        return cls(window, store, menu)

    def warm(self) -> None:
        """Import the charting library (numpy, pyqtgraph: ~0.4 s) on a thread when the View menu opens, so
        the window opens at once when it is then picked; an import still going is simply waited for."""
        if self._warming is None and "pyqtgraph" not in sys.modules:
            self._warming = threading.Thread(target=_import_charts, name="insights-warm", daemon=True)
            self._warming.start()

    def open(self) -> InsightsWindow:
        """Show the window, on the open workflow when it is in the library (all workflows otherwise)."""
        from flowdesk.ui.insights.window import InsightsWindow

        document = getattr(self.window, "document", None)
        workflow = None
        if document is not None and self.store.workflows.exists(document.workflow.id):
            workflow = document.workflow.id
        if self.view is None:
            self.view = InsightsWindow(self.store, workflow, parent=self.window)
            self.view.run_opened.connect(self.open_run)
        else:  # runs ended since it was last shown
            self.view.refresh()
        self.view.show()
        self.view.raise_()
        self.view.activateWindow()
        return self.view

    def open_run(self, run_id: str) -> None:
        """Show a run in the main window: its workflow opened (if it is another), the run selected."""
        run = self.store.runs.get(run_id)
        document = self.window.document
        if run.workflow_id and (document is None or document.workflow.id != run.workflow_id):
            if not self.window.may_discard() or not self.window.open_workflow(run.workflow_id):
                return
        self.window.runs.runs_panel.select(run_id)
        self.window.runs.show_run(run_id)
        self.window.raise_()
        self.window.activateWindow()


def _import_charts() -> None:
    try:
        importlib.import_module("numpy")
        importlib.import_module("pyqtgraph")
    except ImportError as exc:  # opening the window says so; here it is only noted
        log.warning("the Insights charts cannot be loaded: %s", exc)
