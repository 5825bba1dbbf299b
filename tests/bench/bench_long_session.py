"""Benchmark: a long session — ten times open a 5,000-node workflow in the main window, then File > New.

Issue 21 item 6: each closed workflow used to stay alive (its undo stack was parented to the window,
holding the document), so memory grew with every open and each open got slower. This prints, per
cycle, the open time, the process's resident memory after going back to a new workflow, and how
many documents and scenes are still alive; the last line compares the tenth open with the first
(a ratio: 1.0 is flat). Deferred deletes and a full collection run between cycles, as the event
loop and the collector would while the person works.

    QT_QPA_PLATFORM=offscreen .venv/bin/python tests/bench/bench_long_session.py [--size 5000] [--cycles 10]
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import tempfile
import time
from pathlib import Path

from PySide6.QtCore import QEvent, QSettings
from PySide6.QtWidgets import QApplication

sys.path.insert(0, str(Path(__file__).parent))
from bench_canvas import layered

from flowdesk.model.document import WorkflowDocument
from flowdesk.nodes.registry import builtin_registry
from flowdesk.store.store import open_store
from flowdesk.ui.canvas.scene import WorkflowScene
from flowdesk.ui.main_window import MainWindow


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def settle(app: QApplication) -> None:
    app.processEvents()
    app.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    gc.collect()
    app.sendPostedEvents(None, QEvent.Type.DeferredDelete)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=5000)
    parser.add_argument("--cycles", type=int, default=10)
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    app = QApplication.instance() or QApplication([])
    folder = Path(tempfile.mkdtemp(prefix="flowdesk-bench-"))
    store = open_store(folder / "lib.db")
    settings = QSettings(str(folder / "settings.ini"), QSettings.Format.IniFormat)
    window = MainWindow(store, builtin_registry(), settings)
    window.resize(1400, 900)
    window.show()
    settle(app)
    workflow = layered(args.size)
    print(f"{'cycle':>5} {'open s':>8} {'RSS MB':>8} {'documents':>10} {'scenes':>7}")
    opens: list[float] = []
    memory: list[float] = []
    for cycle in range(1, args.cycles + 1):
        started = time.perf_counter()
        window.load(workflow, "library")
        app.processEvents()
        opens.append(time.perf_counter() - started)
        window.new_workflow()
        settle(app)
        memory.append(rss_mb())
        docs = sum(1 for o in gc.get_objects() if isinstance(o, WorkflowDocument))
        scenes = sum(1 for o in gc.get_objects() if isinstance(o, WorkflowScene))
        print(f"{cycle:>5} {opens[-1]:>8.2f} {memory[-1]:>8.0f} {docs:>10} {scenes:>7}")
    print(
        f"tenth/first: open {opens[-1] / opens[0]:.2f}x, RSS {memory[-1] / memory[0]:.2f}x "
        f"(+{memory[-1] - memory[0]:.0f} MB over {args.cycles - 1} cycles)"
    )
    window.stack.setClean()
    window.close()
    window.deleteLater()
    settle(app)  # torn down while Qt is still there (not left to the interpreter's exit)
    store.close()


if __name__ == "__main__":
    main()
