"""`/api/workflows`: the library's workflows (list, read, create, save a new version, delete) and submitting runs."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from flowdesk.model.fileformat import dumps_workflow, loads_workflow
from flowdesk.service.queue import RunQueue
from flowdesk.service.submit import SubmitError
from flowdesk.store.store import Store
from flowdesk.store.workflows import WorkflowInfo

MAX_DOCUMENT = 20 * 1024 * 1024
_DOCUMENT_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"type": "object", "description": "A workflow document"}}},
    }
}


class RunRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    inputs: dict[str, Any] = Field(default_factory=dict, description="The run's inputs, by declared name.")
    idempotency_key: str | None = Field(
        None, max_length=200, description="A second submit with the same key returns the first run."
    )
    version: int | None = Field(None, ge=1, description="The workflow version to run (default: the current one).")


def workflow_json(info: WorkflowInfo) -> dict[str, Any]:
    data = asdict(info)
    data["tags"] = list(info.tags)
    return data


def workflows_router() -> APIRouter:
    """The library's workflows as documents (list, create, read, save a version, delete), and runs of them."""
    router = APIRouter(tags=["workflows"])
    _add_documents(router)
    _add_submit(router)
    return router


def _add_documents(router: APIRouter) -> None:
    """The workflow documents: each save through the API is a new version, as a save in the app is."""

    @router.get("/workflows")
    async def list_workflows(
        request: Request, search: str = "", include_archived: bool = False, status: str | None = None
    ) -> dict[str, Any]:
        store: Store = request.app.state.store
        found = store.workflows.list(search, include_archived=include_archived, status=status)
        return {"workflows": [workflow_json(w) for w in found]}

    @router.post("/workflows", status_code=201, openapi_extra=_DOCUMENT_BODY)
    async def create_workflow(request: Request) -> JSONResponse:
        store: Store = request.app.state.store
        workflow = loads_workflow(await _body(request), source="request body")
        if store.workflows.exists(workflow.id):
            detail = f"a workflow with id '{workflow.id}' exists; PUT /api/workflows/{workflow.id} saves a version"
            return JSONResponse({"detail": detail}, status_code=409)
        saved = store.workflows.save(workflow, summary="created through the API")
        return JSONResponse(
            {**workflow_json(store.workflows.get(saved.workflow_id)), "version": saved.version}, status_code=201
        )

    @router.get("/workflows/{workflow_id}")
    async def get_workflow(
        request: Request, workflow_id: str, version: int | None = Query(None, ge=1)
    ) -> dict[str, Any]:
        store: Store = request.app.state.store
        info = store.workflows.get(workflow_id)
        document = json.loads(dumps_workflow(store.workflows.load(info.id, version)))
        return {**workflow_json(info), "version": version or info.current_version, "document": document}

    @router.put("/workflows/{workflow_id}", openapi_extra=_DOCUMENT_BODY)
    async def save_workflow(request: Request, workflow_id: str) -> dict[str, Any]:
        store: Store = request.app.state.store
        info = store.workflows.get(workflow_id)
        workflow = loads_workflow(await _body(request), source="request body")
        if workflow.id != info.id:
            raise SubmitError(
                f"the document's id '{workflow.id}' is not the workflow's '{info.id}'",
                [{"where": "id", "message": f"expected '{info.id}'"}],
            )
        saved = store.workflows.save(workflow, summary="saved through the API")
        return {**workflow_json(store.workflows.get(info.id)), "version": saved.version, "created": saved.created}

    @router.delete("/workflows/{workflow_id}", status_code=204)
    async def delete_workflow(request: Request, workflow_id: str) -> Response:
        store: Store = request.app.state.store
        store.workflows.delete(workflow_id)
        return Response(status_code=204)


def _add_submit(router: APIRouter) -> None:
    """Queue a run of a stored workflow (its current version, or one named)."""

    @router.post("/workflows/{workflow_id}/runs", status_code=201)
    async def submit_run(
        request: Request,
        workflow_id: str,
        body: RunRequest | None = None,
        idempotency_key: str | None = Header(None, max_length=200),
    ) -> JSONResponse:
        """Queue a run; 201 with its id (200 with the earlier run's id when the idempotency key was used)."""
        queue: RunQueue = request.app.state.queue
        body = body or RunRequest()
        key = body.idempotency_key or idempotency_key
        before = queue.store.runs.find_by_key(key) if key else None
        run_id = await queue(workflow_id, body.inputs, version=body.version, idempotency_key=key, trigger="api")
        return JSONResponse(
            {"run_id": run_id, "existing": before is not None, "url": f"/api/runs/{run_id}"},
            status_code=200 if before is not None else 201,
        )


async def _body(request: Request) -> bytes:
    data = await request.body()
    if len(data) > MAX_DOCUMENT:
        raise SubmitError(f"the document is {len(data)} bytes; at most {MAX_DOCUMENT} are accepted")
    return data
