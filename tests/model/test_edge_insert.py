"""Inserting a node into a wire: which nodes fit, and the one undo step it makes."""

from __future__ import annotations

from collections.abc import Callable

from flowdesk.model.commands import AddNode, Command, Connect, Macro
from flowdesk.model.edge_insert import insert_on_edge, insertion_ports
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
