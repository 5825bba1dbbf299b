"""Validation on the canvas: badges on nodes and wires, the Problems dock, re-validation after edits."""

from __future__ import annotations

from editor_support import open_example
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from flowdesk.model.commands import Connect, Disconnect, RemoveNodes, SetConfig
from flowdesk.model.workflow import Edge, Node, Position, Workflow
from flowdesk.ui.main_window import MainWindow


def listed(window: MainWindow) -> list[str]:
    panel = window.problems.list
    return [panel.item(i).text() for i in range(panel.count())]


def test_an_example_has_no_problems_and_run_is_not_blocked(qtbot: QtBot, window: MainWindow) -> None:
    open_example(window, "etl_orders")
    assert window.problems.problems == []
    assert window.problems.first_error() is None
    assert window.problems.summary.text() == "No problems: the workflow can run."
    assert not any(item.problems for item in window.scene.node_items())


def test_an_edit_is_revalidated_after_a_pause_and_badged(qtbot: QtBot, window: MainWindow) -> None:
    open_example(window, "code_review_loop")
    with qtbot.waitSignal(window.problems_changed) as changed:
        window.stack.push_command(Disconnect(["e_3"]))  # the Output loses its required input
        assert window.problems.pending  # not at once: typing must stay smooth
    problems = changed.args[0]
    assert any(p.code == "required-input" and p.node_id == "accept" for p in problems)
    accept = window.scene.node_item("accept")
    assert any("input 'value' is required" in p for p in accept.problems)
    assert any("is required" in line for line in listed(window))
    assert "Run is blocked" in window.problems.summary.text()
    with qtbot.waitSignal(window.problems_changed):
        window.stack.undo()
    assert accept.problems == () and window.problems.problems == []


def test_first_error_validates_a_pending_edit_at_once(qtbot: QtBot, window: MainWindow) -> None:
    open_example(window, "ask_llm")
    llm = next(n.id for n in window.document.nodes if n.kind == "llm")
    window.stack.push_command(SetConfig(window.document, llm, {"model": ""}))
    assert window.problems.pending
    reason = window.problems.first_error()
    assert reason is not None and "model" in reason
    assert not window.problems.pending


def test_a_wire_with_a_problem_carries_the_badge_and_its_tooltip(qtbot: QtBot, window: MainWindow) -> None:
    nodes = (
        Node(id="start", kind="start", position=Position(x=0, y=0)),
        Node(id="mapper", kind="map", config={"workflow": "child.json"}, position=Position(x=300, y=0)),
    )
    bad = Edge(id="e_1", source="start", source_port="inputs", target="mapper", target_port="items")  # object -> array
    window.load(Workflow(id="wf_bad", nodes=nodes, edges=(bad,)), "library")
    wire = window.scene.edge_item("e_1")
    assert any("type-mismatch" in p or "cannot feed" in p for p in wire.problems)
    assert "cannot feed" in wire.toolTip()
    assert window.scene.node_item("mapper").problems == ()  # on the wire, not twice
    assert wire.boundingRect().contains(wire.path.pointAtPercent(0.5))


def test_double_clicking_a_problem_selects_and_centres_its_node(qtbot: QtBot, window: MainWindow) -> None:
    open_example(window, "code_review_loop")
    window.view.centerOn(-3000, -3000)
    with qtbot.waitSignal(window.problems_changed):
        window.stack.push_command(Disconnect(["e_4"]))  # Fix is no longer reached from Start
    panel = window.problems.list
    row = next(i for i in range(panel.count()) if "'Fix' (fix) is not connected" in panel.item(i).text())
    panel.scrollToItem(panel.item(row))
    rect = panel.visualItemRect(panel.item(row))
    left, no_mods = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    QTest.mouseClick(panel.viewport(), left, no_mods, rect.center())  # a real double-click's first press
    QTest.mouseDClick(panel.viewport(), left, no_mods, rect.center())
    assert window.scene.selected_node_ids() == ["fix"]
    centre = window.view.to_scene(window.view.viewport().rect().center().toPointF())
    item_centre = window.scene.node_item("fix").sceneBoundingRect().center()
    assert abs(centre.x() - item_centre.x()) < 2 and abs(centre.y() - item_centre.y()) < 2
    assert window.inspector.node_id == "fix"
    row = next(i for i in range(panel.count()) if panel.item(i).text().startswith("Loop edge e_5"))
    panel.scrollToItem(panel.item(row))
    rect = panel.visualItemRect(panel.item(row))
    QTest.mouseClick(panel.viewport(), left, no_mods, rect.center())
    QTest.mouseDClick(panel.viewport(), left, no_mods, rect.center())
    assert window.scene.selected_edge_ids() == ["e_5"] and window.scene.selected_node_ids() == []


def test_badges_come_back_with_an_undone_delete(qtbot: QtBot, window: MainWindow) -> None:
    open_example(window, "code_review_loop")
    with qtbot.waitSignal(window.problems_changed):
        window.stack.push_command(Disconnect(["e_3"]))
    window.stack.push_command(RemoveNodes(["accept"]))
    window.problems.validate_now()
    window.stack.undo()  # the Output comes back as a new item, with its problem
    window.problems.validate_now()
    assert window.scene.node_item("accept").problems


def test_a_new_workflow_lists_why_it_cannot_run(qtbot: QtBot, window: MainWindow) -> None:
    assert window.problems.first_error() is not None  # nothing to run yet
    window.add_node_at_centre("start")
    window.add_node_at_centre("output")
    start, out = (n.id for n in window.document.nodes)
    window.stack.push_command(Connect(window.document, start, "inputs", out, "value"))
    assert window.problems.first_error() is None


def test_a_mistake_typed_in_a_prompt_is_listed_and_badged_before_any_run(qtbot: QtBot, window: MainWindow) -> None:
    """Issue 13.4: type a misspelt run input, then a broken template; each shows up while typing."""
    open_example(window, "ask_llm")
    window.scene.select(["answer"])
    editor = window.inspector.form.fields["prompt"].editor
    editor.setFocus()
    editor.selectAll()
    with qtbot.waitSignal(window.problems_changed, timeout=5000):
        qtbot.keyClicks(editor, "Answer {{ run.inputs.qestion }}")
    assert any("reads run.inputs.qestion, but 'qestion' is not a run input (its run inputs: question)" in line
               for line in listed(window))  # fmt: skip
    assert any("'qestion' is not a run input" in p for p in window.scene.node_item("answer").problems)
    assert "Run is blocked" in window.problems.summary.text()
    assert not window.runs.run_action.isEnabled()

    editor.selectAll()
    with qtbot.waitSignal(window.problems_changed, timeout=5000):
        qtbot.keyClicks(editor, "Answer {{ run.inputs.question")
    (problem,) = window.problems.problems
    assert (problem.code, problem.node_id, problem.field) == ("source-syntax", "answer", "config.prompt")
    assert "has a mistake at line 1, column 30: the template ends too early: '}}' is missing" in problem.message

    editor.selectAll()
    with qtbot.waitSignal(window.problems_changed, timeout=5000):
        qtbot.keyClicks(editor, "Answer {{ run.inputs.question }}")
    assert window.problems.problems == [] and window.scene.node_item("answer").problems == ()
