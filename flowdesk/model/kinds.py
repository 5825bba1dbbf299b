"""What the model needs to know about a node kind: its ports and its config model.

The kinds themselves live in ``flowdesk.nodes`` (one layer up); the model only sees this contract,
through a :class:`Catalog`, so validation and commands can check ports and config without
importing any node implementation.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple, Protocol

from pydantic import BaseModel, ValidationError

from flowdesk.model.types import ValueType

Direction = Literal["input", "output"]
ERROR_PORT = "error"
"""Output port every node gains when its ``on_error`` is ``continue``."""


@dataclass(frozen=True, slots=True)
class PortSpec:
    name: str
    type: ValueType = ValueType.ANY
    required: bool = False
    description: str = ""


@dataclass(frozen=True, slots=True)
class NodePorts:
    inputs: tuple[PortSpec, ...] = ()
    outputs: tuple[PortSpec, ...] = ()

    def get(self, direction: Direction, name: str) -> PortSpec | None:
        ports = self.inputs if direction == "input" else self.outputs
        return next((p for p in ports if p.name == name), None)


class EmptyConfig(BaseModel):
    """Config model of kinds that have nothing to configure."""

    model_config = {"extra": "forbid"}


PortsFn = Callable[[BaseModel], NodePorts]


class SourceText(NamedTuple):
    """A template or expression in a node's config, for validation to read (``KindSpec.sources``)."""

    field: str
    """Its path inside the config, e.g. ``prompt`` or ``headers.Authorization``."""
    text: str
    mode: Literal["template", "expression"]


SourcesFn = Callable[[Mapping[str, Any]], Iterable[SourceText]]


@dataclass(frozen=True)
class KindSpec:
    """A node kind as declared by the nodes layer (or a plugin).

    ``ports`` is either fixed, or computed from the node's parsed config (a switch has one output
    per case). ``run`` is the kind's async run function; the model never calls it.
    """

    name: str
    display_name: str
    category: str
    description: str
    icon: str = "node"
    config_model: type[BaseModel] = EmptyConfig
    ports: NodePorts | PortsFn = field(default_factory=NodePorts)
    run: Callable[..., Any] | None = None
    runnable: bool = True
    singleton: bool = False
    """At most one node of this kind per workflow (the start node)."""
    joins: bool = False
    """Runs on the inputs that arrived, skipped only when all were skipped (merge); other kinds are
    skipped as soon as any input was."""
    body: Literal["opens", "closes"] | None = None
    """Brackets an inline loop body: 'opens' (for_each) and 'closes' (collect); model/bodies.py."""
    fires_after: Callable[[BaseModel], int] | None = None
    """For a join that races its inputs (merge 'first' / 'count'): how many arrived values make it
    run at once, from its parsed config (0: it waits for every input). The engine then cancels the
    branches still running toward it (docs/architecture.md §3, races)."""
    sources: SourcesFn | None = None
    """The templates and expressions in a node's (raw) config, so mistakes in them are found while
    typing, not at run time. Kinds without any leave it None."""
    remote: bool = False
    """Its work can be done on a cluster worker (a node's ``remote: true``): it reads only its inputs,
    the run's values and the services, and neither waits for a person nor changes the run itself."""
    restore: Callable[..., None] | None = None
    """Called like ``run`` (context, inputs, config) when a recorded result is reused instead of
    running the node (a resume): redoes what the node does to its own run and nothing outside it.
    The output node puts its value into the run's outputs again, which are recorded only at the end."""

    def parse_config(self, config: Mapping[str, Any]) -> BaseModel:
        """The config as the kind's model; raises pydantic's ValidationError when invalid."""
        return self.config_model.model_validate(dict(config))

    def default_config(self) -> dict[str, Any]:
        return self.config_model().model_dump(mode="json")

    def ports_for(self, config: Mapping[str, Any]) -> NodePorts:
        """Ports of a node with this config; an invalid config gets the ports of the defaults."""
        if isinstance(self.ports, NodePorts):
            return self.ports
        try:
            parsed = self.parse_config(config)
        except ValidationError:
            parsed = self.config_model()
        return self.ports(parsed)


class Catalog(Protocol):
    """Where the model looks kinds up; the nodes layer's registry implements it."""

    def get(self, name: str) -> KindSpec | None: ...


@dataclass(frozen=True)
class MappingCatalog:
    """A catalog over a plain mapping, for tests and for callers that already hold the kinds."""

    kinds: Mapping[str, KindSpec]

    @classmethod
    def of(cls, specs: Iterable[KindSpec]) -> MappingCatalog:
        return cls({s.name: s for s in specs})

    def get(self, name: str) -> KindSpec | None:
        return self.kinds.get(name)
