"""The main window: the canvas in the centre, the palette, inspector and edit history in docks.

One workflow is open at a time. It comes from the library (saved there with Ctrl+S, a new
version each time it changed) or from a file (imported into the library on first save): the file
actions are in ``file_actions.py``. The title shows its name and a ``*`` while there are unsaved
edits; closing asks before anything is lost. Window geometry and the dock layout are remembered
between sessions (QSettings).
"""

from __future__ import annotations

import logging
import uuid
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, QPointF, QSettings, Qt, Signal
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QDragMoveEvent,
    QDropEvent,
    QGuiApplication,
    QKeySequence,
    QShortcut,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QDockWidget,
    QLayout,
    QMainWindow,
    QMenu,
    QMessageBox,
    QStackedWidget,
    QTabWidget,
    QToolBar,
    QUndoView,
    QWidget,
)
from shiboken6 import isValid

from flowdesk.engine.services import EngineServices
from flowdesk.model.commands import AddNode, CommandRefused
from flowdesk.model.workflow import Workflow
from flowdesk.nodes.registry import Registry
from flowdesk.providers.setup import LLMServices
from flowdesk.store.store import Store
from flowdesk.ui.canvas.theme import snap
from flowdesk.ui.canvas_hint import EmptyCanvasHint
from flowdesk.ui.dock_tabs import StrayTabBarSweeper
from flowdesk.ui.edit_actions import EditActions
from flowdesk.ui.file_actions import FileActions
from flowdesk.ui.help_menu import HelpMenu
from flowdesk.ui.import_guard import ImportGuard
from flowdesk.ui.insights.action import InsightsAction
from flowdesk.ui.inspector import Inspector
from flowdesk.ui.library_backup import LibraryBackup
from flowdesk.ui.naming_actions import UNTITLED, NamingActions
from flowdesk.ui.open_document import FollowsDocument, OpenDocument
from flowdesk.ui.palette import KIND_MIME, Palette
from flowdesk.ui.quick_add import QuickAdd
from flowdesk.ui.quick_add_actions import QuickAddActions
from flowdesk.ui.runs.workbench import RunWorkbench
from flowdesk.ui.service_control import ServiceControl
from flowdesk.ui.session import WindowSession
from flowdesk.ui.settings_dialog import open_settings
from flowdesk.ui.start_inputs import follow_start_inputs
from flowdesk.ui.template_actions import install as install_template_actions
from flowdesk.ui.theming import ThemeSwitcher
from flowdesk.ui.triggers_tab import install as install_triggers_tab

log = logging.getLogger(__name__)


