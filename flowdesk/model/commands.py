"""Every edit of a workflow, as a command with do and undo.

Commands are the one way the document changes (docs/architecture.md §1). The GUI wraps them in a
QUndoStack, tests and the CLI use :class:`flowdesk.model.history.History`; either way ``do`` may be
called again after ``undo`` (redo) and must produce the same result, so everything a command
creates (ids included) is decided when the command is built, not when it runs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from flowdesk.model.command_base import Command, CommandRefused, first_error, remove_edges, restore_edges
from flowdesk.model.document import WorkflowDocument
from flowdesk.model.node_edits import NODE_OPTION_FIELDS, Rename, ReplaceConfig, SetConfig, SetNodeOptions
from flowdesk.model.workflow import Edge, LoopSettings, Node, Position, RunInput, Workflow

__all__ = [
    "NODE_OPTION_FIELDS",
    "WORKFLOW_FIELDS",
    "AddNode",
    "Command",
    "CommandRefused",
    "Connect",
    "Disconnect",
    "Macro",
    "MoveNodes",
    "PasteFragment",
    "RemoveNodes",
    "Rename",
    "ReplaceConfig",
    "SetConfig",
    "SetEdgeLoop",
    "SetInputs",
    "SetNodeOptions",
    "SetWorkflowProps",
]

WORKFLOW_FIELDS = frozenset({"name", "description", "inputs", "settings", "version"})


class AddNode(Command):
    def __init__(self, node: Node, index: int | None = None) -> None:
        self.node = node
        self.index = index
        self.label = f"Add {node.title}"

    @classmethod
    def of_kind(
        cls, doc: WorkflowDocument, kind: str, position: tuple[float, float] = (0.0, 0.0), name: str | None = None
    ) -> AddNode:
        """A new node of ``kind`` with its default config and a fresh id."""
        spec = doc.catalog.get(kind)
        if spec is None:
            raise CommandRefused(f"there is no node kind '{kind}'")
        if spec.singleton and any(n.kind == kind for n in doc.nodes):
            raise CommandRefused(f"a workflow has at most one {spec.display_name} node")
        node = Node(
            id=doc.new_node_id(kind),
            kind=kind,
            name=spec.display_name if name is None else name,
            position=Position(x=position[0], y=position[1]),
            config=spec.default_config(),
        )
        return cls(node)

    def do(self, doc: WorkflowDocument) -> None:
        doc._insert_node(doc.node_count if self.index is None else self.index, self.node)

    def undo(self, doc: WorkflowDocument) -> None:
        doc._remove_node(self.node.id)


class RemoveNodes(Command):
    """Delete nodes with their edges; undo puts every node and edge back at its exact index."""

    def __init__(self, node_ids: Iterable[str]) -> None:
        self.node_ids = list(dict.fromkeys(node_ids))
        self._nodes: list[tuple[int, Node]] = []
        self._edges: list[tuple[int, Edge]] = []
        self.label = "Delete node" if len(self.node_ids) == 1 else f"Delete {len(self.node_ids)} nodes"

    def do(self, doc: WorkflowDocument) -> None:
        missing = [n for n in self.node_ids if not doc.has_node(n)]
        if missing:
            raise CommandRefused(f"there is no node '{missing[0]}'")
        self._edges = remove_edges(doc, [e.id for e in doc.edges_of(self.node_ids)])
        self._nodes = sorted(((doc.node_position(n), doc.node(n)) for n in self.node_ids), key=lambda p: p[0])
        for index, node in reversed(self._nodes):
            doc._remove_node(node.id, index)

    def undo(self, doc: WorkflowDocument) -> None:
        for index, node in self._nodes:
            doc._insert_node(index, node)
        restore_edges(doc, self._edges)


class MoveNodes(Command):
    """Move nodes to new positions; the GUI pushes one of these per drag, on release."""

    def __init__(self, doc: WorkflowDocument, positions: Mapping[str, tuple[float, float]]) -> None:
        self._new: dict[str, Position] | None = {nid: Position(x=x, y=y) for nid, (x, y) in positions.items()}
        self._old: dict[str, Position] | None = {nid: doc.node(nid).position for nid in positions}
        self.label = "Move node" if len(self._new) == 1 else f"Move {len(self._new)} nodes"
        self._offset: tuple[Sequence[str], float, float] | None = None
        self._moves: tuple[tuple[Node, Node], ...] = ()

    @classmethod
    def by(cls, doc: WorkflowDocument, node_ids: Iterable[str], dx: float, dy: float) -> MoveNodes:
        """Move nodes by one offset (an arrow-key nudge of a big selection).

        The positions are worked out as the move is first done, in the document's one pass over the
        nodes, which hands back each node as it was and as it is: a nudge of 5,000 nodes walked them
        twice, and kept two dictionaries of positions nobody reads unless the step is undone. Redo
        puts them back where that first pass put them.
        """
        ids = tuple(node_ids)
        command = cls.__new__(cls)
        command._new = command._old = None
        command._offset = (ids, dx, dy)
        command._moves = ()
        command.label = "Move node" if len(ids) == 1 else f"Move {len(ids)} nodes"
        return command

    @property
    def new(self) -> dict[str, Position]:
        """Where the nodes go (once done, for a move by an offset)."""
        if self._new is None:
            self._new = {new.id: new.position for _old, new in self._moves}
        return self._new

    @property
    def old(self) -> dict[str, Position]:
        """Where the nodes were (once done, for a move by an offset)."""
        if self._old is None:
            self._old = {old.id: old.position for old, _new in self._moves}
        return self._old

    def do(self, doc: WorkflowDocument) -> None:
        if self._offset is None:
            doc._move_nodes(self.new)  # one NodesMoved for all of them (see document.py)
            return
        ids, dx, dy = self._offset
        try:
            self._moves = doc._shift_nodes(ids, dx, dy)
        except ValueError as exc:  # past float's range: nothing was moved
            raise CommandRefused(f"the nodes cannot be moved by ({dx}, {dy}): {exc}") from exc
        self._offset = None

    def undo(self, doc: WorkflowDocument) -> None:
        doc._move_nodes(self.old)


class Connect(Command):
    """Wire an output to an input. Refused, with the reason, when the wire could not work.

    With ``replace`` a wire already on the target input is swapped out (what a drop onto an
    occupied input means in the editor); undo brings it back.
    """

    def __init__(
        self,
        doc: WorkflowDocument,
        source: str,
        source_port: str,
        target: str,
        target_port: str,
        loop: LoopSettings | None = None,
        *,
        replace: bool = False,
    ) -> None:
        self.replaced: Edge | None = None
        if replace:
            self.replaced = next(
                (e for e in doc.edges_at_port(target, "input", target_port) if e.is_loop == (loop is not None)),
                None,
            )
        reason = doc.connection_problem(
            source,
            source_port,
            target,
            target_port,
            loop,
            ignore_edge=self.replaced.id if self.replaced else None,
        )
        if reason:
            raise CommandRefused(reason)
        self.edge = Edge(
            id=doc.new_edge_id(),
            source=source,
            source_port=source_port,
            target=target,
            target_port=target_port,
            loop=loop,
        )
        self._replaced_at: list[tuple[int, Edge]] = []
        self.label = "Connect loop" if loop else "Connect"

    def do(self, doc: WorkflowDocument) -> None:
        if self.replaced is not None:
            self._replaced_at = remove_edges(doc, [self.replaced.id])
        doc._insert_edge(doc.edge_count, self.edge)

    def undo(self, doc: WorkflowDocument) -> None:
        doc._remove_edge(self.edge.id)
        restore_edges(doc, self._replaced_at)


class Disconnect(Command):
    def __init__(self, edge_ids: Iterable[str]) -> None:
        self.edge_ids = list(dict.fromkeys(edge_ids))
        self._removed: list[tuple[int, Edge]] = []
        self.label = "Disconnect" if len(self.edge_ids) == 1 else f"Disconnect {len(self.edge_ids)} edges"

    def do(self, doc: WorkflowDocument) -> None:
        missing = [e for e in self.edge_ids if not doc.has_edge(e)]
        if missing:
            raise CommandRefused(f"there is no edge '{missing[0]}'")
        self._removed = remove_edges(doc, self.edge_ids)

    def undo(self, doc: WorkflowDocument) -> None:
        restore_edges(doc, self._removed)


class SetEdgeLoop(Command):
    """Change a loop edge's settings (max_iterations, until)."""

    def __init__(self, doc: WorkflowDocument, edge_id: str, loop: LoopSettings) -> None:
        self.old = doc.edge(edge_id)
        if self.old.loop is None:
            raise CommandRefused("only a loop edge has loop settings")
        self.new = self.old.model_copy(update={"loop": loop})
        self.label = "Edit loop"

    def do(self, doc: WorkflowDocument) -> None:
        doc._replace_edge(self.new)

    def undo(self, doc: WorkflowDocument) -> None:
        doc._replace_edge(self.old)


