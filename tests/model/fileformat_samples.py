"""Sample workflows shared by the file-format tests (imported by module name: tests/model is on
sys.path because the test folders have no __init__ files)."""

from __future__ import annotations

from flowdesk.model.types import ValueType
from flowdesk.model.workflow import (
    Edge,
    LoopSettings,
    Node,
    PinnedOutput,
    Position,
    RetryPolicy,
    RunInput,
    Settings,
    Workflow,
)


def sample_workflow() -> Workflow:
    """A workflow that sets every kind of field, in a deliberately unsorted order."""
    return Workflow(
        id="research_flow",
        name="Recherche — 研究 ✓",
        description="Fetches a page,\nsummarises it.",
        version=3,
        inputs=(
            RunInput(name="topic", description="What to research"),
            RunInput(name="depth", type=ValueType.INTEGER, required=False, default=2),
            RunInput(name="extra", type=ValueType.OBJECT, required=False, default={"z": 1, "a": [3, {"y": 1, "b": 2}]}),
        ),
        settings=Settings(max_concurrency=3, run_timeout_s=600.5),
        nodes=(
            Node(
                id="summarise",
                kind="llm",
                name="Summarise",
                position=Position(x=320.0, y=-40.25),
                config={
                    "prompt": "Summarise {{ nodes.fetch.output }}",
                    "model": "m",
                    "temperature": 0.2,
                    "credential": "openai_main",
                },
                retry=RetryPolicy(max_attempts=3, retry_on=("rate_limit", "timeout")),
                timeout_s=30.0,
                on_error="continue",
                breakpoint=True,
            ),
            Node(
                id="fetch",
                kind="acme.fetch-page",
                config={"url": "https://example.org/ü", "headers": {"b": "2", "a": "1"}},
                pinned=PinnedOutput(outputs={"output": {"status": 200, "body": "<html>"}}, source_run="run_7"),
            ),
            Node(id="start", kind="start"),
        ),
        edges=(
            Edge(id="e_2", source="fetch", source_port="output", target="summarise", target_port="text"),
            Edge(id="e_1", source="start", source_port="topic", target="fetch", target_port="url"),
            Edge(
                id="e_loop",
                source="summarise",
                source_port="error",
                target="fetch",
                target_port="url",
                loop=LoopSettings(max_iterations=5, until="attempt > 3"),
            ),
        ),
    )
