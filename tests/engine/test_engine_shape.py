"""The engine's shape: its modules import in one direction, and a listener can join a run late."""

from __future__ import annotations

import ast
import asyncio
from pathlib import Path

from support.wfbuild import catalog_with, node, workflow

import flowdesk.engine
from flowdesk.engine.bus import EventBus
from flowdesk.engine.runner import start_run
from flowdesk.engine.services import EngineServices

ENGINE = Path(flowdesk.engine.__file__).parent


def _imports(path: Path) -> set[str]:
    """The engine modules ``path`` imports anywhere: at the top, inside functions, for type checking."""
    found: set[str] = set()
    for item in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(item, ast.ImportFrom) and item.module:
            parts = item.module.split(".")
            if parts[:2] == ["flowdesk", "engine"]:
                found |= {parts[2]} if len(parts) > 2 else {alias.name for alias in item.names}
        elif isinstance(item, ast.Import):
            found |= {a.name.split(".")[2] for a in item.names if a.name.startswith("flowdesk.engine.")}
    return found - {path.stem}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle, as the modules along it, or None."""
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(module: str) -> list[str] | None:
        state[module] = 1
        path.append(module)
        for dep in sorted(graph.get(module, ())):
            if state.get(dep) == 1:
                return [*path[path.index(dep) :], dep]
            if dep not in state and (found := visit(dep)) is not None:
                return found
        path.pop()
        state[module] = 2
        return None

    for module in sorted(graph):
        if module not in state and (found := visit(module)) is not None:
            return found
    return None


def test_the_engine_modules_import_in_one_direction() -> None:
    graph = {path.stem: _imports(path) for path in ENGINE.glob("*.py")}
    assert graph["executor"], "the graph was not read"
    circle = _cycle(graph)
    assert circle is None, "an import circle in flowdesk/engine: " + " -> ".join(circle or [])


def test_a_listener_that_joins_a_run_late_hears_what_follows() -> None:
    calls: list[tuple[str, int, int]] = []
    wf = workflow(
        [node("a", "t.sleep", seconds=0.2), node("b", "t.noop"), node("c", "t.noop")],
        ["a.output -> b.input", "b.output -> c.input"],
    )

    async def go() -> list[str]:
        bus = EventBus()  # nobody listens when the run starts
        handle = start_run(wf, catalog_with(calls), EngineServices(), bus=bus)
        while ("a", 0, 1) not in calls:
            await asyncio.sleep(0.005)
        late = bus.subscribe()
        await handle.wait()
        return [f"{e.type}:{getattr(e, 'node_id', '')}" for e in late.drain()]

    heard = asyncio.run(go())
    assert heard == [
        "node_succeeded:a",
        "node_queued:b",
        "node_started:b",
        "node_succeeded:b",
        "node_queued:c",
        "node_started:c",
        "node_succeeded:c",
        "run_finished:",
    ]
