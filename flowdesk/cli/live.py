"""Running a recorded run in the foreground: what `run`, `resume`, `approve` and `rerun` share.

Live progress on stderr, an approval asked at the terminal, Ctrl-C cancelling cleanly, the result
on stdout and the same exit codes for all four: 0 succeeded, 1 failed or cancelled, 3 waiting for
an approval (the message says how to give it), 130 interrupted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from flowdesk.cli.common import CliError
from flowdesk.cli.printer import EventPrinter
from flowdesk.cli.terminal import terminal_json, terminal_text
from flowdesk.engine.bus import EventBus
from flowdesk.engine.events import ErrorInfo, Usage
from flowdesk.engine.http import HttpxTransport
from flowdesk.engine.on_failure import HandledBy
from flowdesk.engine.results import RunResult
from flowdesk.engine.runner import InvalidWorkflowError, RunHandle
from flowdesk.engine.services import EngineServices
from flowdesk.nodes.registry import default_registry
from flowdesk.nodes.tools import default_tools
from flowdesk.providers.settings import SettingsError, load_settings
from flowdesk.providers.setup import llm_services
from flowdesk.store.running import RunService
from flowdesk.store.runs import RunInfo
from flowdesk.store.store import Store

EXIT = {"succeeded": 0, "failed": 1, "cancelled": 1, "interrupted": 1, "waiting": 3}
EXIT_INTERRUPTED = 130


@dataclass(frozen=True)
class LiveOptions:
    json: bool
    """Events as JSON lines on stderr, the full result object on stdout."""
    quiet: bool
    interactive: bool
    """A person at a terminal answers approvals; otherwise a run suspends at them."""
    breakpoints: bool = False
    """Stop at the workflow's breakpoints (``--breakpoints``); headless runs pass them by default."""


def live_options(args: argparse.Namespace) -> LiveOptions:
    return LiveOptions(
        json=args.json,
        quiet=args.quiet,
        interactive=sys.stdin.isatty() and not args.json,
        breakpoints=bool(getattr(args, "breakpoints", False)),
    )


# ---------------------------------------------------------------- the run service
@asynccontextmanager
async def run_service(
    store: Store, files_root: str | None = None, *, executor: str | None = None
) -> AsyncIterator[RunService]:
    """A RunService with the real providers (as the settings file configures them), tools and HTTP;
    the HTTP clients are closed afterwards. ``executor`` (dask://HOST:PORT) sends child runs to a
    Dask cluster; the connection is checked before the run starts."""
    try:
        settings = load_settings()
        llm = llm_services(settings)
    except SettingsError as exc:
        raise CliError(str(exc)) from None
    root = Path(files_root).resolve() if files_root else None
    remote = await _connect_cluster(executor, llm) if executor else None
    http = HttpxTransport()
    services = EngineServices(
        providers=llm.providers,
        secrets=llm.credentials,
        tools=default_tools(),
        http=http,
        files_root=root,
        remote=remote,
    )
    try:
        service = RunService(store, default_registry(), services)
        service.trace_to = settings.trace_otlp_url  # the opt-in: every run's trace to a collector
        yield service
        await service.traces.finish()  # traces being sent to the collector (the opt-in): let them arrive
    finally:
        if remote is not None:
            await remote.close()
        await http.aclose()
        await llm.aclose()


async def _connect_cluster(executor: str, llm: Any) -> Any:
    from flowdesk.cluster.threaded import connect_cluster  # the app's and the service's import and sentence
    from flowdesk.engine.remote import RemoteError

    try:
        return await connect_cluster(executor, llm.credentials)
    except RemoteError as exc:
        await llm.aclose()
        raise CliError(str(exc)) from None


def new_bus() -> tuple[EventBus, Any]:
    """A bus and its subscription, made before the run starts so no event is missed."""
    bus = EventBus()
    return bus, bus.subscribe()


# ---------------------------------------------------------------- following
async def follow(handle: RunHandle, events: Any, opts: LiveOptions, *, suspends: bool) -> int:
    """Print the run's progress until it finishes, report its result, and return the exit code.

    ``suspends`` says whether the run ends as 'waiting' at an approval nobody answers; a run that
    would wait forever instead (it was started at a terminal) is cancelled when no terminal is here.
    """
    if not opts.json:
        print(f"run {handle.run_id}", file=sys.stderr)
    interrupted = _on_ctrl_c(handle)
    printer = None if opts.quiet else EventPrinter(sys.stderr, json_lines=opts.json)
    unanswerable = await _follow(events, printer, handle, opts, suspends)
    result = await handle.wait()
    report_result(result, opts.json)
    if interrupted.is_set():
        return EXIT_INTERRUPTED
    if unanswerable and result.status == "cancelled":
        return EXIT["waiting"]
    return EXIT.get(result.status, 1)


