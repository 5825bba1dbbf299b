"""Libraries of recorded runs made directly in the tables (not through the engine), for the insights
tests (runs whose figures are known) and the benchmark (100,000 runs, a million attempts, in seconds)."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from typing import Any

from flowdesk.store.database import Database
from flowdesk.store.values import text_hash

DAY_S = 86_400


@dataclass
class StepSpec:
    node: str
    start: float
    end: float
    status: str = "succeeded"
    attempt: int = 1
    iteration: int = 0
    tokens: tuple[int, int] = (0, 0)
    cost: float = 0.0
    error_class: str | None = None
    inputs: str | None = '{"input":"h1"}'
    outputs: str | None = '{"output":"h2"}'


@dataclass
class RunSpec:
    id: str
    workflow_id: str
    created_at: float
    duration_s: float
    status: str = "succeeded"
    steps: list[StepSpec] = field(default_factory=list)
    error: tuple[str, str, str] | None = None
    """(error class, node id, message) of a failed run."""
    truncated: dict[str, int] = field(default_factory=dict)
    """node id -> replies cut at max_tokens (one log line each)."""


def document(workflow_id: str, models: dict[str, str], nodes: list[str], max_concurrency: int = 8) -> str:
    """A run's document as the runner stores it (defaults left out)."""
    body: dict[str, Any] = {
        "format": "flowdesk.workflow",
        "format_version": 1,
        "id": workflow_id,
        "name": workflow_id,
        "nodes": [
            {"id": n, "kind": "llm", "config": {"model": models[n]}} if n in models else {"id": n, "kind": "t.noop"}
            for n in nodes
        ],
    }
    if max_concurrency != 8:
        body["settings"] = {"max_concurrency": max_concurrency}
    return json.dumps(body)


def add_document(db: Database, doc: str) -> str:
    """A run's document in ``blob``; returns its hash."""
    digest = text_hash(doc)
    with db.raw_write() as raw:
        raw.execute("INSERT OR IGNORE INTO blob (hash, size, data) VALUES (?, ?, ?)", (digest, len(doc), doc))
    return digest


def add_workflow(db: Database, workflow_id: str, name: str, doc: str) -> str:
    """A library workflow (a row, no versions) and its document; returns the document's hash."""
    with db.raw_write() as raw:
        raw.execute(
            "INSERT INTO workflow (id, slug, name, created_at, updated_at) VALUES (?, ?, ?, 0, 0)",
            (workflow_id, workflow_id.replace("_", "-"), name),
        )
    return add_document(db, doc)


_RUN_SQL = (
    "INSERT INTO run (id, workflow_id, workflow_name, document_hash, source, kind, status, error, created_at,"
    " started_at, finished_at, duration_s, input_tokens, output_tokens, cost_usd) VALUES"
    " (?, ?, ?, ?, 'library', 'run', ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_STEP_SQL = (
    "INSERT INTO step (run_id, node_id, iteration, attempt, segment, status, source, inputs, outputs, error,"
    " started_at, finished_at, duration_s, input_tokens, output_tokens, cost_usd) VALUES"
    " (?, ?, ?, ?, 0, ?, 'run', ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_LOG_SQL = (
    "INSERT INTO log (run_id, node_id, iteration, ts, level, kind, message) VALUES (?, ?, 0, ?, ?, 'node_log', ?)"
)
CUT = "warning: the reply was cut at max_tokens (1024); raise max_tokens to get all of it"


def insert_runs(db: Database, runs: list[RunSpec], documents: dict[str, str]) -> None:
    """Record these runs as the recorder would have (``documents``: workflow id -> its document's hash)."""
    run_rows, step_rows, log_rows = [], [], []
    for r in runs:
        error = (
            json.dumps({"error_class": r.error[0], "node_id": r.error[1], "message": r.error[2]}) if r.error else None
        )
        tin = sum(s.tokens[0] for s in r.steps)
        tout = sum(s.tokens[1] for s in r.steps)
        cost = sum(s.cost for s in r.steps)
        run_rows.append((r.id, r.workflow_id, r.workflow_id, documents[r.workflow_id], r.status, error, r.created_at,
                         r.created_at, r.created_at + r.duration_s, r.duration_s, tin, tout, cost))  # fmt: skip
        for s in r.steps:
            err = (
                json.dumps({"error_class": s.error_class, "message": f"{s.error_class} failure"})
                if s.error_class
                else None
            )
            step_rows.append((r.id, s.node, s.iteration, s.attempt, s.status, s.inputs,
                              s.outputs if s.status == "succeeded" else None, err, s.start, s.end, s.end - s.start,
                              s.tokens[0], s.tokens[1], s.cost))  # fmt: skip
        for node, n in r.truncated.items():
            log_rows.extend((r.id, node, r.created_at, "warning", CUT) for _ in range(n))
    with db.raw_write() as raw:
        raw.executemany(_RUN_SQL, run_rows)
        raw.executemany(_STEP_SQL, step_rows)
        raw.executemany(_LOG_SQL, log_rows)


def generate(db: Database, *, runs: int, attempts: int, days: int, workflows: int, now: float, seed: int = 7) -> None:
    """A big library: ``runs`` runs spread over ``days`` days before ``now``, ``attempts`` attempts in all."""
    rng = random.Random(seed)
    per_run = max(1, attempts // runs)
    nodes = [f"n{i}" for i in range(per_run)]
    models = {nodes[len(nodes) // 2]: "openai:gpt-4o-mini", nodes[-1]: "anthropic:claude-3-5-haiku"}
    docs = {}
    for w in range(workflows):
        wid = f"wf_{w}"
        docs[wid] = add_workflow(db, wid, f"Workflow {w}", document(wid, models, nodes, max_concurrency=4))
    statuses = ["succeeded"] * 17 + ["failed", "failed", "cancelled"]
    done = 0
    while done < runs:
        chunk = min(10_000, runs - done)
        run_rows, step_rows, log_rows = [], [], []
        for i in range(done, done + chunk):
            run_id = f"r{i:07d}"
            wid = f"wf_{i % workflows}"
            created = now - rng.random() * days * DAY_S
            status = statuses[rng.randrange(len(statuses))]
            t = created
            cost_sum = 0.0
            for n in nodes:
                took = rng.uniform(0.01, 0.4) * (6 if n == models.get(n, "") or n in models else 1)
                cost = 0.002 if n in models else 0.0
                step_rows.append((run_id, n, 0, 1, "succeeded", f'{{"input":"{i % 50}"}}', '{"output":"x"}', None,
                                  t, t + took, took, 300 if n in models else 0, 120 if n in models else 0, cost))  # fmt: skip
                t += took
                cost_sum += cost
            error = None
            if status == "failed":
                error = json.dumps({"error_class": "rate_limit", "node_id": nodes[-1], "message": "429 from the API"})
            if i % 40 == 0:
                log_rows.append((run_id, nodes[-1], t, "warning", CUT))
            run_rows.append((run_id, wid, f"Workflow {i % workflows}", docs[wid], status, error, created, created, t,
                             t - created, 600, 240, cost_sum))  # fmt: skip
        with db.raw_write() as raw:
            raw.executemany(_RUN_SQL, run_rows)
            raw.executemany(_STEP_SQL, step_rows)
            raw.executemany(_LOG_SQL, log_rows)
        done += chunk
