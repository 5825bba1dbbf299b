"""Circuit breakers: after a run of failed calls to one host or credential, further calls fail fast.

Without them a dead server eats every node's retries: a fan-out of 20 http nodes with three
attempts each makes 60 requests that all fail slowly. A breaker counts consecutive failures per
*key* (``host 127.0.0.1:8080`` for http nodes, ``credential openai_key`` for LLM calls); at the
workflow's ``settings.circuit_breaker.failures`` it opens, and for ``cooldown_s`` every call with
that key fails at once with the error class ``circuit_open``, which no retry policy retries. After
the cool-down the breaker half-opens: one trial call goes through while the other callers wait for
what it finds; a success closes the breaker, a failure opens it for another cool-down.

What counts as a failure is what another try might fix and the server is to blame for: connection
errors, timeouts, 5xx answers and 429 (rate limited). A 4xx client error means the server is up
and answering, so it counts as a success here.

One :class:`CircuitBreakers` is held by the engine's services, so every run the process starts
with those services (the app runs several at once) shares what is known about a dead host; there
is no module-level state. Each change of state is said in the calling node's log (a warning when
it opens), where the run's Log panel, `flowdesk run` and `flowdesk show` show it, and logged at info
level (``logging``, `flowdesk -v`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar
from urllib.parse import urlsplit

from flowdesk.engine.clock import Clock
from flowdesk.model.workflow import CircuitBreakerSettings
from flowdesk.nodes.context import NodeFailure
from flowdesk.nodes.llm_contract import DeltaSink, LLMProvider, LLMRequest, LLMResult

log = logging.getLogger(__name__)

T = TypeVar("T")

CIRCUIT_OPEN = "circuit_open"
"""The error class of a call refused by an open breaker (``RetryPolicy`` never retries it)."""
FAILING_CLASSES = frozenset({"network", "timeout", "server", "rate_limit"})
"""Error classes that count against a breaker: the server's fault, or the way to it."""

Say = Callable[[str, Literal["info", "warning"]], None]
"""Where a change of state is told (the calling node's log)."""


@dataclass
class _Circuit:
    failures: int = 0
    """Consecutive failed calls (a success sets it back to 0)."""
    opened_at: float | None = None
    """When the breaker last opened (monotonic clock); None while it is closed."""
    trial: asyncio.Future[bool | None] | None = None
    """While half-open: the trial call's verdict (True closed, False opened again, None cancelled)."""


