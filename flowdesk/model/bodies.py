"""Inline loop bodies: the nodes between a ``for_each`` and its ``collect``, run once per item.

Why the body lives on the canvas, between two nodes, rather than as a sub-graph tucked into the
for_each's config: its nodes are ordinary nodes of the same file, so they are edited with every
tool the canvas has (wiring, the inspector, undo, copy and paste, validation naming the node), seen
in place next to what feeds and reads the loop, and they diff in git like any other node — a
nested graph in a config would be a JSON blob that only a special editor could open and whose
changes read as one long line. The opener and the closer bracket the body visibly.

A body is found from the graph alone: the nodes reachable forward from the opener (a kind whose
spec says ``body="opens"``) up to the first closer (``body="closes"``). It must be closed: its
nodes take their inputs from the opener or each other and send their outputs to each other or to
the closer, so that each item's run is self-contained. The engine runs the body as one sub-run
per item (``flowdesk.engine.inline_bodies``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from flowdesk.model.kinds import ERROR_PORT, Catalog
from flowdesk.model.problems import Problem
from flowdesk.model.validation_context import OUTPUT_KIND, ValidationContext
from flowdesk.model.workflow import Edge, Workflow


@dataclass(frozen=True)
class Body:
    """One for_each's body: the opener, the closer (None when none was reached) and the nodes between."""

    opener: str
    closer: str | None
    nodes: frozenset[str]
    problems: tuple[Problem, ...] = ()


def body_workflow_id(workflow_id: str, opener: str, closer: str) -> str:
    """The id of the workflow each item of a body runs (``engine/inline_bodies.py``). A '/' never
    appears in a real id, so a run's view tells an item's sub-run from a sub-workflow's, and which
    of its nodes are the brackets (``engine/readmodel.py`` shows the body's nodes on the canvas)."""
    return f"{workflow_id}/{opener}/{closer}"


def brackets_of(body_workflow: str, workflow_id: str) -> tuple[str, str] | None:
    """(opener, closer) when ``body_workflow`` is the id of a body of workflow ``workflow_id``."""
    prefix = workflow_id + "/"
    if not body_workflow.startswith(prefix):
        return None
    parts = body_workflow[len(prefix) :].split("/")
    return (parts[0], parts[1]) if len(parts) == 2 else None


def body_role(kind: str, catalog: Catalog) -> str | None:
    spec = catalog.get(kind)
    return spec.body if spec is not None else None


def has_bodies(workflow: Workflow, catalog: Catalog) -> bool:
    return any(body_role(node.kind, catalog) == "opens" for node in workflow.nodes)


def find_bodies(workflow: Workflow, catalog: Catalog) -> list[Body]:
    """Every opener's body, with the problems that keep it from running (see module docstring)."""
    roles = {node.id: body_role(node.kind, catalog) for node in workflow.nodes}
    forward = [e for e in workflow.edges if e.loop is None and e.source in roles and e.target in roles]
    outgoing: dict[str, list[Edge]] = {}
    for e in forward:
        outgoing.setdefault(e.source, []).append(e)
    bodies = []
    for opener, role in roles.items():
        if role == "opens":
            bodies.append(_body_of(opener, roles, outgoing, workflow))
    return bodies


def _body_of(opener: str, roles: dict[str, str | None], outgoing: dict[str, list[Edge]], wf: Workflow) -> Body:
    inside: set[str] = set()
    closers: set[str] = set()
    frontier = [opener]
    while frontier:
        current = frontier.pop()
        for e in outgoing.get(current, ()):
            if current == opener and e.source_port == ERROR_PORT:
                continue  # the for-each's own failure, sent on (on_error: continue), is not part of its body
            target = e.target
            if roles[target] == "closes":
                closers.add(target)
            elif target not in inside and target != opener:
                inside.add(target)
                frontier.append(target)
    title = _title(wf, opener)
    problems = list(_shape_problems(opener, title, inside, closers, roles))
    closer = next(iter(closers)) if len(closers) == 1 else None
    if closer is not None:
        problems += _leaks(wf, opener, closer, inside, title)
    return Body(opener, closer, frozenset(inside), tuple(problems))