class MainWindow(FileActions, FollowsDocument, QMainWindow):
    document_opened = Signal(object)
    """A workflow was opened: the new :class:`OpenDocument` (its parts are new; the old one is closed)."""
    document_loaded = Signal()
    """A workflow was opened (for listeners that read ``current``)."""
    problems_changed = Signal(list)
    """The open workflow's validation problems changed (``self.problems.first_error()``: why Run is blocked)."""

    def __init__(
        self, store: Store, registry: Registry, settings: QSettings | None = None,
        services: EngineServices | None = None, llm: LLMServices | None = None,
    ) -> None:  # fmt: skip
        """``services`` are what runs use (providers, tools, HTTP); the app passes the real ones."""
        super().__init__()
        self.store = store
        self.registry = registry
        self.settings = settings or QSettings("flowdesk", "flowdesk")
        self.doc: OpenDocument | None = None
        """The open workflow's parts (document, undo stack, scene, view, source), closed as one; read
        through ``document``, ``stack``, ``scene``, ``view`` and ``source``."""
        self._error_noticed = False
        self._canvas_holder = QStackedWidget()
        self.setCentralWidget(self._canvas_holder)
        self.palette = Palette(registry)
        self.palette.kind_activated.connect(self.add_node_at_centre)
        self.inspector: Inspector | None = None
        self.quick_add = QuickAddActions(self)
        self.history_view = QUndoView()
        self.history_view.setEmptyLabel("<opened>")
        self.runs = RunWorkbench(self, store, registry, services or EngineServices(), llm)
        self.inspector_tabs = QTabWidget()
        self.inspector_tabs.setDocumentMode(True)
        self.inspector_tabs.addTab(QWidget(), "Settings")
        self.inspector_tabs.addTab(self.runs.record, "Run data")
        self._docks = self._arrange_docks()
        self._build_menus()
        self.editing = EditActions(self)  # clipboard, Arrange menu, Problems dock (edit_actions.py)
        self.problems = self.editing.problems
        self.problems.problems_changed.connect(self.problems_changed)
        self._docks["problems"] = self.editing.problems_dock
        self.tabifyDockWidget(self._docks["timeline"], self.editing.problems_dock)
        self._docks["log"].raise_()
        self.problems_changed.connect(self.runs.update_actions)  # Run is off, with the reason, while invalid
        self.import_guard = ImportGuard(self)  # asks before an outside file opens or its code first runs
        self.session = WindowSession(self, self._canvas_holder)  # autosave, recovery, recent, welcome
        self.triggers_tab = install_triggers_tab(self)  # the inspector's Triggers tab (triggers_tab.py)
        self.templates = install_template_actions(self)  # File > Save as template (template_actions.py)
        self.statusBar().showMessage(f"Library: {store.path}", 5000)
        self.resize(1280, 800)
        if QGuiApplication.platformName() == "offscreen":
            # the layout's default constraint sets the window's minimum size from its docks, which asks the
            # platform to propagate size hints; the offscreen platform (tests, screenshots, headless runs)
            # has no window manager to tell and printed a warning at every start
            self.layout().setSizeConstraint(QLayout.SizeConstraint.SetNoConstraint)
        self._restore_layout()
        self.tab_sweeper = StrayTabBarSweeper(self)  # Qt leaves unused dock tab bars on screen
        self.theming = ThemeSwitcher.install(self, self._menus["View"])  # View > Theme; palette and canvas
        self.insights = InsightsAction.install(self, store, self._menus["View"])  # View > Insights (ui/insights)
        self.help = HelpMenu(self)  # shortcuts (read from the menus) and About
        self.new_workflow()

    # ------------------------------------------------------------ layout
    def _arrange_docks(self) -> dict[str, QDockWidget]:
        """The docks as a first start shows them (a saved layout replaces this): the palette left, the
        inspector with the history behind it right, the runs beside the log and the timeline below."""
        bottom = Qt.DockWidgetArea.BottomDockWidgetArea
        docks = {
            "palette": self._dock("Nodes", self.palette, Qt.DockWidgetArea.LeftDockWidgetArea),
            "inspector": self._dock("Inspector", self.inspector_tabs, Qt.DockWidgetArea.RightDockWidgetArea),
            "history": self._dock("History", self.history_view, Qt.DockWidgetArea.RightDockWidgetArea),
            "runs": self._dock("Runs", self.runs.runs_panel, bottom),
            "log": self._dock("Log", self.runs.log_panel, bottom),
            "timeline": self._dock("Timeline", self.runs.timeline, bottom),
        }
        self.tabifyDockWidget(docks["inspector"], docks["history"])
        docks["inspector"].raise_()
        self.splitDockWidget(docks["runs"], docks["log"], Qt.Orientation.Horizontal)
        self.tabifyDockWidget(docks["log"], docks["timeline"])
        docks["log"].raise_()
        return docks

    def _dock(self, title: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock-{title.lower()}")
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        return dock

    def _restore_layout(self) -> None:
        geometry, state = self.settings.value("window/geometry"), self.settings.value("window/state")
        if geometry is not None:
            self.restoreGeometry(geometry)
        self._layout_restored = state is not None and self.restoreState(state)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._layout_restored:  # first start: docks at a sensible width, the canvas gets the rest
            self._layout_restored = True
            docks = [self._docks["palette"], self._docks["inspector"]]
            self.resizeDocks(docks, [220, 380], Qt.Orientation.Horizontal)
            self.resizeDocks([self._docks["runs"], self._docks["log"]], [470, 800], Qt.Orientation.Horizontal)
            self.resizeDocks([self._docks["log"]], [220], Qt.Orientation.Vertical)

    def _action(self, menu_name: str, text: str, slot: object, shortcut: object = None) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(slot)
        self._menus[menu_name].addAction(action)
        return action

    def menu(self, name: str) -> QMenu:
        """The menu bar's menu ``name`` ("File", "Edit", "View", "Run", "Arrange"), for helpers to extend."""
        return self._menus[name]

    def add_menu(self, name: str, menu: QMenu) -> None:
        """A helper's own menu, placed in the menu bar by the helper and known here by ``name``."""
        self._menus[name] = menu

    def _build_menus(self) -> None:
        bar = self.menuBar()
        self._menus = {name: bar.addMenu(f"&{name}") for name in ("File", "Edit", "View", "Run")}
        self.naming = NamingActions(self)  # Save As, Rename, F2, Export
        self._action("File", "&New", self.new_workflow, QKeySequence.StandardKey.New)
        self._action("File", "&Open from library…", self.open_from_library, QKeySequence.StandardKey.Open)
        self._action("File", "&Import JSON…", self.import_file, "Ctrl+I")
        self._action("File", "&Export JSON…", self.naming.export_file, "Ctrl+E")
        self._action("File", "&Save", self.save_asking_a_name, QKeySequence.StandardKey.Save)
        self._menus["File"].addActions([self.naming.save_as_action, self.naming.rename_action])
        self._action("File", "&Version history…", self.show_history, "Ctrl+Shift+H")
        self._action("File", "Se&ttings…", self.show_settings, "Ctrl+,")
        self._menus["File"].addSeparator()
        self._action("File", "&Quit", self.close, QKeySequence.StandardKey.Quit)
        self.library_backup = LibraryBackup.install(self, self.store, self._menus["File"])
        self.undo_action = self._action("Edit", "&Undo", lambda: self.stack and self.stack.undo(), "Ctrl+Z")
        self.redo_action = self._action("Edit", "&Redo", lambda: self.stack and self.stack.redo(), "Ctrl+Shift+Z")
        self._action("Edit", "Select &all", self._select_all, QKeySequence.StandardKey.SelectAll)
        self._menus["Edit"].addAction(self.naming.rename_node_action)
        self._action("View", "&Fit all", lambda: self.view and self.view.fit_all(), "F")
        self._action("View", "Zoom &in", lambda: self._zoom_by(1.25), QKeySequence.StandardKey.ZoomIn)
        self._action("View", "Zoom &out", lambda: self._zoom_by(0.8), QKeySequence.StandardKey.ZoomOut)
        self._menus["View"].addSeparator()
        for dock in self._docks.values():
            self._menus["View"].addAction(dock.toggleViewAction())
        self.runs.build_menu(self._menus["Run"])
        toolbar = QToolBar("Run")
        toolbar.setObjectName("toolbar-run")
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        toolbar.addActions(self.runs.toolbar_actions())
        self.addToolBar(toolbar)
        self.service_control = ServiceControl.install(self, self.store, self._menus["Run"], self.runs.runs_panel)

    # ------------------------------------------------------------ documents
    def load(self, workflow: Workflow, source: str) -> None:
        """Show ``workflow`` (replacing the open one, which the caller has saved or given up)."""
        old = self.doc
        if self.inspector is not None:
            self.inspector.dispose()
        doc = OpenDocument(workflow, self.registry, source)
        self.doc = doc
        doc.link(doc.stack.refused, self._say)
        doc.link(doc.stack.cleanChanged, self.update_title)
        doc.link(doc.stack.cleanChanged, self._clean_changed)
        doc.link(doc.stack.canUndoChanged, self.undo_action.setEnabled)
        doc.link(doc.stack.canRedoChanged, self.redo_action.setEnabled)
        self.undo_action.setEnabled(False)
        self.redo_action.setEnabled(False)
        doc.subscribe(self._document_changed)
        doc.link(doc.scene.selectionChanged, self._selection_changed)
        self.empty_hint = EmptyCanvasHint(doc)
        follow_start_inputs(doc)
        view = doc.view
        view.setAcceptDrops(True)
        view.viewport().setAcceptDrops(True)
        view.viewport().installEventFilter(self)
        doc.link(view.connection_refused, self._say)
        doc.link(view.wire_dropped, self.quick_add.from_wire)
        tab = QShortcut(QKeySequence(Qt.Key.Key_Tab), view, context=Qt.ShortcutContext.WidgetShortcut)
        tab.activated.connect(self.quick_add.at_cursor)
        # swapped inside a fixed central holder: replacing the central widget itself would make the
        # window lay its docks out afresh around a new, small view
        self._canvas_holder.addWidget(view)
        self._canvas_holder.setCurrentWidget(view)
        self.inspector = Inspector(doc.stack)
        old_inspector = self.inspector_tabs.widget(0)
        self.inspector_tabs.removeTab(0)
        old_inspector.setParent(None)
        old_inspector.deleteLater()
        self.inspector_tabs.insertTab(0, self.inspector, "Settings")
        self.inspector_tabs.setCurrentIndex(0)
        self.history_view.setStack(doc.stack)
        if old is not None:
            self._canvas_holder.removeWidget(old.view)
            old.close()
        self.update_title()
        if workflow.nodes:
            view.fit_all(readable=True)
        view.setFocus()
        self.document_opened.emit(doc)
        self.document_loaded.emit()
        self.runs.document_loaded()

    def new_workflow(self) -> None:
        if not self.may_discard():
            return
        self.load(Workflow(id=f"wf_{uuid.uuid4().hex[:12]}", name=UNTITLED), "library")

    # ------------------------------------------------------------ editing
    def _zoom_by(self, factor: float) -> None:
        if self.view is not None:
            self.view.set_zoom(self.view.zoom * factor)

    def add_node_at_centre(self, kind: str) -> None:
        if self.view is not None:
            self.add_node(kind, self.view.mapToScene(self.view.viewport().rect().center()))

    def add_node(self, kind: str, scene_pos: QPointF) -> None:
        if self.document is None or self.stack is None:
            return
        x, y = snap(scene_pos.x()), snap(scene_pos.y())
        try:
            command = AddNode.of_kind(self.document, kind, (x, y))
        except CommandRefused as exc:
            self._say(str(exc))
            return
        if self.stack.push_command(command) is None and self.scene is not None:
            self.scene.select([command.node.id])
            self.inspector_tabs.setCurrentIndex(0)  # a new node has no run data: its settings are what to see
            self.palette.search.clear()  # the next node is looked for afresh

    def _clean_changed(self, clean: bool) -> None:
        """Saved (or undone back to the saved state): no recovery copy is needed any more."""
        if clean and self.document is not None and isValid(self.session):
            self.session.discarded(self.document.workflow.id)

    def _document_changed(self, _change: object) -> None:
        self.update_title()
        self.session.changed()

    @property
    def _quick_add(self) -> QuickAdd | None:
        return self.quick_add.popup

    def _select_all(self) -> None:
        if self.scene is not None and self.document is not None:
            self.scene.select([n.id for n in self.document.nodes], [e.id for e in self.document.edges])

    def _selection_changed(self) -> None:
        if self.scene is None or self.inspector is None or not isValid(self.scene) or not isValid(self.inspector):
            return  # the window itself is being torn down (a closed document's scene never gets here)
        nodes = self.scene.selected_node_ids()
        self.inspector.show_node(nodes[0] if len(nodes) == 1 else None)
        self.runs.selection_changed(nodes)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Drops of a kind from the palette onto the canvas add that node where it was dropped."""
        if self.view is None:
            return super().eventFilter(watched, event)
        if watched is self.view.viewport() and event.type() in (QEvent.Type.DragEnter, QEvent.Type.DragMove):
            assert isinstance(event, QDragMoveEvent)  # a DragEnter event is one too
            if event.mimeData().hasFormat(KIND_MIME):
                event.acceptProposedAction()
                return True
        if watched is self.view.viewport() and event.type() == QEvent.Type.Drop:
            assert isinstance(event, QDropEvent)
            if event.mimeData().hasFormat(KIND_MIME):
                kind = bytes(event.mimeData().data(KIND_MIME).data()).decode("utf-8")
                self.add_node(kind, self.view.mapToScene(event.position().toPoint()))
                event.acceptProposedAction()
                return True
        return super().eventFilter(watched, event)

    # ------------------------------------------------------------ state and messages
    @property
    def dirty(self) -> bool:
        return self.stack is not None and isValid(self.stack) and not self.stack.isClean()

    def update_title(self, *_: object) -> None:
        name = self.document.workflow.name if self.document else "flowdesk"
        where = "" if self.source in (None, "library") else f" — {Path(self.source).name}"
        self.setWindowTitle(f"{'*' if self.dirty else ''}{name}{where} — flowdesk")

    def _say(self, message: str) -> None:
        self.statusBar().showMessage(message, 8000)

    def report_internal_error(self, message: str) -> None:
        """An unexpected error (logged in full elsewhere): a line in the status bar, and once a notice."""
        self.statusBar().showMessage(message, 15000)
        if not self._error_noticed:
            self._error_noticed = True
            box = QMessageBox(QMessageBox.Icon.Warning, "flowdesk hit a problem", message, parent=self)
            box.setInformativeText("Your saved work is safe. You can go on working; please report the problem.")
            box.open()

    def show_settings(self) -> None:
        """File > Settings…; runs started after it is saved use the new models, credentials and prices."""
        dialog = open_settings(self)
        if dialog is not None:
            dialog.accepted.connect(self.runs.reload_providers)

    def show_run_data(self) -> None:
        """Bring the inspector's Run data tab forward."""
        self.show_inspector(self.runs.record)

    def show_inspector(self, tab: QWidget | None = None) -> None:
        """Bring the inspector forward, on ``tab`` (default: the Settings tab)."""
        self._docks["inspector"].show()
        self._docks["inspector"].raise_()
        self.inspector_tabs.setCurrentWidget(tab or self.inspector_tabs.widget(0))

    def say(self, message: str) -> None:
        """A message in the status bar (for the window's helpers: runs, edit actions)."""
        self._say(message)

    def warn(self, title: str, message: str) -> None:
        """A modal warning (for the window's helpers); also logged."""
        self._warn(title, message)

    def _warn(self, title: str, message: str) -> None:
        log.info("%s: %s", title, message)
        QMessageBox.warning(self, title, message)

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self.may_discard() or not self.runs.may_close():
            event.ignore()
            return
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/state", self.saveState())
        event.accept()
