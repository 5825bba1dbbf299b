"""The workflow document as data: pydantic models of a workflow, its nodes, edges and inputs.

These models are the file format (docs/architecture.md §2) and the in-memory document at once, so what the
editor shows, what the CLI runs and what is saved can never disagree. They know nothing of node
kinds: a node's ``config`` is kept as raw JSON here and checked against its kind by validation,
which is what lets a file with an uninstalled plugin kind load, show and save unchanged.
"""

from __future__ import annotations

from typing import Annotated, Final, Literal

from pydantic import Field, JsonValue, field_validator

from flowdesk.model.executor import check_executor
from flowdesk.model.ids import ID_PATTERN
from flowdesk.model.position import Position
from flowdesk.model.strict import Strict as _Strict
from flowdesk.model.types import ValueType

FORMAT: Final = "flowdesk.workflow"
FORMAT_VERSION: Final = 1

Identifier = Annotated[
    str, Field(pattern=ID_PATTERN, description="A stable id: letters, digits, _; not starting with a digit.")
]
PortName = Annotated[str, Field(pattern=ID_PATTERN, description="A port name of the node's kind.")]
ErrorClass = Literal["any", "timeout", "network", "rate_limit", "server", "invalid_output", "truncated", "node"]
"""What went wrong in an attempt, as the engine classifies it; retry policies choose among these."""


class RetryPolicy(_Strict):
    """How a failed attempt is retried: exponential backoff with jitter, for the listed error classes."""

    max_attempts: int = Field(1, ge=1, le=100, description="Attempts in all, the first included (1 = no retry).")
    initial_delay_s: float = Field(1.0, ge=0, le=3600, description="Wait before the second attempt, in seconds.")
    multiplier: float = Field(2.0, ge=1, le=10, description="Each further wait is the previous one times this.")
    max_delay_s: float = Field(60.0, ge=0, le=86400, description="No wait is longer than this, in seconds.")
    jitter: float = Field(0.1, ge=0, le=1, description="Random spread of each wait, as a fraction of it (0.1 = +-10%).")
    retry_on: tuple[ErrorClass, ...] = Field(
        ("timeout", "network", "rate_limit", "server"),
        description="Error classes that are retried; 'any' retries every error.",
    )

    def delay_before(self, attempt: int) -> float:
        """Nominal wait (before jitter) ahead of ``attempt`` (2 = the first retry)."""
        if attempt <= 1:
            return 0.0
        return min(self.max_delay_s, self.initial_delay_s * self.multiplier ** (attempt - 2))

    def retries(self, error_class: str) -> bool:
        if error_class in NEVER_RETRIED:
            return False
        return "any" in self.retry_on or error_class in self.retry_on


NEVER_RETRIED: Final = frozenset({"circuit_open"})
"""Error classes no policy retries, 'any' included: a call refused by an open circuit breaker would be
refused again at once (docs/architecture.md §3, failure handling)."""


NO_RETRY = RetryPolicy()
"""The default policy, shared by every node that keeps it (models are frozen, so sharing is safe and
a 10,000-node workflow holds one policy object instead of 10,000)."""

_NO_RETRY_AS_SAVED: Final = NO_RETRY.model_dump(mode="json")
"""The default policy as a saved file spells it out on every node (the writer omits nothing)."""


class PinnedOutput(_Strict):
    """Output values held for a node while designing: the node is not executed, these flow on."""

    outputs: dict[str, JsonValue] = Field(default_factory=dict, description="Value per output port.")
    source_run: str | None = Field(None, description="The run the values were taken from, if any.")


