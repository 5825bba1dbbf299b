"""The canvas zoomed far out: one picture of every card and wire, drawn into the view's cached background.

Why not let each item paint itself, as it does closer in: below ``LOD_TEXT`` a view can hold
thousands of items, and each one's ``paint`` and ``boundingRect`` is a call from C++ into Python on
every frame; panning over 5,000 nodes took 30 ms a frame, twice a smooth frame's budget. So, far
out, the items stay in the scene as they are (hit-testing, rubber-band selection, dragging and
tooltips work as before) but are flagged ``ItemHasNoContents``, which Qt skips without calling into
Python, and the scene draws what they show, grouped by colour (``far.py``), as part of its
background. The view caches its background as a pixmap and, when it pans, scrolls that pixmap and
draws only the strip that came into view: a pan costs a blit and a strip, not every item.

The price is that the cached picture must be told of every change it shows. Items do it through
their ``refresh`` (state, problems, geometry, theme), the scene for items added, removed and moved
in batches, and this class for the selection, which Qt changes without telling the items. Each
item remembers where it was last drawn (``far_rect``), so a change repaints both its old and its
new place. The canvas tests compare the cached picture with a freshly drawn one after each kind
of edit.

One scene is shown by one view in this app; the view switches the picture on and off as its zoom
crosses ``LOD_TEXT`` (a second view of the same scene would follow the first one's choice).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QGraphicsItem, QGraphicsScene
from shiboken6 import isValid

from flowdesk.ui.canvas.edge_item import EdgeItem
from flowdesk.ui.canvas.far import BADGE_MIN_PX, FarCard, FarWire, draw_far
from flowdesk.ui.canvas.node_item import CanvasNodeItem
from flowdesk.ui.canvas.note_item import NoteItem

FarItem = CanvasNodeItem | EdgeItem
_NO_CONTENTS = QGraphicsItem.GraphicsItemFlag.ItemHasNoContents
_BACKGROUND = QGraphicsScene.SceneLayer.BackgroundLayer
_BOUNDING_RECT = Qt.ItemSelectionMode.IntersectsItemBoundingRect
_MAX_PATCHES = 64
"""A repainted region of more rectangles than this is searched as one rectangle (one query, more items)."""
MANY = 200
"""More changed items than this in one edit, and the whole picture is drawn again instead of each place."""


class Overview:
    """Whether ``scene`` draws the far picture, and keeping the views' cached copy of it true."""

    def __init__(self, scene: QGraphicsScene, items: Callable[[], Iterable[FarItem]]) -> None:
        self._scene = scene
        self._items = items
        self.active = False
        self.zoom = 1.0
        """The zoom the picture was last drawn at: how far a badge reaches beyond its card."""
        self._selected: set[QGraphicsItem] = set()
        self._reselected = False
        """The selection may have changed while held: it is read again on release. (Reading it builds a
        Python object for every selected item: 5,000 after Select all, at each step of a held arrow key.)"""
        self._held = 0
        self._changed: set[FarItem] = set()
        """Items changed while held, repainted on release."""
        self._gone: list[QRectF] = []
        """Places of items removed while held."""
        self._all_changed = False
        """Held, and so many items changed that the whole picture is drawn again on release."""
        scene.selectionChanged.connect(self._selection_changed)

    # ------------------------------------------------------------ switching
    def set_active(self, on: bool) -> None:
        """Draw the far picture (items paint nothing) or go back to items painting themselves."""
        if on == self.active:
            return
        self.active = on
        for item in self._items():
            item.setFlag(_NO_CONTENTS, on)
            if not on:
                item.update()  # an item's own cache may be older than changes made while it was hidden
        self._selected = set(self._scene.selectedItems()) if on else set()
        self.reset()

    def adopt(self, item: FarItem) -> None:
        """A new item of the scene: it paints nothing while the picture draws it."""
        if self.active:
            item.setFlag(_NO_CONTENTS, True)
            self.changed(item)

    # -------------------------------------------------------------- changes
    def hold(self) -> None:
        """Collect changes instead of repainting for each: the rest of one edit's changes are coming."""
        self._held += 1

    def release(self) -> None:
        """Repaint what changed since :meth:`hold`: the places of the items, or all if they are many."""
        self._held -= 1
        if self._held:
            return
        items, self._changed = self._changed, set()
        rects, self._gone = self._gone, []
        everything, self._all_changed = self._all_changed, False
        if not self.active:
            return
        reselected, self._reselected = self._reselected, False
        if everything:
            if reselected:
                self._selected = set(self._scene.selectedItems())
            self.reset()
            return
        if reselected:
            now = set(self._scene.selectedItems())
            items |= {i for i in now ^ self._selected if isinstance(i, CanvasNodeItem | EdgeItem)}
            self._selected = now
        if len(items) + len(rects) > MANY:
            self.reset()
            return
        for item in items:
            self.changed(item)
        for rect in rects:
            self._invalidate(rect)

    @contextmanager
    def batch(self) -> Iterator[None]:
        """:meth:`hold` for the duration of a ``with`` block."""
        self.hold()
        try:
            yield
        finally:
            self.release()

    def selection_changed(self) -> None:
        """The selection changed with the scene's signals held back (:meth:`WorkflowScene.select`)."""
        if self._held:
            self._reselected = True
        else:
            self._selection_changed()

    def many_changed(self) -> None:
        """More than ``MANY`` items change in this edit (a move of many cards): draw all again at its end
        and spare the bookkeeping of each item's place. Outside an edit, at once."""
        if not self.active:
            return
        if self._held:
            self._all_changed = True
            self._changed.clear()
        else:
            self.reset()

    def changed(self, item: FarItem) -> None:
        """``item`` shows something new: repaint where the picture had it and where it is now."""
        if not self.active or self._all_changed:
            return
        if self._held:
            self._changed.add(item)
            return
        rect = item.sceneBoundingRect()
        if item.far_rect is not None:
            rect = rect.united(item.far_rect)
        self._invalidate(rect)

    def removed(self, item: FarItem) -> None:
        if not self.active:
            return
        self._changed.discard(item)
        self._selected.discard(item)
        place = item.far_rect if item.far_rect is not None else item.sceneBoundingRect()
        if self._held:
            self._gone.append(place)
        else:
            self._invalidate(place)

    def reset(self) -> None:
        """Draw the whole picture again (after a change of theme, or one that touched many items)."""
        for view in self._scene.views():
            view.resetCachedContent()
            view.viewport().update()

    def _selection_changed(self) -> None:
        if self._held:
            self._reselected = True
            return
        if not self.active or not isValid(self._scene):  # also emitted as Qt deletes the scene
            return
        now = set(self._scene.selectedItems())
        for item in now ^ self._selected:
            if isinstance(item, CanvasNodeItem | EdgeItem):
                self.changed(item)
        self._selected = now

    def _invalidate(self, rect: QRectF) -> None:
        reach = (BADGE_MIN_PX + 3.0) / self.zoom  # a far badge overhangs its card by this much
        self._scene.invalidate(rect.adjusted(-reach, -reach, reach, reach), _BACKGROUND)

    # ------------------------------------------------------------- painting
    def paint(self, painter: QPainter, rect: QRectF) -> None:
        """Draw every item within ``rect`` (and the badges reaching into it) as the far picture shows it."""
        self.zoom = painter.worldTransform().m11() or 1.0
        reach = (BADGE_MIN_PX + 3.0) / self.zoom
        areas = [patch.adjusted(-reach, -reach, reach, reach) for patch in _patches(painter, rect)]
        found: Iterable[QGraphicsItem]
        if any(area.contains(self._scene.sceneRect()) for area in areas):
            found = self._items()  # the whole scene in view (fitted): no search, which asks each item its bounds
        else:
            found = {}
            for area in areas:
                found.update(dict.fromkeys(self._scene.items(area, _BOUNDING_RECT, Qt.SortOrder.AscendingOrder)))
        notes: list[FarCard] = []
        cards: list[FarCard] = []
        wires: list[FarWire] = []
        for item in found:
            if isinstance(item, EdgeItem):
                wire = item.far_look()
                item.drawn_far(wire)
                wires.append(wire)
            elif isinstance(item, CanvasNodeItem):
                card = item.far_look()
                item.far_rect = card.rect
                (notes if isinstance(item, NoteItem) else cards).append(card)
        draw_far(painter, self.zoom, cards, wires, notes)


def _patches(painter: QPainter, rect: QRectF) -> list[QRectF]:
    """The parts of ``rect`` that the painter may change, in scene coordinates.

    While a run is followed, a tick repaints the cards whose state changed, scattered over the
    view; the view draws them in one call, clipped to their places, whose bounding rectangle is
    most of the view. Asking for the items of each place instead keeps the work to those cards.
    """
    if not painter.hasClipping():
        return [rect]
    region = painter.clipRegion()
    if region.rectCount() > _MAX_PATCHES:
        return [rect]
    return [QRectF(patch).intersected(rect) for patch in region]
