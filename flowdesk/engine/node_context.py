"""The engine's side of :class:`flowdesk.nodes.context.NodeContext`: what a run function can reach.

A node's context reaches its run through :class:`NodeHost`, a narrow interface (the run's id and
inputs, the services, other nodes' outputs, the event outlet, approvals, child runs, the run's
outputs), not through the whole executor: a node cannot schedule, stop or reset anything.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from flowdesk.engine.breaker import GuardedProvider, credential_key, host_key, status_failed
from flowdesk.engine.events import NO_USAGE, LLMDelta, NodeLog, NodeProgress, Usage
from flowdesk.engine.inline_bodies import INLINE_BODY
from flowdesk.engine.outlet import EventOutlet
from flowdesk.engine.plan import PlanNode
from flowdesk.engine.scope import NodesScope, template_scope
from flowdesk.engine.services import EngineServices
from flowdesk.model.workflow import Settings
from flowdesk.nodes.context import LogLevel, NodeFailure
from flowdesk.nodes.llm_contract import LLMError, LLMProvider, LLMUsage


class NodeHost(Protocol):
    """What one node's attempt may reach of the run it is part of (the executor's ``Run`` is one)."""

    run_id: str
    services: EngineServices
    outlet: EventOutlet
    loop_pass: Sequence[int]
    """Each node's pass of the innermost loop around it, by node index (read-only here)."""

    @property
    def run_inputs(self) -> Mapping[str, Any]: ...

    @property
    def nodes_scope(self) -> NodesScope: ...

    @property
    def time_limit_s(self) -> float | None:
        """The whole run's time limit (a retry never waits past it)."""

    @property
    def settings(self) -> Settings:
        """The workflow's settings (the circuit breaker's are read per call)."""

    def set_run_output(self, name: str, value: Any) -> None: ...

    def add_run_warning(self, message: str) -> None: ...

    async def wait_for_approval(self, i: int, message: str) -> tuple[bool, str]: ...

    async def run_child(
        self, pn: PlanNode, iteration: int, attempt: int, ref: str, inputs: dict[str, Any], label: str,
        spent: Callable[[Usage], None], *, key: str | None = None,
    ) -> dict[str, Any]: ...  # fmt: skip


