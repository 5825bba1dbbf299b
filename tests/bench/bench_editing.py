"""Benchmark: auto-layout, and re-validation while editing, on large workflows (on demand, not by pytest).

Auto-layout (Arrange > Auto-layout, Ctrl+L) of the canvas bench's layered graphs with their
positions scrambled: "algorithm" is the pure layered layout (``flowdesk.model.layout``) of the
card boxes; "command" is the whole action as the person waits for it: measuring the cards on the
scene, the layout, building the one MoveNodes and pushing it (the document changes and the scene
moves every card and re-routes every wire), in a view that is shown, fitted and painted once, as
in the window (painting builds the scene's BSP index, which a hidden view never asks for, and
which made moving thousands of items quadratic). The second table is what the Problems dock costs per
edit: one config edit through the undo stack, and the validation the debounce timer runs 300 ms
after the last edit (typing in between pays only the edit).

    QT_QPA_PLATFORM=offscreen .venv/bin/python tests/bench/bench_editing.py [--sizes 1000 5000] [--repeat 3]
        [--base ../flowdesk-base] [--only gestures|window|layout]

The gestures of issue 23 are measured in the scene and view alone, then in the whole main window
(``window_gestures.py``), each beside the code before the change (``--base``) as ratios.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from flowdesk.model.commands import AddNode, Connect, SetConfig
from flowdesk.model.document import WorkflowDocument
from flowdesk.model.layout import layered_layout
from flowdesk.model.workflow import Position, Workflow
from flowdesk.nodes.registry import builtin_registry
from flowdesk.ui.arrange import auto_layout, card_boxes, wire_links
from flowdesk.ui.canvas import WorkflowScene, WorkflowView
from flowdesk.ui.problems import ProblemsPanel
from flowdesk.ui.undo import DocumentUndoStack

sys.path.insert(0, str(Path(__file__).parent))
from bench_canvas import layered
from side_by_side import ratio, run_in, worker_call
from window_gestures import WINDOW_MEASURES


def scrambled(size: int) -> Workflow:
    """The layered bench graph with every node somewhere random (what auto-layout is for)."""
    rng = random.Random(size)
    workflow = layered(size)
    nodes = tuple(
        n.model_copy(update={"position": Position(x=rng.randrange(0, 40_000, 10), y=rng.randrange(0, 20_000, 10))})
        for n in workflow.nodes
    )
    return workflow.model_copy(update={"nodes": nodes})


def open_scene(workflow: Workflow) -> tuple[WorkflowDocument, DocumentUndoStack, WorkflowScene, WorkflowView]:
    doc = WorkflowDocument(workflow, builtin_registry())
    stack = DocumentUndoStack(doc)
    scene = WorkflowScene(doc, stack)
    view = WorkflowView(scene)
    view.resize(1600, 900)
    return doc, stack, scene, view


def measure_layout(size: int) -> tuple[int, float, float]:
    doc, stack, scene, view = open_scene(scrambled(size))
    view.show()
    view.fit_all()
    view.grab()
    ids = [n.id for n in doc.nodes]
    boxes, links = card_boxes(scene, ids), wire_links(scene, set(ids))
    start = time.perf_counter()
    layered_layout(boxes, links)
    algorithm = time.perf_counter() - start
    start = time.perf_counter()
    command = auto_layout(scene, ids)
    assert command is not None
    stack.push_command(command)
    whole = time.perf_counter() - start
    view.close()
    scene.dispose()
    return len(doc.edges), algorithm, whole


def measure_validation(size: int) -> tuple[float, float]:
    doc, stack, scene, view = open_scene(layered(size))
    panel = ProblemsPanel(doc.catalog)
    panel.attach(doc, scene, view)
    node_id = doc.nodes[size // 2].id
    edits, checks = [], []
    for i in range(5):
        start = time.perf_counter()
        stack.push_command(SetConfig(doc, node_id, {"expression": f"inputs.input + {i}"}))
        edits.append(time.perf_counter() - start)
        start = time.perf_counter()
        panel.validate_now()
        checks.append(time.perf_counter() - start)
    view.close()
    scene.dispose()
    return statistics.median(edits), statistics.median(checks)


def measure_select_all(size: int) -> float:
    """Select all (Ctrl+A) with a listener that reads the whole selection, as the main window does."""
    doc, _stack, scene, view = open_scene(layered(size))
    view.show()
    view.grab()
    heard: list[int] = []

    def listen() -> None:
        heard.append(len(scene.selected_node_ids()))

    scene.selectionChanged.connect(listen)
    start = time.perf_counter()
    scene.select([n.id for n in doc.nodes], [e.id for e in doc.edges])
    took = time.perf_counter() - start
    scene.selectionChanged.disconnect(listen)
    assert heard[-1] == size
    view.close()
    scene.dispose()
    return took


# ----------------------------------------------------------- gestures (issue 23)
def _frame(app: QApplication, view: WorkflowView, action: Callable[[], None], *, loop: bool = True) -> float:
    """Seconds from an input event to the repainted view: the event, then what the event loop runs
    next (which paints what changed), or with ``loop`` False a paint at once."""
    start = _clock()
    action()
    if loop:
        app.processEvents()  # delivers the view's update request too: the frame is painted here
    else:
        view.viewport().repaint()
    return _clock() - start


def _clock() -> float:
    """CPU seconds of this process: the machine the figures come from is shared, and the wall clock there
    counts the other processes' turns too (everything measured here, painting included, runs in-process)."""
    return time.process_time()


