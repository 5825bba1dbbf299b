"""The FastAPI application of `flowdesk serve`: its routes, the token check, and errors as JSON.

Every ``/api`` route needs the bearer token; ``extra_routers`` (webhooks, which carry their own
secret) are mounted without it, and so are ``/health`` (whether a service runs here, nothing of
the library) and the OpenAPI pages. Errors are JSON bodies: 400 with the located problems of an
invalid workflow or input, 401 without the token, 404 for an unknown id, 409 for an action the
run's state does not allow; an unexpected error is logged and answered in one line, never with a
traceback.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any, Protocol

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from flowdesk import __version__
from flowdesk.model.fileformat import WorkflowFileError
from flowdesk.service.api_runs import runs_router
from flowdesk.service.api_workflows import workflows_router
from flowdesk.service.queue import ConflictError, RunQueue
from flowdesk.service.submit import SubmitError
from flowdesk.service.token import token_matches
from flowdesk.store.database import LibraryError
from flowdesk.store.journal_follow import BadPlaceError
from flowdesk.store.running import RunStateError
from flowdesk.store.store import Store
from flowdesk.store.workflows import NotFoundError

log = logging.getLogger(__name__)


class ServiceHook(Protocol):
    """Something that lives as long as the service (the triggers' scheduler, a folder watcher)."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class Unauthorized(Exception):
    pass


def create_app(
    store: Store,
    queue: RunQueue,
    *,
    token: str,
    extra_routers: Sequence[APIRouter] = (),
    lifespan_hooks: Sequence[ServiceHook] = (),
) -> FastAPI:
    """The service's app over ``store``; runs go through ``queue``, which starts and stops with it."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await queue.start()
        started: list[ServiceHook] = []
        try:
            for hook in lifespan_hooks:
                await hook.start()
                started.append(hook)
            yield
        finally:
            for hook in reversed(started):
                try:
                    await hook.stop()
                except Exception:  # the others still stop
                    log.exception("a service hook failed to stop")
            await queue.stop()

    app = FastAPI(
        title="flowdesk",
        version=__version__,
        description="Run and follow flowdesk workflows. Send `Authorization: Bearer TOKEN` "
        "(`flowdesk serve --print-token`) with every /api request.",
        lifespan=lifespan,
    )
    app.state.store = store
    app.state.queue = queue

    async def require_token(request: Request) -> None:
        if not token_matches(token, request.headers.get("authorization")):
            raise Unauthorized

    # Every route is a coroutine: the library's connection lives on the event loop's thread (as the
    # engine's journal does), so no route may run in FastAPI's thread pool.
    guarded = [Depends(require_token)]
    app.include_router(workflows_router(), prefix="/api", dependencies=guarded)
    app.include_router(runs_router(), prefix="/api", dependencies=guarded)
    for router in extra_routers:
        app.include_router(router)

    _add_service_routes(app, store, queue, guarded)
    _add_error_handlers(app)
    return app


def _add_service_routes(app: FastAPI, store: Store, queue: RunQueue, guarded: list[Any]) -> None:
    """/metrics for a scraper (with the token) and /health for whoever asks whether a service answers here."""

    @app.get("/metrics", tags=["service"], dependencies=guarded, response_class=Response)
    async def metrics() -> Response:
        """OpenMetrics for Prometheus (store/insights_metrics.py): runs, attempt durations, tokens, cost, queue.
        A scraper sends the token too (Prometheus: ``authorization: {credentials: TOKEN}``)."""
        from flowdesk.store.insights_metrics import render_metrics

        try:
            body, content_type = render_metrics(store, queue_length=len(queue.queued))
        except ImportError:
            message = "metrics need the observability extra: pip install 'flowdesk[observability]'"
            return JSONResponse({"detail": message}, status_code=501)
        return Response(content=body, media_type=content_type)

    @app.get("/health", tags=["service"])
    async def health() -> dict[str, Any]:
        """Whether a flowdesk service answers here (no token needed; tells nothing of the library)."""
        return {
            "service": "flowdesk",
            "version": __version__,
            "owner": store.owner.token,
            "running": len(queue.active),
            "queued": len(queue.queued),
            "limit": queue.limit,
        }


def _error(status: int, detail: str, problems: list[dict[str, Any]] | None = None, **headers: str) -> JSONResponse:
    body: dict[str, Any] = {"detail": detail}
    if problems is not None:
        body["problems"] = problems
    return JSONResponse(body, status_code=status, headers=headers or None)


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(Unauthorized)
    async def unauthorized(request: Request, exc: Unauthorized) -> JSONResponse:
        return _error(401, "a bearer token is needed: Authorization: Bearer TOKEN (see `flowdesk serve --print-token`)",
                      **{"WWW-Authenticate": "Bearer"})  # fmt: skip

    @app.exception_handler(NotFoundError)
    async def not_found(request: Request, exc: NotFoundError) -> JSONResponse:
        return _error(404, str(exc))

    @app.exception_handler(SubmitError)
    async def invalid_run(request: Request, exc: SubmitError) -> JSONResponse:
        return _error(400, str(exc), exc.problems)

    @app.exception_handler(WorkflowFileError)
    async def invalid_document(request: Request, exc: WorkflowFileError) -> JSONResponse:
        where = exc.path or (f"line {exc.line}:{exc.column}" if exc.line else None)
        problem = {"where": where, "node_id": exc.node_id, "edge_id": exc.edge_id, "message": exc.message}
        return _error(400, str(exc), [problem])

    @app.exception_handler(BadPlaceError)
    async def bad_place(request: Request, exc: BadPlaceError) -> JSONResponse:
        return _error(400, str(exc))

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [
            {"where": ".".join(str(p) for p in err.get("loc", ())), "message": str(err.get("msg", ""))}
            for err in exc.errors()
        ]
        return _error(400, "the request is not valid: " + "; ".join(f"{p['where']}: {p['message']}" for p in problems),
                      problems)  # fmt: skip

    @app.exception_handler(ConflictError)
    async def conflict(request: Request, exc: ConflictError) -> JSONResponse:
        return _error(409, str(exc))

    @app.exception_handler(RunStateError)
    async def wrong_state(request: Request, exc: RunStateError) -> JSONResponse:
        return _error(409, str(exc))

    @app.exception_handler(LibraryError)
    async def library(request: Request, exc: LibraryError) -> JSONResponse:
        return _error(503, str(exc))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return _error(exc.status_code, str(exc.detail))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error("internal error on %s %s", request.method, request.url.path, exc_info=exc)
        return _error(500, f"internal error: {type(exc).__name__} (the service's log has the details)")
