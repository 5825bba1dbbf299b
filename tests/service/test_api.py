"""The real service over HTTP: each endpoint, each error code, the token."""

from __future__ import annotations

import json

import httpx
from support.service_flows import slow_chain, wait_for_run
from support.service_thread import ServiceThread

from flowdesk.model.fileformat import dumps_workflow


def test_every_api_request_needs_the_token(service: ServiceThread) -> None:
    with httpx.Client(base_url=service.url) as anonymous:
        refused = anonymous.get("/api/workflows")
        assert refused.status_code == 401
        assert "bearer token" in refused.json()["detail"]
        assert refused.headers["www-authenticate"] == "Bearer"
        assert anonymous.post("/api/workflows/wf_slow/runs", json={"inputs": {"text": "x"}}).status_code == 401
        assert anonymous.get("/health").json()["service"] == "flowdesk"  # only whether it runs
    with service.client(token="not-the-token") as wrong:
        assert wrong.get("/api/runs").status_code == 401
    with service.client() as right:
        assert right.get("/api/workflows").status_code == 200


def test_workflows_are_listed_read_created_saved_and_deleted(api: httpx.Client) -> None:
    slugs = {w["slug"] for w in api.get("/api/workflows").json()["workflows"]}
    assert slugs == {"slow-chain", "needs-approval"}
    got = api.get("/api/workflows/slow-chain").json()
    assert got["id"] == "wf_slow" and got["version"] == 1
    assert [n["id"] for n in got["document"]["nodes"]] == ["first", "out", "second", "start"]

    fresh = slow_chain(wf_id="wf_new", name="brand new")
    created = api.post("/api/workflows", content=dumps_workflow(fresh), headers={"Content-Type": "application/json"})
    assert created.status_code == 201 and created.json()["slug"] == "brand-new"
    again = api.post("/api/workflows", content=dumps_workflow(fresh))
    assert again.status_code == 409 and "PUT" in again.json()["detail"]

    renamed = fresh.model_copy(update={"name": "renamed"})
    saved = api.put("/api/workflows/wf_new", content=dumps_workflow(renamed))
    assert saved.status_code == 200 and saved.json()["version"] == 2 and saved.json()["name"] == "renamed"
    assert api.get("/api/workflows/wf_new", params={"version": 1}).json()["document"]["name"] == "brand new"

    assert api.delete("/api/workflows/wf_new").status_code == 204
    assert api.get("/api/workflows/wf_new").status_code == 404


def test_a_bad_document_is_refused_with_its_place(api: httpx.Client) -> None:
    broken = api.post("/api/workflows", content=b'{"format": "flowdesk.workflow", "format_version": 1, "nodes": [}')
    assert broken.status_code == 400
    body = broken.json()
    assert body["detail"] == "request body:1:64: Expecting value"
    assert body["problems"][0]["where"] == "line 1:64"
    document = json.loads(dumps_workflow(slow_chain(wf_id="wf_bad")))
    document["nodes"][0]["retry"] = {"max_attempts": "often"}
    invalid = api.post("/api/workflows", json=document)
    assert invalid.status_code == 400
    assert invalid.json()["problems"][0]["node_id"] == "first"
    assert "max_attempts" in invalid.json()["detail"]
    wrong_id = api.put("/api/workflows/wf_approve", content=dumps_workflow(slow_chain()))
    assert wrong_id.status_code == 400 and "wf_slow" in wrong_id.json()["detail"]
    assert api.put("/api/workflows/nope", content=dumps_workflow(slow_chain())).status_code == 404


def test_a_submitted_run_runs_and_reports_its_status_and_outputs(api: httpx.Client) -> None:
    submitted = api.post("/api/workflows/slow-chain/runs", json={"inputs": {"text": "hello"}})
    assert submitted.status_code == 201
    run_id = submitted.json()["run_id"]
    done = wait_for_run(api, run_id)
    assert done["status"] == "succeeded"
    assert done["outputs"] == {"result": {"text": "hello"}}
    assert done["progress"] == {"done": 4, "total": 4}
    assert done["workflow_version"] == 1 and done["trigger"] == "api"
    assert done["cluster"] is None  # it ran on this computer (a Dask scheduler's address otherwise)
    assert done["tokens"] == {"input": 0, "output": 0} and done["cost_usd"] == 0


def test_an_idempotency_key_gives_the_same_run_twice(api: httpx.Client) -> None:
    first = api.post("/api/workflows/wf_slow/runs", json={"inputs": {"text": "a"}, "idempotency_key": "k-1"})
    second = api.post("/api/workflows/wf_slow/runs", json={"inputs": {"text": "a"}}, headers={"Idempotency-Key": "k-1"})
    assert first.status_code == 201 and second.status_code == 200
    assert first.json()["run_id"] == second.json()["run_id"] and second.json()["existing"] is True
    wait_for_run(api, first.json()["run_id"])
    assert len(api.get("/api/runs", params={"workflow": "wf_slow"}).json()["runs"]) == 1


def test_bad_inputs_unknown_ids_and_bad_requests_get_json_errors(api: httpx.Client) -> None:
    missing = api.post("/api/workflows/wf_slow/runs", json={"inputs": {}})
    assert missing.status_code == 400
    assert "text" in missing.json()["detail"] and missing.json()["problems"][0]["where"] == "inputs"
    assert api.post("/api/workflows/nope/runs", json={"inputs": {}}).status_code == 404
    assert api.post("/api/workflows/wf_slow/runs", json={"inputs": {"text": "x"}, "version": 7}).status_code == 404
    odd = api.post("/api/workflows/wf_slow/runs", json={"inputs": {"text": "x"}, "colour": "red"})
    assert odd.status_code == 400 and odd.json()["problems"][0]["where"] == "body.colour"
    assert api.get("/api/runs/nope").status_code == 404
    assert api.post("/api/runs/nope/cancel").status_code == 404
    assert api.get("/api/runs", params={"status": "sleeping"}).status_code == 400
    assert api.get("/api/runs", params={"since": "last tuesday"}).status_code == 400
    for response in (missing, odd):
        assert "Traceback" not in response.text


