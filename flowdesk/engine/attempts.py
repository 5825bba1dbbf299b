"""Running one node once, to its end: attempts, per-attempt timeout, retries with backoff.

Everything a node's run function raises is caught here and turned into a classified error (which
retry policies choose on) with a message a person understands; only cancellation passes through.
"""

from __future__ import annotations

import asyncio
import math
from typing import Any

from flowdesk.engine.events import NO_USAGE, ErrorInfo, NodeRetrying, NodeStarted
from flowdesk.engine.node_context import NodeHost, RunNodeContext
from flowdesk.engine.plan import PlanNode
from flowdesk.engine.remote_nodes import remote_attempt
from flowdesk.engine.results import Outcome
from flowdesk.engine.sandbox import SandboxError
from flowdesk.nodes.context import NodeFailure
from flowdesk.nodes.llm_contract import LLMError

__all__ = ["Outcome", "classify", "json_problem", "run_attempts"]


def classify(exc: BaseException, timeout_s: float | None) -> tuple[str, str, float | None]:
    """(error class, message, retry-after seconds) for an exception a run function raised."""
    if isinstance(exc, TimeoutError):
        return "timeout", f"timed out after {timeout_s:g} s" if timeout_s else "timed out", None
    if isinstance(exc, LLMError):
        return exc.error_class, str(exc), exc.retry_after_s
    if isinstance(exc, NodeFailure):
        return exc.error_class, str(exc), getattr(exc, "retry_after_s", None)
    if isinstance(exc, SandboxError):
        return "node", str(exc), None
    if isinstance(exc, (ConnectionError, OSError)):
        return "network", f"{type(exc).__name__}: {exc}", None
    return "node", f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__, None


def _check_outputs(outputs: object, pn: PlanNode) -> dict[str, Any]:
    """A run function must return {port: JSON value}; anything else is the node's fault, said plainly."""
    if outputs is None:
        return {}
    if not isinstance(outputs, dict):
        raise NodeFailure(f"returned {type(outputs).__name__}, expected a dict of output values", "invalid_output")
    if _flat(outputs):
        return outputs
    problem = json_problem(outputs)
    if problem:
        raise NodeFailure(f"produced a value that is not JSON: {problem}", "invalid_output")
    return outputs


_SCALARS = (str, int, bool, type(None))
_PLAIN = frozenset(_SCALARS)


def _flat(outputs: dict[Any, Any]) -> bool:
    """The usual outputs, settled without walking them: text, integers, booleans and nulls by name."""
    for key, value in outputs.items():
        if type(value) not in _PLAIN or type(key) is not str:
            return False
    return True


