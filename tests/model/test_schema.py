"""The shipped JSON Schema: generated from the models, up to date, and describing what we write.

``jsonschema`` is not a dependency, so a small checker below covers exactly the keywords the
generated schema uses; a test makes sure no other keyword creeps in unchecked.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from fileformat_samples import sample_workflow  # tests/model is on sys.path (no __init__ files)
from pydantic import BaseModel

from flowdesk.model import schema as schema_module
from flowdesk.model.fileformat import dumps_workflow
from flowdesk.model.position import PositionFields
from flowdesk.model.schema import REGENERATE_COMMAND, SCHEMA_DIALECT, main, schema_text, workflow_json_schema
from flowdesk.model.workflow import (
    FORMAT_VERSION,
    Edge,
    LoopSettings,
    Node,
    PinnedOutput,
    RetryPolicy,
    RunInput,
    Settings,
    Workflow,
)
from flowdesk.paths import schema_path

MODELS: tuple[type[BaseModel], ...] = (
    Edge,
    LoopSettings,
    Node,
    PinnedOutput,
    PositionFields,  # what a Position is in a file
    RetryPolicy,
    RunInput,
    Settings,
)
CHECKED = {
    "$ref",
    "type",
    "properties",
    "additionalProperties",
    "required",
    "items",
    "anyOf",
    "enum",
    "const",
    "pattern",
    "minLength",
    "maxLength",
    "minimum",
    "maximum",
    "exclusiveMinimum",
}
ANNOTATIONS = {"$schema", "$id", "$defs", "title", "description", "default"}


def test_shipped_schema_file_is_up_to_date() -> None:
    path = schema_path()
    assert path.is_file(), f"{path} is missing; generate it with `{REGENERATE_COMMAND}`"
    assert path.read_text(encoding="utf-8") == schema_text(), (
        f"{path} is stale (the models changed); regenerate it with `{REGENERATE_COMMAND}` and commit it"
    )


def test_schema_text_is_deterministic_json() -> None:
    text = schema_text()
    assert text == schema_text() and text.endswith("}\n")
    assert json.loads(text) == workflow_json_schema()
    top = list(json.loads(text))
    assert top == sorted(top)


def test_header_and_top_level() -> None:
    schema = workflow_json_schema()
    assert schema["$schema"] == SCHEMA_DIALECT == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"].endswith(str(FORMAT_VERSION)) and schema["title"] and schema["description"]
    assert schema["type"] == "object" and schema["additionalProperties"] is False
    assert set(schema["properties"]) == set(Workflow.model_fields)
    assert schema["required"][:2] == ["format", "format_version"] and "id" in schema["required"]
    assert schema["properties"]["format"]["const"] == "flowdesk.workflow"
    assert schema["properties"]["format_version"]["const"] == FORMAT_VERSION


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_every_model_is_described_with_all_its_fields(model: type[BaseModel]) -> None:
    definition = workflow_json_schema()["$defs"][model.__name__]
    assert set(definition["properties"]) == set(model.model_fields)
    assert definition["additionalProperties"] is False
    required = {name for name, field in model.model_fields.items() if field.is_required()}
    assert set(definition.get("required", [])) == required


def test_schema_uses_only_keywords_the_checker_knows() -> None:
    found: set[str] = set()

    def walk(node: Any, in_names: bool = False) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if not in_names:
                    found.add(key)
                walk(value, in_names=not in_names and key in ("properties", "$defs"))
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(workflow_json_schema())
    assert found <= CHECKED | ANNOTATIONS, found - CHECKED - ANNOTATIONS


def test_a_dumped_workflow_satisfies_the_schema() -> None:
    schema = workflow_json_schema()
    assert problems(json.loads(dumps_workflow(sample_workflow())), schema, schema) == []
    assert problems(json.loads(dumps_workflow(Workflow(id="w"))), schema, schema) == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: d.pop("format_version"), "$: missing format_version"),
        (lambda d: d.update(format_version=0), "$.format_version: not const 1"),
        (lambda d: d["nodes"][0].update(colour="red"), "$.nodes[0]: unexpected colour"),
        (lambda d: d["nodes"][0]["retry"].update(max_attempts=0), "$.nodes[0].retry.max_attempts: below minimum 1"),
        (lambda d: d["edges"][0].update(source="1x"), "$.edges[0].source: does not match pattern"),
        (lambda d: d["nodes"][0].update(on_error="stop"), "$.nodes[0].on_error: not in enum"),
        (lambda d: d["settings"].update(run_timeout_s="soon"), "$.settings.run_timeout_s: no alternative matches"),
    ],
)
def test_the_checker_really_checks(change: Any, expected: str) -> None:
    schema = workflow_json_schema()
    document = json.loads(dumps_workflow(sample_workflow()))
    change(document)
    assert any(p.startswith(expected) for p in problems(document, schema, schema)), problems(document, schema, schema)


def test_main_rewrites_a_stale_file_and_check_reports_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "schema" / "workflow.schema.json"
    monkeypatch.setattr(schema_module, "schema_path", lambda: target)
    assert main(["--check"]) == 1 and not target.exists()
    assert main([]) == 0 and target.read_bytes() == schema_text().encode("utf-8")
    assert main(["--check"]) == 0
    target.write_text("{}\n")
    assert main(["--check"]) == 1


# ---------------------------------------------------------------- a minimal checker


_TYPES: dict[str, Any] = {
    "object": dict,
    "array": list,
    "string": str,
    "boolean": bool,
    "null": type(None),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
}


def _is(type_name: str, value: Any) -> bool:
    check = _TYPES[type_name]
    return check(value) if not isinstance(check, type) else isinstance(value, check)


def problems(value: Any, node: dict[str, Any], root: dict[str, Any], at: str = "$") -> list[str]:
    """What is wrong with ``value`` under ``node``, for the keywords in CHECKED only."""
    if "$ref" in node:
        return problems(value, root["$defs"][node["$ref"].rsplit("/", 1)[1]], root, at)
    if "anyOf" in node:
        matches = any(not problems(value, alt, root, at) for alt in node["anyOf"])
        return [] if matches else [f"{at}: no alternative matches"]
    if "type" in node and not _is(node["type"], value):
        return [f"{at}: not {node['type']}"]
    found = _scalar_problems(value, node, at)
    if isinstance(value, dict):
        found += [f"{at}: missing {name}" for name in node.get("required", []) if name not in value]
        for key, item in value.items():
            sub = node.get("properties", {}).get(key, node.get("additionalProperties", True))
            if sub is False:
                found.append(f"{at}: unexpected {key}")
            elif isinstance(sub, dict):
                found += problems(item, sub, root, f"{at}.{key}")
    if isinstance(value, list) and "items" in node:
        for i, item in enumerate(value):
            found += problems(item, node["items"], root, f"{at}[{i}]")
    return found


def _scalar_problems(value: Any, node: dict[str, Any], at: str) -> list[str]:
    found = []
    if "const" in node and value != node["const"]:
        found.append(f"{at}: not const {node['const']}")
    if "enum" in node and value not in node["enum"]:
        found.append(f"{at}: not in enum")
    if isinstance(value, str):
        if "pattern" in node and not re.search(node["pattern"], value):
            found.append(f"{at}: does not match pattern")
        if not node.get("minLength", 0) <= len(value) <= node.get("maxLength", len(value)):
            found.append(f"{at}: wrong length")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if "minimum" in node and value < node["minimum"]:
            found.append(f"{at}: below minimum {node['minimum']}")
        if "maximum" in node and value > node["maximum"]:
            found.append(f"{at}: above maximum {node['maximum']}")
        if "exclusiveMinimum" in node and value <= node["exclusiveMinimum"]:
            found.append(f"{at}: not above {node['exclusiveMinimum']}")
    return found