class SetWorkflowProps(Command):
    """Change workflow-level fields: name, description, declared inputs, settings."""

    def __init__(self, doc: WorkflowDocument, **fields: Any) -> None:
        unknown = set(fields) - WORKFLOW_FIELDS
        if unknown:
            raise CommandRefused(f"'{sorted(unknown)[0]}' is not a workflow property")
        meta = doc.workflow.model_dump(exclude={"nodes", "edges"})
        try:
            checked = Workflow.model_validate({**meta, **fields})
        except ValueError as exc:
            raise CommandRefused(first_error(exc)) from exc
        self.new = {name: getattr(checked, name) for name in fields}
        self.old: dict[str, Any] = {}
        self.label = f"Edit workflow {', '.join(fields)}"

    def do(self, doc: WorkflowDocument) -> None:
        self.old = doc._set_meta(**self.new)

    def undo(self, doc: WorkflowDocument) -> None:
        doc._set_meta(**self.old)

    def merge(self, other: Command) -> bool:
        """Typing a name or description letter by letter is one undo step (same fields, one after another)."""
        if type(other) is not SetWorkflowProps or set(other.new) != set(self.new) or not self._typed():
            return False
        self.new = other.new
        return True

    def _typed(self) -> bool:
        return set(self.new) <= {"name", "description"}


