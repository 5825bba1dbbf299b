"""Terse construction of workflows for engine tests: nodes as (id, kind, config), edges as strings."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from flowdesk.model.kinds import KindSpec, NodePorts, PortSpec
from flowdesk.model.workflow import Edge, LoopSettings, Node, RetryPolicy, RunInput, Settings, Workflow
from flowdesk.nodes.kinds import BUILTIN_KINDS
from flowdesk.nodes.registry import Registry


def node(node_id: str, kind: str, **config: Any) -> Node:
    options = {
        k: config.pop(k) for k in ("retry", "timeout_s", "on_error", "breakpoint", "remote", "pinned") if k in config
    }
    if isinstance(options.get("retry"), dict):
        options["retry"] = RetryPolicy(**options["retry"])
    return Node(id=node_id, kind=kind, name=node_id, config=config, **options)


def edge(spec: str, loop: int | None = None, until: str | None = None) -> Edge:
    """'a.out -> b.in' (ids and ports)."""
    left, right = (part.strip() for part in spec.split("->"))
    src, sport = left.split(".")
    dst, dport = right.split(".")
    loop_settings = LoopSettings(max_iterations=loop, until=until) if loop is not None else None
    return Edge(
        id=f"e_{src}_{sport}_{dst}_{dport}",
        source=src,
        source_port=sport,
        target=dst,
        target_port=dport,
        loop=loop_settings,
    )


def workflow(
    nodes: Iterable[Node],
    edges: Iterable[Edge | str] = (),
    *,
    inputs: Iterable[RunInput] = (),
    concurrency: int = 8,
    run_timeout_s: float | None = None,
) -> Workflow:
    return Workflow(
        id="wf_engine_test",
        name="engine test",
        nodes=tuple(nodes),
        edges=tuple(e if isinstance(e, Edge) else edge(e) for e in edges),
        inputs=tuple(inputs),
        settings=Settings(max_concurrency=concurrency, run_timeout_s=run_timeout_s),
    )


def counting_loop(*, stop_below: int, max_iterations: int, slow_s: float = 0.0) -> Workflow:
    """count -> slow -> more? -> again -> back to count; 'out' takes every pass's count, 'done' the last."""
    return workflow(
        [
            node("count", "transform", expression="(inputs.input if inputs.input is defined else 0) + 1"),
            node("slow", "t.sleep", seconds=slow_s),
            node("more", "condition", expression=f"inputs.value < {stop_below}"),
            node("again", "t.noop"),
            node("out", "output", name="n"),
            node("done", "output", name="final"),
        ],
        [
            "count.output -> slow.input",
            "count.output -> out.value",
            "slow.output -> more.value",
            "more.true -> again.input",
            "more.false -> done.value",
            edge("again.output -> count.input", loop=max_iterations),
        ],
    )


class ProbeConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    seconds: float = Field(0.0, description="How long to sleep (real time).")
    fail_times: int = Field(0, description="Fail this many attempts first.")
    error_class: str = Field("server", description="Class of the injected failure.")
    label: str = Field("", description="Free label.")


def probe_kinds(calls: list[tuple[str, int, int]]) -> list[KindSpec]:
    """Kinds whose behaviour tests control; each run appends (node, iteration, attempt) to ``calls``."""
    from flowdesk.nodes.context import NodeFailure

    def make(name: str, body: Callable[..., Any]) -> KindSpec:
        return KindSpec(
            name=name,
            display_name=name,
            category="Test",
            description=name,
            config_model=ProbeConfig,
            ports=NodePorts((PortSpec("input"),), (PortSpec("output"),)),
            run=body,
        )

    async def noop(ctx: Any, inputs: dict[str, Any], config: ProbeConfig) -> dict[str, Any]:
        calls.append((ctx.node_id, ctx.iteration, ctx.attempt))
        return {"output": inputs.get("input")}

    async def sleepy(ctx: Any, inputs: dict[str, Any], config: ProbeConfig) -> dict[str, Any]:
        import asyncio

        calls.append((ctx.node_id, ctx.iteration, ctx.attempt))
        await asyncio.sleep(config.seconds)
        return {"output": inputs.get("input")}

    async def flaky(ctx: Any, inputs: dict[str, Any], config: ProbeConfig) -> dict[str, Any]:
        calls.append((ctx.node_id, ctx.iteration, ctx.attempt))
        if ctx.attempt <= config.fail_times:
            raise NodeFailure(f"injected failure {ctx.attempt}", config.error_class)
        return {"output": inputs.get("input")}

    return [make("t.noop", noop), make("t.sleep", sleepy), make("t.flaky", flaky)]


def catalog_with(calls: list[tuple[str, int, int]]) -> Registry:
    return Registry([*BUILTIN_KINDS, *probe_kinds(calls)])


class WorkflowsByName:
    """The tests' workflow library: the workflows that map and sub-workflow nodes name, by that name."""

    def __init__(self, workflows: dict[str, Workflow]) -> None:
        self.workflows = workflows

    def resolve(self, ref: str) -> Workflow:
        return self.workflows[ref]
