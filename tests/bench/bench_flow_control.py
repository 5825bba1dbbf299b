"""Benchmark: flow control (issue 16.4 and 16.5), side by side in one run.

1. A race against waiting for all: two branches sleep FAST and SLOW seconds into a merge. Mode
   'first' goes on when the fast one arrives (and cancels the slow one); mode 'all' waits for both.
2. A for_each with an inline body against a map over a saved sub-workflow doing the same thing
   (one transform per item): the time per item, and the ratio.

    .venv/bin/python tests/bench/bench_flow_control.py [--fast 0.5] [--slow 2.0] [--items 200] [--repeat 3]

Wall times move with the machine's load; compare the ratios of one run.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from typing import Any

from flowdesk.engine.runner import run_workflow
from flowdesk.engine.services import EngineServices
from flowdesk.model.workflow import Edge, Node, RunInput, Workflow
from flowdesk.nodes.registry import builtin_registry

CATALOG = builtin_registry()


class DictResolver:
    """Workflows by id, for the map's sub-workflow."""

    def __init__(self, workflows: dict[str, Workflow]) -> None:
        self.workflows = workflows

    def resolve(self, ref: str) -> Workflow:
        return self.workflows[ref]


def _edge(spec: str) -> Edge:
    left, right = (part.strip() for part in spec.split("->"))
    (src, sport), (dst, dport) = left.split("."), right.split(".")
    return Edge(id=f"e_{src}_{dst}_{dport}", source=src, source_port=sport, target=dst, target_port=dport)


def _wf(wf_id: str, nodes: list[Node], edges: list[str], inputs: tuple[RunInput, ...] = ()) -> Workflow:
    return Workflow(id=wf_id, name=wf_id, nodes=tuple(nodes), edges=tuple(map(_edge, edges)), inputs=inputs)


def race(mode: str, fast: float, slow: float) -> Workflow:
    return _wf(
        f"race_{mode}",
        [
            Node(id="start", kind="start"),
            Node(id="fast", kind="delay", config={"seconds": fast}),
            Node(id="slow", kind="delay", config={"seconds": slow}),
            Node(id="m", kind="merge", config={"mode": mode, "inputs": 2}),
            Node(id="out", kind="output", config={"name": "out"}),
        ],
        ["start.inputs -> fast.value", "start.inputs -> slow.value", "fast.value -> m.in_1", "slow.value -> m.in_2",
         "m.output -> out.value"],
    )  # fmt: skip


def for_each(items: int) -> Workflow:
    return _wf(
        "loop_inline",
        [
            Node(id="xs", kind="transform", config={"expression": f"range({items}) | list"}),
            Node(id="fe", kind="for_each", config={"concurrency": 8, "max_items": items}),
            Node(id="double", kind="transform", config={"expression": "inputs.input * 2"}),
            Node(id="c", kind="collect"),
            Node(id="out", kind="output", config={"name": "out"}),
        ],
        ["xs.output -> fe.items", "fe.item -> double.input", "double.output -> c.value", "c.results -> out.value"],
    )


def mapping(items: int) -> tuple[Workflow, Workflow]:
    child = _wf(
        "double_one",
        [
            Node(id="start", kind="start"),
            Node(id="double", kind="transform", config={"expression": "inputs.input.n * 2"}),
            Node(id="out", kind="output", config={"name": "out"}),
        ],
        ["start.inputs -> double.input", "double.output -> out.value"],
        (RunInput(name="n", type="integer"),),
    )
    parent = _wf(
        "loop_map",
        [
            Node(id="xs", kind="transform", config={"expression": f"range({items}) | list"}),
            Node(id="m", kind="map", config={"workflow": "double_one", "item_input": "n", "concurrency": 8}),
            Node(id="out", kind="output", config={"name": "out"}),
        ],
        ["xs.output -> m.items", "m.results -> out.value"],
    )
    return parent, child


def timed(wf: Workflow, services: EngineServices) -> tuple[float, Any]:
    started = time.perf_counter()
    result = asyncio.run(run_workflow(wf, CATALOG, services))
    assert result.ok, result.error
    return time.perf_counter() - started, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fast", type=float, default=0.5)
    parser.add_argument("--slow", type=float, default=2.0)
    parser.add_argument("--items", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    print(f"race: branches of {args.fast:g} s and {args.slow:g} s into one merge")
    print(f"{'mode':<8} {'median s':>9} {'cancelled':>10}")
    times: dict[str, float] = {}
    for mode in ("first", "all"):
        runs = [timed(race(mode, args.fast, args.slow), EngineServices()) for _ in range(args.repeat)]
        times[mode] = statistics.median(t for t, _ in runs)
        cancelled = sum(s == "cancelled" for s in runs[0][1].node_status.values())
        print(f"{mode:<8} {times[mode]:>9.3f} {cancelled:>10}")
    print(f"all/first: {times['all'] / times['first']:.1f}x\n")

    parent, child = mapping(args.items)
    map_services = EngineServices(workflows=DictResolver({"double_one": child}))
    print(f"loop over {args.items} items, one transform each")
    print(f"{'how':<22} {'median s':>9} {'ms/item':>8}")
    loop_times: dict[str, float] = {}
    for label, wf, services in (("for_each (inline)", for_each(args.items), EngineServices()),
                                ("map (sub-workflow)", parent, map_services)):  # fmt: skip
        runs = [timed(wf, services) for _ in range(args.repeat)]
        assert runs[0][1].outputs["out"][:3] in ([0, 2, 4], [{"out": 0}, {"out": 2}, {"out": 4}])
        loop_times[label] = statistics.median(t for t, _ in runs)
        print(f"{label:<22} {loop_times[label]:>9.3f} {loop_times[label] / args.items * 1000:>8.2f}")
    ratio = loop_times["map (sub-workflow)"] / loop_times["for_each (inline)"]
    print(f"map/for_each: {ratio:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
