"""One edit's changes as the scene receives them: work that each change would repeat waits for the end.

The document announces every change of a command one by one, and marks the command's start and
end with a batch (``WorkflowDocument.batch``; the undo stack opens one around every command it
does or undoes). Between the two, the scene moves cards as their changes come, but:

* wires are re-routed once, at the end, for every node that moved: a multi-node move (auto-layout,
  align, a drag of many cards) used to re-route each wire once per end; when the batch was one move of
  its nodes by one offset (a nudge), the wires between them are moved by that offset, unexamined;
* past ``BULK`` changes, the scene drops its BSP index and rebuilds it once the person pauses
  (:class:`DeferredIndex`): Qt's index re-files each moved item on its own, at a cost that grows
  with the items already waiting (auto-layout of 5,000 nodes in a shown view took 20 s with the
  index, 0.4 s without it), and rebuilding it costs 25-30 ms for 5,000 cards and their wires, which
  is not to be paid inside the frame of a nudge, nor again for each step of a held arrow key;
* the far picture (``overview.py``) is held and repainted once;
* past ``BULK`` changes, Python's cycle collector waits too: a move of 5,000 nodes makes 5,000 new
  nodes that are all kept, and the collections they set off (full ones among them, over every object
  of the app) found nothing to free and cost a tenth of the edit.
"""

from __future__ import annotations

import gc
from collections.abc import Callable

from PySide6.QtCore import QRectF, QTimer
from PySide6.QtWidgets import QGraphicsScene

from flowdesk.ui.canvas.overview import Overview
from flowdesk.ui.collector import running_collector

BULK = 200
"""Changes in one edit past which the scene's BSP index is dropped until the person pauses."""
REBUILD_AFTER_MS = 250
"""The pause after a big move (the last step of a held arrow key, a drag's release) that rebuilds the index."""
_BSP = QGraphicsScene.ItemIndexMethod.BspTreeIndex
_NO_INDEX = QGraphicsScene.ItemIndexMethod.NoIndex


class DeferredIndex:
    """Qt's BSP index of the scene's items: dropped for a big move, rebuilt when the moves pause.

    Without the index Qt finds items by looking at each (a hover or a click over 12,000 items costs a
    few milliseconds instead of microseconds); with it, every moved item is re-filed, and the tree is
    built again on the first look after a drop (30 ms for 5,000 cards and their wires, the frame's
    paint being that first look). So a big move drops it and asks for it back later: the frame after
    the move is painted without it, and the rebuild runs once, ``REBUILD_AFTER_MS`` after the last
    big move, not once per arrow-key step or drag.
    """

    def __init__(self, scene: QGraphicsScene) -> None:
        self._scene = scene
        self._timer = QTimer(scene)
        self._timer.setSingleShot(True)
        self._timer.setInterval(REBUILD_AFTER_MS)
        self._timer.timeout.connect(self.rebuild)
        self.dropped = False
        """Dropped by a big move and not rebuilt yet."""

    @property
    def pending(self) -> bool:
        """Dropped, with the rebuild waiting for the pause."""
        return self.dropped and self._timer.isActive()

    def drop(self) -> None:
        """A big move begins: work without the index (a rebuild still waiting is not needed yet)."""
        self._timer.stop()
        if not self.dropped and self._scene.itemIndexMethod() == _BSP:
            self._scene.setItemIndexMethod(_NO_INDEX)
            self.dropped = True

    def rebuild_later(self) -> None:
        """The big move is over: rebuild the index once the moves pause."""
        if self.dropped:
            self._timer.start()

    def rebuild(self) -> None:
        """Index the items again now (Qt builds the tree on the first look, which this makes at once)."""
        self._timer.stop()
        if self.dropped:
            self.dropped = False
            self._scene.setItemIndexMethod(_BSP)
            self._scene.items(QRectF(0.0, 0.0, 1.0, 1.0))

    def stop(self) -> None:
        """The scene is closing: no rebuild to come."""
        self._timer.stop()


class EditBatch:
    """The scene's side of the document's current batch, if one is under way."""

    def __init__(
        self,
        overview: Overview,
        index: DeferredIndex,
        route: Callable[[set[str], tuple[float, float] | None], None],
    ) -> None:
        self._overview = overview
        self._index = index
        self._route = route
        self.active = False
        self._changes = 0
        self._shift: tuple[float, float] | None = None
        """The one offset the batch moved its nodes by, when its only change was such a move (a nudge)."""
        self._unindexed = False
        self._collector_paused = False
        self._unrouted: set[str] = set()
        """Nodes moved or resized in this batch: their wires are re-routed at its end."""

    def change(self, weight: int = 1, shift: tuple[float, float] | None = None) -> None:
        """One more change of the document's current batch, touching ``weight`` items (a move: its nodes);
        ``shift`` is the offset a move took all its nodes by, if it did (``NodesMoved.shift``)."""
        if not self.active:
            self.active, self._changes = True, 0
            self._overview.hold()
            self._shift = shift
        else:
            self._shift = None  # anything else in the batch may have changed a card: each wire is looked at
        self._changes += weight
        if self._changes >= BULK and not self._unindexed:
            self._index.drop()
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
        """The edit is complete: route each touched wire once, repaint; the index comes back after a pause."""
        if not self.active:
            return
        nodes, self._unrouted = self._unrouted, set()
        self._route(nodes, self._shift)
        if self._unindexed:
            self._unindexed = False
            self._index.rebuild_later()
        self.active = False
        self._overview.release()
        if self._collector_paused:
            self._collector_paused = False
            resume_collector()


def pause_collector() -> bool:
    """Hold Python's cycle collector for a big gesture; True if this paused it (the caller resumes it).

    In the app, collection runs on Qt's thread only (``ui/collector.py``, Python's own is off): the
    gesture holds that one."""
    collector = running_collector()
    if collector is not None:
        collector.hold()
        return True
    if not gc.isenabled():
        return False  # paused by someone else already (loading a workflow), who will resume it
    gc.disable()
    return True


def resume_collector() -> None:
    """The gesture that paused the collector (:func:`pause_collector` said True) is over."""
    collector = running_collector()
    if collector is not None:
        collector.release()
    else:
        gc.enable()
