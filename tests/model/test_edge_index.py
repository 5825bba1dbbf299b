"""The document's wire index: it answers as a scan of every edge would, and adding costs the same at any size.

Sizes are compared by the Python lines a command executes (traced), never by a clock: a count is
the same on a loaded machine, and a scan of every edge shows up in it as lines per edge.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from types import FrameType
from typing import Any

import pytest
from index_support import index_agrees_with_scan  # tests/model is on sys.path (no __init__ files)

from flowdesk.model.commands import AddNode, Connect, Disconnect, MoveNodes, RemoveNodes, SetConfig, SetNodeOptions
from flowdesk.model.document import WorkflowDocument
from flowdesk.model.history import History
from flowdesk.model.workflow import Edge, LoopSettings, Node, Position, Workflow
from flowdesk.nodes.registry import builtin_registry


def chain_of(size: int) -> Workflow:
    """``size`` transforms wired one after another, as a long imported pipeline is."""
    nodes = tuple(Node(id=f"t_{i}", kind="transform", position=Position(x=260.0 * i, y=0.0)) for i in range(size))
    edges = tuple(
        Edge(id=f"w_{i}", source=f"t_{i}", source_port="output", target=f"t_{i + 1}", target_port="input")
        for i in range(size - 1)
    )
    return Workflow(id="wf_chain", nodes=nodes, edges=edges)


def test_the_index_follows_every_command_undo_and_redo() -> None:
    doc = WorkflowDocument(chain_of(6), builtin_registry())
    history = History(doc)
    index_agrees_with_scan(doc)
    merge = AddNode.of_kind(doc, "merge", (0.0, 300.0))
    history.push(merge)
    steps = [
        Connect(doc, "t_0", "output", merge.node.id, "in_1"),
        Connect(doc, "t_2", "output", merge.node.id, "in_2"),
        Connect(doc, "t_4", "output", "t_1", "input", LoopSettings(max_iterations=2)),
        Connect(doc, "t_3", "output", "t_5", "input", replace=True),
    ]
    for step in steps:
        history.push(step)
        index_agrees_with_scan(doc)
    history.push(Disconnect(["w_1"]))
    history.push(RemoveNodes(["t_2", "t_3"]))
    index_agrees_with_scan(doc)
    assert doc.edges_of(["t_2"]) == [] and doc.edges_at_port(merge.node.id, "input", "in_2") == []
    while history.undo():
        index_agrees_with_scan(doc)
    assert doc.workflow == chain_of(6)
    while history.redo():
        index_agrees_with_scan(doc)


def test_an_occupied_input_and_a_cycle_are_refused_from_the_index() -> None:
    doc = WorkflowDocument(chain_of(4), builtin_registry())
    assert doc.connection_problem("t_0", "output", "t_2", "input") == ("input 'input' of 't_2' already has a wire")
    assert doc.connection_problem("t_3", "output", "t_1", "input", ignore_edge="w_0") is not None  # a cycle
    assert doc.connection_problem("t_3", "output", "t_0", "input") == (
        "this connection would make a cycle; use a loop edge (with a maximum of iterations) to go back"
    )
    assert doc.connection_problem("t_3", "output", "t_0", "input", LoopSettings(max_iterations=2)) is None


def test_one_reach_answers_every_port_of_a_gesture_and_goes_stale_with_an_edit() -> None:
    """A wire dragged from t_2's output: t_0 and t_1 lead back to it (a loop), t_3 does not."""
    doc = WorkflowDocument(chain_of(5), builtin_registry())
    history = History(doc)
    reach = doc.reach("t_2")
    verdicts = {
        target: doc.connection_problem("t_2", "output", target, "input", ignore_edge=f"w_{i - 1}", reach=reach)
        for i, target in ((1, "t_1"), (3, "t_3"), (4, "t_4"))
    }
    assert verdicts["t_1"] is not None and "cycle" in verdicts["t_1"]
    assert verdicts["t_3"] is None and verdicts["t_4"] is None
    history.push(Disconnect(["w_0", "w_1"]))  # t_1 no longer leads to t_2
    assert doc.connection_problem("t_2", "output", "t_1", "input", reach=reach) is None  # the stale reach is ignored


