"""Random sequences of edits, undos and redos never desynchronise the document or a projection of it.

The projection here is a plain mirror maintained only from change notifications, exactly as the
canvas is; after every step it must equal the document, and undoing everything must give back the
starting workflow byte for byte.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from index_support import index_agrees_with_scan  # tests/model is on sys.path (no __init__ files)

from flowdesk.model.commands import (
    AddNode,
    CommandRefused,
    Connect,
    Disconnect,
    MoveNodes,
    PasteFragment,
    RemoveNodes,
    Rename,
    SetConfig,
    SetNodeOptions,
)
from flowdesk.model.document import (
    Change,
    EdgeAdded,
    EdgeChanged,
    EdgeRemoved,
    NodeAdded,
    NodeChanged,
    NodeRemoved,
    NodesMoved,
    WorkflowDocument,
)
from flowdesk.model.history import History
from flowdesk.model.workflow import LoopSettings, Workflow
from flowdesk.nodes.registry import builtin_registry

KINDS = ["transform", "condition", "merge", "llm", "delay", "switch", "output"]


class Mirror:
    """What a canvas keeps: items by id, updated only from notifications."""

    def __init__(self, doc: WorkflowDocument) -> None:
        self.nodes = {n.id: n for n in doc.nodes}
        self.edges = {e.id: e for e in doc.edges}
        doc.subscribe(self.apply)

    def apply(self, change: Change) -> None:
        match change:
            case NodeAdded(node=node):
                assert node.id not in self.nodes
                self.nodes[node.id] = node
            case NodeRemoved(node=node):
                assert not any(node.id in (e.source, e.target) for e in self.edges.values()), "edge outlived node"
                del self.nodes[node.id]
            case NodeChanged(new=node):
                self.nodes[node.id] = node
            case NodesMoved(moves=moves):
                for old, new in moves:
                    assert self.nodes[old.id] == old, "a move from somewhere the mirror never saw"
                    assert new.model_copy(update={"position": old.position}) == old, "a move changed more"
                    self.nodes[new.id] = new
            case EdgeAdded(edge=edge):
                assert edge.source in self.nodes and edge.target in self.nodes, "edge before its nodes"
                self.edges[edge.id] = edge
            case EdgeRemoved(edge=edge):
                del self.edges[edge.id]
            case EdgeChanged(new=edge):
                self.edges[edge.id] = edge

    def matches(self, doc: WorkflowDocument) -> bool:
        index_agrees_with_scan(doc)  # the document's own index of its wires never drifts either
        return self.nodes == {n.id: n for n in doc.nodes} and self.edges == {e.id: e for e in doc.edges}


def _random_edit(doc: WorkflowDocument, data: st.DataObject):  # type: ignore[no-untyped-def]
    node_ids = [n.id for n in doc.nodes]
    op = data.draw(
        st.sampled_from(
            [
                "add",
                "add",
                "connect",
                "connect",
                "loop",
                "remove",
                "move",
                "config",
                "rename",
                "options",
                "disconnect",
                "paste",
            ]
        )
    )
    if op == "add" or not node_ids:
        kind = data.draw(st.sampled_from(KINDS))
        return AddNode.of_kind(doc, kind, (data.draw(st.integers(-500, 500)), 0))
    pick = st.sampled_from(node_ids)
    if op in ("connect", "loop"):
        src, dst = data.draw(pick), data.draw(pick)
        outs, ins = doc.ports(src).outputs, doc.ports(dst).inputs
        if not outs or not ins:
            return None
        loop = LoopSettings(max_iterations=3) if op == "loop" else None
        return Connect(
            doc,
            src,
            data.draw(st.sampled_from(outs)).name,
            dst,
            data.draw(st.sampled_from(ins)).name,
            loop,
            replace=data.draw(st.booleans()),
        )
    if op == "remove":
        return RemoveNodes(data.draw(st.lists(pick, min_size=1, max_size=3)))
    if op == "move":
        return MoveNodes(doc, {data.draw(pick): (data.draw(st.integers(-900, 900)), data.draw(st.integers(-900, 900)))})
    if op == "rename":
        return Rename(doc, data.draw(pick), data.draw(st.text(max_size=12)))
    if op == "options":
        return SetNodeOptions(
            doc,
            data.draw(pick),
            on_error=data.draw(st.sampled_from(["fail", "continue"])),
            breakpoint=data.draw(st.booleans()),
        )
    if op == "disconnect":
        return Disconnect([data.draw(st.sampled_from([e.id for e in doc.edges]))]) if doc.edges else None
    if op == "paste":
        chosen = set(data.draw(st.lists(pick, min_size=1, max_size=4)))
        return PasteFragment(doc, [n for n in doc.nodes if n.id in chosen], doc.edges)
    node = doc.node(data.draw(pick))
    if node.kind == "switch":
        return SetConfig(doc, node.id, {"cases": data.draw(st.sampled_from([["a"], ["a", "b"], ["b", "c", "d"]]))})
    if node.kind == "merge":
        return SetConfig(doc, node.id, {"inputs": data.draw(st.integers(2, 4))})
    return SetNodeOptions(doc, node.id, timeout_s=data.draw(st.sampled_from([None, 1.0, 30.0])))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_random_edits_undo_redo_keep_projection_in_sync(data: st.DataObject) -> None:
    doc = WorkflowDocument(Workflow(id="wf_random"), builtin_registry())
    mirror = Mirror(doc)
    history = History(doc)
    initial = doc.workflow
    for _ in range(data.draw(st.integers(1, 25))):
        action = data.draw(st.sampled_from(["edit", "edit", "edit", "undo", "redo"]))
        if action == "undo":
            history.undo()
        elif action == "redo":
            history.redo()
        else:
            try:
                command = _random_edit(doc, data)
            except CommandRefused:
                command = None
            if command is not None:
                history.push(command)
        assert mirror.matches(doc)
    while history.redo():  # go to the tip of the history, so "redo everything" has a target
        assert mirror.matches(doc)
    final = doc.workflow
    while history.undo():
        assert mirror.matches(doc)
    assert doc.workflow == initial
    while history.redo():
        assert mirror.matches(doc)
    assert doc.workflow == final
