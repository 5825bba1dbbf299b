"""Benchmark: Sandbox.render / Sandbox.evaluate per call, cached vs uncached (run on demand, not by pytest).

Conditions, switches and loop ``until`` expressions are evaluated for every node run and every loop
pass, and prompts are rendered for every LLM call, so a cached call must cost microseconds; the
uncached figures show what the LRU cache saves (a compile is Jinja's parser plus Python's compile).

    /work/venv/bin/python tests/bench/bench_sandbox.py [--calls 20000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

import jinja2

from flowdesk.engine.sandbox import Sandbox, SandboxLimits

SCOPE: dict[str, Any] = {
    "inputs": {"value": 5, "name": "Ann", "items": list(range(20)), "doc": "lorem ipsum " * 200},
    "run": {"inputs": {"topic": "owls"}},
    "nodes": {"llm": {"output": {"text": "An answer."}}},
    "loop": {"iteration": 2},
}
PROMPT = (
    "You are helping {{ inputs.name }} with {{ run.inputs.topic }} (pass {{ loop.iteration }}).\n"
    "Previous answer: {{ nodes.llm.output.text }}\n"
    "{% for item in inputs['items'] %}- item {{ item }}\n{% endfor %}"
    "Context:\n{{ inputs.doc | truncate(500) }}\n"
)
CASES: list[tuple[str, str, str]] = [
    ("evaluate", "simple condition", "inputs.value > 3"),
    ("evaluate", "transform to list", "inputs['items'] | select('odd') | list"),
    ("render", "one-line template", "Hello {{ inputs.name }}!"),
    ("render", "prompt (20-item loop)", PROMPT),
]


def per_call_us(func: Callable[[int], object], calls: int, repeat: int) -> float:
    """Best-of-``repeat`` mean microseconds per call (the minimum is the least noisy estimate)."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        for i in range(calls):
            func(i)
        times.append((time.perf_counter() - start) / calls * 1e6)
    return min(times)


def plain_jinja_us(kind: str, source: str, calls: int, repeat: int) -> float:
    """The same call on plain, unsandboxed Jinja2: what the guards cost on top."""
    env = jinja2.Environment(keep_trailing_newline=True)
    if kind == "evaluate":
        expression = env.compile_expression(source)
        return per_call_us(lambda _i: expression(**SCOPE), calls, repeat)
    template = env.from_string(source)
    return per_call_us(lambda _i: template.render(SCOPE), calls, repeat)


def measure(kind: str, source: str, calls: int, repeat: int) -> tuple[float, float]:
    cached = Sandbox()
    run = cached.evaluate if kind == "evaluate" else cached.render
    run(source, SCOPE)
    hot = per_call_us(lambda _i: run(source, SCOPE), calls, repeat)
    uncached = Sandbox(SandboxLimits(max_cache=0))
    run_cold = uncached.evaluate if kind == "evaluate" else uncached.render
    cold_calls = max(1, calls // 50)
    cold = per_call_us(lambda _i: run_cold(source, SCOPE), cold_calls, repeat)
    return hot, cold


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(f"{'call':<9} {'case':<24} {'cached us':>10} {'uncached us':>12} {'plain jinja2 us':>16}")
    for kind, label, source in CASES:
        hot, cold = measure(kind, source, args.calls, args.repeat)
        plain = plain_jinja_us(kind, source, args.calls, args.repeat)
        print(f"{kind:<9} {label:<24} {hot:>10.2f} {cold:>12.1f} {plain:>16.2f}")
    print(f"best of {args.repeat} runs; {args.calls} cached calls, {max(1, args.calls // 50)} uncached calls per run")


if __name__ == "__main__":
    main()
