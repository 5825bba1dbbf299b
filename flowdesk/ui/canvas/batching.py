"""One edit's changes as the scene receives them: work that each change would repeat waits for the end.

The document announces every change of a command one by one, and marks the command's start and
end with a batch (``WorkflowDocument.batch``; the undo stack opens one around every command it
does or undoes). Between the two, the scene moves cards as their changes come, but:

* wires are re-routed once, at the end, for every node that moved: a multi-node move (auto-layout,
  align, a drag of many cards) used to re-route each wire once per end;
* past ``BULK`` changes, the scene drops its BSP index until the end and rebuilds it once: Qt's
  index re-files each moved item on its own, at a cost that grows with the items already waiting
  (auto-layout of 5,000 nodes in a shown view took 20 s with the index, 0.4 s without it, plus
  ~20 ms to rebuild it);
* the far picture (``overview.py``) is held and repainted once;
* past ``BULK`` changes, Python's cycle collector waits too: a move of 5,000 nodes makes 5,000 new
  nodes that are all kept, and the collections they set off (full ones among them, over every object
  of the app) found nothing to free and cost a tenth of the edit.
"""

from __future__ import annotations

import gc
from collections.abc import Callable

from PySide6.QtWidgets import QGraphicsScene

from flowdesk.ui.canvas.overview import Overview

BULK = 200
"""Changes in one edit past which the scene's BSP index is dropped until the edit is over."""
_BSP = QGraphicsScene.ItemIndexMethod.BspTreeIndex


class EditBatch:
    """The scene's side of the document's current batch, if one is under way."""

    def __init__(self, scene: QGraphicsScene, overview: Overview, route: Callable[[set[str]], None]) -> None:
        self._scene = scene
        self._overview = overview
        self._route = route
        self.active = False
        self._changes = 0
        self._unindexed = False
        self._collector_paused = False
        self._unrouted: set[str] = set()
        """Nodes moved or resized in this batch: their wires are re-routed at its end."""

    def change(self, weight: int = 1) -> None:
        """One more change of the document's current batch, touching ``weight`` items (a move: its nodes)."""
        if not self.active:
            self.active, self._changes = True, 0
            self._overview.hold()
        self._changes += weight
        if self._changes >= BULK and not self._unindexed and self._scene.itemIndexMethod() == _BSP:
            self._scene.setItemIndexMethod(QGraphicsScene.ItemIndexMethod.NoIndex)
            self._unindexed = True
        if self._changes >= BULK and not self._collector_paused:
            self._collector_paused = pause_collector()

    def defer_route(self, node_id: str) -> bool:
        """Put off re-routing ``node_id``'s wires to the end of the batch; False outside a batch (do it now)."""
        if self.active:
            self._unrouted.add(node_id)
        return self.active

    def defer_routes(self, node_ids: set[str]) -> bool:
        """:meth:`defer_route` for many nodes at once."""
        if self.active:
            self._unrouted |= node_ids
        return self.active

    def end(self) -> None:
        """The edit is complete: route each touched wire once, index the items again, repaint."""
        if not self.active:
            return
        nodes, self._unrouted = self._unrouted, set()
        self._route(nodes)
        if self._unindexed:
            self._unindexed = False
            self._scene.setItemIndexMethod(_BSP)
        self.active = False
        self._overview.release()
        if self._collector_paused:
            self._collector_paused = False
            gc.enable()


def pause_collector() -> bool:
    """Hold Python's cycle collector for a big gesture; True if this paused it (the caller resumes it)."""
    if not gc.isenabled():
        return False  # paused by someone else already (loading a workflow), who will resume it
    gc.disable()
    return True
