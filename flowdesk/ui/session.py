"""What the window keeps across sessions and crashes: recovery copies, recent workflows, the welcome view.

- Unsaved edits are written to a recovery copy two seconds after the last change; saving or
  discarding removes it. After a crash the next start offers the copies of the process that died.
- File > Open recent lists the last workflows opened or saved.
- A library with no workflows yet opens on the welcome view (templates, run an example now).
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QMessageBox, QStackedWidget

from flowdesk.store.database import LibraryError
from flowdesk.ui.open_document import FollowsDocument
from flowdesk.ui.recent import RecentWorkflows
from flowdesk.ui.recovery import RecoveredCopy, RecoveryFolder
from flowdesk.ui.welcome import WelcomeView

if TYPE_CHECKING:
    from flowdesk.ui.main_window import MainWindow

log = logging.getLogger(__name__)
AUTOSAVE_MS = 2000


class WindowSession(FollowsDocument, QObject):
    def __init__(self, window: MainWindow, holder: QStackedWidget) -> None:
        super().__init__(window)
        self.window = window
        window.document_opened.connect(self.follow)  # handed each open document
        self.holder = holder
        self.recent = RecentWorkflows(window.settings)
        self.recovery = RecoveryFolder(window.store.path.parent / "recovery", window.store.owner.token)
        self._autosave = QTimer(self)
        self._autosave.setSingleShot(True)
        self._autosave.setInterval(AUTOSAVE_MS)
        self._autosave.timeout.connect(self.write_recovery)
        self.welcome: WelcomeView | None = None
        window.runs.run_asked.connect(self.hide_welcome)
        self._add_menus()

    def _add_menus(self) -> None:
        file_menu = self.window.menu("File")
        first = file_menu.actions()[2] if len(file_menu.actions()) > 2 else None  # after New and Open
        self.recent_menu = file_menu.addMenu("Open &recent")
        self.recent_menu.aboutToShow.connect(lambda: self.recent.fill(self.recent_menu, self._open_recent))
        templates = file_menu.addAction("New from &template…")
        templates.triggered.connect(self.show_welcome)
        if first is not None:
            file_menu.insertMenu(first, self.recent_menu)
            file_menu.insertAction(first, templates)

    # ------------------------------------------------------------ autosave and recovery
    def changed(self) -> None:
        """The document changed: a recovery copy follows shortly (restarting the wait; whether there is
        anything unsaved is decided then, as the undo stack counts the edit only after announcing it)."""
        self._autosave.start()

    def write_recovery(self) -> None:
        window = self.window
        if self.document is None or not window.dirty:
            return
        try:
            self.recovery.write(self.document.workflow, self.source)
        except OSError as exc:  # a full or read-only disk must not interrupt editing
            log.warning("cannot write the recovery copy of %s: %s", self.document.workflow.id, exc)

    def discarded(self, workflow_id: str) -> None:
        """Saved or given up: the copy has nothing left to recover."""
        self._autosave.stop()
        self.recovery.discard(workflow_id)

    def offer_recovery(self) -> bool:
        """At start-up: offer the newest copy a crashed flowdesk left; True if one was recovered."""
        copies = self.recovery.pending(self.window.store.owner_alive)
        for copy in copies:
            if self._ask(copy):
                self._recover(copy)
                for other in copies:
                    if other is not copy and other.workflow.id == copy.workflow.id:
                        self.recovery.drop(other)
                return True
            self.recovery.drop(copy)
        return False

    def _ask(self, copy: RecoveredCopy) -> bool:
        when = time.strftime("%d %b %H:%M:%S", time.localtime(copy.saved_at))
        answer = QMessageBox.question(
            self.window,
            "Recover unsaved changes?",
            f"flowdesk closed unexpectedly while '{copy.workflow.name}' had unsaved changes "
            f"(last kept {when}). Recover them?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.Yes,
        )
        return answer == QMessageBox.StandardButton.Yes

    def _recover(self, copy: RecoveredCopy) -> None:
        window = self.window
        window.load(copy.workflow, copy.source or "library")
        assert self.stack is not None
        self.stack.resetClean()  # unsaved again: the title shows it and closing asks
        window.update_title()
        self.recovery.drop(copy)
        self.write_recovery()  # kept again, now as this process's copy
        window.say(f"Recovered the unsaved changes to '{copy.workflow.name}'; save them with Ctrl+S")

    # ------------------------------------------------------------ recent
    def opened(self, ref: str) -> None:
        document = self.document
        name = document.workflow.name if document is not None else ref
        label = f"{name} ({Path(ref).name})" if ref.endswith(".json") else name
        self.recent.add(ref, label, document.workflow.id if document is not None else "")
        self.hide_welcome()

    def reopen_last(self) -> bool:
        """At start-up with nothing else to open: the workflow the person had open last; True if opened."""
        items = self.recent.items()
        return bool(items) and self.window.open_workflow(items[0][0])

    def forget(self, ref: str) -> None:
        self.recent.remove(ref)

    def _open_recent(self, ref: str) -> None:
        if self.window.may_discard():
            self.window.open_workflow(ref)

    # ------------------------------------------------------------ welcome
    def show_welcome_if_new(self) -> None:
        """A library with no workflows: open on the welcome view."""
        try:
            empty = not self.window.store.workflows.list()
        except LibraryError:
            return
        if empty:
            self.show_welcome()

    def show_welcome(self) -> None:
        if self.welcome is None:
            self.welcome = WelcomeView()
            self.welcome.template_chosen.connect(self._open_template)
            self.welcome.run_example.connect(self._run_example)
            self.welcome.blank_chosen.connect(self._blank)
            self.welcome.back_chosen.connect(self.hide_welcome)
            self.holder.addWidget(self.welcome)
        else:
            self.welcome.fill_templates()  # one saved with File > Save as template since
        document = self.window.document
        open_work = document is not None and bool(document.workflow.nodes)
        self.welcome.offer_back(document.workflow.name if open_work and document is not None else None)
        self.holder.setCurrentWidget(self.welcome)

    def hide_welcome(self) -> None:
        if self.view is not None:
            self.holder.setCurrentWidget(self.view)

    def _open_template(self, path: str) -> None:
        if self.window.may_discard():
            self.window.open_workflow(path)

    def _run_example(self, path: str) -> None:
        if self.window.may_discard() and self.window.open_workflow(path):
            self.window.runs.run_workflow()

    def _blank(self) -> None:
        self.window.new_workflow()
        self.hide_welcome()
