"""Dragging a wire: from a port, across the canvas, to a port (or into empty space).

The document decides what may connect (``WorkflowDocument.connection_problem``); this module only
asks it, paints its answers on the ports (compatible ones light up, refused ones fade), and at the
end turns the drop into one command or a reason. Three drags exist:

- from an output: the wire looks for an input;
- from a free input: the same wire drawn backwards, looking for an output;
- from an input that has a wire: the wire is lifted off (as in Blender or ComfyUI) and can be
  dropped on another input (one "Reconnect" step) or into empty space (one "Disconnect" step).

A wire that would close a cycle becomes a loop edge (with a default maximum of iterations) when
the document accepts it as one: that is how a person draws the code-review loop.

The document answers from its index of wires, and whether a wire would close a cycle is found
once per drag (``WorkflowDocument.reach``), so each port costs the same at any size; still, only
the nodes in view are asked, the nearest first, the rest in small batches between repaints.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from PySide6.QtCore import QPointF, QRectF, Qt, QTimer

from flowdesk.model.commands import Command, Connect, Disconnect, Macro
from flowdesk.model.kinds import Direction
from flowdesk.model.workflow import Edge, LoopSettings
from flowdesk.ui.canvas.edge_item import PendingWire, wire_path
from flowdesk.ui.canvas.node_item import CanvasNodeItem, NodeItem, PortKey
from flowdesk.ui.canvas.node_paint import PortMark
from flowdesk.ui.canvas.scene import WorkflowScene

DEFAULT_LOOP = LoopSettings(max_iterations=3, until=None)
SYNC_MARKS = 12
"""Nodes whose ports are lit at once when a drag starts (the nearest); the rest follow in batches."""
BATCH = 8
"""Nodes lit per batch at most: each lit card is drawn anew (its cached picture is out of date)."""
BATCH_BUDGET = 0.006
"""Seconds of judging per batch at most: with the repaint of what it lit, a batch fits a 16 ms frame."""


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether a wire may end on a port; if so, as a loop edge or replacing the input's wire."""

    problem: str | None
    loop: LoopSettings | None = None
    replaces: bool = False

    @property
    def ok(self) -> bool:
        return self.problem is None


@dataclass(frozen=True, slots=True)
class Outcome:
    kind: Literal["connected", "refused", "dropped", "disconnected", "cancelled"]
    reason: str = ""
    node_id: str = ""
    port: str = ""
    direction: Direction = "output"
    scene_pos: QPointF | None = None


