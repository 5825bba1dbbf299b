"""The insights roll-ups: small summary tables that the statistics read instead of the run journal.

Statistics over a big library (100,000 runs, a million node attempts) computed with aggregates over
``step`` took seconds; these tables hold the same figures already summed per workflow and UTC day
(a few thousand rows), so a period's statistics read a few hundred rows. They are kept up to date
when a run ends (``flowdesk.store.insights_rollup``), and filled once for runs recorded before them.

A run's ``workflow`` key is its library workflow's id, or ``file:`` and its name for a run of a file.
Durations are counted in log-scale buckets (``duration_bucket``): four per doubling, from 1 ms, with
their sum, so a percentile (its bucket's mean) is within 19 % of the exact one, and exact when the
bucket's runs took the same time.
"""

from __future__ import annotations

import math

from sqlmodel import Field, SQLModel

BUCKETS_PER_DOUBLING = 4
SMALLEST_S = 0.001


def duration_bucket(seconds: float) -> int:
    """The histogram bucket a duration falls in: bucket b holds [1 ms * 2^(b/4), 1 ms * 2^((b+1)/4))."""
    if seconds <= SMALLEST_S:
        return 0
    return math.floor(BUCKETS_PER_DOUBLING * math.log2(seconds / SMALLEST_S))


def bucket_upper(bucket: int) -> float:
    """The upper bound (seconds) of a bucket."""
    return SMALLEST_S * 2.0 ** ((bucket + 1) / BUCKETS_PER_DOUBLING)


def bucket_middle(bucket: int) -> float:
    """The value a bucket stands for in a percentile: its geometric middle."""
    return SMALLEST_S * 2.0 ** ((bucket + 0.5) / BUCKETS_PER_DOUBLING)


class InsightRunDayRow(SQLModel, table=True):
    """Finished top-level runs per workflow, UTC day (of their creation) and status."""

    __tablename__ = "insight_run_day"

    workflow: str = Field(primary_key=True)
    day: int = Field(primary_key=True)
    status: str = Field(primary_key=True)
    runs: int = 0
    duration_s: float = 0.0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    peak_concurrency: int = 0
    """The most nodes any of these runs had running at once."""
    concurrency_limit: int = 0
    """The highest max_concurrency these runs had."""


class InsightDurationRow(SQLModel, table=True):
    """How many of those runs took a duration in each bucket (for p50 / p95)."""

    __tablename__ = "insight_duration"

    workflow: str = Field(primary_key=True)
    day: int = Field(primary_key=True)
    status: str = Field(primary_key=True)
    bucket: int = Field(primary_key=True)
    runs: int = 0
    duration_s: float = 0.0
    """Their durations summed: a percentile reads as its bucket's mean, exact when the bucket's runs agree."""


class InsightModelDayRow(SQLModel, table=True):
    """LLM use per workflow, day and model (the node's ``provider:model``)."""

    __tablename__ = "insight_model_day"

    workflow: str = Field(primary_key=True)
    day: int = Field(primary_key=True)
    model: str = Field(primary_key=True)
    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    truncated: int = 0
    """Replies cut at max_tokens (finish reason ``length``)."""


class InsightNodeDayRow(SQLModel, table=True):
    """Where the time and money go: per workflow, day and node."""

    __tablename__ = "insight_node_day"

    workflow: str = Field(primary_key=True)
    day: int = Field(primary_key=True)
    node_id: str = Field(primary_key=True)
    runs: int = 0
    attempts: int = 0
    retries: int = 0
    failures: int = 0
    duration_s: float = 0.0
    cost_usd: float = 0.0
    retry_cost_usd: float = 0.0
    critical_runs: int = 0
    """Runs in which the node was on the critical path (the chain of waits that ended the run)."""
    critical_s: float = 0.0


class InsightErrorDayRow(SQLModel, table=True):
    """Failures grouped: a run's failure (``kind`` run) or an attempt that was retried (``kind`` retry)."""

    __tablename__ = "insight_error_day"

    workflow: str = Field(primary_key=True)
    day: int = Field(primary_key=True)
    kind: str = Field(primary_key=True)
    error_class: str = Field(primary_key=True)
    node_id: str = Field(primary_key=True)
    count: int = 0
    cost_usd: float = 0.0
    message: str = ""
    """The latest message of the group, as an example."""


class InsightNodeIORow(SQLModel, table=True):
    """Per node and distinct inputs: the first output seen, how often, and whether another output came."""

    __tablename__ = "insight_node_io"

    workflow: str = Field(primary_key=True)
    node_id: str = Field(primary_key=True)
    inputs_key: str = Field(primary_key=True)
    outputs_key: str
    seen: int = 0
    differs: int = 0