class Macro(Command):
    """Several commands as one undo step (insert a node on an edge, auto-layout, ...).

    A later step often depends on an earlier one having happened (connecting a node that the
    first step adds), so a macro is usually *recorded*: each step is built and done in turn, and
    the finished macro is then pushed, its first ``do`` being a no-op.
    """

    def __init__(self, label: str, commands: Sequence[Command] = ()) -> None:
        self.label = label
        self.commands = list(commands)
        self._applied = False

    @classmethod
    def record(cls, doc: WorkflowDocument, label: str, build: Callable[[Callable[[Command], None]], None]) -> Macro:
        """Run ``build(run)``, where ``run(cmd)`` does a step at once; all undone if any step fails."""
        macro = cls(label)

        def run(command: Command) -> None:
            command.do(doc)
            macro.commands.append(command)

        try:
            build(run)
        except Exception:
            for command in reversed(macro.commands):
                command.undo(doc)
            raise
        macro._applied = True
        return macro

    def do(self, doc: WorkflowDocument) -> None:
        if self._applied:
            self._applied = False
            return
        done: list[Command] = []
        try:
            for command in self.commands:
                command.do(doc)
                done.append(command)
        except Exception:
            for command in reversed(done):
                command.undo(doc)
            raise

    def undo(self, doc: WorkflowDocument) -> None:
        for command in reversed(self.commands):
            command.undo(doc)


class PasteFragment(Command):
    """Add copied nodes and the edges among them, under fresh ids, offset from the originals.

    Edges whose other end was not copied are dropped; a second node of a one-per-workflow kind
    (start) is left out, with its edges, and named in ``skipped``.
    """

    def __init__(
        self,
        doc: WorkflowDocument,
        nodes: Iterable[Node],
        edges: Iterable[Edge],
        offset: tuple[float, float] = (40.0, 40.0),
    ) -> None:
        self.skipped: list[str] = []
        id_map: dict[str, str] = {}
        self.nodes: list[Node] = []
        present = {n.kind for n in doc.nodes}
        for node in nodes:
            spec = doc.catalog.get(node.kind)
            if spec is not None and spec.singleton and node.kind in present:
                self.skipped.append(node.title)
                continue
            present.add(node.kind)
            id_map[node.id] = doc.new_node_id(_stem_of(node.id))
            pos = Position(x=node.position.x + offset[0], y=node.position.y + offset[1])
            self.nodes.append(node.model_copy(update={"id": id_map[node.id], "position": pos}))
        self.edges = [
            e.model_copy(update={"id": doc.new_edge_id(), "source": id_map[e.source], "target": id_map[e.target]})
            for e in edges
            if e.source in id_map and e.target in id_map
        ]
        self.label = "Paste" if len(self.nodes) != 1 else f"Paste {self.nodes[0].title}"

    @property
    def created_node_ids(self) -> list[str]:
        return [n.id for n in self.nodes]

    def do(self, doc: WorkflowDocument) -> None:
        for node in self.nodes:
            doc._insert_node(doc.node_count, node)
        for edge in self.edges:
            doc._insert_edge(doc.edge_count, edge)

    def undo(self, doc: WorkflowDocument) -> None:
        for edge in reversed(self.edges):
            doc._remove_edge(edge.id)
        for node in reversed(self.nodes):
            doc._remove_node(node.id)


def _stem_of(node_id: str) -> str:
    """``llm_12`` -> ``llm``: pasted copies get ids of the same family."""
    head, sep, tail = node_id.rpartition("_")
    return head if sep and tail.isdigit() and head else node_id


class SetInputs(SetWorkflowProps):
    """Declare the run inputs (the app's Inputs table): each change is one undo step, named for what it did.

    Never merged with the next change: adding an input and then typing its description are two steps.
    """

    def __init__(self, doc: WorkflowDocument, inputs: Sequence[RunInput], label: str = "Edit the inputs") -> None:
        super().__init__(doc, inputs=tuple(inputs))
        names = [spec.name for spec in self.new["inputs"]]
        twice = next((name for name in names if names.count(name) > 1), None)
        if twice is not None:
            raise CommandRefused(f"input '{twice}' is declared twice; each input needs its own name")
        self.label = label

    def merge(self, other: Command) -> bool:
        return False
