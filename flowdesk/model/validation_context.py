"""The indexes every validation rule shares, built once per validation.

Validation runs before every run on graphs of up to 10,000 nodes, so no rule may scan the whole
workflow per node or per edge: nodes are indexed by id, each node's ports are found once and each
edge's ports resolved once here, and the rules look them up.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import Any, NamedTuple

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from flowdesk.model.kinds import Catalog, KindSpec, NodePorts, PortSpec
from flowdesk.model.ports import node_ports
from flowdesk.model.workflow import Edge, Node, Workflow

START_KIND = "start"
"""The kind whose node receives the run's inputs; reachability is measured from it."""
OUTPUT_KIND = "output"
"""The kind whose nodes put values into the run's outputs, each under its config ``name``."""


class EdgeEnds(NamedTuple):
    """An edge resolved against the graph: its end nodes and ports, None where they do not exist."""

    edge: Edge
    source: Node | None
    target: Node | None
    source_port: PortSpec | None
    target_port: PortSpec | None

    @property
    def dangling(self) -> bool:
        return self.source is None or self.target is None


class Feeds(NamedTuple):
    """Which edges feed which existing input port, keyed by (node id, port name)."""

    first: dict[tuple[str, str], Edge]
    crowded: dict[tuple[str, str], list[Edge]]
    """Only the ports fed by more than one edge, with all of their edges in file order."""