def _on_ctrl_c(handle: RunHandle) -> asyncio.Event:
    flag = asyncio.Event()

    def cancel() -> None:
        flag.set()
        handle.cancel()

    try:
        asyncio.get_running_loop().add_signal_handler(signal.SIGINT, cancel)
    except (NotImplementedError, RuntimeError):  # not on the main thread, or Windows
        pass
    return flag


async def _follow(
    events: Any, printer: EventPrinter | None, handle: RunHandle, opts: LiveOptions, suspends: bool
) -> bool:
    """Print events until the run finishes; True if it was cancelled at an approval or a breakpoint
    nobody here can answer."""
    unanswerable = False
    breakpoints = _Breakpoints(handle, opts, printer)
    async for event in events:
        if event.run_id == handle.run_id and event.type in ("run_paused", "run_resumed"):
            handled, cancelled = await breakpoints.on(event)
            unanswerable = unanswerable or cancelled
            if handled:
                continue
        if printer is not None:
            printer(event)
        if event.type == "node_waiting":
            if opts.interactive:
                approved = await _ask(event.node_id, event.message)
                (handle.approve if approved else handle.reject)(event.node_id, "decided at the terminal")
            elif not suspends:
                print(
                    f"flowdesk: '{event.node_id}' needs an approval and this run was started to ask at a terminal; "
                    f"it is cancelled: continue it at a terminal with `flowdesk resume {handle.run_id}`",
                    file=sys.stderr,
                )
                handle.cancel()
                unanswerable = True
        if event.type == "run_finished" and event.run_id == handle.run_id:
            events.close()
    return unanswerable


class _Breakpoints:
    """What a foreground run does at the workflow's breakpoints: passes them (the default: one saved
    in a file must never hang a headless run), or stops with ``--breakpoints`` and asks."""

    def __init__(self, handle: RunHandle, opts: LiveOptions, printer: EventPrinter | None) -> None:
        self._handle, self._opts, self._printer = handle, opts, printer
        self._passing = False

    async def on(self, event: Any) -> tuple[bool, bool]:
        """(the event is dealt with and not to be printed, the run was cancelled for want of a terminal)."""
        if event.type == "run_resumed":
            return self._passing, False
        if event.reason != "breakpoint":
            return False, False
        if not self._opts.breakpoints:
            if not self._passing and self._printer is not None and not self._opts.json:
                print("flowdesk: passing the workflow's breakpoints (--breakpoints stops at them)", file=sys.stderr)
            self._passing = True
            self._handle.resume()
            return True, False
        if self._printer is not None:
            self._printer(event)
        return True, not await _at_breakpoint(self._handle, event.node_id, self._opts.interactive)


async def _at_breakpoint(handle: RunHandle, node_id: str | None, interactive: bool) -> bool:
    """Stopped at a breakpoint with ``--breakpoints``: ask what to do at a terminal; without one,
    say how to go on and cancel (False), since nobody here could ever continue the run."""
    if not interactive:
        print(
            f"flowdesk: run {handle.run_id} stopped at the breakpoint before '{node_id}' and there is no terminal "
            f"to continue it here; it is cancelled: finish it with `flowdesk resume {handle.run_id}` "
            "(which passes breakpoints), or run without --breakpoints",
            file=sys.stderr,
        )
        handle.cancel()
        return False
    while True:
        sys.stderr.write(f"\nStopped before '{node_id}'. [c]ontinue, [s]tep or [q]uit? ")
        sys.stderr.flush()
        answer = (await asyncio.to_thread(sys.stdin.readline)).strip().lower()
        if answer in ("c", "continue"):
            handle.resume()
        elif answer in ("s", "step"):
            handle.step()
        elif answer in ("", "q", "quit"):  # "" is the end of input: nobody is left to answer
            handle.cancel()
        else:
            continue
        return True