class RunNodeContext:
    """One attempt of one node. Cheap to build: the executor makes one per attempt."""

    __slots__ = ("_pn", "_run", "attempt", "iteration", "loop_pass", "node_id", "usage")

    def __init__(self, run: NodeHost, pn: PlanNode, iteration: int, attempt: int) -> None:
        self._run = run
        self._pn = pn
        self.node_id = pn.id
        self.iteration = iteration
        self.loop_pass = run.loop_pass[pn.index]
        """The pass of the innermost loop around the node (``loop.index0``), which restarts with an outer pass."""
        self.attempt = attempt
        self.usage = NO_USAGE

    @property
    def run_id(self) -> str:
        return self._run.run_id

    @property
    def run_inputs(self) -> Mapping[str, Any]:
        return self._run.run_inputs

    @property
    def files_root(self) -> Path | None:
        return self._run.services.files_root

    def scope(self, inputs: Mapping[str, Any]) -> dict[str, Any]:
        """What templates and expressions can read (docs/architecture.md §3)."""
        run = self._run
        return template_scope(inputs, run.run_inputs, run.run_id, run.nodes_scope, self.loop_pass)

    def render(self, template: str, inputs: Mapping[str, Any], *, field: str = "template") -> str:
        return self._run.services.sandbox.render(template, self.scope(inputs), field=field)

    def evaluate(self, expression: str, inputs: Mapping[str, Any], *, field: str = "expression") -> Any:
        return self._run.services.sandbox.evaluate(expression, self.scope(inputs), field=field)

    def log(self, message: str, level: LogLevel = "info") -> None:
        run = self._run
        if run.outlet.listening:
            redactor = run.services.redactor
            if redactor is not None:
                message = redactor.text(message)
            run.outlet.emit(
                NodeLog(
                    run_id=run.run_id,
                    ts=run.services.clock.wall(),
                    node_id=self.node_id,
                    iteration=self.iteration,
                    level=level,
                    message=message,
                )
            )

    def progress(self, done: int, total: int) -> None:
        run = self._run
        if run.outlet.listening:
            run.outlet.emit(
                NodeProgress(
                    run_id=run.run_id,
                    ts=run.services.clock.wall(),
                    node_id=self.node_id,
                    iteration=self.iteration,
                    done=done,
                    total=total,
                )
            )

    def llm(self, provider: str, credential: str | None) -> LLMProvider:
        resolver = self._run.services.providers
        if resolver is None:
            raise LLMError("no LLM providers are configured for this run")
        run = self._run
        guard = run.services.breakers.guard(
            credential_key(provider, credential), run.settings.circuit_breaker, run.services.clock, self.log
        )
        return GuardedProvider(resolver.resolve(provider, credential), guard)

    def llm_delta(self, text: str) -> None:
        run = self._run
        if run.outlet.listening:
            redactor = run.services.redactor
            if redactor is not None:
                text = redactor.text(text)
            run.outlet.emit(
                LLMDelta(
                    run_id=run.run_id,
                    ts=run.services.clock.wall(),
                    node_id=self.node_id,
                    iteration=self.iteration,
                    text=text,
                )
            )

    def add_usage(self, usage: LLMUsage) -> None:
        self.usage = self.usage + Usage(
            input_tokens=usage.input_tokens, output_tokens=usage.output_tokens, cost_usd=usage.cost_usd
        )

    async def sleep(self, seconds: float) -> None:
        await self._run.services.clock.sleep(seconds)

    async def wait_for_approval(self, message: str) -> tuple[bool, str]:
        return await self._run.wait_for_approval(self._pn.index, message)

    async def run_workflow(
        self, ref: str, inputs: Mapping[str, Any], *, label: str, key: str | None = None
    ) -> dict[str, Any]:
        """A child run; what it spends counts as this node's usage (a map's items add up)."""
        return await self._run.run_child(self._pn, self.iteration, self.attempt, ref, dict(inputs), label,
                                         self._child_spent, key=key)  # fmt: skip

    async def run_body(self, inputs: Mapping[str, Any], *, label: str, key: str | None = None) -> dict[str, Any]:
        """This for_each node's inline body, run once as a child (engine/inline_bodies.py), which reads
        this run's inputs as its own (``run.inputs`` means the same inside a body and out of it)."""
        return await self.run_workflow(INLINE_BODY, {**self._run.run_inputs, **inputs}, label=label, key=key)

    def report_limit(self, message: str) -> None:
        """A loop stopped at its limit: a warning on the node, and one in the run's result."""
        self.log(message, "warning")
        self._run.add_run_warning(f"'{self._pn.node.title}': {message}")

    def _child_spent(self, usage: Usage) -> None:
        self.usage = self.usage + usage

    def set_run_output(self, name: str, value: Any) -> None:
        """Put a value into the run's outputs (what the output node does)."""
        self._run.set_run_output(name, value)

    def tool(self, name: str) -> Any:
        tools = self._run.services.tools
        found = tools.get(name) if tools is not None else None
        if found is None:
            known = ", ".join(sorted(tools.names())) if tools is not None else "none"
            raise NodeFailure(f"there is no tool '{name}' (installed tools: {known})")
        return found

    async def http_request(
        self, method: str, url: str, *, headers: Mapping[str, str], params: Mapping[str, str], content: bytes | None
    ) -> tuple[int, dict[str, str], bytes]:
        run = self._run
        transport = run.services.http
        if transport is None:
            raise NodeFailure("HTTP requests are not available in this run")
        guard = run.services.breakers.guard(host_key(url), run.settings.circuit_breaker, run.services.clock, self.log)
        return await guard.call(
            lambda: transport.request(
                method, url, headers=headers, params=params, content=content, timeout_s=self._pn.node.timeout_s
            ),
            failed_result=lambda answer: status_failed(answer[0]),
        )

    def secret(self, credential: str, url: str | None = None) -> str:
        secrets = self._run.services.secrets
        if secrets is None:
            raise NodeFailure(f"credential '{credential}' cannot be looked up: no credential store is configured")
        try:
            return secrets.get(credential, url)
        except KeyError:
            raise NodeFailure(
                f"credential '{credential}' is not set: add it in Settings or with `flowdesk credentials add`"
            ) from None
