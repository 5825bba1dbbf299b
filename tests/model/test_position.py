"""A node's position is a pair of floats in memory and the object {"x", "y"} in a file, as it always was."""

from __future__ import annotations

import json
import pickle

import pytest
from pydantic import ValidationError

from flowdesk.model.fileformat import WorkflowFileError, loads_workflow
from flowdesk.model.workflow import Node, Position, Workflow


@pytest.mark.parametrize(("dx", "dy"), [(10.0, 0.0), (0.1, -20.0), (-3, 2), (1e-300, 1e300)])
def test_a_shifted_position_is_the_validated_position_at_the_sum(dx: float, dy: float) -> None:
    """``Position.shifted`` (made without validating, once per node of a nudge) is what validation gives:
    the same numbers as floats, written the same, still immutable."""
    place = Position(x=12.5, y=-3.0)
    moved = place.shifted(dx, dy)
    expected = Position(x=place.x + dx, y=place.y + dy)
    assert moved == expected and type(moved) is Position and type(moved.x) is float and type(moved.y) is float
    node = Node(id="n", kind="transform")
    assert node.at(moved).model_dump_json() == node.at(expected).model_dump_json()
    assert place == Position(x=12.5, y=-3.0)
    with pytest.raises(AttributeError):
        moved.x = 1.0  # type: ignore[misc]


@pytest.mark.parametrize(("dx", "dy"), [(1.7e308, 0.0), (0.0, float("inf")), (float("nan"), 0.0)])
def test_a_shift_past_floats_range_is_refused_as_validation_refuses_it(dx: float, dy: float) -> None:
    with pytest.raises(ValidationError):
        Position(x=1.7e308, y=0.0).shifted(dx, dy)


def test_made_in_code_a_position_is_checked_as_a_files_is() -> None:
    assert Position(x=1, y=2) == Position(x=1.0, y=2.0) and type(Position(x=1).x) is float
    assert Position() == Position(x=0.0, y=0.0)
    for bad in (float("inf"), float("nan"), "left"):
        with pytest.raises(ValidationError):
            Position(x=bad)  # type: ignore[arg-type]


def test_a_position_reads_and_writes_as_the_object_it_is_in_a_file() -> None:
    node = Node.model_validate({"id": "n", "kind": "transform", "position": {"x": 3, "y": -4.5}})
    assert node.position == Position(x=3.0, y=-4.5) and type(node.position) is Position
    assert json.loads(node.model_dump_json())["position"] == {"x": 3.0, "y": -4.5}
    assert node.model_dump()["position"] == {"x": 3.0, "y": -4.5}
    assert Node(id="n", kind="transform", position=node.position).position is node.position  # taken as it is
    compact = Node(id="n", kind="transform", position=Position(x=0.0, y=7.0)).model_dump_json(exclude_defaults=True)
    assert json.loads(compact)["position"] == {"y": 7.0}, "a coordinate at its default is left out, as before"
    schema = Workflow.model_json_schema()["$defs"]["Position"]
    assert schema["title"] == "Position" and set(schema["properties"]) == {"x", "y"}
    assert schema["additionalProperties"] is False


def test_a_position_survives_pickling_as_a_workflow_sent_to_a_worker_does() -> None:
    node = Node(id="n", kind="transform", position=Position(x=1.5, y=2.5))
    again = pickle.loads(pickle.dumps(node))
    assert again == node and type(again.position) is Position and repr(again.position) == "Position(x=1.5, y=2.5)"


@pytest.mark.parametrize(
    ("position", "path", "says"),
    [
        ({"x": 1, "z": 2}, "nodes[0].position.z", "fields here: x, y"),
        ({"x": "far"}, "nodes[0].position.x", "number"),
        ({"x": 1e400}, "nodes[0].position.x", "too large"),
        ("here", "nodes[0].position", "must be a JSON object"),
    ],
)
def test_a_bad_position_in_a_file_is_named_at_its_place(position: object, path: str, says: str) -> None:
    text = json.dumps(
        {
            "format": "flowdesk.workflow",
            "format_version": 1,
            "id": "wf",
            "name": "W",
            "nodes": [{"id": "n", "kind": "transform", "position": position}],
        }
    ).replace("Infinity", "1e400")
    with pytest.raises(WorkflowFileError) as caught:
        loads_workflow(text)
    assert caught.value.path == path and says in caught.value.message, (caught.value.path, caught.value.message)