def test_a_placeholders_ports_come_from_its_wires_in_document_order() -> None:
    workflow = Workflow(
        id="wf_placeholder",
        nodes=(
            Node(id="a", kind="transform"),
            Node(id="p", kind="some_plugin_kind"),
            Node(id="b", kind="transform"),
        ),
        edges=(
            Edge(id="e2", source="a", source_port="output", target="p", target_port="second"),
            Edge(id="e1", source="a", source_port="output", target="p", target_port="first"),
            Edge(id="e3", source="p", source_port="out", target="b", target_port="input"),
        ),
    )
    doc = WorkflowDocument(workflow, builtin_registry())
    ports = doc.ports("p")
    assert [p.name for p in ports.inputs] == ["second", "first"]
    assert [p.name for p in ports.outputs] == ["out"]


# ------------------------------------------------------------------ linear adding
def _traced_lines(action: Callable[[], None]) -> int:
    """Python lines executed by ``action`` (all code, the library's and pydantic's)."""
    count = 0

    def tracer(frame: FrameType, event: str, arg: Any) -> Callable[..., Any]:
        nonlocal count
        if event == "line":
            count += 1
        return tracer

    sys.settrace(tracer)
    try:
        action()
    finally:
        sys.settrace(None)
    return count


def _lines_per_command(size: int, commands: int = 40) -> float:
    """Add ``commands`` nodes one command at a time, each wired from a node of the big workflow, then undo one."""
    doc = WorkflowDocument(chain_of(size), builtin_registry())
    history = History(doc)

    def add_and_wire() -> None:
        for i in range(commands // 2):
            node = AddNode.of_kind(doc, "transform", (260.0 * i, 400.0))
            history.push(node)
            history.push(Connect(doc, f"t_{(i * 37) % size}", "output", node.node.id, "input"))
        history.undo()
        history.redo()

    return _traced_lines(add_and_wire) / commands


@pytest.mark.parametrize("small, large", [(500, 4000)])
def test_adding_through_commands_costs_the_same_per_command_at_any_size(small: int, large: int) -> None:
    """Issue 21/23: 5,000 nodes and wires one command at a time took 31-109 s (quadratic). Per
    command the work must not grow with the workflow: 8 times the nodes, under 1.5 times the lines."""
    ratio = _lines_per_command(large) / _lines_per_command(small)
    assert ratio < 1.5, f"a command at {large} nodes runs {ratio:.1f}x the lines of one at {small}"


def test_kept_ports_follow_config_on_error_and_a_placeholders_wires() -> None:
    workflow = Workflow(
        id="wf_ports",
        nodes=(Node(id="m", kind="merge"), Node(id="a", kind="transform"), Node(id="p", kind="some_plugin_kind")),
        edges=(Edge(id="e1", source="a", source_port="output", target="p", target_port="data"),),
    )
    doc = WorkflowDocument(workflow, builtin_registry())
    history = History(doc)
    assert [p.name for p in doc.ports("m").inputs] == ["in_1", "in_2"]
    history.push(SetConfig(doc, "m", {"inputs": 3}))
    assert [p.name for p in doc.ports("m").inputs] == ["in_1", "in_2", "in_3"]
    history.push(MoveNodes(doc, {"m": (100.0, 0.0)}))
    assert [p.name for p in doc.ports("m").inputs] == ["in_1", "in_2", "in_3"]
    history.push(SetNodeOptions(doc, "a", on_error="continue"))
    assert [p.name for p in doc.ports("a").outputs] == ["output", "error"]
    assert [p.name for p in doc.ports("p").inputs] == ["data"]
    history.push(Disconnect(["e1"]))
    assert doc.ports("p").inputs == ()
    while history.undo():
        pass
    assert [p.name for p in doc.ports("m").inputs] == ["in_1", "in_2"]
    assert [p.name for p in doc.ports("a").outputs] == ["output"]
    assert [p.name for p in doc.ports("p").inputs] == ["data"]