def _painted(app: QApplication, view: WorkflowView) -> None:
    """Paint the view as a window is painted before anyone clicks (this also builds Qt's index of the items)."""
    view.grab()
    app.processEvents()
    view.viewport().repaint()


def _shown(size: int, zoom: float) -> tuple[QApplication, WorkflowDocument, WorkflowScene, WorkflowView]:
    app = QApplication.instance() or QApplication([])
    doc, _stack, scene, view = open_scene(layered(size))
    view.show()
    view.set_zoom(zoom)
    return app, doc, scene, view  # type: ignore[return-value]


def measure_wire_start(size: int, zoom: float) -> dict[str, float]:
    """Press on an output port in the middle of the workflow, then drag the wire across the view.

    "first" is the press until the view shows the nearest ports lit (the press, a repaint);
    "worst"/"median" are the frames while the wire moves (each: a mouse move, the event loop,
    where the other ports are lit in batches, a repaint).
    """
    app, doc, scene, view = _shown(size, zoom)
    anchor = doc.nodes[size // 2].id
    port = scene.node_item(anchor).port_scene_pos("output", "output")
    view.centerOn(port)
    _painted(app, view)
    viewport = view.viewport()
    press = view.to_viewport(port).toPoint()
    first = _frame(
        app,
        view,
        lambda: QTest.mousePress(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, press),
        loop=False,
    )
    frames = []
    for step in range(1, 25):
        at = press + QPoint(12 * step, 5 * step)
        frames.append(_frame(app, view, lambda at=at: QTest.mouseMove(viewport, at)))
    QTest.keyClick(view, Qt.Key.Key_Escape)
    QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, press)
    view.close()
    scene.dispose()
    return {"first": first, "worst": max(frames), "median": statistics.median(frames)}