def test_an_invalid_workflow_is_refused_with_its_located_problems(api: httpx.Client, service: ServiceThread) -> None:
    document = json.loads(dumps_workflow(slow_chain(wf_id="wf_dangling", name="dangling")))
    document["edges"].append({"id": "e_x", "source": "first", "source_port": "value", "target": "ghost",
                              "target_port": "value"})  # fmt: skip
    assert api.post("/api/workflows", json=document).status_code == 201
    refused = api.post("/api/workflows/wf_dangling/runs", json={"inputs": {"text": "x"}})
    assert refused.status_code == 400
    problems = refused.json()["problems"]
    assert any(p["edge_id"] == "e_x" for p in problems)


def test_runs_are_listed_by_workflow_status_and_time_in_pages(api: httpx.Client) -> None:
    ids = [
        api.post("/api/workflows/wf_slow/runs", json={"inputs": {"text": str(i)}}).json()["run_id"] for i in range(3)
    ]
    for run_id in ids:
        wait_for_run(api, run_id)
    page = api.get("/api/runs", params={"workflow": "slow-chain", "limit": 2}).json()
    assert [r["id"] for r in page["runs"]] == ids[::-1][:2] and page["next_offset"] == 2
    rest = api.get("/api/runs", params={"workflow": "slow-chain", "limit": 2, "offset": 2}).json()
    assert [r["id"] for r in rest["runs"]] == ids[:1] and rest["next_offset"] is None
    assert len(api.get("/api/runs", params={"status": "succeeded"}).json()["runs"]) == 3
    assert api.get("/api/runs", params={"status": "failed"}).json()["runs"] == []
    assert api.get("/api/runs", params={"since": "2999-01-01T00:00:00"}).json()["runs"] == []


def test_actions_that_do_not_fit_the_run_are_conflicts(api: httpx.Client) -> None:
    run_id = api.post("/api/workflows/wf_slow/runs", json={"inputs": {"text": "x"}}).json()["run_id"]
    wait_for_run(api, run_id)
    for action in ("cancel", "pause"):
        refused = api.post(f"/api/runs/{run_id}/{action}")
        assert refused.status_code == 409 and "succeeded" in refused.json()["detail"]
    assert api.post(f"/api/runs/{run_id}/resume").status_code == 409
    assert api.post(f"/api/runs/{run_id}/approve", json={"node_id": "ok"}).status_code == 409


def test_a_run_is_paused_resumed_and_cancelled(api: httpx.Client) -> None:
    long = api.post("/api/workflows", content=dumps_workflow(slow_chain(2.0, "wf_long", "long")))
    assert long.status_code == 201
    run_id = api.post("/api/workflows/wf_long/runs", json={"inputs": {"text": "x"}}).json()["run_id"]
    wait_for_run(api, run_id, ("running",))
    assert api.post(f"/api/runs/{run_id}/pause").json()["result"] == "pausing"
    assert api.post(f"/api/runs/{run_id}/resume").json()["result"] == "resuming"
    assert api.post(f"/api/runs/{run_id}/cancel").json()["result"] == "cancelling"
    assert wait_for_run(api, run_id)["status"] == "cancelled"


def test_an_approval_waits_and_is_given_through_the_api(api: httpx.Client) -> None:
    run_id = api.post("/api/workflows/wf_approve/runs", json={"inputs": {"text": "ship it"}}).json()["run_id"]
    waiting = wait_for_run(api, run_id)
    assert waiting["status"] == "waiting" and waiting["running_nodes"] == ["ok"]
    wrong = api.post(f"/api/runs/{run_id}/approve", json={"node_id": "start"})
    assert wrong.status_code == 409 and "waiting: ok" in wrong.json()["detail"]
    assert api.post(f"/api/runs/{run_id}/approve", json={"node_id": "ok", "comment": "fine"}).status_code == 200
    done = wait_for_run(api, run_id, ("succeeded", "failed"))
    assert done["status"] == "succeeded" and done["outputs"] == {"result": {"text": "ship it"}}


def test_templates_and_triggers_are_listed(api: httpx.Client) -> None:
    templates = api.get("/api/templates").json()["templates"]
    assert {"name": "ask_llm"}.items() <= next(t for t in templates if t["name"] == "ask_llm").items()
    assert all(t["title"] for t in templates)
    assert api.get("/api/triggers").json() == {"triggers": []}


def test_the_openapi_docs_are_served(service: ServiceThread) -> None:
    with httpx.Client(base_url=service.url) as anonymous:
        paths = anonymous.get("/openapi.json").json()["paths"]
        assert "/api/workflows/{workflow_id}/runs" in paths and "/api/runs/{run_id}/events" in paths
        assert anonymous.get("/docs").status_code == 200


def test_every_route_runs_on_the_event_loop(service: ServiceThread) -> None:
    """The library's connection belongs to the loop's thread: a plain `def` route would run in a thread pool
    and share it across threads (it failed as 'already initialized a Transaction' under load)."""
    import inspect

    from flowdesk.service.app import create_app

    app = create_app(None, None, token="t")  # type: ignore[arg-type]
    plain = [r.path for r in app.routes if getattr(r, "endpoint", None) and r.path.startswith(("/api", "/health"))
             and not inspect.iscoroutinefunction(r.endpoint)]  # fmt: skip
    assert plain == []
