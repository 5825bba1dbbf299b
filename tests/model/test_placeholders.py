"""A node whose kind is not installed is kept, shown, edited around, and written back unchanged."""

from __future__ import annotations

import json

from flowdesk.model.commands import Connect, MoveNodes
from flowdesk.model.document import WorkflowDocument
from flowdesk.model.fileformat import dumps_workflow, loads_workflow
from flowdesk.model.history import History
from flowdesk.model.validation import validate
from flowdesk.nodes.registry import builtin_registry

FILE = {
    "format": "flowdesk.workflow",
    "format_version": 1,
    "id": "wf",
    "name": "with a plugin node",
    "nodes": [
        {"id": "start", "kind": "start", "position": {"x": 0, "y": 0}},
        {
            "id": "magic",
            "kind": "acme.magic",
            "name": "Magic",
            "position": {"x": 200, "y": 0},
            "config": {"spell": {"words": ["abra", "cadabra"], "power": 9000}, "enabled": True},
        },
        {"id": "out", "kind": "output", "position": {"x": 400, "y": 0}, "config": {"name": "r"}},
    ],
    "edges": [
        {"id": "e_1", "source": "start", "source_port": "inputs", "target": "magic", "target_port": "in_spell"},
        {"id": "e_2", "source": "magic", "source_port": "result", "target": "out", "target_port": "value"},
    ],
}


def test_placeholder_survives_load_edit_and_save_unchanged() -> None:
    workflow = loads_workflow(json.dumps(FILE))
    text = dumps_workflow(workflow)
    assert dumps_workflow(loads_workflow(text)) == text
    registry = builtin_registry()
    doc = WorkflowDocument(workflow, registry)
    assert [p.name for p in doc.ports("magic").inputs] == ["in_spell"]
    assert [p.name for p in doc.ports("magic").outputs] == ["result"]
    history = History(doc)
    history.push(MoveNodes(doc, {"out": (500, 50)}))
    history.push(Connect(doc, "magic", "result", "out", "value", replace=True))
    saved = json.loads(dumps_workflow(doc.workflow))
    magic = next(n for n in saved["nodes"] if n["id"] == "magic")
    assert magic["kind"] == "acme.magic" and magic["config"] == FILE["nodes"][1]["config"]
    problems = validate(doc.workflow, registry, for_run=True)
    assert [p.code for p in problems if p.severity == "error"] == ["unknown-kind"]
    assert [p.code for p in validate(doc.workflow, registry, for_run=False)] == ["unknown-kind"]