async def _ask(node_id: str, message: str) -> bool:
    """Ask on the terminal; the question goes to stderr so stdout stays the run's JSON result."""
    while True:
        sys.stderr.write(f"\n{terminal_text(message, one_line=False)}\nApprove '{node_id}'? [y/n] ")
        sys.stderr.flush()
        answer = await asyncio.to_thread(sys.stdin.readline)
        if not answer:  # end of input: nobody can answer, so do not approve
            return False
        if answer.strip().lower() in ("y", "yes"):
            return True
        if answer.strip().lower() in ("n", "no"):
            return False


# ---------------------------------------------------------------- reporting
def report_invalid(exc: Exception, label: str) -> None:
    if isinstance(exc, InvalidWorkflowError):
        print(f"flowdesk: {terminal_text(label)} cannot run:", file=sys.stderr)
        for problem in exc.problems:
            if problem.severity == "error":
                print(f"  error: {terminal_text(problem.message)}", file=sys.stderr)
    else:
        print(f"flowdesk: {terminal_text(str(exc))}", file=sys.stderr)


def report_result(result: RunResult, as_json: bool) -> None:
    if as_json:
        payload = {
            "run_id": result.run_id,
            "status": result.status,
            "outputs": result.outputs,
            "error": asdict(result.error) if result.error else None,
            "waiting": result.waiting,
            "usage": asdict(result.usage),
            "duration_s": result.duration_s,
            "nodes": result.node_status,
            "warnings": result.warnings,
        }
        handled = getattr(result, "handled_by", None)  # a failed run's on-failure handler (HandledRunResult)
        if handled is not None:
            payload["handled_by"] = asdict(handled)
        sys.stdout.write(terminal_json(json.dumps(payload, indent=2, ensure_ascii=False, default=str)) + "\n")
        return
    sys.stdout.write(terminal_json(json.dumps(result.outputs, indent=2, ensure_ascii=False, default=str)) + "\n")
    for warning in result.warnings:  # a loop that stopped at its limit: the outputs may be incomplete
        print(f"flowdesk: warning: {terminal_text(warning)}", file=sys.stderr)
    if result.status == "failed" and result.error:
        print(f"flowdesk: run failed: {terminal_text(result.error.message)}", file=sys.stderr)
    if getattr(result, "handled_by", None) is not None:
        print(f"flowdesk: {terminal_text(handler_words(result.handled_by))}", file=sys.stderr)
    elif result.status == "waiting":
        nodes = result.waiting or ["NODE"]
        print(
            f"flowdesk: run {result.run_id} is waiting for approval at {', '.join(result.waiting)}; "
            f"approve with `flowdesk approve {result.run_id} {nodes[0]}` (add --reject to reject)",
            file=sys.stderr,
        )
    elif result.status == "cancelled":
        print("flowdesk: run cancelled", file=sys.stderr)
    elif result.status == "interrupted":
        print(f"flowdesk: run interrupted; continue it with `flowdesk resume {result.run_id}`", file=sys.stderr)


def handler_words(handled: HandledBy) -> str:
    """What became of a failed run's on-failure handler, in one line."""
    if handled.run_id is None:
        return handled.message
    words = f"the on-failure handler '{handled.workflow}' ran as run {handled.run_id}: {handled.status}"
    return words + (f" ({handled.message})" if handled.message and handled.status != "succeeded" else "")


def recorded_result(store: Store, run: RunInfo) -> RunResult:
    """A finished (or still going) run's result as the journal has it, in the shape a live run reports."""
    _, outputs = store.runs.run_values(run.id)
    node_status, _ = store.runs.node_results(run.id)
    known = {f.name for f in fields(ErrorInfo)}
    error = ErrorInfo(**{k: v for k, v in run.error.items() if k in known}) if run.error else None
    return RunResult(
        run_id=run.id,
        status=run.status,
        outputs=outputs,
        error=error,
        duration_s=run.duration_s,
        usage=Usage(input_tokens=run.input_tokens, output_tokens=run.output_tokens, cost_usd=run.cost_usd),
        node_status=node_status,
        node_outputs={},
        iterations={},
        waiting=sorted(n for n, s in node_status.items() if s == "waiting"),
    )


def report_recorded(store: Store, run: RunInfo, opts: LiveOptions) -> int:
    """The idempotency key was used before: report that run instead of starting another."""
    print(
        f"flowdesk: run {run.id} already used this idempotency key ({run.status}); not started again",
        file=sys.stderr,
    )
    report_result(recorded_result(store, run), opts.json)
    if run.status not in EXIT:
        print(f"flowdesk: run {run.id} is still {run.status}; see `flowdesk show {run.id}`", file=sys.stderr)
    return EXIT.get(run.status, 1)
