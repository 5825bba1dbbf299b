"""`/metrics` content: parses with prometheus_client's OpenMetrics parser and holds the library's figures."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from prometheus_client.openmetrics.parser import text_string_to_metric_families
from support.insights_library import RunSpec, StepSpec, add_workflow, document, insert_runs

from flowdesk.store.insights_metrics import render_metrics
from flowdesk.store.store import Store, open_store


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = open_store(tmp_path / "lib.db")
    docs = {
        "wf_a": add_workflow(s.db, "wf_a", "Daily digest", document("wf_a", {"ask": "openai:gpt-4o-mini"}, ["ask"]))
    }
    now = time.time() - 3600
    runs = [
        RunSpec(f"r{i}", "wf_a", now + i, took, "failed" if i == 2 else "succeeded",
                [StepSpec("ask", now + i, now + i + took, tokens=(100, 40), cost=0.5)])
        for i, took in enumerate([0.003, 0.5, 3.0])
    ]  # fmt: skip
    insert_runs(s.db, runs, docs)
    with s.db.raw_write() as raw:  # one run still going
        raw.execute(
            "INSERT INTO run (id, workflow_id, workflow_name, status, created_at) VALUES ('live', 'wf_a', 'x', 'running', ?)",
            (now,),
        )
    yield s
    s.close()


def _families(store: Store, **kwargs: int) -> dict[str, object]:
    body, content_type = render_metrics(store, **kwargs)
    assert content_type.startswith("application/openmetrics-text")
    assert body.endswith(b"# EOF\n")
    return {f.name: f for f in text_string_to_metric_families(body.decode())}


def _samples(family: object) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value for s in family.samples}  # type: ignore[attr-defined]


def test_metrics_parse_and_count_runs_tokens_cost_and_the_queue(store: Store) -> None:
    families = _families(store, queue_length=4)
    finished = _samples(families["flowdesk_runs_finished"])
    assert finished[("flowdesk_runs_finished_total", (("status", "succeeded"), ("workflow", "wf-a")))] == 2
    assert finished[("flowdesk_runs_finished_total", (("status", "failed"), ("workflow", "wf-a")))] == 1
    assert _samples(families["flowdesk_runs_started"]) == {("flowdesk_runs_started_total", (("workflow", "wf-a"),)): 4}
    assert _samples(families["flowdesk_runs_active"]) == {
        ("flowdesk_runs_active", (("status", "running"), ("workflow", "wf-a"))): 1
    }
    tokens = _samples(families["flowdesk_llm_tokens"])
    key = (("model", "openai:gpt-4o-mini"), ("type", "input"), ("workflow", "wf-a"))
    assert tokens[("flowdesk_llm_tokens_total", key)] == 300
    cost = _samples(families["flowdesk_llm_cost_usd"])
    assert cost[("flowdesk_llm_cost_usd_total", (("model", "openai:gpt-4o-mini"), ("workflow", "wf-a")))] == 1.5
    assert _samples(families["flowdesk_queue_length"]) == {("flowdesk_queue_length", ()): 4}


def test_node_attempt_durations_are_a_histogram(store: Store) -> None:
    family = _families(store)["flowdesk_node_attempt_duration_seconds"]
    buckets = {s.labels["le"]: s.value for s in family.samples if s.name.endswith("_bucket")}  # type: ignore[attr-defined]
    assert buckets["+Inf"] == 3
    assert buckets["0.004"] == 1  # 3 ms
    assert buckets["0.512"] == 2  # and 0.5 s
    assert buckets["2.048"] == 2 and buckets["4.096"] == 3
    total = next(s.value for s in family.samples if s.name.endswith("_sum"))  # type: ignore[attr-defined]
    assert total == pytest.approx(3.503)


def test_no_queue_length_means_no_queue_gauge(store: Store) -> None:
    assert "flowdesk_queue_length" not in _families(store)


def test_each_scrape_counts_afresh_with_no_state_left_between_them(store: Store) -> None:
    first = _samples(_families(store)["flowdesk_runs_finished"])
    again = _samples(_families(store)["flowdesk_runs_finished"])
    assert first == again