def host_key(url: str) -> str:
    """The breaker key of an http call: its host and port (``host example.com:443``)."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:  # a bad port: the transport says what is wrong with the URL
        port = None
    port = port or (443 if parts.scheme == "https" else 80)
    return f"host {(parts.hostname or '').lower()}:{port}"


def credential_key(provider: str, credential: str | None) -> str:
    """The breaker key of an LLM call: its credential, or the provider when it uses none (offline, local)."""
    return f"credential {credential}" if credential else f"provider {provider}"


def counts_as_failure(exc: BaseException) -> bool:
    """Is this exception of a call the server's (or the network's) fault?"""
    if isinstance(exc, (TimeoutError, ConnectionError)):
        return True
    error_class = getattr(exc, "error_class", None)
    if error_class is not None:
        return error_class in FAILING_CLASSES
    return isinstance(exc, OSError)


def status_failed(status: int) -> bool:
    """An HTTP answer that counts against the breaker: 5xx, and 429 (the server asks to back off)."""
    return status >= 500 or status == 429


class CircuitBreakers:
    """The breakers of one process's runs, one per key; see the module docstring."""

    def __init__(self) -> None:
        self._circuits: dict[str, _Circuit] = {}

    def state(self, key: str) -> Literal["closed", "open", "half_open"]:
        circuit = self._circuits.get(key)
        if circuit is None or circuit.opened_at is None:
            return "closed"
        return "half_open" if circuit.trial is not None else "open"

    def guard(self, key: str, settings: CircuitBreakerSettings, clock: Clock, say: Say) -> Guard:
        """What one node's calls with ``key`` go through, under the calling workflow's settings."""
        return Guard(self, key, settings, clock, say)

    async def call(
        self,
        key: str,
        settings: CircuitBreakerSettings,
        clock: Clock,
        attempt: Callable[[], Awaitable[T]],
        say: Say,
        *,
        failed_result: Callable[[T], bool] | None = None,
    ) -> T:
        """Make the call ``attempt`` through the breaker of ``key``, or raise ``circuit_open`` at once."""
        circuit = self._circuits.setdefault(key, _Circuit())
        trial = await self._admit(key, circuit, settings, clock, say)
        try:
            result = await attempt()
        except asyncio.CancelledError:
            if trial:  # no verdict: the next caller makes the trial instead
                self._end_trial(circuit, None)
            raise
        except Exception as exc:
            if counts_as_failure(exc):
                self._failed(key, circuit, settings, clock, say, trial)
            else:
                self._succeeded(key, circuit, say, trial)
            raise
        if failed_result is not None and failed_result(result):
            self._failed(key, circuit, settings, clock, say, trial)
        else:
            self._succeeded(key, circuit, say, trial)
        return result

    async def _admit(
        self, key: str, circuit: _Circuit, settings: CircuitBreakerSettings, clock: Clock, say: Say
    ) -> bool:
        """Let the call through (True when it is the half-open trial) or raise ``circuit_open``."""
        while circuit.opened_at is not None:
            if circuit.trial is not None:  # a trial call is out: its verdict decides for this call too
                verdict = await asyncio.shield(circuit.trial)
                if verdict is False:
                    raise self._refusal(key, circuit, settings, clock)
                continue
            if clock.monotonic() - circuit.opened_at < settings.cooldown_s:
                raise self._refusal(key, circuit, settings, clock)
            circuit.trial = asyncio.get_running_loop().create_future()
            message = f"circuit breaker for {key} half-open: the cool-down is over, one trial call goes through"
            log.info(message)
            say(message, "info")
            return True
        return False

    def _refusal(self, key: str, circuit: _Circuit, settings: CircuitBreakerSettings, clock: Clock) -> NodeFailure:
        assert circuit.opened_at is not None
        left = max(0.0, circuit.opened_at + settings.cooldown_s - clock.monotonic())
        return NodeFailure(
            f"not called: the circuit breaker for {key} is open after {circuit.failures} consecutive failed "
            f"calls; it lets a trial call through in {left:.1f} s (settings.circuit_breaker)",
            CIRCUIT_OPEN,
        )

    def _failed(
        self, key: str, circuit: _Circuit, settings: CircuitBreakerSettings, clock: Clock, say: Say, trial: bool
    ) -> None:
        circuit.failures += 1
        if trial:
            circuit.opened_at = clock.monotonic()
            self._end_trial(circuit, False)
            message = (
                f"circuit breaker for {key} open again: the trial call failed; "
                f"calls fail fast for {settings.cooldown_s:g} s"
            )
        elif circuit.opened_at is None and circuit.failures >= settings.failures:
            circuit.opened_at = clock.monotonic()
            message = (
                f"circuit breaker for {key} open after {circuit.failures} consecutive failed calls; "
                f"calls fail fast for {settings.cooldown_s:g} s"
            )
        else:
            return
        log.info(message)  # info: the node's log line below is what a person reads (warning there)
        say(message, "warning")

    def _succeeded(self, key: str, circuit: _Circuit, say: Say, trial: bool) -> None:
        circuit.failures = 0
        if circuit.opened_at is None:
            return
        circuit.opened_at = None
        self._end_trial(circuit, True)  # the trial's, or a call made before the breaker opened that got through
        message = f"circuit breaker for {key} closed: a call succeeded again"
        log.info(message)
        say(message, "info")

    @staticmethod
    def _end_trial(circuit: _Circuit, verdict: bool | None) -> None:
        future, circuit.trial = circuit.trial, None
        if future is not None and not future.done():
            future.set_result(verdict)


@dataclass(frozen=True)
class Guard:
    """A breaker bound to one key, the calling workflow's settings and the calling node's log."""

    breakers: CircuitBreakers
    key: str
    settings: CircuitBreakerSettings
    clock: Clock
    say: Say

    async def call(self, attempt: Callable[[], Awaitable[T]], *, failed_result: Callable[[T], bool] | None = None) -> T:
        return await self.breakers.call(
            self.key, self.settings, self.clock, attempt, self.say, failed_result=failed_result
        )


class GuardedProvider:
    """An LLM provider whose calls go through the breaker of its credential."""

    def __init__(self, provider: LLMProvider, guard: Guard) -> None:
        self._provider = provider
        self._guard = guard
        self.name = provider.name

    async def complete(self, request: LLMRequest, on_delta: DeltaSink) -> LLMResult:
        return await self._guard.call(lambda: self._provider.complete(request, on_delta))

    def __getattr__(self, name: str) -> Any:  # what else a provider offers (its models, its settings)
        return getattr(self._provider, name)
