"""`GET /metrics`: the library's runs as OpenMetrics text for Prometheus (through prometheus_client).

``render_metrics`` builds a fresh ``CollectorRegistry`` per call holding one collector that reads
the insights roll-ups (and the few live runs), so nothing is kept between scrapes and no global
registry is touched. Counters are totals since the library began: Prometheus takes rates of them.
Node attempt durations are histograms over the roll-ups' buckets, one ``le`` per doubling.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from flowdesk.store.insights_rollup import workflow_key
from flowdesk.store.insights_tables import BUCKETS_PER_DOUBLING, bucket_upper

if TYPE_CHECKING:
    from flowdesk.store.store import Store

LIVE = ("pending", "running", "paused", "waiting")


def render_metrics(store: Store, *, queue_length: int | None = None) -> tuple[bytes, str]:
    """(body, content type) of the OpenMetrics exposition of the library's runs."""
    from prometheus_client import CollectorRegistry
    from prometheus_client.openmetrics.exposition import CONTENT_TYPE_LATEST, generate_latest

    from flowdesk.store.insights import InsightsReader

    InsightsReader(store.db).refresh()
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_LibraryCollector(store, queue_length))
    return generate_latest(registry), CONTENT_TYPE_LATEST


class _LibraryCollector:
    def __init__(self, store: Store, queue_length: int | None) -> None:
        self.store = store
        self.queue_length = queue_length

    def describe(self) -> list[Any]:
        return []

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily

        with self.store.db.read() as conn:
            q = conn.exec_driver_sql
            slugs = dict(q("SELECT id, slug FROM workflow").all())
            finished = q("SELECT workflow, status, sum(runs) FROM insight_run_day GROUP BY workflow, status").all()
            marks = ",".join("?" * len(LIVE))
            live = q(
                f"SELECT workflow_id, workflow_name, status, count(*) FROM run WHERE status IN ({marks})"
                " AND parent_run_id IS NULL GROUP BY workflow_id, workflow_name, status",
                LIVE,
            ).all()
            models = q(
                "SELECT workflow, model, sum(input_tokens), sum(output_tokens), sum(cost_usd), sum(calls)"
                " FROM insight_model_day GROUP BY workflow, model"
            ).all()
            hist = q("SELECT workflow, node_id, bucket, attempts FROM insight_attempt_hist").all()
            sums = q("SELECT workflow, node_id, sum(duration_s) FROM insight_node_day GROUP BY workflow, node_id").all()

        def name(key: str) -> str:
            return slugs.get(key, key)

        started = CounterMetricFamily("flowdesk_runs_started", "Runs started, by workflow.", labels=["workflow"])
        done = CounterMetricFamily(
            "flowdesk_runs_finished", "Runs that ended, by workflow and status.", labels=["workflow", "status"]
        )
        active = GaugeMetricFamily(
            "flowdesk_runs_active", "Runs not ended yet, by status.", labels=["workflow", "status"]
        )
        counts: dict[str, float] = defaultdict(float)
        for wf, status, n in finished:
            done.add_metric([name(wf), status], n)
            counts[name(wf)] += n
        for wf_id, wf_name, status, n in live:
            key = name(workflow_key(wf_id, wf_name))
            active.add_metric([key, status], n)
            counts[key] += n
        for key, n in sorted(counts.items()):
            started.add_metric([key], n)
        yield from (started, done, active)
        yield from self._usage(models, name)
        yield self._durations(hist, sums, name, HistogramMetricFamily)
        if self.queue_length is not None:
            yield GaugeMetricFamily("flowdesk_queue_length", "Runs waiting in the service's queue.", self.queue_length)

    @staticmethod
    def _usage(models: list[Any], name: Any) -> Iterator[Any]:
        from prometheus_client.core import CounterMetricFamily

        tokens = CounterMetricFamily(
            "flowdesk_llm_tokens", "LLM tokens, by workflow, model and direction.", labels=["workflow", "model", "type"]
        )
        cost = CounterMetricFamily("flowdesk_llm_cost_usd", "LLM cost in US dollars.", labels=["workflow", "model"])
        calls = CounterMetricFamily("flowdesk_llm_calls", "LLM node attempts.", labels=["workflow", "model"])
        for wf, model, tin, tout, usd, n in models:
            tokens.add_metric([name(wf), model, "input"], tin)
            tokens.add_metric([name(wf), model, "output"], tout)
            cost.add_metric([name(wf), model], usd)
            calls.add_metric([name(wf), model], n)
        yield from (tokens, cost, calls)

    @staticmethod
    def _durations(hist: list[Any], sums: list[Any], name: Any, family: Any) -> Any:
        metric = family(
            "flowdesk_node_attempt_duration_seconds", "Node attempt durations.", labels=["workflow", "node"]
        )
        per_node: dict[tuple[str, str], dict[int, int]] = defaultdict(dict)
        for wf, node, bucket, n in hist:
            per_node[(wf, node)][bucket] = n
        total_s = {(wf, node): s for wf, node, s in sums}
        for (wf, node), buckets in sorted(per_node.items()):
            edges = range(BUCKETS_PER_DOUBLING - 1, max(buckets) + BUCKETS_PER_DOUBLING, BUCKETS_PER_DOUBLING)
            cumulative, seen, rows = sorted(buckets.items()), 0, []
            at = 0
            for edge in edges:  # le = the upper bound of every fourth bucket: 2 ms, 4 ms, 8 ms, ...
                while at < len(cumulative) and cumulative[at][0] <= edge:
                    seen += cumulative[at][1]
                    at += 1
                rows.append((_le(bucket_upper(edge)), seen))
            rows.append(("+Inf", sum(buckets.values())))
            metric.add_metric([name(wf), node], rows, sum_value=total_s.get((wf, node), 0.0))
        return metric


def _le(seconds: float) -> str:
    return f"{seconds:.6g}"
