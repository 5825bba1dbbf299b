"""Gestures on a big selection in the whole main window (issue 23.4), measured for ``bench_editing.py``.

The scene alone is not what the person waits for: the main window listens to the document too
(the title, the autosave, the inspector, the Problems dock, the inputs, the empty-canvas hint) and
all of it runs before the next frame. So these open the bench's layered workflow in a real
``MainWindow`` (shown offscreen, on a private library, collecting garbage as the app does: see
:func:`with_app_collector`) and time, in CPU seconds of the process,
from the input event to the repainted window:

* ``window_drag``: dragging ``selected`` nodes by a header, each mouse move (median, worst), and
  the release (one move command for the whole selection);
* ``window_nudge``: the arrow key with every node selected (one move command), best of three.

``--profile`` (run this file directly) prints where the time of one gesture goes.
"""

from __future__ import annotations

import cProfile
import gc
import pstats
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from PySide6.QtCore import QPoint, QPointF, QSettings, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

sys.path.insert(0, str(Path(__file__).parent))
from bench_canvas import layered

from flowdesk.nodes.registry import builtin_registry
from flowdesk.store.store import open_store
from flowdesk.ui.main_window import MainWindow

LEFT, NONE = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier


@contextmanager
def opened_window(size: int) -> Iterator[tuple[QApplication, MainWindow]]:
    """A main window showing the layered workflow of ``size`` nodes, painted once, as before any click."""
    app = QApplication.instance() or QApplication([])
    with_app_collector(app)
    folder = Path(tempfile.mkdtemp(prefix="flowdesk-bench-"))
    store = open_store(folder / "lib.db")
    settings = QSettings(str(folder / "settings.ini"), QSettings.Format.IniFormat)
    window = MainWindow(store, builtin_registry(), settings)
    window.resize(1600, 1000)
    window.show()
    window.load(layered(size), "bench")
    for _ in range(3):
        app.processEvents()
    window.grab()
    try:
        yield app, window  # type: ignore[misc]
    finally:
        if window.stack is not None:
            window.stack.setClean()
        window.close()
        store.close()


def with_app_collector(app: QApplication) -> None:
    """Collect cyclic garbage as the app of this checkout does: ``flowdesk.ui.app`` installs the collector of
    ``ui/collector.py`` (Python's own is off; Qt's thread collects from a timer); a checkout from before it
    has none, and its app ran with Python's automatic collector, which this leaves on."""
    try:
        from flowdesk.ui.collector import GuiCollector
    except ImportError:
        return
    GuiCollector.install(app)


def _frame(app: QApplication, window: MainWindow, action: Callable[[], None]) -> float:
    """CPU seconds from an input event until the event loop has run what it posted (the repaint too)."""
    start = time.process_time()
    action()
    app.processEvents()
    return time.process_time() - start


def _settle(app: QApplication) -> None:
    """What the event loop does between gestures (timers, deferred work), outside the measured frames."""
    for _ in range(3):
        app.processEvents()
    gc.collect()


def window_nudge(size: int) -> float:
    """Select all, the arrow key: one move command of every node, until the window is repainted."""
    with opened_window(size) as (app, window):
        assert window.view is not None and window.scene is not None and window.document is not None
        window.view.fit_all()
        window.scene.select([n.id for n in window.document.nodes])
        _settle(app)
        window.view.setFocus()
        took = []
        for _ in range(3):
            took.append(_frame(app, window, lambda: QTest.keyClick(window.view, Qt.Key.Key_Right)))
            _settle(app)
        moved = window.document.nodes[0].position.x
        assert moved != layered(size).nodes[0].position.x, "the nudge did not move the selection"
        return min(took)


def window_drag(size: int, selected: int, zoom: float) -> dict[str, float]:
    """Drag ``selected`` nodes (whole layers from the middle) by a header, then let go."""
    with opened_window(size) as (app, window):
        view, scene, doc = window.view, window.scene, window.document
        assert view is not None and scene is not None and doc is not None
        first = max(0, (size - selected) // 2 // 20 * 20)
        chosen = [n.id for n in doc.nodes[first : first + selected]]
        scene.select(chosen)
        grab = scene.node_item(chosen[len(chosen) // 2])
        header = grab.mapToScene(QPointF(grab.boundingRect().center().x(), 12.0))
        view.set_zoom(zoom)
        view.centerOn(header)
        _settle(app)
        viewport = view.viewport()
        press = view.to_viewport(header).toPoint()
        QTest.mousePress(viewport, LEFT, NONE, press)
        frames = []
        for step in range(1, 21):
            at = press + QPoint(7 * step, 3 * step)
            frames.append(_frame(app, window, lambda at=at: QTest.mouseMove(viewport, at)))
        end = press + QPoint(140, 60)
        release = _frame(app, window, lambda: QTest.mouseRelease(viewport, LEFT, NONE, end))
        assert doc.node(chosen[0]).position.x != layered(size).nodes[first].position.x, "the drag moved nothing"
        return {"median": statistics.median(frames), "worst": max(frames), "release": release}


WINDOW_MEASURES = {"window_nudge": window_nudge, "window_drag": window_drag}


def _profile(gesture: str, size: int) -> None:
    """Print where one gesture's time goes (cProfile, cumulative), for finding what to make cheaper."""
    profiler = cProfile.Profile()
    if gesture == "nudge":
        with opened_window(size) as (app, window):
            assert window.view is not None and window.scene is not None and window.document is not None
            window.view.fit_all()  # as window_nudge measures it: fitted, the far picture drawn
            window.scene.select([n.id for n in window.document.nodes])
            _settle(app)
            window.view.setFocus()
            profiler.enable()
            took = _frame(app, window, lambda: QTest.keyClick(window.view, Qt.Key.Key_Right))
            profiler.disable()
    else:
        profiler.enable()
        took = window_drag(size, size if gesture == "drag-all" else 1000, 0.5)["release"]  # type: ignore[assignment]
        profiler.disable()
    print(f"{gesture} of {size}: {took * 1000:.1f} ms")
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(45)


if __name__ == "__main__":
    _profile(sys.argv[2] if len(sys.argv) > 2 else "nudge", int(sys.argv[3]) if len(sys.argv) > 3 else 5000)