class Node(_Strict):
    id: Identifier
    kind: str = Field(min_length=1, max_length=200, description="Registered node kind, e.g. 'llm'.")
    name: str = Field("", max_length=200, description="Title shown on the canvas.")
    position: Position = Field(default_factory=Position)
    config: dict[str, JsonValue] = Field(
        default_factory=dict, description="Settings checked by the kind's config model."
    )
    retry: RetryPolicy = Field(default_factory=lambda: NO_RETRY)
    timeout_s: float | None = Field(None, gt=0, le=7 * 86400, description="Per-attempt time limit in seconds.")
    on_error: Literal["fail", "continue"] = Field(
        "fail", description="'fail' ends the run; 'continue' sends the error out of the node's 'error' port."
    )
    breakpoint: bool = Field(False, description="Pause the run before this node starts.")
    remote: bool = Field(
        False,
        description="Do the node's work on the run's cluster (flowdesk run --executor dask://...); "
        "without one it runs here.",
    )
    pinned: PinnedOutput | None = None

    @field_validator("retry", mode="before")
    @classmethod
    def _shared_default(cls, value: object) -> object:
        """A file spells the default policy out on every node; reading each into a model of its own
        cost a fifth of reading a big workflow. Anything equal to the saved default validates to the
        default (JSON's 1, 1.0 and true all read as 1 here), so it is the shared one instead."""
        return NO_RETRY if type(value) is dict and value == _NO_RETRY_AS_SAVED else value

    @property
    def title(self) -> str:
        return self.name or self.id

    def at(self, position: Position) -> Node:
        """This node moved to ``position``: what ``model_copy(update={"position": ...})`` gives, made directly.

        A move of a big selection makes thousands of these per step; pydantic's generic copy (copying the
        extra, private and field-set slots through ``copy.copy``) took 60% of the document's share of it.
        The fields are shared (the models are frozen), ``position`` alone is new.
        """
        moved = _new_node(Node)
        fields = self.__dict__.copy()
        fields["position"] = position
        _set(moved, "__dict__", fields)
        fields_set = self.__pydantic_fields_set__  # shared when it names the position already: no model edits it
        _set(moved, "__pydantic_fields_set__", fields_set if "position" in fields_set else fields_set | _POSITION)
        _set(moved, "__pydantic_extra__", None)  # extra="forbid": never any
        _set(moved, "__pydantic_private__", None)  # no private attributes
        return moved


_new_node = Node.__new__
_set = object.__setattr__
_POSITION: Final = frozenset({"position"})


class LoopSettings(_Strict):
    max_iterations: int = Field(ge=1, le=1_000_000, description="Upper bound on passes through the loop.")
    until: str | None = Field(None, max_length=10_000, description="Expression; the loop stops once it is true.")


class Edge(_Strict):
    id: Identifier
    source: Identifier = Field(description="Id of the node the value comes from.")
    source_port: PortName
    target: Identifier = Field(description="Id of the node the value goes to.")
    target_port: PortName
    loop: LoopSettings | None = Field(None, description="Set on an edge that leads back to an ancestor.")

    @property
    def is_loop(self) -> bool:
        return self.loop is not None


class RunInput(_Strict):
    name: Identifier
    type: ValueType = ValueType.STRING
    required: bool = True
    default: JsonValue = None
    description: str = Field("", max_length=2000)


class CircuitBreakerSettings(_Strict):
    """When calls to one host (http nodes) or one credential (LLM calls) stop being tried for a while."""

    failures: int = Field(5, ge=1, le=10_000, description="Consecutive failed calls that open the breaker.")
    cooldown_s: float = Field(30.0, gt=0, le=86400, description="Seconds an open breaker fails calls fast.")


class Settings(_Strict):
    max_concurrency: int = Field(8, ge=1, le=10_000, description="Nodes running at once, at most.")
    run_timeout_s: float | None = Field(None, gt=0, le=30 * 86400, description="Whole-run time limit in seconds.")
    on_failure: str | None = Field(
        None,
        min_length=1,
        max_length=1000,
        description="Workflow run when a run fails: a library workflow's slug, or a file path relative to this file.",
    )
    circuit_breaker: CircuitBreakerSettings = Field(default_factory=CircuitBreakerSettings)
    executor: str | None = Field(
        None,
        max_length=300,
        description="Where map items and sub-workflow calls run: 'local' (this computer) or dask://HOST:PORT "
        "(a Dask cluster); none: the app's setting (flowdesk run: this computer, unless --executor says otherwise).",
    )

    @field_validator("executor")
    @classmethod
    def _executor(cls, value: str | None) -> str | None:
        return check_executor(value)


class Workflow(_Strict):
    format: Literal["flowdesk.workflow"] = FORMAT
    format_version: int = FORMAT_VERSION
    id: Identifier
    name: str = Field("Untitled", max_length=200)
    description: str = Field("", max_length=20_000)
    version: int = Field(1, ge=1, description="Saved revision of this workflow; the library counts it up.")
    inputs: tuple[RunInput, ...] = ()
    settings: Settings = Field(default_factory=Settings)
    nodes: tuple[Node, ...] = ()
    edges: tuple[Edge, ...] = ()

    @field_validator("format_version")
    @classmethod
    def _current_version(cls, value: int) -> int:
        if value != FORMAT_VERSION:
            raise ValueError(f"format_version must be {FORMAT_VERSION} after migration, got {value}")
        return value

    def node(self, node_id: str) -> Node | None:
        """Linear lookup, for tests and one-off use; the document keeps an index for hot paths."""
        return next((n for n in self.nodes if n.id == node_id), None)

    def edge(self, edge_id: str) -> Edge | None:
        return next((e for e in self.edges if e.id == edge_id), None)