class ValidationContext:
    """One workflow indexed for the rules; the first node of a duplicated id is the one that counts.

    Edges refer to nodes by id, so when two nodes share an id there is no telling which one an edge
    means: the later ones are reported as duplicates and left out of every other check.

    What is kept here is kept lean on purpose: on a 10,000-node workflow every object that outlives
    a garbage collection pass of the young generations adds to the next full one, which can cost more
    than all the rules together. So equal port sets are shared, resolved ports are kept as references
    in two flat lists, and parsed configs are not kept at all.
    """

    def __init__(self, workflow: Workflow, catalog: Catalog, *, for_run: bool, sources: Any = None) -> None:
        self.workflow = workflow
        self.catalog = catalog
        self.for_run = for_run
        self.sources = sources
        """A ``validation_refs.SourceReader``, or None: then templates and expressions are not read."""
        self.nodes: dict[str, Node] = {}
        for node in workflow.nodes:
            self.nodes.setdefault(node.id, node)
        self.specs: dict[str, KindSpec | None] = {nid: catalog.get(n.kind) for nid, n in self.nodes.items()}
        self.ports: dict[str, NodePorts] = self._node_ports()
        self._lookup: dict[int, tuple[dict[str, PortSpec], dict[str, PortSpec]]] = {}
        self._source_ports: list[PortSpec | None] = []
        self._target_ports: list[PortSpec | None] = []
        for edge in workflow.edges:
            self._source_ports.append(self._port(edge.source, 1, edge.source_port))
            self._target_ports.append(self._port(edge.target, 0, edge.target_port))
        self._feeds: dict[bool, Feeds] = {}
        self._graph_ids: list[str] | None = None
        self._default_errors: dict[str, list[ErrorDetails]] = {}

    def _node_ports(self) -> dict[str, NodePorts]:
        """Every node's ports, equal port sets shared (a thousand 2-input merges hold one NodePorts).

        Kinds whose ports depend on the config (switch, merge) parse it to find them; nodes with
        equal configs get equal ports, so that parse is done once per distinct config.
        """
        touching = self._placeholder_edges()
        shared: dict[NodePorts, NodePorts] = {}
        by_config: dict[tuple[object, ...], NodePorts] = {}
        result: dict[str, NodePorts] = {}
        for nid, node in self.nodes.items():
            spec = self.specs[nid]
            key = _config_key(node) if spec is not None and not isinstance(spec.ports, NodePorts) else None
            ports = by_config.get(key) if key is not None else None
            if ports is None:
                ports = node_ports(node, self.catalog, touching.get(nid, ()))
                if spec is None or ports is not spec.ports:  # a kind's fixed ports are one object already
                    ports = shared.setdefault(ports, ports)
                if key is not None:
                    by_config[key] = ports
            result[nid] = ports
        return result

    def _placeholder_edges(self) -> dict[str, list[Edge]]:
        """Edges touching each placeholder: its only source of ports. Other nodes need none."""
        placeholders = {nid for nid, spec in self.specs.items() if spec is None}
        touching: dict[str, list[Edge]] = defaultdict(list)
        if placeholders:
            for edge in self.workflow.edges:
                for end in {edge.source, edge.target} & placeholders:
                    touching[end].append(edge)
        return touching

    def _port(self, node_id: str, side: int, name: str) -> PortSpec | None:
        """The named input (side 0) or output (side 1) port of a node, by dict rather than by scan."""
        ports = self.ports.get(node_id)
        if ports is None:
            return None
        lookup = self._lookup.get(id(ports))
        if lookup is None:
            lookup = ({p.name: p for p in ports.inputs}, {p.name: p for p in ports.outputs})
            self._lookup[id(ports)] = lookup
        return lookup[side].get(name)

    def ends(self, *, loops_only: bool = False) -> Iterator[EdgeEnds]:
        """Every edge (duplicate ids included: each is a real wire) with its resolved ends."""
        nodes = self.nodes
        for edge, source_port, target_port in zip(
            self.workflow.edges, self._source_ports, self._target_ports, strict=True
        ):
            if not loops_only or edge.loop is not None:
                yield EdgeEnds(edge, nodes.get(edge.source), nodes.get(edge.target), source_port, target_port)

    def feeds(self, *, loop: bool) -> Feeds:
        """Edges by the existing input port they feed; forward and loop edges apart, as a run treats them."""
        if not self._feeds:
            self._feeds = {False: Feeds({}, {}), True: Feeds({}, {})}
            for edge, target_port in zip(self.workflow.edges, self._target_ports, strict=True):
                if target_port is None or not self.is_graph_node(edge.source):
                    continue  # nothing can arrive from a missing node or a note
                feeds = self._feeds[edge.loop is not None]
                key = (edge.target, edge.target_port)
                first = feeds.first.setdefault(key, edge)
                if first is not edge:
                    feeds.crowded.setdefault(key, [first]).append(edge)
        return self._feeds[loop]

    def is_graph_node(self, node_id: str) -> bool:
        """Does the node take part in runs? Placeholders do (their plugin may come back); notes do not."""
        if node_id not in self.nodes:
            return False
        spec = self.specs[node_id]
        return spec is None or spec.runnable

    def graph_node_ids(self) -> list[str]:
        """Ids of the nodes that take part in runs, in file order."""
        if self._graph_ids is None:
            self._graph_ids = [nid for nid in self.nodes if self.is_graph_node(nid)]
        return self._graph_ids

    def nodes_of_kind(self, kind: str) -> list[Node]:
        return [node for node in self.nodes.values() if node.kind == kind]

    def parsed_config(self, node_id: str) -> BaseModel | ValidationError | None:
        """The node's config parsed by its kind, or the error; None for a placeholder."""
        spec = self.specs.get(node_id)
        if spec is None:
            return None
        try:
            return spec.parse_config(self.nodes[node_id].config)
        except ValidationError as exc:
            return exc

    def default_errors(self, spec: KindSpec) -> list[ErrorDetails]:
        """Errors of the kind's own defaults, found once per kind.

        pydantic does not validate a default, and the built-in kinds use a blank default for a
        setting a person must fill in (an HTTP node's ``url``): a node whose file leaves such a
        key out parses, yet must not pass validation.
        """
        if spec.name not in self._default_errors:
            defaults = model_defaults(spec.config_model)
            try:
                spec.parse_config(defaults)
                errors = []
            except ValidationError as exc:
                errors = [e for e in exc.errors(include_url=False) if e["loc"] and e["loc"][0] in defaults]
            self._default_errors[spec.name] = errors
        return self._default_errors[spec.name]

    def label(self, node_id: str) -> str:
        """``Node 'Review' (review_1)``: the title a person sees on the canvas, and the id files use."""
        node = self.nodes.get(node_id)
        return node_label(node) if node is not None else f"node {node_id!r}"


def model_defaults(model: type[BaseModel]) -> dict[str, Any]:
    """The default of every field that has one, keyed as the input names it (its alias, if a plain one)."""
    defaults: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        if info.is_required() or info.default_factory_takes_validated_data:
            continue
        key = info.validation_alias if info.validation_alias is not None else info.alias or name
        if isinstance(key, str):
            defaults[key] = info.get_default(call_default_factory=True)
    return defaults


def _config_key(node: Node) -> tuple[object, ...] | None:
    """A hashable stand-in for what decides a node's ports, or None when the config holds lists or dicts.

    Value types are part of it: 1, 1.0 and True are equal in Python but not to a config model.
    """
    key = (node.kind, node.on_error, *((k, type(v).__name__, v) for k, v in sorted(node.config.items())))
    try:
        hash(key)
    except TypeError:
        return None
    return key


def node_label(node: Node) -> str:
    if node.name and node.name != node.id:
        return f"Node {node.name!r} ({node.id})"
    return f"Node {node.id!r}"


def edge_label(edge: Edge) -> str:
    """``Edge e1 (fetch.body -> review.code)``: ids, because titles need not be unique or short."""
    kind = "Loop edge" if edge.is_loop else "Edge"
    return f"{kind} {edge.id} ({edge.source}.{edge.source_port} -> {edge.target}.{edge.target_port})"
