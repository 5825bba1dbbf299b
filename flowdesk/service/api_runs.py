"""`/api/runs`: list and read runs, act on them, and stream their events (server-sent events).

A run's stream (``sse.py``) reads the run's journal in the library (``store/journal_follow.py``), so
it works for runs started by the app or another process too; a run this service runs is then
followed live, batch by batch as it is journaled. Either way it resumes from ``Last-Event-ID`` and
ends with the run's end.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from flowdesk.service.queue import RunQueue
from flowdesk.service.sse import run_stream
from flowdesk.store.journal_follow import JournalFollower, Place
from flowdesk.store.live_feed import LiveFeed
from flowdesk.store.run_progress import run_progress
from flowdesk.store.runs import RUN_STATUSES, RunInfo
from flowdesk.store.store import Store


class Decision(BaseModel):
    model_config = ConfigDict(extra="forbid")
    node_id: str = Field(min_length=1, max_length=200, description="The approval node waiting for the decision.")
    approved: bool = True
    comment: str = Field("", max_length=10_000)


def run_json(run: RunInfo) -> dict[str, Any]:
    return {
        "id": run.id,
        "workflow_id": run.workflow_id,
        "workflow_version": run.workflow_version,
        "workflow_name": run.workflow_name,
        "kind": run.kind,
        "status": run.status,
        "trigger": run.options.get("trigger"),
        "created_at": run.created_at,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "duration_s": run.duration_s,
        "tokens": {"input": run.input_tokens, "output": run.output_tokens},
        "cost_usd": run.cost_usd,
        "error": run.error,
        "parent_run_id": run.parent_run_id,
        "cluster": run.options.get("cluster"),
    }


def _since(text: str | None) -> float | None:
    if text is None or not text.strip():
        return None
    try:
        return float(text)
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(text.strip()).timestamp()
    except ValueError:
        from flowdesk.service.submit import SubmitError

        raise SubmitError(
            f"since={text!r} is neither a Unix time nor an ISO date", [{"where": "query.since", "message": "bad time"}]
        ) from None


def runs_router() -> APIRouter:
    """Runs: reading them and their events, acting on them; and the lists of templates and triggers."""
    router = APIRouter(tags=["runs"])
    _add_reading(router)
    _add_actions(router)
    _add_library_lists(router)
    return router


def _add_reading(router: APIRouter) -> None:
    """GET a page of runs, one run with its progress and outputs, and a run's events as they come."""

    @router.get("/runs")
    async def list_runs(
        request: Request,
        workflow: str | None = None,
        status: Literal[RUN_STATUSES] | None = None,  # type: ignore[valid-type]
        since: str | None = Query(None, description="Unix time or ISO date: runs created then or later."),
        limit: int = Query(50, ge=1, le=500),
        offset: int = Query(0, ge=0),
    ) -> dict[str, Any]:
        store: Store = request.app.state.store
        workflow_id = store.workflows.get(workflow).id if workflow else None
        runs = store.runs.list(workflow_id, status=status, since=_since(since), limit=limit + 1, offset=offset)
        more = len(runs) > limit
        return {"runs": [run_json(r) for r in runs[:limit]], "next_offset": offset + limit if more else None}

    @router.get("/runs/{run_id}")
    async def get_run(request: Request, run_id: str) -> dict[str, Any]:
        store: Store = request.app.state.store
        run = store.runs.get(run_id)
        progress = run_progress(store.db, run.id)
        _, outputs = store.runs.run_values(run.id)
        return {
            **run_json(run),
            "progress": {"done": progress.done, "total": progress.total},
            "running_nodes": list(progress.running),
            "outputs": outputs,
        }

    @router.get("/runs/{run_id}/events", response_class=StreamingResponse)
    async def run_events(request: Request, run_id: str, last_event_id: str | None = Header(None)) -> StreamingResponse:
        """Server-sent events: each of the run's events (``id`` its place, ``event`` its type), then ``end``."""
        store: Store = request.app.state.store
        run = store.runs.get(run_id)
        follower = JournalFollower(store.db, run.id, Place.parse(last_event_id))
        return StreamingResponse(
            run_stream(request, follower, _live_here(request, run.id)),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )


def _add_actions(router: APIRouter) -> None:
    """POST what a person does to a run from the app's toolbar: cancel, pause, resume, decide, retry."""

    @router.post("/runs/{run_id}/cancel")
    async def cancel_run(request: Request, run_id: str) -> dict[str, Any]:
        return {"run_id": run_id, "result": _queue(request, run_id).cancel(run_id)}

    @router.post("/runs/{run_id}/pause")
    async def pause_run(request: Request, run_id: str) -> dict[str, Any]:
        return {"run_id": run_id, "result": _queue(request, run_id).pause(run_id)}

    @router.post("/runs/{run_id}/resume")
    async def resume_run(request: Request, run_id: str) -> dict[str, Any]:
        return {"run_id": run_id, "result": _queue(request, run_id).resume(run_id)}

    @router.post("/runs/{run_id}/approve")
    async def approve_run(request: Request, run_id: str, decision: Decision) -> dict[str, Any]:
        result = await _queue(request, run_id).approve(run_id, decision.node_id, decision.approved, decision.comment)
        return {"run_id": run_id, "result": result}

    @router.post("/runs/{run_id}/retry", status_code=201)
    async def retry_run(request: Request, run_id: str) -> dict[str, Any]:
        """A new run of what this run ran (same document, same inputs), through the queue."""
        new_id = _queue(request, run_id).retry(run_id)
        return {"run_id": new_id, "retry_of": run_id, "url": f"/api/runs/{new_id}"}


def _add_library_lists(router: APIRouter) -> None:
    """GET the templates to start from and the stored triggers (read-only lists beside the runs)."""

    @router.get("/templates", tags=["library"])
    async def templates() -> dict[str, Any]:
        """The workflows shipped with flowdesk, to import or start from."""
        return {"templates": _templates()}

    @router.get("/triggers", tags=["library"])
    async def triggers(request: Request, workflow: str | None = None) -> dict[str, Any]:
        """The triggers stored in the library (of one workflow, by id or slug, when asked)."""
        from flowdesk.store.triggers import TriggerStore

        found = TriggerStore(request.app.state.store.db).list(workflow)
        return {"triggers": [trigger_json(t) for t in found]}


def _live_here(request: Request, run_id: str) -> LiveFeed | None:
    """The live feed, when this service runs (or will run) the run; None to follow it through the journal."""
    queue: RunQueue = request.app.state.queue
    live: LiveFeed | None = queue.runs.live
    return live if live is not None and (queue.handle(run_id) is not None or run_id in queue.queued) else None


def _queue(request: Request, run_id: str) -> RunQueue:
    queue: RunQueue = request.app.state.queue
    queue.store.runs.get(run_id)  # 404 for an unknown id, before any state is looked at
    return queue


def _templates() -> list[dict[str, Any]]:
    """The built-in templates (the examples) and the user's own (File > Save as template)."""
    from flowdesk.store.templates import list_templates

    return [
        {"name": t.path.stem, "title": t.name, "description": t.description, "nodes": t.nodes, "builtin": t.builtin}
        for t in list_templates()
    ]


def trigger_json(trigger: Any) -> dict[str, Any]:
    """A trigger as stored (a webhook's secret is not in the library, so never here)."""
    return dataclasses.asdict(trigger)