def measure_commands(size: int, commands: int = 200) -> float:
    """Seconds per command adding nodes and wiring each from the workflow, one command at a time,
    with the canvas shown (what a paste, an import or a macro of many nodes does)."""
    app, doc, scene, view = _shown(size, 1.0)
    stack = scene.undo_stack
    rng = random.Random(size)
    sources = [n.id for n in doc.nodes]
    start = _clock()
    for _ in range(commands // 2):
        add = AddNode.of_kind(doc, "transform", (rng.randrange(0, 40_000, 10), rng.randrange(0, 3_000, 10)))
        stack.push_command(add)
        stack.push_command(Connect(doc, rng.choice(sources), "output", add.node.id, "input"))
    took = _clock() - start
    app.processEvents()
    view.close()
    scene.dispose()
    return took / commands


def measure_selection_drag(size: int, selected: int, zoom: float) -> dict[str, float]:
    """Drag ``selected`` nodes (whole layers from the middle) by a header: at 0.5 the cards are drawn,
    at 0.25 the far picture (``overview.py``) is, and it is drawn anew while many cards move."""
    app, doc, scene, view = _shown(size, 1.0)
    first = max(0, (size - selected) // 2 // 20 * 20)
    chosen = [n.id for n in doc.nodes[first : first + selected]]
    scene.select(chosen)
    grab = scene.node_item(chosen[len(chosen) // 2])
    header = grab.mapToScene(QPointF(grab.boundingRect().center().x(), 12.0))
    view.set_zoom(zoom)
    view.centerOn(header)
    _painted(app, view)
    viewport = view.viewport()
    press = view.to_viewport(header).toPoint()
    QTest.mousePress(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, press)
    frames = []
    for step in range(1, 21):
        at = press + QPoint(7 * step, 3 * step)
        frames.append(_frame(app, view, lambda at=at: QTest.mouseMove(viewport, at)))
    end = press + QPoint(140, 60)
    release = _frame(
        app, view, lambda: QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, end)
    )
    moved = doc.node(chosen[0]).position.x != layered(size).nodes[first].position.x
    view.close()
    scene.dispose()
    assert moved, "the drag did not move the selection"
    return {"median": statistics.median(frames), "worst": max(frames), "release": release}


def measure_nudge(size: int) -> float:
    """Select all, then the arrow key: one MoveNodes of every node, until the view is repainted."""
    app, doc, scene, view = _shown(size, 1.0)
    view.fit_all()
    _painted(app, view)
    scene.select([n.id for n in doc.nodes])
    view.setFocus()
    took = min(_frame(app, view, lambda: QTest.keyClick(view, Qt.Key.Key_Right)) for _ in range(3))
    view.close()
    scene.dispose()
    return took


MEASURES = {
    "wire_start": measure_wire_start,
    "commands": measure_commands,
    "selection_drag": measure_selection_drag,
    "nudge": measure_nudge,
    **WINDOW_MEASURES,
}


def _table(title: str, header: str, rows: list[str]) -> None:
    print(title)
    print(header)
    print("-" * len(header))
    for row in rows:
        print(row)
    print()


def gestures(base: Path | None, sizes: list[int], repeat: int, *, window_only: bool = False) -> None:
    """The issue-23 gestures, the code before the change (``base``) beside this checkout."""
    here = Path(__file__).resolve()
    roots = {"new": here.parents[2]} | ({"old": base} if base is not None else {})

    def best(measure: str, *args: object, key: str | None = None) -> dict[str, Any]:
        out = {}
        for name, root in roots.items():
            runs = [run_in(root, here, measure, *args) for _ in range(repeat)]
            out[name] = {k: min(r[k] for r in runs) for k in runs[0]} if key else min(runs)
        return out  # the best of the repetitions, for each figure

    def cells(old_new: dict[str, Any], key: str | None = None, scale: float = 1000.0) -> str:
        new = old_new["new"][key] if key else old_new["new"]
        if "old" not in old_new:
            return f"{new * scale:>10.1f}"
        old = old_new["old"][key] if key else old_new["old"]
        return f"{old * scale:>10.1f} {new * scale:>10.1f} {ratio(old, new):>7}"

    pair = f"{'old':>10} {'new':>10} {'ratio':>7}" if base is not None else f"{'new':>10}"
    if window_only:
        window_gestures(best, cells, pair, sizes)
        return
    rows = []
    for size in sizes:
        for zoom in (1.0, 0.5):
            got = best("wire_start", size, zoom, key="first")
            rows.append(f"{size:>6} {zoom:>5} | {cells(got, 'first')} | {cells(got, 'worst')}")
    _table(
        "wire drag start (ms): press until the nearest ports are lit | worst frame while dragging",
        f"{'nodes':>6} {'zoom':>5} | {pair} | {pair}",
        rows,
    )
    rows = []
    for size in sorted({500, 1000, *sizes}):
        got = best("commands", size)
        rows.append(f"{size:>6} | {cells(got, scale=1e6)}")
    _table(
        "adding one command at a time (us per command: AddNode, Connect from the workflow)",
        f"{'nodes':>6} | {pair}",
        rows,
    )
    rows = []
    for size in sizes:
        for selected in sorted({1000, size}):
            for zoom in (0.5, 0.25):
                got = best("selection_drag", size, selected, zoom, key="median")
                rows.append(
                    f"{size:>6} {selected:>8} {zoom:>5} | {cells(got, 'median')} | {cells(got, 'worst')}"
                    f" | {cells(got, 'release')}"
                )
    _table(
        "dragging a selection (ms): median frame | worst frame | release",
        f"{'nodes':>6} {'selected':>8} {'zoom':>5} | {pair} | {pair} | {pair}",
        rows,
    )
    rows = []
    for size in sizes:
        got = best("nudge", size)
        rows.append(f"{size:>6} | {cells(got)}")
    _table("arrow-key nudge of every node (ms, until repainted)", f"{'nodes':>6} | {pair}", rows)
    window_gestures(best, cells, pair, sizes)


def window_gestures(
    best: Callable[..., dict[str, Any]], cells: Callable[..., str], pair: str, sizes: list[int]
) -> None:
    """The same gestures in the whole main window (``window_gestures.py``): what the person waits for."""
    rows = []
    for size in sizes:
        for selected in sorted({1000, size}):
            got = best("window_drag", size, selected, 0.5, key="median")
            rows.append(
                f"{size:>6} {selected:>8} | {cells(got, 'median')} | {cells(got, 'worst')} | {cells(got, 'release')}"
            )
    _table(
        "main window: dragging a selection at zoom 0.5 (ms): median frame | worst frame | release",
        f"{'nodes':>6} {'selected':>8} | {pair} | {pair} | {pair}",
        rows,
    )
    rows = []
    for size in sorted({500, *sizes}):
        got = best("window_nudge", size)
        per_node = {name: figure / size for name, figure in got.items()}
        rows.append(f"{size:>6} | {cells(got)} | {cells(per_node, scale=1e6)}")
    _table(
        "main window: arrow-key nudge of every node, fitted (ms, until repainted) | us per node",
        f"{'nodes':>6} | {pair} | {pair}",
        rows,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--base", type=Path, help="a checkout of the code before the change, measured beside this one")
    parser.add_argument("--only", choices=["gestures", "window", "layout"], help="run one part of the bench")
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    print(_load("before"), end="\n\n")
    if args.only != "layout":
        gestures(args.base, args.sizes, args.repeat, window_only=args.only == "window")
    if args.only not in ("gestures", "window"):
        layout_and_validation(args.sizes, args.repeat)
    print(_load("after"))


def _load(when: str) -> str:
    """The machine's load average (1, 5, 15 minutes): the figures come from a machine others share."""
    one, five, fifteen = os.getloadavg()
    return f"load average {when}: {one:.2f} {five:.2f} {fifteen:.2f}"


def layout_and_validation(sizes: list[int], repeat: int) -> None:
    _app = QApplication.instance() or QApplication([])
    measure_layout(50)  # warm up fonts and caches
    header = f"{'nodes':>6} {'edges':>6} {'algorithm s':>11} {'us/node':>8} {'command s':>10} {'us/node':>8}"
    print("auto-layout")
    print(header)
    print("-" * len(header))
    for size in sizes:
        runs = [measure_layout(size) for _ in range(repeat)]
        algorithm, whole = min(r[1] for r in runs), min(r[2] for r in runs)
        print(
            f"{size:>6} {runs[0][0]:>6} {algorithm:>11.3f} {algorithm / size * 1e6:>8.0f}"
            f" {whole:>10.3f} {whole / size * 1e6:>8.0f}"
        )
    print()
    print("editing with the Problems dock")
    header = f"{'nodes':>6} {'one edit ms':>11} {'validation ms':>13}"
    print(header)
    print("-" * len(header))
    for size in sizes:
        runs = [measure_validation(size) for _ in range(repeat)]
        edit, check = min(r[0] for r in runs), min(r[1] for r in runs)
        print(f"{size:>6} {edit * 1000:>11.2f} {check * 1000:>13.1f}")
    print()
    print("select all, the window listening")
    header = f"{'nodes':>6} {'select all ms':>13}"
    print(header)
    print("-" * len(header))
    for size in sizes:
        took = min(measure_select_all(size) for _ in range(repeat))
        print(f"{size:>6} {took * 1000:>13.1f}")


if __name__ == "__main__":
    if not worker_call(sys.argv, MEASURES):
        main()
