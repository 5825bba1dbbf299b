"""Which earlier results a new run may reuse: re-run from a node, resume an interrupted run.

A re-run runs the workflow as it is now, which may differ from the version the earlier run ran: a
result is reused only for a node whose definition, and that of everything it depends on, is the same
in both versions (``definition_hashes``).

Results are reused per (node, iteration), as they were recorded: a resume replays the recorded
passes of a loop and goes on from where the record ends (see ``RunOptions.prior``).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from flowdesk.engine.events import Usage
from flowdesk.engine.results import PriorOutcome, RecordedResults, StepKey
from flowdesk.model.bodies import find_bodies, has_bodies
from flowdesk.model.kinds import Catalog
from flowdesk.model.workflow import Node, Workflow


def downstream_of(workflow: Workflow, node_id: str) -> set[str]:
    """``node_id`` and every node reachable from it, loop edges included (a re-run redoes the loop)."""
    succ: dict[str, list[str]] = {}
    for edge in workflow.edges:
        succ.setdefault(edge.source, []).append(edge.target)
    seen, frontier = {node_id}, [node_id]
    while frontier:
        for nxt in succ.get(frontier.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                frontier.append(nxt)
    return seen


def finished_outcomes(
    results: RecordedResults, exclude: set[str] | frozenset[str] = frozenset()
) -> dict[StepKey, PriorOutcome]:
    """Reusable results: succeeded nodes with their outputs, and skipped nodes, each for its pass.

    Failed, cancelled, interrupted and waiting ones are left out: those nodes run again.
    """
    prior: dict[StepKey, PriorOutcome] = {}
    for key, (status, outputs) in results.items():
        if key[0] in exclude:
            continue
        if status == "succeeded":
            prior[key] = PriorOutcome("succeeded", dict(outputs))
        elif status == "skipped":
            prior[key] = PriorOutcome("skipped")
    return prior


def rerun_prior(workflow: Workflow, results: RecordedResults, *, from_node: str) -> dict[StepKey, PriorOutcome]:
    """Results to reuse when re-running from ``from_node``: everything not downstream of it."""
    if workflow.node(from_node) is None:
        raise KeyError(f"there is no node '{from_node}' in this workflow")
    return finished_outcomes(results, downstream_of(workflow, from_node))


# ---------------------------------------------------------------- re-running what is on the canvas now
_NODE_REFERENCE = re.compile(r"""\bnodes\s*(?:\.\s*([A-Za-z_]\w*)|\[\s*['"]([A-Za-z_]\w*)['"]\s*\])""")
"""``nodes.x`` or ``nodes['x']`` anywhere in a node's config: a dependency that no edge shows. Read from the
raw text, so it may find a few too many (a URL containing 'nodes.x'): that only makes reuse more careful."""


@dataclass(frozen=True)
class RerunPlan:
    """What a re-run on a (possibly edited) workflow may reuse of an earlier run, and why not the rest."""

    prior: dict[StepKey, PriorOutcome]
    reused: tuple[str, ...]
    """Nodes whose recorded results are reused, sorted."""
    changed: tuple[str, ...]
    """Nodes outside the re-run's part that run again because they, or something they depend on, changed."""


def own_definition(node: Node) -> str:
    """What decides a node's result apart from its inputs: kind, config, error handling, pinned values.

    Its name, position, breakpoint, retry policy and time limit do not change what a success returns.
    """
    pinned = node.pinned.outputs if node.pinned is not None else None
    return json.dumps([node.kind, node.config, node.on_error, pinned], sort_keys=True, separators=(",", ":"))


def _dependencies(workflow: Workflow, bodies: Mapping[str, frozenset[str]] | None = None) -> dict[str, set[str]]:
    """Each node's direct dependencies: the sources of its edges (loop edges too) and the nodes it names.

    A for_each's result is made by its body's nodes (``bodies``: for_each id -> body node ids), so it
    depends on them as well: with the body, it forms one cycle, hashed as one (a loop's rule)."""
    ids = {n.id for n in workflow.nodes}
    deps: dict[str, set[str]] = {n.id: set() for n in workflow.nodes}
    for edge in workflow.edges:
        if edge.target in deps and edge.source in ids:
            deps[edge.target].add(edge.source)
    for node in workflow.nodes:
        text = json.dumps(node.config)
        for match in _NODE_REFERENCE.finditer(text):
            named = match.group(1) or match.group(2)
            if named in ids and named != node.id:
                deps[node.id].add(named)
    for opener, members in (bodies or {}).items():
        deps[opener] |= members & ids
    return deps


def definition_hashes(
    workflow: Workflow, salt: str = "", bodies: Mapping[str, frozenset[str]] | None = None
) -> dict[str, str]:
    """A content hash per node of its own definition chained over everything it depends on (Merkle-style).

    Equal hashes in two versions of a workflow mean the node would compute the same result from the
    same run inputs. Nodes on a cycle (a loop, or nodes naming each other) depend on each other's every
    pass, so each cycle is hashed as one: a change anywhere in a loop changes all of its nodes.
    ``salt`` stands for what every node may read besides (the run's inputs).
    """
    import networkx as nx  # only a re-run needs it; too slow an import for the app's start

    deps = _dependencies(workflow, bodies)
    graph = nx.DiGraph()
    graph.add_nodes_from(deps)
    graph.add_edges_from((source, target) for target, sources in deps.items() for source in sources)
    condensed = nx.condensation(graph)
    members: dict[int, list[str]] = {c: sorted(condensed.nodes[c]["members"]) for c in condensed.nodes}
    wiring: dict[str, list[tuple[Any, ...]]] = {}
    for edge in workflow.edges:
        loop = edge.loop.model_dump_json() if edge.loop is not None else ""
        wiring.setdefault(edge.target, []).append((edge.source, edge.source_port, edge.target_port, loop))
    by_id = {n.id: n for n in workflow.nodes}
    component_hash: dict[int, str] = {}
    for component in nx.topological_sort(condensed):
        upstream = sorted(component_hash[c] for c in condensed.predecessors(component))
        body = [(nid, own_definition(by_id[nid]), sorted(wiring.get(nid, []))) for nid in members[component]]
        text = json.dumps([salt, upstream, body], sort_keys=True, separators=(",", ":"))
        component_hash[component] = hashlib.blake2b(text.encode(), digest_size=16).hexdigest()
    mapping = condensed.graph["mapping"]
    return {nid: component_hash[mapping[nid]] for nid in deps}


def rerun_plan(
    current: Workflow, recorded: Workflow, results: RecordedResults, *, from_node: str,
    inputs_now: Mapping[str, Any], inputs_then: Mapping[str, Any], catalog: Catalog | None = None,
) -> RerunPlan:  # fmt: skip
    """What re-running ``current`` from ``from_node`` reuses of a run of ``recorded`` (its ``results``).

    A node's recorded result is reused when the node is not downstream of ``from_node`` and its
    definition hash is the same in both versions; any other node runs again.
    """
    if current.node(from_node) is None:
        raise KeyError(f"there is no node '{from_node}' in this workflow")
    bodies_now, bodies_then = _loop_bodies(current, catalog), _loop_bodies(recorded, catalog)
    now = definition_hashes(current, _salt(inputs_now), bodies_now)
    then = definition_hashes(recorded, _salt(inputs_then), bodies_then)
    # a body node runs only inside its for_each: re-running from it re-runs the whole loop
    from_node = next((opener for opener, members in bodies_now.items() if from_node in members), from_node)
    redone = downstream_of(current, from_node)
    same = {nid for nid, digest in now.items() if nid not in redone and then.get(nid) == digest}
    prior = finished_outcomes(results, set(now) - same)
    reused = tuple(sorted({key[0] for key in prior}))
    finished_then = {key[0] for key, (status, _) in results.items() if status in ("succeeded", "skipped")}
    changed = tuple(sorted(nid for nid in now if nid not in redone and nid not in same and nid in finished_then))
    return RerunPlan(prior, reused, changed)


def _loop_bodies(workflow: Workflow, catalog: Catalog | None) -> dict[str, frozenset[str]]:
    """Each for_each's body nodes (model/bodies.py); none without a catalog to tell the kinds."""
    if catalog is None or not has_bodies(workflow, catalog):
        return {}
    return {body.opener: body.nodes for body in find_bodies(workflow, catalog)}


def _salt(inputs: Mapping[str, Any]) -> str:
    return json.dumps(inputs, sort_keys=True, default=str)


# ---------------------------------------------------------------- child runs of a continued run
@dataclass(frozen=True)
class EarlierChild:
    """What the record holds of a sub-workflow or map item run started before the run was continued.

    ``outputs`` is set when that child run succeeded: it is reused whole, not run again. Otherwise
    ``prior`` holds its finished nodes' results, so it continues as a resumed run does.
    """

    outputs: Mapping[str, Any] | None = None
    usage: Usage = field(default_factory=Usage)
    """What it spent, to count again for its parent node only when the earlier total was lost (a kill)."""
    prior: Mapping[StepKey, PriorOutcome] = field(default_factory=dict)


class EarlierChildren(Protocol):
    """Looks up a child run by its id in the record of the run being continued (the store implements it)."""

    def earlier(self, child_id: str, inputs: Mapping[str, Any]) -> EarlierChild | None:
        """The child run recorded under ``child_id`` if it ran with these very ``inputs``; else None."""
        ...
