"""Qt's undo stack over the document's commands.

The document changes only through :class:`~flowdesk.model.commands.Command` objects (docs/architecture.md §1).
In the GUI they live on a :class:`QUndoStack`, which gives Edit > Undo/Redo their labels, the
History view (QUndoView) and the clean/dirty signal behind the unsaved-changes marker, for free.

A command is done *before* it is pushed: a refused edit (:class:`CommandRefused`) must leave
neither a change nor an empty step behind, and the person must be told why. Only once ``do`` has
succeeded is the command wrapped and pushed, and the wrapper skips Qt's customary first
``redo()`` (the work is already done). Merging follows :class:`flowdesk.model.history.History`:
every command that overrides ``Command.merge`` shares one Qt id, so Qt offers each new one to the
previous step and the model command decides; Qt itself refuses to merge across the clean state,
as History does.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from flowdesk.model.commands import Command, CommandRefused
from flowdesk.model.document import WorkflowDocument

log = logging.getLogger(__name__)

MERGEABLE_ID = 0x666C6F77
"""Qt id shared by all commands that can merge (any id but -1 makes Qt try ``mergeWith``)."""


def _is_mergeable(command: Command) -> bool:
    """A command class that overrides ``merge`` may absorb a follower; the base class never does."""
    return type(command).merge is not Command.merge


class ModelUndoCommand(QUndoCommand):
    """A model command on Qt's stack: ``redo``/``undo`` call the command's ``do``/``undo``."""

    def __init__(self, document: WorkflowDocument, command: Command) -> None:
        super().__init__(command.label)
        self.document = document
        self.command = command
        self._already_done = True

    def redo(self) -> None:
        if self._already_done:  # push() calls redo() at once; the command was done before the push
            self._already_done = False
            return
        with self.document.batch():
            self.command.do(self.document)

    def undo(self) -> None:
        with self.document.batch():
            self.command.undo(self.document)

    def id(self) -> int:
        return MERGEABLE_ID if _is_mergeable(self.command) else -1

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, ModelUndoCommand) or other.document is not self.document:
            return False
        if not self.command.merge(other.command):
            return False
        self.setText(self.command.label)
        return True


class DocumentUndoStack(QUndoStack):
    """The undo stack of one open document; the canvas, inspector and menus all push here.

    ``refused`` carries the reason of an edit that was not made, so whoever shows messages (the
    main window's status bar) hears about refusals from every source in one place.
    """

    refused = Signal(str)

    def __init__(self, document: WorkflowDocument, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.document = document

    def push_command(self, command: Command) -> str | None:
        """Do ``command`` and push it. Returns None when done, or the reason it was refused.

        A refused command changes nothing and leaves no step on the stack.
        """
        try:
            with self.document.batch():  # listeners may put off work until the whole command is done
                command.do(self.document)
        except CommandRefused as exc:
            message = str(exc)
            log.info("edit refused: %s", message)
            self.refused.emit(message)
            return message
        self.push(ModelUndoCommand(self.document, command))
        return None

    def push_or_raise(self, command: Command) -> None:
        """Like :meth:`push_command`, for callers that would rather handle a refusal as an exception."""
        message = self.push_command(command)
        if message is not None:
            raise CommandRefused(message)
