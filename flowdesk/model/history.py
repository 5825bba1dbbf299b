"""A plain undo/redo history over a document, for the CLI, scripts and tests.

The GUI uses Qt's QUndoStack instead (it adds the Edit > History view and clean-state signals);
both drive the same :class:`~flowdesk.model.commands.Command` objects.
"""

from __future__ import annotations

from flowdesk.model.commands import Command
from flowdesk.model.document import WorkflowDocument


class History:
    def __init__(self, doc: WorkflowDocument) -> None:
        self.doc = doc
        self._done: list[Command] = []
        self._undone: list[Command] = []
        self._clean_at: int | None = 0

    def push(self, command: Command, *, mergeable: bool = True) -> Command:
        """Do ``command`` and record it; merged into the previous step when both allow it."""
        command.do(self.doc)
        self._undone.clear()
        if self._clean_at is not None and self._clean_at > len(self._done):
            self._clean_at = None
        if mergeable and self._done and len(self._done) != self._clean_at and self._done[-1].merge(command):
            return self._done[-1]
        self._done.append(command)
        return command

    def undo(self) -> Command | None:
        if not self._done:
            return None
        command = self._done.pop()
        command.undo(self.doc)
        self._undone.append(command)
        return command

    def redo(self) -> Command | None:
        if not self._undone:
            return None
        command = self._undone.pop()
        command.do(self.doc)
        self._done.append(command)
        return command

    @property
    def can_undo(self) -> bool:
        return bool(self._done)

    @property
    def can_redo(self) -> bool:
        return bool(self._undone)

    @property
    def labels(self) -> list[str]:
        return [c.label for c in self._done]

    def set_clean(self) -> None:
        self._clean_at = len(self._done)

    @property
    def is_clean(self) -> bool:
        return self._clean_at == len(self._done)