def json_problem(value: Any) -> str | None:
    """Why ``value`` is not a JSON value (None when it is). Iterative, and quick for flat values."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, _SCALARS):
            continue
        if isinstance(item, float):
            if not math.isfinite(item):
                return f"{item} is not a JSON number"
        elif isinstance(item, dict):
            for key, sub in item.items():
                if not isinstance(key, str):
                    return f"object key {key!r} is not a string"
                stack.append(sub)
        elif isinstance(item, list):
            stack.extend(item)
        else:
            return f"a {type(item).__name__} is not a JSON value"
    return None


async def run_attempts(run: NodeHost, pn: PlanNode, iteration: int, inputs: dict[str, Any]) -> Outcome:
    """Attempt the node until it succeeds, its retries run out, or it is cancelled."""
    node = pn.node
    remote = remote_attempt(run, pn) if node.remote else None
    run_fn = remote or pn.spec.run or _no_run_function(pn.spec.name)
    timeout_s = node.timeout_s
    clock = run.services.clock
    outlet = run.outlet
    attempt = 0
    total_usage = NO_USAGE
    while True:
        attempt += 1
        ctx = RunNodeContext(run, pn, iteration, attempt)
        if outlet.listening:
            _say_started(run, pn, iteration, attempt, inputs)
        started = clock.monotonic()
        try:
            if timeout_s is None:
                result = await run_fn(ctx, inputs, pn.config)
            else:
                async with asyncio.timeout(timeout_s):
                    result = await run_fn(ctx, inputs, pn.config)
            outputs = _check_outputs(result, pn)
            redactor = run.services.redactor
            if redactor is not None:
                outputs = redactor.value(outputs)
            if ctx.usage is not NO_USAGE:
                total_usage = total_usage + ctx.usage
            duration = clock.monotonic() - started
            return Outcome(True, outputs, ctx.attempt, duration, total_usage, worker=remote.worker if remote else None)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - a run function may fail in any way; it becomes a recorded error
            attempt = ctx.attempt  # a remote attempt counts the workers lost on the way (remote_nodes.py)
            policy = node.retry
            total_usage = total_usage + ctx.usage
            error, retry_after = _error_of(run, pn, exc, timeout_s)
            duration = clock.monotonic() - started
            where = remote.worker if remote is not None else None
            if attempt >= policy.max_attempts or not policy.retries(error.error_class):
                return Outcome(False, {}, attempt, duration, total_usage, error, worker=where)
            refusal = _too_long_to_wait(run, pn, retry_after)
            if refusal is not None:
                error = error.with_message(f"{error.message}; {refusal}")
                return Outcome(False, {}, attempt, duration, total_usage, error, worker=where)
            delay = _backoff(run, policy.delay_before(attempt + 1), policy.jitter, retry_after)
            if outlet.listening:
                retrying = NodeRetrying(
                    run_id=run.run_id, ts=clock.wall(), node_id=pn.id, iteration=iteration, attempt=attempt,
                    delay_s=delay, error=error, duration_s=duration, usage=ctx.usage, worker=where,
                )  # fmt: skip
                outlet.emit(retrying)
            await clock.sleep(delay)


def _error_of(run: NodeHost, pn: PlanNode, exc: Exception, timeout_s: float | None) -> tuple[ErrorInfo, float | None]:
    """A failed attempt as the run records it (its message redacted), and how long the service asked to wait."""
    error_class, message, retry_after = classify(exc, timeout_s)
    redactor = run.services.redactor
    if redactor is not None:
        message = redactor.text(message)
    error = ErrorInfo(message=message, error_class=error_class, node_id=pn.id, exception=type(exc).__name__)
    return error, retry_after


def _no_run_function(kind: str) -> Any:
    async def refuse(ctx: Any, inputs: Any, config: Any) -> Any:
        raise NodeFailure(f"node kind '{kind}' has no run function in this flowdesk")

    return refuse


def _say_started(run: NodeHost, pn: PlanNode, iteration: int, attempt: int, inputs: dict[str, Any]) -> None:
    run.outlet.emit(
        NodeStarted(
            run_id=run.run_id, ts=run.services.clock.wall(), node_id=pn.id, iteration=iteration, attempt=attempt,
            inputs=inputs,
        )
    )  # fmt: skip


def _backoff(run: NodeHost, nominal: float, jitter: float, retry_after: float | None) -> float:
    """The wait before the next attempt: nominal +- jitter, but never less than a server's Retry-After
    (which ``_too_long_to_wait`` has already held to the limits)."""
    delay = nominal * (1.0 + run.services.rng.uniform(-jitter, jitter)) if jitter else nominal
    if retry_after is not None:
        delay = max(delay, retry_after)
    return max(0.0, delay)


def _too_long_to_wait(run: NodeHost, pn: PlanNode, retry_after: float | None) -> str | None:
    """Why the node gives up instead of waiting what the server asked (Retry-After), or None.

    A server's ``Retry-After: 3600`` must not park a node for an hour: the wait may be at most the
    retry policy's ``max_delay_s``, the node's ``timeout_s`` and the run's time limit. Waiting only
    the cap and trying early would just be refused again, so a longer request fails the attempt."""
    if retry_after is None:
        return None
    limits = [(pn.node.retry.max_delay_s, "the retry policy's max_delay_s")]
    if pn.node.timeout_s is not None:
        limits.append((pn.node.timeout_s, "the node's timeout_s"))
    run_limit = run.time_limit_s
    if run_limit is not None:
        limits.append((run_limit, "the run's time limit"))
    limit, name = min(limits)
    if retry_after <= limit:
        return None
    return (
        f"the server asked to wait {retry_after:g} s before trying again (Retry-After), longer than "
        f"{name} ({limit:g} s), so the node does not retry"
    )
