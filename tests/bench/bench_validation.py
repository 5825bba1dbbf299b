"""Benchmark: validate() on random layered DAGs of built-in kinds (run on demand, not by pytest).

Validation runs before every run, so it must stay well under a tenth of a second on a
10,000-node workflow and grow linearly. Each graph is a Start node, layers of Transform nodes
(one predecessor) and Merge nodes (two or three predecessors, one per input port), and one Output
node, each node with its own config (as in a real workflow, so no parse can be shared). The first
table is the common case, a valid graph; the second shows that broken graphs of the largest size
(a cycle through most of it, many loop edges, every config invalid) do not fall off a cliff.

    /work/venv/bin/python tests/bench/bench_validation.py [--repeat 7] [--sizes 100 1000 10000]
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import time
from collections.abc import Callable

from pydantic import JsonValue

from flowdesk.model.kinds import Catalog
from flowdesk.model.validation import validate
from flowdesk.model.validation_context import ValidationContext
from flowdesk.model.workflow import Edge, LoopSettings, Node, Workflow
from flowdesk.nodes.registry import builtin_registry

MODES = ("all", "first")


def layered_dag(size: int, seed: int = 1) -> Workflow:
    """A valid workflow of ``size`` nodes: layers of width ~sqrt(size), edges only from the layer above."""
    rng = random.Random(seed)
    width = max(1, round(math.sqrt(size)))
    nodes = [Node(id="start", kind="start")]
    edges: list[Edge] = []
    previous = ["start"]
    while len(nodes) < size - 1:
        layer: list[str] = []
        for _ in range(min(width, size - 1 - len(nodes))):
            node_id = f"n{len(nodes)}"
            preds = rng.sample(previous, min(len(previous), rng.randint(1, 3)))
            if len(preds) == 1:
                nodes.append(Node(id=node_id, kind="transform", config={"expression": f"inputs.input + {len(nodes)}"}))
                edges.append(_edge(len(edges), preds[0], node_id, "input"))
            else:
                config: dict[str, JsonValue] = {"inputs": len(preds), "mode": rng.choice(MODES)}
                nodes.append(Node(id=node_id, kind="merge", config=config))
                base = len(edges)
                edges.extend([_edge(base + i, pred, node_id, f"in_{i + 1}") for i, pred in enumerate(preds)])
            layer.append(node_id)
        previous = layer
    nodes.append(Node(id="out", kind="output"))
    edges.append(_edge(len(edges), previous[0], "out", "value"))
    return Workflow(id="bench", nodes=tuple(nodes), edges=tuple(edges))


def _edge(index: int, source: str, target: str, target_port: str, loop: LoopSettings | None = None) -> Edge:
    source_port = "inputs" if source == "start" else "output"
    return Edge(
        id=f"e{index}", source=source, source_port=source_port, target=target, target_port=target_port, loop=loop
    )


def with_cycle(workflow: Workflow) -> Workflow:
    """The DAG plus one forward edge from the deepest node back to the first: most of it becomes a cycle."""
    back = _edge(len(workflow.edges), workflow.edges[-1].source, workflow.nodes[1].id, "input")
    return workflow.model_copy(update={"edges": (*workflow.edges, back)})


def with_loops(workflow: Workflow, count: int = 200, seed: int = 2) -> Workflow:
    """The DAG plus ``count`` loop edges from a random node to a random earlier one (ancestor or not)."""
    rng = random.Random(seed)
    ids = [n.id for n in workflow.nodes if n.kind == "transform"]
    loops = []
    for i in range(count):
        early, late = sorted(rng.sample(range(len(ids)), 2))
        loops.append(_edge(len(workflow.edges) + i, ids[late], ids[early], "input", LoopSettings(max_iterations=3)))
    return workflow.model_copy(update={"edges": (*workflow.edges, *loops)})


def all_configs_invalid(workflow: Workflow) -> Workflow:
    """Every transform's expression emptied: one located, reworded problem per node."""
    nodes = tuple(
        n.model_copy(update={"config": {"expression": ""}}) if n.kind == "transform" else n for n in workflow.nodes
    )
    return workflow.model_copy(update={"nodes": nodes})


def _median_ms(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        fn()
        times.append((time.perf_counter() - began) * 1000)
    return statistics.median(times)


def _row(label: str, workflow: Workflow, catalog: Catalog, repeat: int) -> str:
    problems = validate(workflow, catalog)
    total = _median_ms(lambda: validate(workflow, catalog), repeat)
    index = _median_ms(lambda: ValidationContext(workflow, catalog, for_run=True), repeat)
    return (
        f"{label:<22} {len(workflow.nodes):>7} {len(workflow.edges):>7} {len(problems):>8} "
        f"{total:>9.1f} {total * 1000 / len(workflow.nodes):>8.1f} {index:>9.1f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1_000, 10_000])
    args = parser.parse_args()
    catalog = builtin_registry()
    header = f"{'graph':<22} {'nodes':>7} {'edges':>7} {'problems':>8} {'total ms':>9} {'us/node':>8} {'index ms':>9}"
    print(header)
    for size in args.sizes:
        print(_row("valid layered DAG", layered_dag(size), catalog, args.repeat))
    largest = layered_dag(max(args.sizes))
    print()
    print(header)
    print(_row("one back edge (cycle)", with_cycle(largest), catalog, args.repeat))
    print(_row("200 loop edges", with_loops(largest), catalog, args.repeat))
    print(_row("every config invalid", all_configs_invalid(largest), catalog, args.repeat))
    print()
    _sources_table(args.sizes, catalog, args.repeat)


def _sources_table(sizes: list[int], catalog: Catalog, repeat: int) -> None:
    """Reading every template and expression too (the Problems dock and `flowdesk validate` do): the first
    validation parses each source once; after an edit only the edited one is new (the reader caches)."""
    from flowdesk.engine.source_reader import SourceReader

    print(f"{'with sources':<22} {'nodes':>7} {'without ms':>10} {'first ms':>9} {'again ms':>9} {'again/without':>13}")
    for size in sizes:
        workflow = layered_dag(size)
        without = _median_ms(lambda w=workflow: validate(w, catalog), repeat)
        began = time.perf_counter()
        reader = SourceReader()
        validate(workflow, catalog, sources=reader)
        first = (time.perf_counter() - began) * 1000
        again = _median_ms(lambda w=workflow, r=reader: validate(w, catalog, sources=r), repeat)
        print(
            f"{'valid layered DAG':<22} {size:>7} {without:>10.1f} {first:>9.1f} {again:>9.1f} {again / without:>13.2f}"
        )


if __name__ == "__main__":
    main()
