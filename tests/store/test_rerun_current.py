"""Re-run from a node runs the workflow as it is now, reusing only results still valid for it (issue 13.1)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from support.wfbuild import catalog_with, node, workflow

from flowdesk.engine.http import HttpxTransport
from flowdesk.engine.reuse import definition_hashes
from flowdesk.engine.services import EngineServices
from flowdesk.model.workflow import Position
from flowdesk.store.running import RunService
from flowdesk.store.store import Store, open_store
from flowdesk.store.workflows import NotFoundError

Calls = list[tuple[str, int, int]]


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.server.paths.append(self.path)  # type: ignore[attr-defined]
        body = b'{"path": "' + self.path.encode() + b'"}'
        status = 200 if self.path.startswith("/good") else 404
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def server() -> Iterator[tuple[str, list[str]]]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.paths = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", httpd.paths  # type: ignore[attr-defined]
    httpd.shutdown()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = open_store(tmp_path / "lib.db")
    yield s
    s.close()


async def _go(start: Any) -> tuple[str, Any]:
    transport = HttpxTransport()
    try:
        started = start(transport)
        return started.run_id, await started.handle.wait()
    finally:
        await transport.aclose()


def _service(store: Store, calls: Calls, transport: Any = None) -> RunService:
    return RunService(store, catalog_with(calls), EngineServices(http=transport))


def _http_workflow(url: str) -> Any:
    return workflow(
        [node("a", "t.noop"), node("get", "http", url=url), node("c", "t.noop"), node("out", "output", name="body")],
        ["get.body -> c.input", "c.output -> out.value"],
    )


def test_rerun_after_fixing_a_url_calls_the_new_url(store: Store, server: tuple[str, list[str]]) -> None:
    base, paths = server
    calls: Calls = []
    broken = _http_workflow(base + "/wrong")
    store.workflows.save(broken)
    run_id, first = asyncio.run(_go(lambda t: _service(store, calls, t).start(broken, workflow_version=1)))
    assert first.status == "failed" and paths == ["/wrong"]

    fixed = broken.model_copy(update={"nodes": (*broken.nodes[:1], node("get", "http", url=base + "/good"),
                                               *broken.nodes[2:])})  # fmt: skip
    saved = store.workflows.save(fixed)
    assert saved.version == 2
    calls.clear()
    new_id, result = asyncio.run(_go(lambda t: _service(store, calls, t).rerun(run_id, "get")))
    assert result.status == "succeeded", result.error
    assert paths == ["/wrong", "/good"]
    assert result.outputs == {"body": {"path": "/good"}}
    row = store.runs.get(new_id)
    assert (row.kind, row.parent_run_id, row.workflow_version) == ("rerun", run_id, 2)
    assert row.options["rerun"]["reused"] == ["a"]  # 'a' was unchanged and finished: not run again
    assert [c[0] for c in calls] == ["c"]
    assert any("on version 2" in log.message and "reused 1" in log.message for log in store.runs.logs(new_id))


def test_rerun_recorded_replays_the_version_the_run_ran(store: Store, server: tuple[str, list[str]]) -> None:
    base, paths = server
    broken = _http_workflow(base + "/wrong")
    store.workflows.save(broken)
    run_id, _ = asyncio.run(_go(lambda t: _service(store, [], t).start(broken, workflow_version=1)))
    store.workflows.save(broken.model_copy(update={"nodes": (node("get", "http", url=base + "/good"),)}))
    new_id, result = asyncio.run(_go(lambda t: _service(store, [], t).rerun(run_id, "get", recorded=True)))
    assert result.status == "failed" and paths == ["/wrong", "/wrong"]
    assert store.runs.get(new_id).workflow_version == 1


def _three(**b_config: Any) -> Any:
    return workflow(
        [node("a", "t.noop"), node("b", "t.noop", **b_config), node("c", "t.noop"), node("d", "t.noop")],
        ["a.output -> b.input", "b.output -> c.input", "c.output -> d.input"],
    )


def test_a_changed_upstream_node_runs_again_and_so_does_what_follows_it(store: Store) -> None:
    calls: Calls = []
    service = _service(store, calls)
    wf = _three()
    store.workflows.save(wf)
    run_id, _ = asyncio.run(_go(lambda _t: service.start(wf)))
    store.workflows.save(_three(label="edited"))  # b's own config changed; c depends on it
    calls.clear()
    new_id, result = asyncio.run(_go(lambda _t: service.rerun(run_id, "d")))
    assert result.status == "succeeded"
    assert [c[0] for c in calls] == ["b", "c", "d"]  # a is reused; b changed; c is downstream of b
    rerun = store.runs.get(new_id).options["rerun"]
    assert (rerun["reused"], rerun["changed"]) == (["a"], ["b", "c"])


def test_moving_or_renaming_a_node_does_not_make_it_run_again(store: Store) -> None:
    calls: Calls = []
    service = _service(store, calls)
    wf = _three()
    store.workflows.save(wf)
    run_id, _ = asyncio.run(_go(lambda _t: service.start(wf)))
    moved = wf.model_copy(
        update={"nodes": tuple(n.model_copy(update={"position": Position(x=500), "name": "x"}) for n in wf.nodes)}
    )
    store.workflows.save(moved)
    calls.clear()
    asyncio.run(_go(lambda _t: service.rerun(run_id, "d")))
    assert [c[0] for c in calls] == ["d"]


def test_a_node_named_in_an_expression_is_a_dependency() -> None:
    """nodes.x in a template reads x without an edge: a change of x changes the reader's hash too."""
    wf = workflow([node("x", "t.noop"), node("y", "transform", expression="nodes.x.output.output")])
    changed = wf.model_copy(update={"nodes": (node("x", "t.noop", label="new"), wf.nodes[1])})
    assert definition_hashes(wf)["y"] != definition_hashes(changed)["y"]
    renamed = wf.model_copy(update={"nodes": (wf.nodes[0].model_copy(update={"name": "X"}), wf.nodes[1])})
    assert definition_hashes(wf) == definition_hashes(renamed)


def test_a_pinned_output_is_still_used_and_a_new_pin_counts_as_a_change(store: Store) -> None:
    calls: Calls = []
    service = _service(store, calls)
    wf = _three()
    store.workflows.save(wf)
    run_id, _ = asyncio.run(_go(lambda _t: service.start(wf)))
    pinned = _three(pinned={"outputs": {"output": "held"}})
    store.workflows.save(pinned)
    calls.clear()
    _, result = asyncio.run(_go(lambda _t: service.rerun(run_id, "d")))
    assert result.status == "succeeded"
    assert [c[0] for c in calls] == ["c", "d"]  # b is pinned (not executed), so c runs on the pinned value
    assert result.node_outputs["b"] == {"output": "held"}


def test_a_node_the_current_version_lacks_is_named(store: Store) -> None:
    service = _service(store, [])
    wf = _three()
    store.workflows.save(wf)
    run_id, _ = asyncio.run(_go(lambda _t: service.start(wf)))
    store.workflows.save(wf.model_copy(update={"nodes": wf.nodes[:2], "edges": wf.edges[:1]}))
    with pytest.raises(NotFoundError, match=r"there is no node 'd' in version 2 of 'engine test'"):
        service.rerun(run_id, "d")
