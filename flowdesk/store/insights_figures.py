"""The figures of a period (what ``insights.InsightsReader`` reads and what the suggestions read), apart
from both so neither module imports the other."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from flowdesk.store.insights_rollup import DAY_S


@dataclass(frozen=True)
class Suggestion:
    kind: str
    """critical_path, costly_retries, truncated, deterministic or concurrency."""
    workflow: str
    subject: str
    """The node, model or workflow it is about."""
    text: str
    evidence: str


@dataclass(frozen=True)
class DayFigures:
    day: int
    runs: dict[str, int]
    """status -> runs created that day (UTC) that ended so."""
    p50_s: float | None
    p95_s: float | None
    input_tokens: int
    output_tokens: int
    cost_usd: float

    @property
    def total(self) -> int:
        return sum(self.runs.values())

    @property
    def date(self) -> str:
        return time.strftime("%Y-%m-%d", time.gmtime(self.day * DAY_S))


@dataclass(frozen=True)
class ModelFigures:
    model: str
    calls: int
    input_tokens: int
    output_tokens: int
    cost_usd: float
    truncated: int


@dataclass(frozen=True)
class NodeFigures:
    workflow: str
    node_id: str
    runs: int
    attempts: int
    retries: int
    failures: int
    duration_s: float
    cost_usd: float
    retry_cost_usd: float
    critical_runs: int
    critical_s: float
    critical_share: float
    """Of the workflow's runs in the period, the share in which the node was on the critical path."""


@dataclass(frozen=True)
class FailureGroup:
    workflow: str
    kind: str
    """run (the run failed there) or retry (an attempt failed and was tried again)."""
    error_class: str
    node_id: str
    count: int
    cost_usd: float
    message: str


@dataclass
class Stats:
    workflow: str | None
    """The workflow key (None: all workflows)."""
    name: str
    since_day: int | None
    days: list[DayFigures]
    by_status: dict[str, int]
    p50_s: float | None
    p95_s: float | None
    input_tokens: int
    output_tokens: int
    cost_usd: float
    models: list[ModelFigures]
    model_cost_by_day: dict[int, dict[str, float]]
    nodes: list[NodeFigures]
    failures: list[FailureGroup]
    concurrency: dict[str, tuple[int, int]]
    """workflow -> (the most nodes ever running at once, its highest max_concurrency)."""
    runs_by_workflow: dict[str, int] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)
    """workflow key -> its name."""
    suggestions: list[Suggestion] = field(default_factory=list)

    @property
    def runs(self) -> int:
        return sum(self.by_status.values())

    @property
    def success_rate(self) -> float | None:
        return self.by_status.get("succeeded", 0) / self.runs if self.runs else None