class InsightAttemptHistRow(SQLModel, table=True):
    """Node attempt durations per workflow and node, all time (the metrics' histograms)."""

    __tablename__ = "insight_attempt_hist"

    workflow: str = Field(primary_key=True)
    node_id: str = Field(primary_key=True)
    bucket: int = Field(primary_key=True)
    attempts: int = 0


class InsightRolledRow(SQLModel, table=True):
    """The runs already counted in the roll-ups (a run is counted once, when it first ends)."""

    __tablename__ = "insight_rolled"

    run_id: str = Field(primary_key=True)


class InsightStateRow(SQLModel, table=True):
    """Where the roll-up stands (``watermark``: the latest finish time counted)."""

    __tablename__ = "insight_state"

    name: str = Field(primary_key=True)
    value: float = 0.0


INSIGHT_TABLES: tuple[type[SQLModel], ...] = (
    InsightRunDayRow,
    InsightDurationRow,
    InsightModelDayRow,
    InsightNodeDayRow,
    InsightErrorDayRow,
    InsightNodeIORow,
    InsightAttemptHistRow,
    InsightRolledRow,
    InsightStateRow,
)

# Frozen DDL of the schema version that adds them (``flowdesk.store.migrations``): never edit, add a new one.
INSIGHTS_DDL: tuple[str, ...] = (
    """CREATE TABLE insight_run_day (
        workflow TEXT NOT NULL, day INTEGER NOT NULL, status TEXT NOT NULL,
        runs INTEGER NOT NULL DEFAULT 0, duration_s FLOAT NOT NULL DEFAULT 0,
        input_tokens INTEGER NOT NULL DEFAULT 0, output_tokens INTEGER NOT NULL DEFAULT 0,
        cost_usd FLOAT NOT NULL DEFAULT 0, peak_concurrency INTEGER NOT NULL DEFAULT 0,
        concurrency_limit INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (workflow, day, status)
    )""",
    """CREATE TABLE insight_duration (
        workflow TEXT NOT NULL, day INTEGER NOT NULL, status TEXT NOT NULL, bucket INTEGER NOT NULL,
        runs INTEGER NOT NULL DEFAULT 0, duration_s FLOAT NOT NULL DEFAULT 0,
        PRIMARY KEY (workflow, day, status, bucket)
    )""",
    """CREATE TABLE insight_model_day (
        workflow TEXT NOT NULL, day INTEGER NOT NULL, model TEXT NOT NULL,
        calls INTEGER NOT NULL DEFAULT 0, input_tokens INTEGER NOT NULL DEFAULT 0,
        output_tokens INTEGER NOT NULL DEFAULT 0, cost_usd FLOAT NOT NULL DEFAULT 0,
        truncated INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (workflow, day, model)
    )""",
    """CREATE TABLE insight_node_day (
        workflow TEXT NOT NULL, day INTEGER NOT NULL, node_id TEXT NOT NULL,
        runs INTEGER NOT NULL DEFAULT 0, attempts INTEGER NOT NULL DEFAULT 0, retries INTEGER NOT NULL DEFAULT 0,
        failures INTEGER NOT NULL DEFAULT 0, duration_s FLOAT NOT NULL DEFAULT 0,
        cost_usd FLOAT NOT NULL DEFAULT 0, retry_cost_usd FLOAT NOT NULL DEFAULT 0,
        critical_runs INTEGER NOT NULL DEFAULT 0, critical_s FLOAT NOT NULL DEFAULT 0,
        PRIMARY KEY (workflow, day, node_id)
    )""",
    """CREATE TABLE insight_error_day (
        workflow TEXT NOT NULL, day INTEGER NOT NULL, kind TEXT NOT NULL, error_class TEXT NOT NULL,
        node_id TEXT NOT NULL, count INTEGER NOT NULL DEFAULT 0, cost_usd FLOAT NOT NULL DEFAULT 0,
        message TEXT NOT NULL DEFAULT '',
        PRIMARY KEY (workflow, day, kind, error_class, node_id)
    )""",
    """CREATE TABLE insight_node_io (
        workflow TEXT NOT NULL, node_id TEXT NOT NULL, inputs_key TEXT NOT NULL, outputs_key TEXT NOT NULL,
        seen INTEGER NOT NULL DEFAULT 0, differs INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (workflow, node_id, inputs_key)
    )""",
    """CREATE TABLE insight_attempt_hist (
        workflow TEXT NOT NULL, node_id TEXT NOT NULL, bucket INTEGER NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (workflow, node_id, bucket)
    )""",
    "CREATE TABLE insight_rolled (run_id TEXT PRIMARY KEY NOT NULL)",
    "CREATE TABLE insight_state (name TEXT PRIMARY KEY NOT NULL, value FLOAT NOT NULL DEFAULT 0)",
    "CREATE INDEX run_by_finished ON run (finished_at)",
    "CREATE INDEX run_live ON run (status) WHERE status IN ('pending', 'running', 'paused', 'waiting')",
)
