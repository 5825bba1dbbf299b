"""What a run needs from outside the engine, handed in by whoever starts it (CLI, store, GUI).

The engine imports none of providers, store or ui; they pass their implementations in here.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from flowdesk.engine.breaker import CircuitBreakers
from flowdesk.engine.clock import Clock, RealClock
from flowdesk.engine.redaction import Redactor
from flowdesk.engine.remote import RemoteChildren
from flowdesk.engine.reuse import EarlierChildren
from flowdesk.engine.sandbox import Sandbox
from flowdesk.model.workflow import Workflow
from flowdesk.nodes.llm_contract import ProviderResolver


class WorkflowResolver(Protocol):
    """Finds the workflow a map or subworkflow node names (a library id or slug, or a file path)."""

    def resolve(self, ref: str) -> Workflow: ...


class SecretStore(Protocol):
    """Looks up the value of a named credential (OS keyring, environment); raises KeyError if unknown.

    ``url`` is where the value will be sent: a store may refuse a host the credential is not for
    (raising :class:`flowdesk.nodes.context.NodeFailure` naming both). A store may also have a
    ``redactor`` (:class:`flowdesk.engine.redaction.Redactor`) that knows every key it handed out;
    the engine then scrubs them from whatever a node produces.
    """

    def get(self, name: str, url: str | None = None) -> str: ...


class HttpTransport(Protocol):
    async def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str],
        params: Mapping[str, str],
        content: bytes | None,
        timeout_s: float | None,
    ) -> tuple[int, dict[str, str], bytes]: ...


@dataclass
class EngineServices:
    providers: ProviderResolver | None = None
    workflows: WorkflowResolver | None = None
    secrets: SecretStore | None = None
    tools: Any = None
    """A ``flowdesk.nodes.tools.ToolRegistry`` (typed loosely so tests can pass a stand-in)."""
    http: HttpTransport | None = None
    files_root: Path | None = None
    clock: Clock = field(default_factory=RealClock)
    sandbox: Sandbox = field(default_factory=Sandbox)
    rng: random.Random = field(default_factory=random.Random)
    max_depth: int = 16
    """How deeply sub-workflows may nest (a workflow calling itself stops here, with a message)."""
    earlier_children: EarlierChildren | None = None
    """The record of a run being continued: its finished sub-workflow and map item runs are reused."""
    remote: RemoteChildren | None = None
    """Where child runs (map items, sub-workflow calls) go instead of this process: a cluster; None runs them here."""
    breakers: CircuitBreakers = field(default_factory=CircuitBreakers)
    """The circuit breakers per host and credential, shared by every run started with these services
    (``dataclasses.replace`` keeps the same object, so the runs of one process share it)."""

    @property
    def redactor(self) -> Redactor | None:
        """The secret store's redactor, when it has keys to hide (else None: nothing to scrub)."""
        if self.secrets is None:  # the usual test and offline case: no lookup at all (this is asked per attempt)
            return None
        redactor = getattr(self.secrets, "redactor", None)
        return redactor if redactor is not None and redactor.active else None
