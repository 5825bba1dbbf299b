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
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

from PySide6.QtWidgets import QApplication

from flowdesk.model.commands import SetConfig
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    _app = QApplication.instance() or QApplication([])
    measure_layout(50)  # warm up fonts and caches
    header = f"{'nodes':>6} {'edges':>6} {'algorithm s':>11} {'us/node':>8} {'command s':>10} {'us/node':>8}"
    print("auto-layout")
    print(header)
    print("-" * len(header))
    for size in args.sizes:
        runs = [measure_layout(size) for _ in range(args.repeat)]
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
    for size in args.sizes:
        runs = [measure_validation(size) for _ in range(args.repeat)]
        edit, check = min(r[0] for r in runs), min(r[1] for r in runs)
        print(f"{size:>6} {edit * 1000:>11.2f} {check * 1000:>13.1f}")
    print()
    print("select all, the window listening")
    header = f"{'nodes':>6} {'select all ms':>13}"
    print(header)
    print("-" * len(header))
    for size in args.sizes:
        took = min(measure_select_all(size) for _ in range(args.repeat))
        print(f"{size:>6} {took * 1000:>13.1f}")


if __name__ == "__main__":
    main()
