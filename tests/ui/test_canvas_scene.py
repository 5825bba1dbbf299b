"""The scene is a projection of the document: every change event updates exactly the items it concerns."""

from __future__ import annotations

import gc

import pytest
from canvas_support import EXAMPLES, assert_scene_matches, edge_ids_in_scene, example, node_ids_in_scene, open_canvas
from PySide6.QtCore import QPointF
from pytestqt.qtbot import QtBot

from flowdesk.model.commands import (
    AddNode,
    Connect,
    Disconnect,
    MoveNodes,
    RemoveNodes,
    Rename,
    SetConfig,
    SetEdgeLoop,
    SetNodeOptions,
)
from flowdesk.model.workflow import Edge, LoopSettings, Node, Position, Workflow
from flowdesk.ui.canvas import NodeItem, NodeState, NoteItem


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.json")), ids=lambda p: p.stem)
def test_every_example_opens_with_one_item_per_node_and_edge(qtbot: QtBot, path) -> None:  # type: ignore[no-untyped-def]
    canvas = open_canvas(qtbot, example(path.stem))
    assert len(node_ids_in_scene(canvas.scene)) == len(canvas.doc.nodes) > 0
    assert len(edge_ids_in_scene(canvas.scene)) == len(canvas.doc.edges)
    assert_scene_matches(canvas)


def test_added_node_appears_and_undo_takes_it_away(qtbot: QtBot) -> None:
    canvas = open_canvas(qtbot)
    canvas.stack.push_command(AddNode.of_kind(canvas.doc, "llm", (120, 40)))
    item = canvas.scene.node_item("llm_1")
    assert isinstance(item, NodeItem)
    assert (item.pos().x(), item.pos().y()) == (120, 40)
    assert item.title == "LLM"
    assert [p.name for p in item.ports.inputs] == ["input"]
    assert [p.name for p in item.ports.outputs] == ["text", "json"]
    canvas.stack.undo()
    assert node_ids_in_scene(canvas.scene) == []
    gc.collect()  # the Qt stack owns the Python wrappers: redo must still reach the model command
    canvas.stack.redo()
    assert node_ids_in_scene(canvas.scene) == ["llm_1"]
    assert_scene_matches(canvas)


def test_changes_update_only_the_items_concerned(qtbot: QtBot) -> None:
    canvas = open_canvas(qtbot, example("code_review_loop"))
    before = {i.node_id: i for i in canvas.scene.node_items()}
    edges_before = {i.edge_id: i for i in canvas.scene.edge_items()}
    canvas.stack.push_command(Rename(canvas.doc, "fix", "Fix the code"))
    canvas.stack.push_command(MoveNodes(canvas.doc, {"review": (300, 20)}))
    canvas.stack.push_command(AddNode.of_kind(canvas.doc, "transform", (0, 300)))
    after = {i.node_id: i for i in canvas.scene.node_items()}
    assert all(after[k] is v for k, v in before.items()), "no item may be rebuilt by an unrelated change"
    assert all(canvas.scene.edge_item(k) is v for k, v in edges_before.items())
    assert canvas.scene.node_item("fix").title == "Fix the code"
    assert_scene_matches(canvas)


def test_wires_follow_a_moved_node(qtbot: QtBot) -> None:
    canvas = open_canvas(qtbot, example("ask_llm"))
    edge = canvas.scene.edge_item("e_1")
    start_before = QPointF(edge.start)
    canvas.stack.push_command(MoveNodes(canvas.doc, {"answer": (400, 200)}))
    assert edge.end == canvas.port("answer", "input", "input")
    assert edge.start == start_before
    assert_scene_matches(canvas)


def test_a_card_and_a_wire_are_found_wherever_they_are_drawn_after_they_change(qtbot: QtBot) -> None:
    """Qt finds items by the bounds each item gives it (clicks, hovers, what to repaint): a card widened by
    a longer title, and a wire routed anew, are found at their new edges."""
    canvas = open_canvas(qtbot, example("ask_llm"))
    scene = canvas.scene
    card, wire = scene.node_item("answer"), scene.edge_item("e_1")
    narrow = card.sceneBoundingRect()
    canvas.stack.push_command(Rename(canvas.doc, "answer", "An answer with a title far longer than it was"))
    canvas.stack.push_command(MoveNodes(canvas.doc, {"answer": (900, 500)}))
    drawn = card.mapRectToScene(card.card_rect())
    assert drawn.width() > narrow.width() - 20, "the card is wider"
    right_edge = QPointF(drawn.right() - 2, drawn.center().y())
    assert card in scene.items(right_edge), "the widened part of the card is found"
    assert wire.sceneBoundingRect().contains(wire.path.controlPointRect()), "the wire's bounds hold the wire"
    assert wire in scene.items(wire.path.pointAtPercent(0.5))


def test_ports_that_change_with_config_take_their_wires_along(qtbot: QtBot) -> None:
    canvas = open_canvas(qtbot)
    doc, push = canvas.doc, canvas.stack.push_command
    push(AddNode.of_kind(doc, "switch", (0, 0)))
    push(AddNode.of_kind(doc, "output", (300, 0)))
    push(Connect(doc, "switch_1", "b", "output_1", "value"))
    item = canvas.scene.node_item("switch_1")
    assert isinstance(item, NodeItem)
    assert [p.name for p in item.ports.outputs] == ["a", "b", "default"]
    push(SetConfig(doc, "switch_1", {"cases": ["x"]}))
    assert [p.name for p in item.ports.outputs] == ["x", "default"]
    assert doc.edges == () and edge_ids_in_scene(canvas.scene) == []
    canvas.stack.undo()
    assert [p.name for p in item.ports.outputs] == ["a", "b", "default"]
    assert_scene_matches(canvas)


