"""The hostile corpus (hostile_payloads.py) against the sandbox, each case in a forked child under a
wall-clock limit with its memory watched: work Python does in C on the sandbox's behalf cannot be
interrupted by the sandbox's deadline, so it has to be refused before it starts. A regression
fails here (the child is killed and the case named) instead of hanging the suite."""

from __future__ import annotations

import multiprocessing
import os
import resource
from typing import Any

import pytest
from hostile_payloads import ANY, CASES, LEAK_MARKERS, REFUSED

from flowdesk.engine.sandbox import Sandbox, SandboxError

WALL_S = 15.0
"""Far above the sandbox's 2 s deadline: a case still running then is stuck in C."""
MAX_GROWTH_MB = 400
SCOPE: dict[str, Any] = {"inputs": {"name": "Ann", "items": [1, 2]}, "run": {"inputs": {}}, "nodes": {}}


def _child(mode: str, source: str, conn: Any) -> None:
    # A hard cap as a safety net, so a memory bomb fails this case instead of swapping the machine.
    with open("/proc/self/statm") as statm:
        vm_bytes = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    cap = vm_bytes + 3 * 2**30
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    sandbox = Sandbox()
    try:
        if mode == "expression":
            outcome: tuple[str, Any] = ("value", sandbox.evaluate(source, SCOPE, field="f"))
        else:
            outcome = ("value", sandbox.render(source, SCOPE, field="f"))
    except SandboxError as exc:
        outcome = ("refused", str(exc))
    except BaseException as exc:
        outcome = ("crashed", f"{type(exc).__name__}: {exc}"[:500])
    growth_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    conn.send((*outcome, growth_mb))
    conn.close()


def _run_guarded(mode: str, source: str) -> tuple[str, Any, float]:
    context = multiprocessing.get_context("fork")
    parent, child = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(mode, source, child), daemon=True)
    process.start()
    child.close()
    try:
        if not parent.poll(WALL_S):
            pytest.fail(f"{source[:100]!r} was still running after {WALL_S} s")
        return parent.recv()
    except EOFError:
        pytest.fail(f"{source[:100]!r} killed its process (exit code {process.exitcode})")
    finally:
        if process.is_alive():
            process.kill()
        process.join()


def test_the_corpus_is_large_enough() -> None:
    assert len(CASES) >= 60
    assert len({source for _mode, source, _expect in CASES}) == len(CASES)


@pytest.mark.parametrize(("mode", "source", "expect"), CASES, ids=[source[:60] for _m, source, _e in CASES])
def test_hostile_payload_ends_quickly_leanly_and_leaks_nothing(mode: str, source: str, expect: Any) -> None:
    kind, result, growth_mb = _run_guarded(mode, source)
    assert kind != "crashed", result
    assert growth_mb < MAX_GROWTH_MB, f"{source[:100]!r} grew the process by {growth_mb:.0f} MB"
    text = str(result)
    assert not any(marker in text for marker in LEAK_MARKERS), text[:300]
    if expect == REFUSED:
        assert kind == "refused", f"{source[:100]!r} gave {text[:200]!r}"
        assert "\n" not in text and len(text) < 600, text
    elif expect != ANY:
        assert (kind, result) == ("value", expect)


BOMB = "1|round(-10**9)"
IN_TEMPLATE = "{{ " + BOMB + " }}"


def _places() -> dict[str, Any]:
    """One workflow per place an expression or template runs, each holding the same bomb."""
    from support.wfbuild import edge, node, workflow

    until_loop = workflow(
        [node("a", "transform", expression="1"), node("b", "transform", expression="inputs.input")],
        ["a.output -> b.input", edge("b.output -> a.input", loop=3, until=BOMB)],
    )
    return {
        "prompt": workflow([node("n", "llm", prompt=IN_TEMPLATE)]),
        "transform": workflow([node("n", "transform", expression=BOMB)]),
        "condition": workflow(
            [node("a", "transform", expression="1"), node("n", "condition", expression=BOMB)], ["a.output -> n.value"]
        ),
        "until": until_loop,
        "tool argument": workflow([node("n", "tool", tool="text_split", args={"text": IN_TEMPLATE})]),
        "url": workflow([node("n", "http", url="http://127.0.0.1:9/" + IN_TEMPLATE)]),
    }


def _run_place(place: str, conn: Any) -> None:
    import asyncio

    from support.wfbuild import catalog_with

    from flowdesk.engine.http import HttpxTransport
    from flowdesk.engine.runner import run_workflow
    from flowdesk.engine.services import EngineServices
    from flowdesk.nodes.tools import builtin_tools
    from flowdesk.providers.resolver import default_providers

    services = EngineServices(providers=default_providers(), tools=builtin_tools(), http=HttpxTransport())
    result = asyncio.run(run_workflow(_places()[place], catalog_with([]), services))
    conn.send((result.status, result.error.message if result.error else ""))
    conn.close()


@pytest.mark.parametrize("place", ["prompt", "transform", "condition", "until", "tool argument", "url"])
def test_a_bomb_fails_its_node_quickly_wherever_an_expression_runs(place: str) -> None:
    context = multiprocessing.get_context("fork")
    parent, child = context.Pipe(duplex=False)
    process = context.Process(target=_run_place, args=(place, child), daemon=True)
    process.start()
    child.close()
    try:
        assert parent.poll(WALL_S), f"the run with a bomb in its {place} was still running after {WALL_S} s"
        status, message = parent.recv()
    finally:
        if process.is_alive():
            process.kill()
        process.join()
    assert status == "failed"
    assert "precision must be between -400 and 400" in message, message
