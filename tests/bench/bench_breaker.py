"""What the circuit breaker costs a healthy run, and what it saves against a dead server.

Every http request and LLM call now goes through a breaker (``engine/breaker.py``). Two figures:

* **healthy**: a fan-out of LLM nodes (offline provider, no latency) and of http nodes to a local
  server answering 200, per node, in this checkout and, with ``--against DIR``, in another checkout
  (the code before the breaker), each in a fresh process, printed side by side as a ratio;
* **dead server**: 20 http nodes (3 attempts each, 50 ms apart) to a local server answering 503:
  requests made and time to the run's end, in this checkout (and the other one).

    python tests/bench/bench_breaker.py --against /tmp/flowdesk-base
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from side_by_side import run_in, worker_call


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.server.hits += 1  # type: ignore[attr-defined]
        status = self.server.status  # type: ignore[attr-defined]
        self.send_response(status)
        self.send_header("content-length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *_args: object) -> None:
        pass


def _serve(status: int) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.hits, server.status = 0, status  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _workflow(kind: str, count: int, url: str = "") -> Any:
    from flowdesk.model.workflow import Node, RetryPolicy, Settings, Workflow

    retry = RetryPolicy(max_attempts=3, initial_delay_s=0.05, jitter=0, retry_on=("server",))
    if kind == "llm":
        config: dict[str, Any] = {"model": "offline:echo", "prompt": "hi"}
    else:
        config = {"url": url}
    nodes = tuple(Node(id=f"n{i}", kind=kind, config=config, retry=retry, on_error="continue") for i in range(count))
    return Workflow(id="bench", nodes=nodes, settings=Settings(max_concurrency=8))


def _run(wf: Any, http: bool) -> float:
    from flowdesk.engine.http import HttpxTransport
    from flowdesk.engine.runner import run_workflow
    from flowdesk.engine.services import EngineServices
    from flowdesk.nodes.registry import default_registry
    from flowdesk.providers.resolver import default_providers

    async def go() -> float:
        transport = HttpxTransport() if http else None
        services = EngineServices(providers=default_providers(), http=transport)
        started = time.perf_counter()
        try:
            await run_workflow(wf, default_registry(), services)
        finally:
            if transport is not None:
                await transport.aclose()
        return time.perf_counter() - started

    return asyncio.run(go())


def healthy(kind: str, count: int, reps: int) -> float:
    """Microseconds per node of a fan-out that succeeds (best of ``reps``)."""
    server = _serve(200) if kind == "http" else None
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/x" if server else ""
        wf = _workflow(kind, count, url)
        return min(_run(wf, server is not None) for _ in range(reps)) / count * 1e6
    finally:
        if server is not None:
            server.shutdown()
            server.server_close()


def dead(count: int) -> list[float]:
    """[requests made, seconds to the end] of ``count`` http nodes to a server answering 503."""
    server = _serve(503)
    try:
        seconds = _run(_workflow("http", count, f"http://127.0.0.1:{server.server_address[1]}/x"), True)
        return [float(server.hits), seconds]  # type: ignore[attr-defined]
    finally:
        server.shutdown()
        server.server_close()


MEASURES = {"healthy": healthy, "dead": dead}


def main() -> int:
    if worker_call(sys.argv, MEASURES):
        return 0
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--against", type=Path, help="a checkout of the code before, measured beside this one")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    here = Path(__file__).resolve().parents[2]
    trees = [("this", here)] + ([("that", args.against.resolve())] if args.against else [])
    cases: list[tuple[str, str, list[Any]]] = [
        ("healthy llm fan-out, us/node (500 nodes)", "healthy", ["llm", 500, 3]),
        ("healthy http fan-out, us/node (200 nodes)", "healthy", ["http", 200, 3]),
        ("dead server: requests (20 nodes x 3 attempts)", "dead", [20]),
        ("dead server: seconds to the end", "dead", [20]),
    ]
    rows = [("case", *(name for name, _ in trees), *(["this / that"] if args.against else []))]
    for title, measure, margs in cases:
        values = []
        for _, root in trees:
            got = [run_in(root, Path(__file__), measure, *map(json.dumps, margs)) for _ in range(args.rounds)]
            if measure == "dead":
                got = [g[0] if "requests" in title else g[1] for g in got]
            values.append(statistics.median(got))
        ratio = [f"{values[0] / values[1]:.3f}"] if args.against and values[1] else []
        rows.append((title, *(f"{v:,.1f}" if v >= 10 else f"{v:.3f}" for v in values), *ratio))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for i, row in enumerate(rows):
        sys.stdout.write(" | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() + "\n")
        if i == 0:
            sys.stdout.write("-+-".join("-" * w for w in widths) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
