"""Inserting a node into a wire: which nodes fit, and the one undo step it makes."""

from __future__ import annotations

from collections.abc import Callable

from flowdesk.model.commands import AddNode, Command, Connect, Macro
from flowdesk.model.edge_insert import ROOM_GAP, insert_on_edge, insertion_ports, room_for
from flowdesk.model.history import History
from flowdesk.model.workflow import LoopSettings


def add(history: History, kind: str) -> str:
    command = AddNode.of_kind(history.doc, kind)
    history.push(command)
    return command.node.id


def wire(history: History, src: str, sport: str, dst: str, dport: str, **kw: object) -> str:
    command = Connect(history.doc, src, sport, dst, dport, **kw)  # type: ignore[arg-type]
    history.push(command)
    return command.edge.id


def test_a_node_goes_into_a_wire_as_one_undo_step(history: History) -> None:
    doc = history.doc
    start, out, middle = add(history, "start"), add(history, "output"), add(history, "transform")
    edge = wire(history, start, "inputs", out, "value")
    before = doc.workflow

    def build(run: Callable[[Command], None]) -> None:
        assert insert_on_edge(doc, middle, edge, run)

    history.push(Macro.record(doc, "Insert", build))
    assert sorted((e.source, e.source_port, e.target, e.target_port) for e in doc.edges) == [
        (start, "inputs", middle, "input"),
        (middle, "output", out, "value"),
    ]
    history.undo()
    assert doc.workflow == before


def test_only_a_fitting_unconnected_node_and_a_forward_wire_between_others(history: History) -> None:
    doc = history.doc
    start, out, middle = add(history, "start"), add(history, "output"), add(history, "transform")
    edge = wire(history, start, "inputs", out, "value")
    mapper = add(history, "map")  # wants an array; the start node sends an object
    assert insertion_ports(doc, mapper, edge) is None
    assert insertion_ports(doc, start, edge) is None  # one of its own ends
    assert insertion_ports(doc, middle, edge) == ("input", "output")
    other = add(history, "transform")
    wire(history, middle, "output", other, "input")
    assert insertion_ports(doc, middle, edge) is None  # already wired: not rewired behind one's back
    assert insertion_ports(doc, other, "no_such_edge") is None


def test_a_loop_edge_takes_no_node(history: History) -> None:
    doc = history.doc
    a, b, spare = add(history, "transform"), add(history, "transform"), add(history, "transform")
    wire(history, a, "output", b, "input")
    loop = wire(history, b, "output", a, "input", loop=LoopSettings(max_iterations=3))
    assert insertion_ports(doc, spare, loop) is None


def test_inserting_into_a_tight_chain_slides_the_rest_right_in_the_same_step(history: History) -> None:
    """A -> B -> C 200 apart, a 180-wide card dropped at A + 100: B and C (not A, not the loop's source) move."""
    doc = history.doc
    ids = []
    for kind, x in (("start", 0), ("transform", 200), ("transform", 400)):
        command = AddNode.of_kind(doc, kind, (x, 0))
        history.push(command)
        ids.append(command.node.id)
    a, b, c = ids
    edge = wire(history, a, "inputs", b, "input")
    wire(history, b, "output", c, "input")
    wire(history, c, "output", b, "input", loop=LoopSettings(max_iterations=2))  # a loop back must not matter
    middle = AddNode.of_kind(doc, "transform", (100, 80))
    history.push(middle)
    before = doc.workflow

    def build(run: Callable[[Command], None]) -> None:
        assert insert_on_edge(doc, middle.node.id, edge, run, size_of=lambda _n: (180.0, 60.0))

    history.push(Macro.record(doc, "Insert", build))
    shift = 100 + 180 + ROOM_GAP - 200  # the card's right edge plus the gap, past B's left edge
    assert doc.node(b).position.x == 200 + shift and doc.node(c).position.x == 400 + shift
    assert doc.node(a).position.x == 0 and doc.node(middle.node.id).position.x == 100
    history.undo()
    assert doc.workflow == before


def test_no_card_moves_when_there_is_room(history: History) -> None:
    doc = history.doc
    start, out = AddNode.of_kind(doc, "start", (0, 0)), AddNode.of_kind(doc, "output", (800, 0))
    for command in (start, out):
        history.push(command)
    edge = wire(history, start.node.id, "inputs", out.node.id, "value")
    middle = add(history, "transform")
    assert room_for(doc, middle, edge, lambda _n: (180.0, 60.0)) == {}


def test_the_shift_keeps_cards_on_the_grid(history: History) -> None:
    doc = history.doc
    start, out = AddNode.of_kind(doc, "start", (0, 0)), AddNode.of_kind(doc, "output", (200, 0))
    for command in (start, out):
        history.push(command)
    edge = wire(history, start.node.id, "inputs", out.node.id, "value")
    middle = add(history, "transform")  # at (0, 0)
    ((x, _y),) = room_for(doc, middle, edge, lambda _n: (173.0, 60.0)).values()
    assert x % 10 == 0 and x >= 173 + ROOM_GAP
