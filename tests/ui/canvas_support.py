"""Shared by the canvas tests: open a document in a real view, drive the mouse, compare scene and document."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from flowdesk.model.document import WorkflowDocument
from flowdesk.model.fileformat import read_workflow
from flowdesk.model.workflow import Workflow
from flowdesk.nodes.registry import builtin_registry
from flowdesk.ui.canvas import CanvasNodeItem, EdgeItem, NodeItem, WorkflowScene, WorkflowView
from flowdesk.ui.undo import DocumentUndoStack

EXAMPLES = Path(__file__).resolve().parents[2] / "resources" / "examples"


def example(name: str) -> Workflow:
    return read_workflow(EXAMPLES / f"{name}.json")


@dataclass
class Canvas:
    doc: WorkflowDocument
    stack: DocumentUndoStack
    scene: WorkflowScene
    view: WorkflowView

    def point(self, scene_pos: QPointF) -> QPoint:
        """The viewport pixel showing ``scene_pos``."""
        return self.view.to_viewport(scene_pos).toPoint()

    def port(self, node_id: str, direction: str, name: str) -> QPointF:
        pos = self.scene.node_item(node_id).port_scene_pos(direction, name)  # type: ignore[arg-type]
        assert pos is not None, f"{node_id} has no {direction} {name}"
        return pos

    def title_point(self, node_id: str) -> QPointF:
        """A point on the node's header (grabs the node, not a port)."""
        item = self.scene.node_item(node_id)
        return item.mapToScene(QPointF(item.boundingRect().center().x(), 12.0))


def open_canvas(qtbot: QtBot, workflow: Workflow | None = None, size: tuple[int, int] = (1200, 800)) -> Canvas:
    doc = WorkflowDocument(workflow or Workflow(id="wf_canvas", name="Canvas"), builtin_registry())
    stack = DocumentUndoStack(doc)
    scene = WorkflowScene(doc, stack)
    view = WorkflowView(scene)
    qtbot.addWidget(view)
    view.resize(*size)
    view.show()
    qtbot.waitExposed(view)
    view.set_zoom(1.0)
    view.centerOn(0.0, 0.0)
    view.setFocus()
    return Canvas(doc, stack, scene, view)


def drag(
    canvas: Canvas,
    start: QPointF,
    end: QPointF,
    *,
    button: Qt.MouseButton = Qt.MouseButton.LeftButton,
    modifiers: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier,
    steps: int = 6,
) -> None:
    """Press at ``start``, move in steps, release at ``end`` (scene coordinates), as a hand would."""
    viewport = canvas.view.viewport()
    a, b = canvas.point(start), canvas.point(end)
    QTest.mousePress(viewport, button, modifiers, a)
    for i in range(1, steps + 1):
        QTest.mouseMove(viewport, a + (b - a) * (i / steps))
    QTest.mouseRelease(viewport, button, modifiers, b)
    QApplication.processEvents()


def click(canvas: Canvas, at: QPointF, modifiers: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier) -> None:
    QTest.mouseClick(canvas.view.viewport(), Qt.MouseButton.LeftButton, modifiers, canvas.point(at))


def node_ids_in_scene(scene: WorkflowScene) -> list[str]:
    return sorted(i.node_id for i in scene.items() if isinstance(i, CanvasNodeItem))


def edge_ids_in_scene(scene: WorkflowScene) -> list[str]:
    return sorted(i.edge_id for i in scene.items() if isinstance(i, EdgeItem))


def assert_scene_matches(canvas: Canvas) -> None:
    """Every node and edge of the document, and nothing else, is on the canvas exactly as it is."""
    doc, scene = canvas.doc, canvas.scene
    assert node_ids_in_scene(scene) == sorted(n.id for n in doc.nodes)
    assert edge_ids_in_scene(scene) == sorted(e.id for e in doc.edges)
    for node in doc.nodes:
        item = scene.node_item(node.id)
        assert item.scene() is scene
        assert item.node == node
        assert (item.pos().x(), item.pos().y()) == (node.position.x, node.position.y), node.id
        assert item.title == node.title
        if isinstance(item, NodeItem):
            assert item.ports == doc.ports(node.id), node.id
    for edge in doc.edges:
        item = scene.edge_item(edge.id)
        assert item.scene() is scene
        assert item.edge == edge
        start = scene.node_item(edge.source).port_scene_pos("output", edge.source_port)
        end = scene.node_item(edge.target).port_scene_pos("input", edge.target_port)
        if start is not None and end is not None:
            assert (item.start, item.end) == (start, end), edge.id
        assert item.path.pointAtPercent(0.0) == item.start
        assert item.path.pointAtPercent(1.0) == item.end


def ids(items: Iterable[CanvasNodeItem]) -> list[str]:
    return sorted(i.node_id for i in items)
