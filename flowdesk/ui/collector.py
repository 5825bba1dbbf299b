"""Python's cycle collector, run on Qt's thread only: the window's process must never free Qt objects elsewhere.

CPython collects cyclic garbage on whichever thread allocates when generation 0 fills up. The app
has threads that allocate a lot: a Dask client's loop (``cluster/threaded.py``), Settings' Test
connection (which imports ``distributed`` on its thread), tools in ``asyncio.to_thread``, the model
lists, the charts warming up. A collection on one of them frees whatever cyclic garbage the window
left at that moment (a closed dialog, a scene and its items, a run's panels) and their C++ Qt objects
with it, off Qt's thread, while Qt's thread may be using the same structures. The heap is corrupted
and the process crashes later, on Qt's thread, inside the collector or a deferred delete (issue 20).

So the window's process turns Python's automatic collector off and runs the same collections from a
timer on Qt's thread (the remedy pyqtgraph's ``GarbageCollector`` uses): each tick compares
``gc.get_count()`` with Python's thresholds as the interpreter would, so the youngest generation is
collected often and the oldest rarely. Only cycles wait for a tick; reference counting frees
everything else at once, as before. A big gesture on the canvas holds the ticks
(``canvas/batching.py``'s ``pause_collector``): the collections it would set off find nothing to free.

The headless CLI and the service never import this module: they keep Python's own collector.
"""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Callable

from PySide6.QtCore import QCoreApplication, QObject, QThread, QTimer

log = logging.getLogger(__name__)

INTERVAL_MS = 200
"""How often Qt's thread looks at the counts (a look is a few hundred nanoseconds)."""
POSTPONE_LIMIT_S = 1.0
"""A gesture's end puts the next look off by an interval, unless the last look is older than this (a held
arrow key ends a gesture every 30 ms: the cycles it leaves are still collected about once a second)."""
HOLD_LIMIT_S = 60.0
"""A hold older than this is forgotten: a gesture that never said it ended must not stop collection for good."""
OLDEST = 2
NAME = "flowdesk-gui-collector"


class GuiCollector(QObject):
    """Collects cyclic garbage on Qt's thread, from a timer; one per application (:meth:`install`)."""

    def __init__(self, app: QCoreApplication, interval_ms: int = INTERVAL_MS) -> None:
        super().__init__(app)
        self.setObjectName(NAME)
        self._holds = 0
        self._held_since = 0.0
        self._long_lived = 0
        """Objects in the oldest generation after the last full collection (CPython's ``long_lived_total``)."""
        self._last_look = time.monotonic()
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.tick)

    @classmethod
    def install(cls, app: QCoreApplication) -> GuiCollector:
        """Turn Python's automatic collector off and collect on ``app``'s thread from now on (once per app)."""
        found = running_collector(app)
        if found is not None:
            return found
        if QThread.currentThread() is not app.thread():
            raise RuntimeError("the cycle collector must be installed on Qt's thread")
        collector = cls(app)
        gc.disable()
        collector._timer.start()
        return collector

    def uninstall(self) -> None:
        """Give collection back to Python (a test session that made windows ends)."""
        self._timer.stop()
        self.setParent(None)
        gc.enable()

    @property
    def held(self) -> bool:
        """A gesture asked the collector to wait."""
        return self._holds > 0

    def hold(self) -> None:
        """Wait until :meth:`release`: a big gesture makes many objects and no garbage."""
        if self._holds == 0:
            self._held_since = time.monotonic()
        self._holds += 1

    def release(self) -> None:
        """One gesture's hold is over; the next tick, a full interval from now, collects what is due.

        Not the tick that may be due at once: it would run in the same pass of the event loop as the
        gesture's repaint and make the person wait for a collection of the objects the gesture has just
        made (4 ms after a nudge of 5,000 nodes); an interval later it falls between frames."""
        self._holds = max(0, self._holds - 1)
        if not self._holds and self._timer.isActive() and time.monotonic() - self._last_look < POSTPONE_LIMIT_S:
            self._timer.start()  # (re)starts the interval

    def tick(self) -> int | None:
        """Collect the generation Python would have collected by now; returns it (None: nothing due)."""
        self._last_look = now = time.monotonic()
        if self._holds and now - self._held_since < HOLD_LIMIT_S:
            return None
        if self._holds:
            log.warning("a gesture held the cycle collector for over %.0f s; collecting again", HOLD_LIMIT_S)
            self._holds = 0
        if gc.isenabled():  # a library turned it back on: collections could run on its threads again
            log.info("Python's automatic cycle collector was turned back on; it runs on Qt's thread again")
            gc.disable()
        generation = due_generation(gc.get_count(), gc.get_threshold(), self._full_collection_pays)
        if generation is not None:
            gc.collect(generation)
            if generation == OLDEST:
                self._long_lived = len(gc.get_objects(OLDEST))
        return generation

    def _full_collection_pays(self) -> bool:
        """Counting the oldest generation walks it once (far cheaper than collecting it): only asked when
        a collection of generation 1 is due, at most once every ten collections of generation 0."""
        pending = len(gc.get_objects(OLDEST)) - self._long_lived
        return pending > self._long_lived // 4


def due_generation(
    counts: tuple[int, int, int], thresholds: tuple[int, int, int], full_pays: Callable[[], bool]
) -> int | None:
    """The generation CPython would collect now (its gc_collect_generations), None when nothing is due.

    Nothing until generation 0 is over its threshold; then the oldest generation over its threshold,
    but a full collection only when ``full_pays`` (CPython's rule: the objects that reached the oldest
    generation since the last full collection are a quarter of those it kept then; what keeps full
    collections from making a growing program quadratic). Generation 2's count only grows when
    generation 1 is collected, so a full collection is only considered when that one is due.
    """
    if thresholds[0] == 0 or counts[0] <= thresholds[0]:
        return None
    if counts[1] <= thresholds[1]:
        return 0
    if counts[OLDEST] > thresholds[OLDEST] and full_pays():
        return OLDEST
    return 1


def running_collector(app: QCoreApplication | None = None) -> GuiCollector | None:
    """The application's collector, if it was installed (none in a process without the window)."""
    app = app or QCoreApplication.instance()
    if app is None:
        return None
    found = app.findChild(GuiCollector, NAME)
    return found if isinstance(found, GuiCollector) else None
