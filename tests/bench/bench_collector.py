"""Benchmark: the window with the cycle collector on Qt's thread (``ui/collector.py``) beside the code before it.

    QT_QPA_PLATFORM=offscreen .venv/bin/python tests/bench/bench_collector.py --base DIR [--size 5000]

DIR is a checkout before the change (its ``flowdesk`` package is used in a child process; see
``side_by_side.py``). Each measure runs as the app runs: the new code installs the collector, as
``run_app`` does; the old one has Python's own. Rows:

* the big gestures of ``window_gestures.py`` (CPU ms of the nudge of every node, a drag's moves and
  release): the collector must not cost them anything;
* document churn: one window opening a workflow again and again (the closed canvases become
  garbage) while another thread allocates, as a Dask client's loop does: documents opened per
  second, and how many closed scenes were destroyed on the busy thread (the crash of issue 20).
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from side_by_side import ratio, run_in, worker_call

HERE = Path(__file__).resolve()
ROOT = HERE.parents[2]


def _as_the_app() -> None:
    """Install the GUI collector when this checkout has one (``run_app`` does it first thing)."""
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    try:
        from flowdesk.ui.collector import GuiCollector
    except ImportError:  # the code before the change: Python's own collector
        return
    GuiCollector.install(app)


def nudge(size: int) -> float:
    _as_the_app()
    from window_gestures import window_nudge

    return window_nudge(size)


def drag(size: int, selected: int) -> dict[str, float]:
    _as_the_app()
    from window_gestures import window_drag

    return window_drag(size, selected, 0.5)


def churn(seconds: float) -> dict[str, Any]:
    """Open the same workflow over and over in one window while a thread allocates."""
    _as_the_app()
    import tempfile

    from PySide6.QtCore import QEvent, QObject, QSettings, Qt, Slot
    from PySide6.QtWidgets import QApplication
    from window_gestures import layered

    from flowdesk.nodes.registry import builtin_registry
    from flowdesk.store.store import open_store
    from flowdesk.ui.main_window import MainWindow

    class Witness(QObject):
        def __init__(self) -> None:
            super().__init__()
            self.threads: list[str] = []

        @Slot()
        def gone(self) -> None:
            self.threads.append(threading.current_thread().name)

    app = QApplication.instance()
    folder = Path(tempfile.mkdtemp(prefix="flowdesk-bench-"))
    store = open_store(folder / "lib.db")
    window = MainWindow(store, builtin_registry(), QSettings(str(folder / "s.ini"), QSettings.Format.IniFormat))
    window.resize(1400, 900)
    window.show()
    witness, stop = Witness(), threading.Event()

    def busy() -> None:
        while not stop.is_set():
            kept = [[i] for i in range(20_000)]
            del kept

    threading.Thread(target=busy, name="busy", daemon=True).start()
    workflow, opened, deadline = layered(100), 0, time.monotonic() + seconds
    started = time.monotonic()
    while time.monotonic() < deadline:
        window.load(workflow, "bench")
        assert window.scene is not None and window.view is not None
        window.scene.destroyed.connect(witness.gone, Qt.ConnectionType.DirectConnection)
        for _ in range(3):
            app.processEvents()
            window.view.viewport().repaint()
        app.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        opened += 1
    took = time.monotonic() - started
    stop.set()
    where = Counter(witness.threads)
    return {"per_s": opened / took, "off_thread": sum(n for name, n in where.items() if name != "MainThread")}


MEASURES = {"nudge": nudge, "drag": drag, "churn": churn}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", type=Path, required=True, help="a checkout before the change")
    parser.add_argument("--size", type=int, default=5000)
    parser.add_argument("--churn-seconds", type=float, default=20.0)
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    rows = []
    for label, name, margs in [
        (f"nudge of {args.size} nodes, CPU ms", "nudge", (args.size,)),
        (f"drag of 1000 of {args.size}, release CPU ms", "drag", (args.size, 1000)),
        ("document churn with a busy thread, opens/s", "churn", (args.churn_seconds,)),
    ]:
        old, new = run_in(args.base, HERE, name, *margs), run_in(ROOT, HERE, name, *margs)
        if name == "nudge":
            rows.append((label, old * 1000, new * 1000, ratio(old, new)))
        elif name == "drag":
            rows.append((label, old["release"] * 1000, new["release"] * 1000, ratio(old["release"], new["release"])))
            rows.append(("drag, median move CPU ms", old["median"] * 1000, new["median"] * 1000,
                         ratio(old["median"], new["median"])))  # fmt: skip
        else:
            rows.append((label, old["per_s"], new["per_s"], ratio(new["per_s"], old["per_s"])))
            rows.append(("  closed scenes destroyed on the busy thread", old["off_thread"], new["off_thread"], "-"))
    print(f"{'measure':48} | {'before':>8} | {'after':>8} | gain")
    for label, old_value, new_value, gain in rows:
        print(f"{label:48} | {old_value:8.1f} | {new_value:8.1f} | {gain}")
    print("load:", Path("/proc/loadavg").read_text().split()[:3])
    return 0


if __name__ == "__main__":
    if not worker_call(sys.argv, MEASURES):
        sys.exit(main())
