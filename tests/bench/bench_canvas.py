"""Benchmark: opening a large workflow on the canvas, and repainting it while panning (on demand, not by pytest).

Issue 5 asks for a 1,000-node / 1,500-edge workflow open in under 0.15 s and a 5,000-node one in
under 1.4 s, with a flat cost per node, and for a full-viewport repaint under 16 ms while panning
5,000 nodes. Each graph here is layered: a Transform or a two-input Merge per node (1.5 edges per
node on average), laid out left to right as the examples are, each wire coming from one of the
nearest rows of the layer before (as in a laid-out workflow; wires criss-crossing the whole graph
cost more to paint, about 1 ms per 15 long wires in view). "open" is document -> scene (every
item built and added); "first paint" is fitting the view and painting it once (the item caches
are filled then); "pan" is the median repaint of a 1600x900 viewport while it moves, at 1:1 and
fitted (everything in view, or as much as the smallest zoom, 0.1, shows: about 1,250 nodes).
Fitted is below the zoom where text goes, so the scene draws its far picture (``overview.py``),
which the view caches: a pan repaints the strip that came into view. "zoom step" is what that
cache costs: the median repaint after a wheel notch in and out, far out, when all is drawn anew.

    QT_QPA_PLATFORM=offscreen /work/venv/bin/python tests/bench/bench_canvas.py [--sizes 1000 5000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time

from PySide6.QtWidgets import QApplication

from flowdesk.model.document import WorkflowDocument
from flowdesk.model.workflow import Edge, Node, Position, Workflow
from flowdesk.nodes.registry import builtin_registry
from flowdesk.ui.canvas import WorkflowScene, WorkflowView
from flowdesk.ui.undo import DocumentUndoStack


def layered(size: int, seed: int = 1) -> Workflow:
    """``size`` nodes in layers of 20, each taking 1 or 2 wires from the layer before."""
    rng = random.Random(seed)
    nodes: list[Node] = []
    edges: list[Edge] = []
    previous: list[str] = []
    for index in range(size):
        layer, row = divmod(index, 20)
        node_id = f"n_{index}"
        two = len(previous[max(0, row - 3) : row + 4]) > 1 and rng.random() < 0.5
        kind = "merge" if two else "transform"
        position = Position(x=layer * 260.0, y=row * 120.0)
        nodes.append(Node(id=node_id, kind=kind, name=f"{kind.title()} {index}", position=position))
        if previous:
            ports = ["in_1", "in_2"] if two else ["input"]
            near = previous[max(0, row - 3) : row + 4]  # wires run mostly between neighbouring rows
            for port, source in zip(ports, rng.sample(near, len(ports)), strict=True):
                edges.append(
                    Edge(id=f"e_{len(edges)}", source=source, source_port="output", target=node_id, target_port=port)
                )
        if row == 19 or index == size - 1:
            previous = [n.id for n in nodes[-(row + 1) :]]
    return Workflow(id="bench_canvas", nodes=tuple(nodes), edges=tuple(edges))


def _pan_ms(app: QApplication, view: WorkflowView, zoom: float, frames: int = 12) -> float:
    view.set_zoom(zoom)
    view.centerOn(view.scene().itemsBoundingRect().center())
    app.processEvents()
    times = []
    for frame in range(frames):
        view.horizontalScrollBar().setValue(view.horizontalScrollBar().value() + (25 if frame % 2 else -20))
        start = time.perf_counter()
        view.viewport().repaint()
        times.append(time.perf_counter() - start)
    return statistics.median(times[2:]) * 1000


def _zoom_step_ms(app: QApplication, view: WorkflowView, zoom: float, frames: int = 8) -> float:
    view.set_zoom(zoom)
    view.centerOn(view.scene().itemsBoundingRect().center())
    app.processEvents()
    times = []
    for frame in range(frames):
        view.set_zoom(zoom * 1.2 if frame % 2 == 0 else zoom)
        start = time.perf_counter()
        view.viewport().repaint()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def measure(app: QApplication, size: int) -> tuple[int, float, float, float, float, float]:
    workflow = layered(size)
    doc = WorkflowDocument(workflow, builtin_registry())
    stack = DocumentUndoStack(doc)
    start = time.perf_counter()
    scene = WorkflowScene(doc, stack)
    opened = time.perf_counter() - start
    view = WorkflowView(scene)
    view.resize(1600, 900)
    view.show()
    start = time.perf_counter()
    view.fit_all()
    view.grab()
    first_paint = time.perf_counter() - start
    fitted = view.zoom
    pan_1, pan_fit = _pan_ms(app, view, 1.0), _pan_ms(app, view, fitted)
    step = _zoom_step_ms(app, view, fitted)
    view.close()
    scene.dispose()
    return len(workflow.edges), opened, first_paint, pan_1, pan_fit, step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 2000, 5000])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    app = QApplication.instance() or QApplication([])
    measure(app, 50)  # warm up fonts and caches
    header = (
        f"{'nodes':>6} {'edges':>6} {'open s':>8} {'us/node':>8} {'1st paint s':>11}"
        f" {'pan 1:1 ms':>10} {'pan fit ms':>10} {'zoom step ms':>12}"
    )
    print(header)
    print("-" * len(header))
    for size in args.sizes:
        runs = [measure(app, size) for _ in range(args.repeat)]
        edges = runs[0][0]
        opened = min(r[1] for r in runs)
        paint = min(r[2] for r in runs)
        pan_1 = statistics.median(r[3] for r in runs)
        pan_fit = statistics.median(r[4] for r in runs)
        step = statistics.median(r[5] for r in runs)
        print(
            f"{size:>6} {edges:>6} {opened:>8.3f} {opened / size * 1e6:>8.0f} {paint:>11.3f}"
            f" {pan_1:>10.1f} {pan_fit:>10.1f} {step:>12.1f}"
        )


if __name__ == "__main__":
    main()
