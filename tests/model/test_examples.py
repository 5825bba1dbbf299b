"""The shipped examples: valid, byte-identical after a round trip, and usable as templates."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowdesk.model.document import WorkflowDocument
from flowdesk.model.fileformat import dumps_workflow, read_workflow
from flowdesk.model.validation import validate
from flowdesk.nodes.registry import builtin_registry
from flowdesk.paths import examples_dir

EXAMPLES = sorted(examples_dir().glob("*.json"))


def test_the_five_examples_are_there() -> None:
    names = {p.stem for p in EXAMPLES}
    assert {"ask_llm", "feed_discovery", "etl_orders", "code_review_loop", "parallel_summaries"} <= names


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example_round_trips_byte_identically_and_is_valid(path: Path) -> None:
    workflow = read_workflow(path)
    assert dumps_workflow(workflow) == path.read_text(encoding="utf-8")
    problems = validate(workflow, builtin_registry(), for_run=True)
    assert [p for p in problems if p.severity == "error"] == []
    assert problems == [], f"warnings in a shipped example: {problems}"
    assert workflow.description, "an example says what it shows"
    WorkflowDocument(workflow, builtin_registry())  # opens as a document (no duplicate ids)
