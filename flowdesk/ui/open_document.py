"""The parts of the one open workflow — document, undo stack, scene, view, where it came from — owned together.

Everything that follows one document (the window, the inspector, the run workbench, the edit
actions) is handed this object when the document opens and connects to its parts through
:meth:`OpenDocument.link` and :meth:`OpenDocument.subscribe`. :meth:`close` then cuts every one
of those connections at once, before anything is deleted: a closing canvas can no longer reach
the window (a scene being collected used to emit ``selectionChanged`` into the next document's
inspector), and nothing outside keeps the closed document, its stack or its items alive.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, SignalInstance

from flowdesk.model.document import Change, WorkflowDocument
from flowdesk.model.workflow import Workflow
from flowdesk.nodes.registry import Registry
from flowdesk.ui.canvas.scene import WorkflowScene
from flowdesk.ui.canvas.view import WorkflowView
from flowdesk.ui.undo import DocumentUndoStack

log = logging.getLogger(__name__)


class OpenDocument(QObject):
    """One open workflow; ``source`` is 'library', or the file path it was read from until it is saved."""

    def __init__(self, workflow: Workflow, registry: Registry, source: str) -> None:
        super().__init__()
        self.document = WorkflowDocument(workflow, registry)
        self.stack = DocumentUndoStack(self.document, self)  # owned here, not by the window: it goes with us
        self.scene = WorkflowScene(self.document, self.stack)
        self.view = WorkflowView(self.scene)
        self.source = source
        self.closed = False
        self._links: list[tuple[SignalInstance, Callable[..., Any]]] = []
        self._unsubscribes: list[Callable[[], None]] = []

    def link(self, signal: SignalInstance, slot: Callable[..., Any]) -> None:
        """Connect ``signal`` (of one of our parts) to ``slot`` until the document closes."""
        signal.connect(slot)
        self._links.append((signal, slot))

    def subscribe(self, listener: Callable[[Change], None]) -> None:
        """Hear the document's changes until it closes."""
        self._unsubscribes.append(self.document.subscribe(listener))

    @property
    def workflow(self) -> Workflow:
        return self.document.workflow

    def close(self) -> None:
        """Cut every link, then let Qt delete the view, scene and stack (the window has let go of the view)."""
        if self.closed:
            return
        self.closed = True
        for part in (self.scene, self.view, self.stack):
            part.blockSignals(True)  # a scene emptied as it is destroyed signals nothing to anyone
        for signal, slot in self._links:
            try:
                signal.disconnect(slot)
            except (RuntimeError, TypeError) as exc:  # already gone with its sender
                log.debug("link already cut: %s", exc)
        for unsubscribe in self._unsubscribes:
            unsubscribe()
        self._links.clear()
        self._unsubscribes.clear()
        self.scene.dispose()
        self.scene.clearSelection()
        self.scene.clear()  # the items go now, with nothing listening
        self.view.setScene(None)
        self.view.deleteLater()
        self.scene.deleteLater()
        self.stack.clear()
        self.deleteLater()


class FollowsDocument:
    """For the window's helpers: the open document they were handed (``follow``), and its parts by name."""

    doc: OpenDocument | None = None

    def follow(self, doc: OpenDocument) -> None:
        """``doc`` is the open document now (the previous one was closed with every link it gave)."""
        self.doc = doc

    @property
    def document(self) -> WorkflowDocument | None:
        return self.doc.document if self.doc is not None else None

    @property
    def stack(self) -> DocumentUndoStack | None:
        return self.doc.stack if self.doc is not None else None

    @property
    def scene(self) -> WorkflowScene | None:
        return self.doc.scene if self.doc is not None else None

    @property
    def view(self) -> WorkflowView | None:
        return self.doc.view if self.doc is not None else None

    @property
    def source(self) -> str | None:
        return self.doc.source if self.doc is not None else None
