"""Opening a workflow file from elsewhere: say what it would do with this machine's keys, ask before its code runs.

A file opened with File > Import, from the command line, from Open recent or dropped on the window
is someone else's until the person says otherwise. When it names stored credentials or runs code
(see ``providers/import_review.py``) the window shows which, and where the keys would go, before
anything is opened: Cancel opens and stores nothing. One that runs code is remembered (in the
window's settings, so across restarts) as not yet allowed to run; its first Run asks, once. The
templates and examples shipped with flowdesk are not asked about.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QMessageBox

from flowdesk.model.workflow import Workflow
from flowdesk.paths import resources_dir
from flowdesk.providers.import_review import ImportReview, code_uses_deep, files_beside, review_import
from flowdesk.providers.settings import LLMSettings, SettingsError, load_settings
from flowdesk.store.database import LibraryError
from flowdesk.store.workflows import NotFoundError

if TYPE_CHECKING:
    from flowdesk.ui.main_window import MainWindow

log = logging.getLogger(__name__)
UNCONFIRMED_KEY = "imports/not_yet_run"
"""Ids of imported workflows that run code and have not been allowed to run yet."""
ACCEPTED_KEY = "imports/opened"
"""Fingerprints (file path and what it was said to do) of files the person chose to open: reopening the
same file (Open recent, the last workflow at start) does not ask again unless what it does changed."""
SHOWN_LINES = 12


def shipped(path: Path) -> bool:
    """A file of flowdesk's own (a template or an example): trusted as the program itself is."""
    try:
        return path.resolve().is_relative_to(resources_dir().resolve())
    except OSError:
        return False


def _listed(lines: tuple[str, ...] | list[str]) -> str:
    shown = "\n".join(f"• {line}" for line in lines[:SHOWN_LINES])
    return shown + (f"\n… and {len(lines) - SHOWN_LINES} more" if len(lines) > SHOWN_LINES else "")


def _fingerprint(path: Path, review: ImportReview) -> str:
    text = "\n".join([str(path.resolve()), *review.credentials, *review.code])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class ImportGuard(QObject):
    """Installed on the main window: the questions before an outside workflow opens or first runs, and file drops."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        window.setAcceptDrops(True)
        window.installEventFilter(self)

    # ------------------------------------------------------------ opening
    def may_open(self, workflow: Workflow, path: Path) -> bool:
        """Before a workflow file opens: True to go on (nothing to say, or the person said Open)."""
        if shipped(path):
            return True
        review = self._review(workflow, path.parent)
        if review.is_quiet:
            return True
        fingerprint = _fingerprint(path, review)
        if fingerprint in self._listed_setting(ACCEPTED_KEY):
            return True
        box = QMessageBox(QMessageBox.Icon.Warning, "Open a workflow from a file", "", parent=self.window)
        box.setObjectName("import-review")
        box.setText(f"'{workflow.name}' ({path.name}) can act on this machine. Open it?")
        parts = []
        if review.credentials:
            parts.append("It uses stored credentials; their keys would be sent:\n" + _listed(review.credentials))
        if review.code:
            parts.append("It runs code (you are asked again before its first run):\n" + _listed(review.code))
        box.setInformativeText("\n\n".join(parts))
        open_button = box.addButton("Open it", QMessageBox.ButtonRole.AcceptRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.exec()
        if box.clickedButton() is not open_button:
            self.window.say(f"Nothing opened: '{path.name}' was not imported")
            return False
        if review.code:
            self._mark(workflow.id, unconfirmed=True)
        accepted = [f for f in self._listed_setting(ACCEPTED_KEY) if f != fingerprint][-199:]
        self.window.settings.setValue(ACCEPTED_KEY, [*accepted, fingerprint])
        return True

    def _review(self, workflow: Workflow, folder: Path) -> ImportReview:
        try:
            settings = load_settings()
        except SettingsError as exc:
            log.info("settings unreadable; credentials of an import checked against none: %s", exc)
            settings = LLMSettings()
        return review_import(workflow, settings, self.window.registry, files_beside(folder))

    # ------------------------------------------------------------ running
    def may_run(self, workflow: Workflow) -> bool:
        """Before a run: an imported workflow that runs code and was not allowed yet asks now (once)."""
        if workflow.id not in self._unconfirmed():
            return True
        source = self.window.source
        if source not in (None, "library"):  # not saved yet: the files it calls are still beside it
            folder = Path(source).parent
            uses = code_uses_deep(workflow, self.window.registry, files_beside(folder))
        else:
            uses = code_uses_deep(workflow, self.window.registry, self._stored)
        if not uses:
            self._mark(workflow.id, unconfirmed=False)
            return True
        answer = QMessageBox.question(
            self.window,
            "Run code from an imported workflow?",
            f"'{workflow.name}' was imported from a file and runs code on this machine:\n\n{_listed(uses)}\n\n"
            "Run it? (You are not asked again for this workflow.)",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        if answer != QMessageBox.StandardButton.Yes:
            self.window.say("Not run: the imported workflow's code was not allowed to run")
            return False
        self._mark(workflow.id, unconfirmed=False)
        return True

    def _stored(self, ref: str) -> Workflow | None:
        """A called workflow as the library has it (saving the caller imported the files it calls)."""
        try:
            return self.window.store.workflows.load(Path(ref).stem if ref.endswith(".json") else ref)
        except (LibraryError, NotFoundError):
            return None

    def _unconfirmed(self) -> list[str]:
        return self._listed_setting(UNCONFIRMED_KEY)

    def _listed_setting(self, key: str) -> list[str]:
        value = self.window.settings.value(key, [])
        if isinstance(value, str):  # QSettings gives a one-item list back as a string
            value = [value]
        return [str(v) for v in value or []]

    def _mark(self, workflow_id: str, *, unconfirmed: bool) -> None:
        ids = [i for i in self._unconfirmed() if i != workflow_id] + ([workflow_id] if unconfirmed else [])
        self.window.settings.setValue(UNCONFIRMED_KEY, ids)

    # ------------------------------------------------------------ drops
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """A .json file dragged onto the window opens as File > Import does (asking first, as above)."""
        if watched is not self.window or event.type() not in (QEvent.Type.DragEnter, QEvent.Type.Drop):
            return False
        assert isinstance(event, (QDragEnterEvent, QDropEvent))
        paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        workflow_files = [p for p in paths if p.lower().endswith(".json")]
        if not workflow_files:
            return False
        event.acceptProposedAction()
        if event.type() == QEvent.Type.Drop and self.window.may_discard():
            self.window.open_workflow(workflow_files[0])
        return True
