"""The journal's JSON: one batch written event by event is the batch the journal's reader expects."""

from __future__ import annotations

from typing import Any, get_args

import pytest
from pydantic_core import PydanticSerializationError

from flowdesk.engine.events import (
    ErrorInfo,
    Event,
    LLMDelta,
    LoopIterated,
    NodeCancelled,
    NodeFailed,
    NodeLog,
    NodeProgress,
    NodeQueued,
    NodeRetrying,
    NodeSkipped,
    NodeStarted,
    NodeSucceeded,
    NodeWaiting,
    RunFinished,
    RunPaused,
    RunResumed,
    RunStarted,
    RunWaiting,
    Usage,
    journal_adapter,
    journal_json,
)

ERROR = ErrorInfo(message="boom → é", error_class="http", node_id="n", exception="ValueError")
USAGE = Usage(input_tokens=3, output_tokens=4, cost_usd=0.25)
NODE = {"run_id": "r1", "ts": 1_700_000_000.125, "node_id": "n1", "iteration": 2}
ONE_OF_EACH: list[Any] = [
    RunStarted(run_id="r1", ts=1.5, workflow_id="w", workflow_name="W é", inputs={"a": [1, {"b": None}]}, node_count=3),
    RunPaused(run_id="r1", ts=2.0, reason="breakpoint", node_id="n1"),
    RunResumed(run_id="r1", ts=2.5),
    RunWaiting(run_id="r1", ts=3.0, node_ids=["n1", "n2"]),
    NodeQueued(**NODE),
    NodeStarted(**NODE, attempt=2, inputs={"in": "x"}),
    NodeLog(**NODE, message="line", level="warning"),
    NodeProgress(**NODE, done=1, total=2),
    NodeRetrying(**NODE, attempt=1, error=ERROR, delay_s=0.5, duration_s=0.1, usage=USAGE),
    NodeSucceeded(**NODE, outputs={"out": "3c1f"}, duration_s=1e-5, usage=USAGE, source="pinned"),
    NodeFailed(**NODE, error=ERROR, attempt=3, duration_s=2.0, handled=True, usage=USAGE),
    NodeSkipped(**NODE, reason="branch not taken", source="restored"),
    NodeWaiting(**NODE, message="approve?"),
    NodeCancelled(**NODE, reason="lost the race"),
    LoopIterated(**NODE, edge_id="e1", source="restored"),
    LLMDelta(**NODE, text="tok ✓"),
    RunFinished(run_id="r1", ts=9.0, status="failed", error=ERROR, duration_s=8.0, usage=USAGE,
                node_counts={"failed": 1}, warnings=["w"]),
]  # fmt: skip


def test_every_event_class_is_covered() -> None:
    assert {type(e) for e in ONE_OF_EACH} == set(get_args(Event))


def test_a_batch_is_written_as_the_journal_adapter_writes_it_and_reads_back_equal() -> None:
    adapter = journal_adapter()
    written = journal_json(ONE_OF_EACH)
    assert written == adapter.dump_json(ONE_OF_EACH)
    assert adapter.validate_json(written) == ONE_OF_EACH


def test_an_empty_batch_and_a_single_event() -> None:
    adapter = journal_adapter()
    assert journal_json([]) == adapter.dump_json([]) == b"[]"
    assert journal_json(ONE_OF_EACH[-1:]) == adapter.dump_json(ONE_OF_EACH[-1:])


def test_a_lone_surrogate_is_refused_as_the_journal_adapter_refuses_it() -> None:
    odd = [LLMDelta(run_id="r1", ts=1.0, node_id="n1", text="a \ud800 b")]
    with pytest.raises(PydanticSerializationError):
        journal_adapter().dump_json(odd)
    with pytest.raises(PydanticSerializationError):
        journal_json(odd)
