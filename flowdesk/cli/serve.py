"""`flowdesk serve`: the local service (API, run queue, streams); `flowdesk run --detach` submits to it.

Loopback by default. Another host needs ``--expose``, and the command says what that exposes.
Every /api request needs the bearer token, made on first start in a 0600 file beside the settings
(``--print-token`` shows it; ``FLOWDESK_TOKEN`` overrides it).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import TYPE_CHECKING, Any

from flowdesk.cli.common import CliError, add_library_options, open_library

if TYPE_CHECKING:
    from flowdesk.service.discovery import ServiceClient, ServiceInfo
    from flowdesk.store.store import Store

EXPOSED = (
    "the flowdesk API at {url} is reachable from other machines: with the token, anyone there can read, change and "
    "delete workflows of the library {library}, start, cancel and approve runs and read their inputs and outputs"
)


def register(commands: Any) -> None:
    p: argparse.ArgumentParser = commands.add_parser(
        "serve",
        help="run the local service: the HTTP API, the run queue and live run streams",
        description="Serve the library over HTTP (OpenAPI docs at /docs) and run submitted runs through one queue. "
        "Every /api request needs `Authorization: Bearer TOKEN` (see --print-token). Stops with Ctrl-C; runs "
        "still going then are resumed when the service starts again.",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1, this machine only)")
    p.add_argument("--port", type=int, default=8765, help="port to listen on (default 8765)")
    p.add_argument("--expose", action="store_true", help="allow a --host other machines can reach")
    p.add_argument(
        "--limit", type=int, default=4, metavar="N", help="at most N runs at once, all workflows (default 4)"
    )
    p.add_argument("--files-root", metavar="DIR", help="folder the file tools of its runs may read and write")
    p.add_argument("--print-token", action="store_true", help="print the service's token (made if needed) and exit")
    add_library_options(p)
    p.set_defaults(handler=handle_serve)


def handle_serve(args: argparse.Namespace) -> int:
    from flowdesk.service.server import ServeOptions, is_loopback, serve, url_of
    from flowdesk.service.token import TOKEN_ENV, service_token, token_path

    token = service_token()
    assert token is not None
    if args.print_token:
        print(token)
        return 0
    if not 0 < args.port < 65536:
        raise CliError(f"--port {args.port}: a port is 1 to 65535")
    if args.limit < 1:
        raise CliError(f"--limit {args.limit}: at least one run must be allowed")
    if not is_loopback(args.host) and not args.expose:
        raise CliError(f"--host {args.host} can be reached from other machines; add --expose if that is what you want")
    url = url_of(args.host, args.port)
    with open_library(args) as store:
        if not is_loopback(args.host):
            print(f"flowdesk: warning: {EXPOSED.format(url=url, library=store.path)}", file=sys.stderr)
        where = f"${TOKEN_ENV}" if _token_from_env() else str(token_path())
        print(
            f"flowdesk serve: {url} (docs {url}/docs), library {store.path}, up to {args.limit} run(s) at once; "
            f"token in {where}; Ctrl-C stops",
            file=sys.stderr,
        )
        options = ServeOptions(
            host=args.host, port=args.port, limit=args.limit, token=token, files_root=args.files_root
        )
        try:
            asyncio.run(serve(store, options))
        except OSError as exc:  # the port is taken, the address is not this machine's
            raise CliError(f"cannot listen on {url}: {exc.strerror or exc}") from exc
    return 0


def _token_from_env() -> bool:
    import os

    from flowdesk.service.token import TOKEN_ENV

    return bool(os.environ.get(TOKEN_ENV, "").strip())


# ---------------------------------------------------------------- talking to the service
def service_for(store: Store) -> ServiceInfo | None:
    from flowdesk.service.discovery import running_service

    return running_service(store.path)


def client_for(info: ServiceInfo) -> ServiceClient:
    from flowdesk.service.discovery import ServiceClient
    from flowdesk.service.token import service_token

    token = service_token(create=False)
    if token is None:
        raise CliError("the service's token is missing (see `flowdesk serve --print-token`, or set FLOWDESK_TOKEN)")
    return ServiceClient(info.url, token)


def require_service(store: Store, what: str) -> ServiceInfo:
    info = service_for(store)
    if info is None:
        raise CliError(
            f"no flowdesk service runs on the library {store.path}; start one with `flowdesk serve` to {what}"
        )
    return info


def call(info: ServiceInfo, method: str, path: str, **kwargs: Any) -> Any:
    from flowdesk.service.discovery import ServiceError

    with client_for(info) as client:
        try:
            return client.request(method, path, **kwargs)
        except ServiceError as exc:
            raise CliError(str(exc), 2 if exc.status in (400, 404, 409) else 1) from exc


# ---------------------------------------------------------------- run --detach
def submit_detached(args: argparse.Namespace) -> int:
    """`flowdesk run --detach`: hand the run to the service and print its id (the run goes on there)."""
    from flowdesk.cli.run import _gather_inputs, _looks_like_path
    from flowdesk.engine.runner import RunInputError, prepare_inputs
    from flowdesk.model.fileformat import WorkflowFileError, dumps_workflow, read_workflow

    try:
        given = _gather_inputs(args)
        workflow = read_workflow(args.target) if _looks_like_path(args.target) else None
    except (WorkflowFileError, ValueError) as exc:
        raise CliError(str(exc)) from exc
    with open_library(args) as store:
        info = require_service(store, "run workflows detached")
        if workflow is not None:  # a file: its document becomes (a new version of) a library workflow
            body = dumps_workflow(workflow).encode()
            headers = {"Content-Type": "application/json"}
            if store.workflows.exists(workflow.id):
                call(info, "PUT", f"/api/workflows/{workflow.id}", content=body, headers=headers)
            else:
                call(info, "POST", "/api/workflows", content=body, headers=headers)
            ref = workflow.id
        else:
            ref = args.target
            workflow = store.workflows.load(ref)
        try:  # text inputs (--input n=3) take their declared types here, where the user can be told
            inputs = prepare_inputs(workflow, given, from_text=True)
        except RunInputError as exc:
            raise CliError(str(exc)) from exc
        body: dict[str, Any] = {"inputs": inputs}
        if args.idempotency_key:
            body["idempotency_key"] = args.idempotency_key
        answer = call(info, "POST", f"/api/workflows/{ref}/runs", json=body)
    print(answer["run_id"])
    if answer.get("existing"):
        print(
            f"flowdesk: run {answer['run_id']} already used this idempotency key; not submitted again", file=sys.stderr
        )
    return 0
