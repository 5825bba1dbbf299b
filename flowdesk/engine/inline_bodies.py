"""Running inline loop bodies: the run's own graph without them, and each body as a workflow.

A for_each node's body (the nodes between it and its collect, ``model/bodies.py``) runs once per
item, as a sub-run of the for_each node: so items run concurrently and in a bounded number, each
item's steps are journaled under a run of their own whose id names the item (``…item_3``), and a
resumed run reuses the items that had finished, all exactly as a map's items are.

Before the plan is compiled the workflow is split:

- the **outer** workflow has no body nodes; an edge the file does not hold (``<for_each>.results
  -> <collect>.items``) hands the for_each's list of results to the collect, which passes it on;
- each **body** workflow holds the for_each node (without inputs: inside the body it hands the
  item in), the body nodes and the collect (without outputs: inside the body it sets the item's
  result). Its run inputs are the outer run's (``run.inputs`` reads the same inside a body) plus
  the item and its index; ``loop.index0`` in a body is the item's index.

The validation that ``start_run`` does covers the whole file, bodies included, once.
"""

from __future__ import annotations

from flowdesk.model.bodies import Body, body_workflow_id, find_bodies
from flowdesk.model.kinds import ERROR_PORT, Catalog
from flowdesk.model.types import ValueType
from flowdesk.model.workflow import Edge, RunInput, Workflow
from flowdesk.nodes.runners.bodies import COLLECTED_PORT, INDEX_INPUT, ITEM_INPUT, RESULTS_PORT

INLINE_BODY = "<inline body>"
"""The workflow reference a for_each node's context asks the child runner for: its own body."""
_BODY_INPUTS = (
    RunInput(name=ITEM_INPUT, type=ValueType.ANY, required=False, description="The item of the list."),
    RunInput(name=INDEX_INPUT, type=ValueType.INTEGER, required=False, default=0, description="Its index (from 0)."),
)


def split_bodies(workflow: Workflow, catalog: Catalog) -> tuple[Workflow, dict[str, Workflow]]:
    """The outer workflow and each for_each's body workflow, by for_each id (see module docstring)."""
    bodies = [b for b in find_bodies(workflow, catalog) if b.closer is not None]
    if not bodies:
        return workflow, {}
    dropped: set[str] = set()
    for body in bodies:
        dropped |= body.nodes
    body_edges = {id(e) for b in bodies for e in _edges_of(workflow, b)}
    outer_edges = [e for e in workflow.edges if id(e) not in body_edges]
    for body in bodies:
        assert body.closer is not None
        outer_edges.append(
            Edge(id=f"{body.opener}__{RESULTS_PORT}", source=body.opener, source_port=RESULTS_PORT,
                 target=body.closer, target_port=COLLECTED_PORT)
        )  # fmt: skip
    outer = workflow.model_copy(
        update={"nodes": tuple(n for n in workflow.nodes if n.id not in dropped), "edges": tuple(outer_edges)}
    )
    return outer, {body.opener: _body_workflow(workflow, body) for body in bodies}


def _edges_of(workflow: Workflow, body: Body) -> list[Edge]:
    """Edges between the body's members: out of the opener or a body node, into a body node or the closer."""
    targets = body.nodes | {body.closer}
    return [
        e
        for e in workflow.edges
        if e.target in targets and (e.source in body.nodes or (e.source == body.opener and e.source_port != ERROR_PORT))
    ]


def _body_workflow(workflow: Workflow, body: Body) -> Workflow:
    """A copy, not a new model: its id (model/bodies.py ``body_workflow_id``) is not a file's id."""
    assert body.closer is not None
    members = body.nodes | {body.opener, body.closer}
    return workflow.model_copy(
        update={
            "id": body_workflow_id(workflow.id, body.opener, body.closer),
            "name": f"{workflow.name}: body of {body.opener}",
            "inputs": (*workflow.inputs, *_BODY_INPUTS),
            "nodes": tuple(n for n in workflow.nodes if n.id in members),
            "edges": tuple(_edges_of(workflow, body)),
        }
    )
