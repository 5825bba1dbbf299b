"""Every document command: what it does, that undo restores exactly, and what it refuses."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from flowdesk.model.commands import (
    AddNode,
    CommandRefused,
    Connect,
    Disconnect,
    Macro,
    MoveNodes,
    PasteFragment,
    RemoveNodes,
    Rename,
    ReplaceConfig,
    SetConfig,
    SetEdgeLoop,
    SetNodeOptions,
    SetWorkflowProps,
)
from flowdesk.model.document import (
    EdgeAdded,
    EdgeRemoved,
    NodeAdded,
    NodeChanged,
    NodeRemoved,
    NodesMoved,
    WorkflowChanged,
    WorkflowDocument,
)
from flowdesk.model.history import History
from flowdesk.model.workflow import LoopSettings, Node, Position, RetryPolicy, RunInput, Settings


def add(history: History, kind: str, x: float = 0.0, y: float = 0.0) -> str:
    command = AddNode.of_kind(history.doc, kind, (x, y))
    history.push(command)
    return command.node.id


def connect(history: History, src: str, sport: str, dst: str, dport: str, **kw: object) -> str:
    command = Connect(history.doc, src, sport, dst, dport, **kw)  # type: ignore[arg-type]
    history.push(command)
    return command.edge.id


def test_add_node_uses_kind_defaults_and_readable_ids(history: History) -> None:
    first, second = add(history, "llm"), add(history, "llm", 200, 10)
    doc = history.doc
    assert (first, second) == ("llm_1", "llm_2")
    node = doc.node(second)
    assert node.name == "LLM" and node.position.x == 200 and node.position.y == 10
    assert node.config["model"] == "offline:echo" and node.config["prompt"] == "{{ inputs.input }}"
    history.undo()
    assert not doc.has_node(second) and doc.has_node(first)
    history.redo()
    assert doc.node(second) == node


def test_add_unknown_kind_and_second_start_are_refused(history: History) -> None:
    with pytest.raises(CommandRefused, match="no node kind 'nope'"):
        AddNode.of_kind(history.doc, "nope")
    add(history, "start")
    with pytest.raises(CommandRefused, match="at most one Start"):
        AddNode.of_kind(history.doc, "start")


def test_remove_nodes_restores_exact_order_of_nodes_and_edges(history: History) -> None:
    doc = history.doc
    start, a, b, out = (
        add(history, "start"),
        add(history, "transform"),
        add(history, "transform"),
        add(history, "output"),
    )
    connect(history, start, "inputs", a, "input")
    connect(history, a, "output", b, "input")
    connect(history, b, "output", out, "value")
    connect(history, start, "inputs", b, "input", replace=True)  # replaces a->b, appended last
    before = doc.workflow
    history.push(RemoveNodes([b, start]))
    assert [n.id for n in doc.nodes] == [a, out]
    assert doc.edges == ()
    history.undo()
    assert doc.workflow == before
    assert [n.id for n in doc.nodes] == [start, a, b, out]
    assert [e.id for e in doc.edges] == [e.id for e in before.edges]


def test_remove_missing_node_is_refused(history: History) -> None:
    with pytest.raises(CommandRefused, match="no node 'ghost'"):
        history.push(RemoveNodes(["ghost"]))


def test_move_nodes_is_one_step(history: History) -> None:
    a, b = add(history, "transform"), add(history, "transform", 100, 0)
    history.push(MoveNodes(history.doc, {a: (10, 20), b: (300, 40)}))
    assert history.doc.node(a).position.y == 20 and history.doc.node(b).position.x == 300
    history.undo()
    assert history.doc.node(a).position.x == 0 and history.doc.node(b).position.x == 100


def test_a_move_of_many_nodes_is_announced_once_and_undone_exactly(history: History) -> None:
    doc: WorkflowDocument = history.doc
    ids = [add(history, "transform", 10.0 * i, 3.0 * i) for i in range(50)]
    connect(history, ids[0], "output", ids[1], "input")
    before = doc.workflow
    heard: list[object] = []
    doc.subscribe(heard.append)
    moved = {node_id: (doc.node(node_id).position.x + 0.1, doc.node(node_id).position.y - 7.3) for node_id in ids}
    moved[ids[5]] = (doc.node(ids[5]).position.x, doc.node(ids[5]).position.y)  # asked, but stays where it is
    history.push(MoveNodes(doc, moved))
    (change,) = heard
    assert isinstance(change, NodesMoved)
    assert change.node_ids == [i for i in ids if i != ids[5]]
    for old, new in change.moves:
        assert old == before.nodes[ids.index(old.id)] and new == doc.node(new.id)
        assert (new.position.x, new.position.y) == moved[new.id]
        assert new.model_copy(update={"position": old.position}) == old  # nothing but the place changed
    history.undo()
    assert doc.workflow == before  # every position back exactly, nothing else touched
    assert [type(c) for c in heard] == [NodesMoved, NodesMoved]
    history.redo()
    assert [(n.position.x, n.position.y) for n in doc.nodes] == [moved[i] for i in ids]
    assert doc.edges == before.edges


def test_a_moved_node_is_the_model_copy_with_the_new_position_and_still_frozen() -> None:
    """``Node.at`` (the lean copy a move makes thousands of) gives what pydantic's copy would: the same
    fields, the same fields set (so a saved file lists the same keys), and a model that refuses edits."""
    node = Node(id="n1", kind="transform", name="N", config={"expression": "1"}, breakpoint=True)
    place = Position(x=12.5, y=-3.0)
    moved = node.at(place)
    expected = node.model_copy(update={"position": place})
    assert moved == expected and moved.position is place and moved.config is node.config
    assert moved.model_fields_set == expected.model_fields_set
    assert moved.model_dump_json(exclude_unset=True) == expected.model_dump_json(exclude_unset=True)
    assert node.position == Position()  # the original is untouched
    with pytest.raises(ValidationError):
        moved.name = "edited"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("wire", "reason"),
    [
        (("t1", "output", "t1", "input"), "cannot be connected to itself"),
        (("t1", "nope", "t2", "input"), "has no output 'nope'"),
        (("t1", "output", "t2", "nope"), "has no input 'nope'"),
        (("ghost", "output", "t2", "input"), "no node 'ghost'"),
        (("llm", "text", "map", "items"), "a string output cannot feed an array input"),
    ],
)
def test_connect_refuses_invalid_wires_with_reason(
    history: History, wire: tuple[str, str, str, str], reason: str
) -> None:
    for kind, nid in (("transform", "t1"), ("transform", "t2"), ("llm", "llm"), ("map", "map")):
        command = AddNode.of_kind(history.doc, kind)
        history.push(AddNode(command.node.model_copy(update={"id": nid})))
    with pytest.raises(CommandRefused, match=reason):
        Connect(history.doc, *wire)
    assert history.doc.edges == ()


def test_connect_refuses_occupied_input_unless_replacing(history: History) -> None:
    a, b, c = add(history, "transform"), add(history, "transform"), add(history, "transform")
    first = connect(history, a, "output", c, "input")
    with pytest.raises(CommandRefused, match="already has a wire"):
        Connect(history.doc, b, "output", c, "input")
    second = connect(history, b, "output", c, "input", replace=True)
    assert [e.id for e in history.doc.edges] == [second]
    history.undo()
    assert [e.id for e in history.doc.edges] == [first]


def test_connect_refuses_cycles_but_accepts_loop_edges_back(history: History) -> None:
    a, b, c = add(history, "transform"), add(history, "condition"), add(history, "transform")
    connect(history, a, "output", b, "value")
    connect(history, b, "false", c, "input")
    with pytest.raises(CommandRefused, match="cycle"):
        Connect(history.doc, c, "output", a, "input")
    loop = connect(history, c, "output", a, "input", loop=LoopSettings(max_iterations=3))
    assert history.doc.edge(loop).is_loop


def test_an_input_takes_one_wire_and_one_loop_edge(history: History) -> None:
    start, review, cond, fix = (
        add(history, "start"),
        add(history, "llm"),
        add(history, "condition"),
        add(history, "llm"),
    )
    connect(history, start, "inputs", review, "input")
    connect(history, review, "text", cond, "value")
    connect(history, cond, "false", fix, "input")
    connect(history, fix, "text", review, "input", loop=LoopSettings(max_iterations=3))
    with pytest.raises(CommandRefused, match="already has a loop edge"):
        Connect(history.doc, cond, "false", review, "input", loop=LoopSettings(max_iterations=2))


def test_loop_edge_must_lead_back(history: History) -> None:
    a, b = add(history, "transform"), add(history, "transform")
    with pytest.raises(CommandRefused, match="must lead back"):
        Connect(history.doc, a, "output", b, "input", loop=LoopSettings(max_iterations=2))


def test_disconnect_and_undo(history: History) -> None:
    a, b = add(history, "transform"), add(history, "transform")
    edge = connect(history, a, "output", b, "input")
    history.push(Disconnect([edge]))
    assert history.doc.edges == ()
    history.undo()
    assert history.doc.edge(edge).source == a
    with pytest.raises(CommandRefused, match="no edge"):
        history.push(Disconnect(["e_99"]))


def test_set_edge_loop(history: History) -> None:
    a, b = add(history, "transform"), add(history, "transform")
    connect(history, a, "output", b, "input")
    loop = connect(history, b, "output", a, "input", loop=LoopSettings(max_iterations=2))
    history.push(SetEdgeLoop(history.doc, loop, LoopSettings(max_iterations=5, until="inputs.input > 3")))
    assert history.doc.edge(loop).loop == LoopSettings(max_iterations=5, until="inputs.input > 3")
    history.undo()
    assert history.doc.edge(loop).loop == LoopSettings(max_iterations=2)


def test_set_config_typing_burst_is_one_undo_step(history: History) -> None:
    node = add(history, "llm")
    for text in ("H", "He", "Hel", "Hello"):
        history.push(SetConfig(history.doc, node, {"prompt": text}))
    history.push(SetConfig(history.doc, node, {"temperature": 0.1}))
    assert history.labels[-2:] == ["Edit prompt of LLM", "Edit temperature of LLM"]
    history.undo()
    assert history.doc.node(node).config["prompt"] == "Hello"
    history.undo()
    assert history.doc.node(node).config["prompt"] == "{{ inputs.input }}"


def test_saving_breaks_a_typing_burst(history: History) -> None:
    node = add(history, "llm")
    history.push(SetConfig(history.doc, node, {"prompt": "a"}))
    history.set_clean()
    history.push(SetConfig(history.doc, node, {"prompt": "ab"}))
    history.undo()
    assert history.doc.node(node).config["prompt"] == "a" and history.is_clean


def test_config_change_that_removes_ports_takes_their_wires_along(history: History) -> None:
    switch, sink = add(history, "switch"), add(history, "transform")
    edge = connect(history, switch, "b", sink, "input")
    history.push(SetConfig(history.doc, switch, {"cases": ["a", "c"]}))
    assert not history.doc.has_edge(edge)
    history.undo()
    assert history.doc.node(switch).config["cases"] == ["a", "b"] and history.doc.has_edge(edge)


def test_replace_config(history: History) -> None:
    node = add(history, "delay")
    history.push(ReplaceConfig(history.doc, node, {"seconds": 3}))
    assert history.doc.node(node).config == {"seconds": 3}
    history.undo()
    assert history.doc.node(node).config == {"seconds": 1.0}


def test_rename(history: History) -> None:
    node = add(history, "llm")
    history.push(Rename(history.doc, node, "Reviewer"))
    assert history.doc.node(node).title == "Reviewer"
    history.undo()
    assert history.doc.node(node).name == "LLM"


def test_node_options_error_port_appears_and_its_wires_go_when_it_does(history: History) -> None:
    http, sink = add(history, "http"), add(history, "transform")
    with pytest.raises(CommandRefused, match="has no output 'error'"):
        Connect(history.doc, http, "error", sink, "input")
    history.push(SetNodeOptions(history.doc, http, on_error="continue", retry=RetryPolicy(max_attempts=3), timeout_s=5))
    edge = connect(history, http, "error", sink, "input")
    history.push(SetNodeOptions(history.doc, http, on_error="fail"))
    assert not history.doc.has_edge(edge)
    history.undo()
    assert history.doc.has_edge(edge) and history.doc.node(http).retry.max_attempts == 3


def test_node_options_are_checked(history: History) -> None:
    node = add(history, "http")
    with pytest.raises(CommandRefused, match="timeout_s"):
        SetNodeOptions(history.doc, node, timeout_s=-1)
    with pytest.raises(CommandRefused, match="not a node option"):
        SetNodeOptions(history.doc, node, kind="llm")


def test_workflow_props(history: History) -> None:
    history.push(
        SetWorkflowProps(
            history.doc, name="Review", inputs=(RunInput(name="code"),), settings=Settings(max_concurrency=2)
        )
    )
    wf = history.doc.workflow
    assert (wf.name, wf.inputs[0].name, wf.settings.max_concurrency) == ("Review", "code", 2)
    history.undo()
    assert history.doc.workflow.name == "Test" and history.doc.workflow.inputs == ()
    with pytest.raises(CommandRefused, match="max_concurrency"):
        SetWorkflowProps(history.doc, settings={"max_concurrency": 0})


def test_typing_a_workflow_name_is_one_undo_step(history: History) -> None:
    for typed in ("R", "Re", "Review"):
        history.push(SetWorkflowProps(history.doc, name=typed))
    history.push(SetWorkflowProps(history.doc, description="checks code"))
    history.undo()
    assert history.doc.workflow.name == "Review" and history.doc.workflow.description == ""
    history.undo()
    assert history.doc.workflow.name == "Test"
    history.push(SetWorkflowProps(history.doc, settings={"max_concurrency": 3}))
    history.push(SetWorkflowProps(history.doc, settings={"max_concurrency": 4}))
    history.undo()  # a settings change is a step of its own, not a typing burst
    assert history.doc.workflow.settings.max_concurrency == 3


def test_macro_records_dependent_steps_as_one_undo(history: History) -> None:
    doc = history.doc
    a, b = add(history, "transform"), add(history, "transform", 400, 0)
    edge = connect(history, a, "output", b, "input")
    before = doc.workflow

    def insert(run) -> None:  # type: ignore[no-untyped-def]
        added = AddNode.of_kind(doc, "delay", (200, 0))
        run(added)
        run(Disconnect([edge]))
        run(Connect(doc, a, "output", added.node.id, "value"))
        run(Connect(doc, added.node.id, "value", b, "input"))

    history.push(Macro.record(doc, "Insert Delay", insert))
    assert len(doc.nodes) == 3 and len(doc.edges) == 2
    history.undo()
    assert doc.workflow == before
    history.redo()
    assert len(doc.nodes) == 3 and {e.target for e in doc.edges} == {"delay_1", b}


def test_macro_rolls_back_when_a_step_fails(history: History) -> None:
    doc = history.doc
    before = doc.workflow

    def broken(run) -> None:  # type: ignore[no-untyped-def]
        run(AddNode.of_kind(doc, "transform"))
        run(Connect(doc, "transform_1", "output", "ghost", "input"))

    with pytest.raises(CommandRefused):
        Macro.record(doc, "Broken", broken)
    assert doc.workflow == before


def test_paste_fragment_remaps_ids_and_keeps_internal_edges(history: History) -> None:
    doc = history.doc
    start, a, b = add(history, "start"), add(history, "transform"), add(history, "transform")
    connect(history, start, "inputs", a, "input")
    inner = connect(history, a, "output", b, "input")
    nodes = [doc.node(i) for i in (start, a, b)]
    paste = PasteFragment(doc, nodes, [doc.edge(e.id) for e in doc.edges], offset=(50, 0))
    history.push(paste)
    assert paste.skipped == ["Start"]
    assert paste.created_node_ids == ["transform_3", "transform_4"]
    new_edges = [e for e in doc.edges if e.source in paste.created_node_ids]
    assert len(new_edges) == 1 and new_edges[0].id != inner
    assert (new_edges[0].source, new_edges[0].target) == ("transform_3", "transform_4")
    assert doc.node("transform_3").position.x == doc.node(a).position.x + 50
    history.undo()
    assert [n.id for n in doc.nodes] == [start, a, b] and len(doc.edges) == 2


def test_listeners_hear_every_change_in_order(history: History) -> None:
    doc: WorkflowDocument = history.doc
    heard: list[object] = []
    unsubscribe = doc.subscribe(heard.append)
    a, b = add(history, "transform"), add(history, "transform")
    connect(history, a, "output", b, "input")
    history.push(Rename(doc, a, "First"))
    history.push(SetWorkflowProps(doc, name="Renamed"))
    history.push(RemoveNodes([a]))
    kinds = [type(c) for c in heard]
    assert kinds == [NodeAdded, NodeAdded, EdgeAdded, NodeChanged, WorkflowChanged, EdgeRemoved, NodeRemoved]
    unsubscribe()
    history.undo()
    assert len(heard) == 7


def test_a_batch_tells_its_listeners_once_when_the_outermost_one_ends(history: History) -> None:
    doc: WorkflowDocument = history.doc
    a, b = add(history, "transform"), add(history, "transform")
    heard: list[str] = []
    doc.subscribe(lambda change: heard.append(f"{type(change).__name__} in batch={doc.in_batch}"))
    unsubscribe = doc.subscribe_batch_end(lambda: heard.append(f"end in batch={doc.in_batch}"))
    with doc.batch():
        with doc.batch():
            MoveNodes(doc, {a: (10, 10), b: (20, 20)}).do(doc)
        assert heard[-1] != "end in batch=False", "an inner batch does not end the edit"
    assert heard == ["NodesMoved in batch=True", "end in batch=False"]
    with pytest.raises(CommandRefused), doc.batch():
        raise CommandRefused("refused half way")
    assert heard[-1] == "end in batch=False" and not doc.in_batch, "a failed edit still ends its batch"
    unsubscribe()
    with doc.batch():
        pass
    assert len(heard) == 3


def test_a_move_by_an_offset_moves_each_node_by_it_and_undoes_exactly(history: History) -> None:
    """``MoveNodes.by`` (an arrow-key nudge) is the move to each position plus the offset."""
    doc: WorkflowDocument = history.doc
    ids = [add(history, "transform", 10.1 * i, -3.3 * i) for i in range(4)]
    before = doc.workflow
    by = MoveNodes.by(doc, ids[1:], 0.1, -10.0)
    expected = MoveNodes(doc, {i: (doc.node(i).position.x + 0.1, doc.node(i).position.y - 10.0) for i in ids[1:]})
    history.push(by)
    assert (by.new, by.old, by.label) == (expected.new, expected.old, "Move 3 nodes")
    assert [(n.position.x, n.position.y) for n in doc.nodes[1:]] == [(p.x, p.y) for p in expected.new.values()]
    assert doc.node(ids[0]) == before.nodes[0]
    history.undo()
    assert doc.workflow == before  # bit for bit: the old positions are kept, not computed back
    history.redo()
    assert [(n.position.x, n.position.y) for n in doc.nodes[1:]] == [(p.x, p.y) for p in expected.new.values()]
    assert MoveNodes.by(doc, ids[:1], 1.0, 0.0).label == "Move node"


def test_a_move_by_an_offset_past_floats_range_is_refused_with_nothing_moved(history: History) -> None:
    doc: WorkflowDocument = history.doc
    near, far_out = add(history, "transform", 1.0, 0.0), add(history, "transform", 1.7e308, 0.0)
    before, heard = doc.workflow, []
    doc.subscribe(heard.append)
    with pytest.raises(CommandRefused, match="cannot be moved"):
        history.push(MoveNodes.by(doc, [near, far_out], 1e308, 0.0))  # the second one's x overflows
    assert doc.workflow == before and doc.node(near) is before.nodes[0] and heard == []
    assert history.undo() is not None and doc.node_count == 1  # the last step is still the second node added