def _shape_problems(
    opener: str, title: str, inside: set[str], closers: set[str], roles: dict[str, str | None]
) -> Iterator[Problem]:
    if not closers:
        text = f"{title}: its body never reaches a 'collect' node; end the body with one (it gathers the results)."
        yield Problem("error", "body-not-closed", text, node_id=opener)
    elif len(closers) > 1:
        names = ", ".join(sorted(closers))
        text = f"{title}: its body reaches {len(closers)} 'collect' nodes ({names}); it must end in exactly one."
        yield Problem("error", "body-not-closed", text, node_id=opener)
    nested = sorted(n for n in inside if roles[n] == "opens")
    if nested:
        text = f"{title}: a for-each inside another's body ({', '.join(nested)}) is not supported yet."
        yield Problem("error", "body-leaks", text, node_id=nested[0])


def _leaks(wf: Workflow, opener: str, closer: str, inside: set[str], title: str) -> list[Problem]:
    """Edges that cross the body's border other than through the opener and the closer."""
    problems = []
    members = inside | {opener, closer}
    for e in wf.edges:
        into = e.target in inside or (e.target == closer)
        out_of = e.source in inside
        if (into or out_of) and e.source in members and e.target in members and not _within(e, opener, closer, inside):
            text = f"{title}: edge {e.id} runs backwards across the loop body ('{e.source}' to '{e.target}')."
            problems.append(Problem("error", "body-leaks", text, edge_id=e.id))
        elif into and e.source not in members:
            text = (
                f"{title}: edge {e.id} brings '{e.source}' into the loop body from outside; a body node takes"
                " its values from the for-each's item or from other body nodes (and can read the run's"
                " inputs: run.inputs)."
            )
            problems.append(Problem("error", "body-leaks", text, edge_id=e.id))
        elif out_of and e.target not in members:
            text = (
                f"{title}: edge {e.id} leaves the loop body for '{e.target}'; a body's results go out"
                " through its 'collect' node."
            )
            problems.append(Problem("error", "body-leaks", text, edge_id=e.id))
        elif e.source in members and e.target in inside and _kind(wf, e.target) == OUTPUT_KIND:
            text = (
                f"{title}: output node '{e.target}' is inside the loop body (everything after the for-each up to"
                " its 'collect'), where it would only set each item's own result; take the results from the"
                " 'collect' node instead."
            )
            problems.append(Problem("error", "body-leaks", text, node_id=e.target, edge_id=e.id))
    return problems


def _within(e: Edge, opener: str, closer: str, inside: set[str]) -> bool:
    """An edge the body run holds: from the for-each's item or a body node, to a body node or the collect."""
    from_ok = e.source in inside or (e.source == opener and e.source_port != ERROR_PORT)
    return from_ok and (e.target in inside or e.target == closer)


def _kind(wf: Workflow, node_id: str) -> str | None:
    node = wf.node(node_id)
    return node.kind if node is not None else None


def _title(wf: Workflow, node_id: str) -> str:
    node = wf.node(node_id)
    return f"'{node.title}' ({node_id})" if node is not None and node.name else f"'{node_id}'"


def body_problems(ctx: ValidationContext) -> Iterator[Problem]:
    """The validation rule: every for_each's body closed by exactly one collect, nothing leaking."""
    if not any(spec is not None and spec.body is not None for spec in ctx.specs.values()):
        return
    bodies = find_bodies(ctx.workflow, ctx.catalog)
    for body in bodies:
        yield from body.problems
    yield from orphan_closers(ctx.workflow, ctx.catalog, bodies)


def orphan_closers(workflow: Workflow, catalog: Catalog, bodies: list[Body]) -> Iterator[Problem]:
    closed = {b.closer for b in bodies}
    for node in workflow.nodes:
        if body_role(node.kind, catalog) == "closes" and node.id not in closed:
            text = f"'{node.title}' ({node.id}) collects nothing: connect it after the body of a 'for_each' node."
            yield Problem("error", "body-not-closed", text, node_id=node.id)