def test_error_port_appears_with_on_error_continue(qtbot: QtBot) -> None:
    canvas = open_canvas(qtbot)
    canvas.stack.push_command(AddNode.of_kind(canvas.doc, "http"))
    item = canvas.scene.node_item("http_1")
    assert isinstance(item, NodeItem)
    height = item.boundingRect().height()
    canvas.stack.push_command(SetNodeOptions(canvas.doc, "http_1", on_error="continue"))
    slot = item.layout.slot("output", "error")
    assert slot is not None and slot.is_error
    assert item.boundingRect().height() > height
    assert_scene_matches(canvas)


def test_loop_edge_is_labelled_and_follows_its_settings(qtbot: QtBot) -> None:
    canvas = open_canvas(qtbot, example("code_review_loop"))
    loop = canvas.scene.edge_item("e_5")
    assert loop.label == "↺ max 3"
    assert canvas.scene.edge_item("e_1").label == ""
    canvas.stack.push_command(SetEdgeLoop(canvas.doc, "e_5", LoopSettings(max_iterations=7)))
    assert loop.label == "↺ max 7"
    lowest = max(canvas.scene.node_item(n).sceneBoundingRect().bottom() for n in ("fix", "review"))
    assert loop.path.boundingRect().bottom() > lowest, "a loop is routed below the nodes it joins"


def test_note_is_a_sticky_comment_with_its_text(qtbot: QtBot) -> None:
    canvas = open_canvas(qtbot, example("code_review_loop"))
    note = canvas.scene.node_item("note")
    assert isinstance(note, NoteItem)
    assert note.text.startswith("The loop edge from Fix back to Review")
    assert note.boundingRect().width() >= 320
    assert note.zValue() < min(i.zValue() for i in canvas.scene.edge_items())
    canvas.stack.push_command(SetConfig(canvas.doc, "note", {"text": "Changed", "width": 400}))
    assert note.text == "Changed" and note.boundingRect().width() >= 400


def test_state_and_problem_badges(qtbot: QtBot) -> None:
    canvas = open_canvas(qtbot, example("ask_llm"))
    item = canvas.scene.node_item("answer")
    assert isinstance(item, NodeItem)
    size = item.boundingRect()
    for state in NodeState:
        canvas.scene.set_node_state("answer", state)
        assert item.state == state
        canvas.view.grab()  # paints every state's glyph
    canvas.scene.set_node_state("answer", "failed")
    canvas.scene.set_node_problems("answer", ["prompt is empty", "model is unknown"])
    assert item.boundingRect() == size, "badges never resize a card"
    badge = item.layout.problem_badge_centre(with_state=True)
    assert "prompt is empty" in item._tooltip_at(badge) and "model is unknown" in item._tooltip_at(badge)
    port = item.layout.slot("output", "text")
    assert port is not None and "string" in item._tooltip_at(port.centre)
    canvas.scene.clear_states()
    assert item.state == NodeState.IDLE
    with pytest.raises(ValueError):
        item.set_state("exploded")


def test_placeholder_node_shows_and_keeps_its_wires(qtbot: QtBot) -> None:
    workflow = Workflow(
        id="wf_plugin",
        nodes=(
            Node(id="a", kind="transform", position=Position(x=0, y=0)),
            Node(id="p", kind="acme_magic", name="Magic", position=Position(x=300, y=0)),
        ),
        edges=(Edge(id="e_1", source="a", source_port="output", target="p", target_port="spell"),),
    )
    canvas = open_canvas(qtbot, workflow)
    item = canvas.scene.node_item("p")
    assert isinstance(item, NodeItem) and item.spec is None
    assert [p.name for p in item.ports.inputs] == ["spell"]
    canvas.stack.push_command(Disconnect(["e_1"]))
    assert item.ports.inputs == ()
    canvas.stack.undo()
    assert_scene_matches(canvas)


def test_removing_nodes_removes_their_items_and_edges(qtbot: QtBot) -> None:
    canvas = open_canvas(qtbot, example("parallel_summaries"))
    canvas.stack.push_command(RemoveNodes(["join", "title"]))
    assert "join" not in node_ids_in_scene(canvas.scene)
    assert_scene_matches(canvas)
    canvas.stack.undo()
    assert_scene_matches(canvas)


def test_large_workflow_loads_every_item(qtbot: QtBot) -> None:
    nodes = tuple(
        Node(id=f"n_{i}", kind="transform", position=Position(x=(i % 50) * 240, y=(i // 50) * 120)) for i in range(2000)
    )
    edges = tuple(
        Edge(id=f"e_{i}", source=f"n_{i}", source_port="output", target=f"n_{i + 1}", target_port="input")
        for i in range(1999)
        if (i + 1) % 50
    )
    canvas = open_canvas(qtbot, Workflow(id="wf_big", nodes=nodes, edges=edges))
    assert len(node_ids_in_scene(canvas.scene)) == 2000
    assert len(edge_ids_in_scene(canvas.scene)) == len(edges)
    canvas.view.fit_all()
    canvas.view.grab()
    assert_scene_matches(canvas)