class WireDrag:
    """One wire being dragged; created on press over a port, ended by ``finish`` or ``cancel``."""

    def __init__(self, scene: WorkflowScene, item: CanvasNodeItem, key: PortKey) -> None:
        self.scene = scene
        self.picked: Edge | None = None
        direction, port = key
        if direction == "input":
            self.picked = _wire_on(scene, item.node_id, port)
        if self.picked is not None:  # lift the wire off the input: the drag continues from its source
            direction, port = "output", self.picked.source_port
            item = scene.node_item(self.picked.source)
        self.anchor = item
        self.anchor_key: PortKey = (direction, port)
        self.wanted: Direction = "input" if direction == "output" else "output"
        self._reach = scene.document.reach(item.node_id)
        """Every wire of this drag starts or ends at the anchor: what leads to and from it is found once."""
        self._verdicts: dict[tuple[str, str], Verdict] = {}
        self._marks: dict[str, dict[PortKey, PortMark]] = {}
        self._marked: dict[str, CanvasNodeItem] = {}
        self._queue: list[CanvasNodeItem] = []
        self._timer = QTimer()
        self._timer.setInterval(0)
        self._timer.timeout.connect(self._mark_batch)
        start = item.port_scene_pos(direction, port) or item.sceneBoundingRect().center()
        self.anchor_pos = start
        self.wire = PendingWire(start, scene.theme.selection)
        scene.addItem(self.wire)
        if self.picked is not None:
            scene.edge_item(self.picked.id).setVisible(False)

    # --------------------------------------------------------------- judging
    def verdict(self, item: CanvasNodeItem, port: str) -> Verdict:
        """May the wire end on ``port`` of ``item``? Asked once per port per drag."""
        key = (item.node_id, port)
        if key not in self._verdicts:
            self._verdicts[key] = self._judge(item.node_id, port)
        return self._verdicts[key]

    def _ends(self, node_id: str, port: str) -> tuple[str, str, str, str]:
        anchor_node, anchor_port = self.anchor.node_id, self.anchor_key[1]
        if self.wanted == "input":
            return anchor_node, anchor_port, node_id, port
        return node_id, port, anchor_node, anchor_port

    def _judge(self, node_id: str, port: str) -> Verdict:
        doc = self.scene.document
        src, src_port, dst, dst_port = self._ends(node_id, port)
        occupant = _wire_on(self.scene, dst, dst_port)
        ignore = occupant.id if occupant is not None else (self.picked.id if self.picked else None)
        problem = doc.connection_problem(src, src_port, dst, dst_port, None, ignore_edge=ignore, reach=self._reach)
        if problem is None:
            return Verdict(None, replaces=occupant is not None and occupant != self.picked)
        if doc.connection_problem(src, src_port, dst, dst_port, DEFAULT_LOOP, reach=self._reach) is None:
            return Verdict(None, loop=DEFAULT_LOOP)
        return Verdict(problem)

    def start_marking(self, visible: QRectF) -> None:
        """Light up the ports in view: the nearest nodes now, the others in batches after."""
        here = self.anchor_pos
        items: list[CanvasNodeItem] = [
            i
            for i in self.scene.items(visible, Qt.ItemSelectionMode.IntersectsItemBoundingRect)
            if isinstance(i, NodeItem) and i is not self.anchor
        ]  # by bounding rectangle: asking each wire in view for its exact shape cost more than the judging
        items.sort(key=lambda i: (i.sceneBoundingRect().center() - here).manhattanLength(), reverse=True)
        self._queue = items  # nearest last, so taking the next is a pop from the end
        self._mark_for(SYNC_MARKS, budget=None)
        if self._queue:
            self._timer.start()

    def _mark_batch(self) -> None:
        self._mark_for(BATCH, budget=BATCH_BUDGET)
        if not self._queue:
            self._timer.stop()

    def _mark_for(self, count: int, budget: float | None) -> None:
        """Light the ports of the ``count`` nearest waiting nodes, stopping early after ``budget`` seconds."""
        deadline = None if budget is None else time.perf_counter() + budget
        for _ in range(min(count, len(self._queue))):
            if deadline is not None and time.perf_counter() > deadline:
                break
            item = self._queue.pop()
            if item.scene() is self.scene:
                self._mark(item)

    def _mark(self, item: CanvasNodeItem) -> None:
        if not isinstance(item, NodeItem):
            return
        specs = item.ports.inputs if self.wanted == "input" else item.ports.outputs
        marks = {(self.wanted, spec.name): _mark(self.verdict(item, spec.name)) for spec in specs}
        for key in self._marks.get(item.node_id, {}).keys() & marks.keys():  # the mouse got here first
            if self._marks[item.node_id][key] == PortMark.TARGET:
                marks[key] = PortMark.TARGET
        self._set_marks(item, marks)

    def _set_marks(self, item: CanvasNodeItem, marks: dict[PortKey, PortMark]) -> None:
        self._marks[item.node_id] = marks
        self._marked[item.node_id] = item
        item.set_marks(marks)

    # ---------------------------------------------------------------- moving
    def move(self, scene_pos: QPointF) -> None:
        """Follow the mouse; over a port, snap to it and show whether it would connect."""
        hit = self._target_at(scene_pos)
        end, verdict, loop = scene_pos, None, False
        for node_id, marks in list(self._marks.items()):
            if PortMark.TARGET in marks.values():
                calm = {k: (self._calm(node_id, k[1]) if v == PortMark.TARGET else v) for k, v in marks.items()}
                self._set_marks(self._marked[node_id], calm)
        if hit is not None:
            item, port = hit
            judged = self.verdict(item, port)
            verdict, loop = judged.ok, judged.loop is not None
            end = item.port_scene_pos(self.wanted, port) or scene_pos
            if judged.ok:
                self._set_marks(item, {**self._marks.get(item.node_id, {}), (self.wanted, port): PortMark.TARGET})
        path = wire_path(self.anchor_pos, end) if self.wanted == "input" else wire_path(end, self.anchor_pos)
        self.wire.show_path(path, verdict, self.scene.theme, loop=loop)

    def _calm(self, node_id: str, port: str) -> PortMark:
        """The mark a port returns to when the mouse leaves it."""
        return _mark(self._verdicts[(node_id, port)])

    def _target_at(self, scene_pos: QPointF) -> tuple[CanvasNodeItem, str] | None:
        hit = self.scene.port_at(scene_pos)
        if hit is None or hit[1][0] != self.wanted or hit[0] is self.anchor:
            return None
        return hit[0], hit[1][1]

    # ------------------------------------------------------------- finishing
    def finish(self, scene_pos: QPointF) -> Outcome:
        """Drop the wire at ``scene_pos``: connect, refuse with a reason, or report the drop."""
        try:
            return self._finish(scene_pos)
        finally:
            self.cancel()

    def _finish(self, scene_pos: QPointF) -> Outcome:
        hit = self.scene.port_at(scene_pos)
        if hit is not None:
            item, (direction, port) = hit
            if item is self.anchor and (direction, port) == self.anchor_key:
                return Outcome("cancelled")
            if self.picked is not None and (item.node_id, direction, port) == (
                self.picked.target,
                "input",
                self.picked.target_port,
            ):
                return Outcome("cancelled")
            if direction != self.wanted:
                return Outcome("refused", _same_direction(item, direction, port))
            return self._connect_to(item, port)
        body = self.scene.node_item_at(scene_pos)
        if body is not None and body is not self.anchor:
            return self._connect_to_body(body)
        if body is self.anchor:
            return Outcome("cancelled")
        if self.picked is not None:
            reason = self.scene.push(Disconnect([self.picked.id]))
            return Outcome("disconnected") if reason is None else Outcome("refused", reason)
        return Outcome(
            "dropped",
            node_id=self.anchor.node_id,
            port=self.anchor_key[1],
            direction=self.anchor_key[0],
            scene_pos=scene_pos,
        )

    def _connect_to_body(self, item: CanvasNodeItem) -> Outcome:
        """A drop on a node's body connects to its first port that accepts the wire."""
        specs = (
            ()
            if not isinstance(item, NodeItem)
            else (item.ports.inputs if self.wanted == "input" else item.ports.outputs)
        )
        first_problem = None
        for spec in specs:
            verdict = self.verdict(item, spec.name)
            if verdict.ok:
                return self._connect_to(item, spec.name)
            first_problem = first_problem or verdict.problem
        what = "input" if self.wanted == "input" else "output"
        reason = f"'{item.node.title}' has no {what} that accepts this wire"
        return Outcome("refused", f"{reason}: {first_problem}" if first_problem else reason)

    def _connect_to(self, item: CanvasNodeItem, port: str) -> Outcome:
        verdict = self.verdict(item, port)
        if not verdict.ok:
            return Outcome("refused", verdict.problem or "")
        doc = self.scene.document
        src, src_port, dst, dst_port = self._ends(item.node_id, port)

        def connect() -> Command:
            return Connect(doc, src, src_port, dst, dst_port, verdict.loop, replace=verdict.replaces)

        build: Callable[[], Command] = connect
        if self.picked is not None:
            picked = self.picked

            def steps(run: Callable[[Command], None]) -> None:
                run(Disconnect([picked.id]))
                run(connect())

            def build() -> Command:
                return Macro.record(doc, "Reconnect", steps)

        reason = self.scene.push(build)
        if reason is not None:
            return Outcome("refused", reason)
        return Outcome("connected", node_id=item.node_id, port=port)

    def cancel(self) -> None:
        """Take the wire and every highlight away (also when the drag is abandoned)."""
        self._timer.stop()
        self._queue = []
        for item in self._marked.values():
            item.set_marks({})
        self._marks, self._marked = {}, {}
        if self.wire.scene() is not None:
            self.scene.removeItem(self.wire)
        if self.picked is not None and self.scene.document.has_edge(self.picked.id):
            self.scene.edge_item(self.picked.id).setVisible(True)


def _mark(verdict: Verdict) -> PortMark:
    if not verdict.ok:
        return PortMark.REFUSED
    return PortMark.LOOP if verdict.loop is not None else PortMark.COMPATIBLE


def _wire_on(scene: WorkflowScene, node_id: str, port: str) -> Edge | None:
    """The forward wire on an input, if any."""
    return next((e for e in scene.document.edges_at_port(node_id, "input", port) if not e.is_loop), None)


def _same_direction(item: CanvasNodeItem, direction: Direction, port: str) -> str:
    if direction == "output":
        return f"'{item.node.title}'.{port} is an output too; a wire goes from an output to an input"
    return f"'{item.node.title}'.{port} is an input too; a wire goes from an output to an input"
