"""The insights' figures against a library whose runs are known, the roll-up at a run's end, the backfill."""

from __future__ import annotations

import asyncio
import sqlite3
import statistics
from pathlib import Path

import pytest
from support.insights_library import RunSpec, StepSpec, add_workflow, document, generate, insert_runs
from support.wfbuild import catalog_with, node, workflow

from flowdesk.engine.services import EngineServices
from flowdesk.model.workflow import RunInput
from flowdesk.providers.resolver import default_providers
from flowdesk.store.insights import InsightsReader, parse_since
from flowdesk.store.insights_rollup import Rollup, catch_up
from flowdesk.store.migrations import MIGRATIONS
from flowdesk.store.running import RunService
from flowdesk.store.store import Store, open_store

DAY = 86_400
TODAY = 20_000
NOW = TODAY * DAY + 12 * 3600
NODES = ["fetch", "summarize", "publish"]
MODELS = {"summarize": "openai:gpt-4o-mini"}


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = open_store(tmp_path / "lib.db")
    yield s
    s.close()


def _ok_run(run_id: str, created: float, took: float, *, summary: str = '{"output":"same"}') -> RunSpec:
    a, b = created + 0.1 * took, created + 0.8 * took
    steps = [
        StepSpec("fetch", created, a),
        StepSpec("summarize", a, b, tokens=(100, 50), cost=0.01, outputs=summary),
        StepSpec("publish", b, created + took),
    ]
    return RunSpec(run_id, "wf_a", created, took, steps=steps)


def _known(store: Store) -> list[RunSpec]:
    docs = {"wf_a": add_workflow(store.db, "wf_a", "Daily digest", document("wf_a", MODELS, NODES, 4))}
    today = TODAY * DAY + 3600
    runs = [_ok_run(f"ok{i}", today + i * 60, took) for i, took in enumerate([1.0, 2.0, 3.0, 10.0])]
    failing = RunSpec(
        "bad",
        "wf_a",
        today + 600,
        4.0,
        status="failed",
        error=("rate_limit", "summarize", "429 too many requests"),
        steps=[
            StepSpec("fetch", today + 600, today + 601),
            StepSpec("summarize", today + 601, today + 602, "failed", 1, cost=0.005, error_class="rate_limit"),
            StepSpec("summarize", today + 603, today + 604, "failed", 2, cost=0.005, error_class="rate_limit"),
        ],
    )
    cut = _ok_run("cut", (TODAY - 1) * DAY + 100, 5.0)
    cut.truncated = {"summarize": 1}
    old = _ok_run("old", (TODAY - 10) * DAY, 7.0)
    runs += [failing, cut, old]
    insert_runs(store.db, runs, docs)
    return runs


def test_a_week_of_known_runs_gives_its_counts_rates_percentiles_tokens_costs_and_failures(store: Store) -> None:
    _known(store)
    stats = InsightsReader(store.db).stats("wf_a", parse_since("7d"), now=NOW)
    assert stats.name == "Daily digest"
    assert stats.by_status == {"succeeded": 5, "failed": 1}
    assert stats.success_rate == pytest.approx(5 / 6)
    assert [(d.day, d.runs) for d in stats.days] == [
        (TODAY - 1, {"succeeded": 1}),
        (TODAY, {"succeeded": 4, "failed": 1}),
    ]
    today = stats.days[1]
    exact = [1.0, 2.0, 3.0, 10.0, 4.0]
    assert today.p50_s == pytest.approx(statistics.median(exact), rel=0.1)
    assert today.p95_s == pytest.approx(10.0, rel=0.1)
    assert stats.input_tokens == 5 * 100 and stats.output_tokens == 5 * 50
    assert stats.cost_usd == pytest.approx(5 * 0.01 + 2 * 0.005)
    [model] = stats.models
    assert (model.model, model.calls, model.truncated) == ("openai:gpt-4o-mini", 7, 1)
    assert model.cost_usd == pytest.approx(0.06)
    groups = {(f.kind, f.error_class, f.node_id): (f.count, round(f.cost_usd, 6)) for f in stats.failures}
    assert groups == {("run", "rate_limit", "summarize"): (1, 0.0), ("retry", "rate_limit", "summarize"): (1, 0.005)}
    summarize = next(n for n in stats.nodes if n.node_id == "summarize")
    assert (summarize.runs, summarize.attempts, summarize.retries, summarize.failures) == (6, 7, 1, 1)
    assert summarize.retry_cost_usd == pytest.approx(0.005)
    assert summarize.critical_runs == 6 and summarize.critical_share == pytest.approx(1.0)
    assert stats.concurrency == {"wf_a": (1, 4)}


def test_the_period_picks_whole_days_and_all_takes_every_run(store: Store) -> None:
    _known(store)
    reader = InsightsReader(store.db)
    assert reader.stats("wf_a", parse_since("24h"), now=NOW).runs == 6
    assert reader.stats("wf_a", parse_since("30d"), now=NOW).runs == 7
    assert reader.stats(None, None, now=NOW).runs == 7
    assert reader.stats("wf_a", parse_since("7d"), now=NOW + 20 * DAY).runs == 0


def test_suggestions_come_with_their_evidence(store: Store) -> None:
    _known(store)
    stats = InsightsReader(store.db).stats("wf_a", None, now=NOW)
    kinds = {s.kind: s for s in stats.suggestions}
    assert set(kinds) == {"critical_path", "costly_retries", "truncated", "deterministic", "concurrency"}
    assert "$0.0050" in kinds["costly_retries"].evidence and "rate_limit" in kinds["costly_retries"].evidence
    assert kinds["truncated"].subject == "openai:gpt-4o-mini" and "1 of 8" in kinds["truncated"].evidence
    assert kinds["deterministic"].subject == "summarize"
    assert "at most 1 node(s)" in kinds["concurrency"].evidence and "is 4" in kinds["concurrency"].evidence


def test_a_node_whose_output_changed_for_the_same_inputs_is_not_called_deterministic(store: Store) -> None:
    docs = {"wf_a": add_workflow(store.db, "wf_a", "Daily digest", document("wf_a", MODELS, NODES, 4))}
    runs = [_ok_run(f"r{i}", TODAY * DAY + i, 1.0, summary=f'{{"output":"v{i % 2}"}}') for i in range(6)]
    insert_runs(store.db, runs, docs)
    stats = InsightsReader(store.db).stats("wf_a", None, now=NOW)
    same = {s.subject for s in stats.suggestions if s.kind == "deterministic"}
    assert "fetch" in same and "summarize" not in same


def test_the_backfill_goes_on_where_it_stopped_and_counts_each_run_once(store: Store) -> None:
    generate(store.db, runs=50, attempts=200, days=3, workflows=2, now=NOW)
    assert catch_up(store.db, batch=20, max_batches=1) == 20
    assert catch_up(store.db, batch=20) == 30
    assert catch_up(store.db) == 0
    stats = InsightsReader(store.db).stats(None, None, now=NOW)
    with store.db.read() as conn:
        exact = dict(conn.exec_driver_sql("SELECT status, count(*) FROM run GROUP BY status").all())
        cost = conn.exec_driver_sql("SELECT sum(cost_usd) FROM step").scalar()
    assert stats.by_status == exact
    assert sum(m.cost_usd for m in stats.models) == pytest.approx(cost)
    assert sum(n.attempts for n in stats.nodes) == 200


def test_a_run_is_counted_in_the_transaction_that_records_its_end(store: Store) -> None:
    wf = workflow(
        [node("a", "t.noop"), node("b", "t.flaky", fail_times=1, retry={"max_attempts": 3, "initial_delay_s": 0.0})],
        ["a.output -> b.input"],
    )

    async def go() -> str:
        service = RunService(store, catalog_with([]), EngineServices())
        store.workflows.save(wf)
        started = service.start(wf)
        assert started.handle is not None
        await started.handle.wait()
        return started.run_id

    run_id = asyncio.run(go())
    with store.db.read() as conn:  # no catch-up has run: the recorder counted it
        assert conn.exec_driver_sql("SELECT run_id FROM insight_rolled").all() == [(run_id,)]
        nodes = conn.exec_driver_sql("SELECT node_id, attempts, retries FROM insight_node_day ORDER BY node_id").all()
    assert nodes == [("a", 1, 0), ("b", 2, 1)]
    stats = InsightsReader(store.db).stats(wf.id, None)
    assert stats.by_status == {"succeeded": 1}


def test_an_llm_reply_cut_at_max_tokens_is_counted_for_its_model(store: Store) -> None:
    wf = workflow([node("ask", "llm", model="offline:echo", max_tokens=2, prompt="tell me a long story")], [])

    async def go() -> None:
        service = RunService(store, catalog_with([]), EngineServices(providers=default_providers()))
        store.workflows.save(wf)
        started = service.start(wf)
        assert started.handle is not None
        await started.handle.wait()

    asyncio.run(go())
    stats = InsightsReader(store.db).stats(wf.id, None)
    [model] = stats.models
    assert (model.model, model.calls, model.truncated, model.output_tokens) == ("offline:echo", 1, 1, 2)


def test_what_map_items_did_counts_for_the_mapping_workflow(store: Store) -> None:
    item = workflow(
        [node("start", "start"), node("ask", "llm", model="offline:echo", max_tokens=2, prompt="say {{ run.inputs.n }}"),
         node("again", "t.flaky", fail_times=1, error_class="rate_limit",
              retry={"max_attempts": 2, "initial_delay_s": 0.0, "retry_on": ["rate_limit"]}),
         node("out", "output", name="said")],
        ["start.inputs -> ask.input", "ask.text -> again.input", "again.output -> out.value"],
        inputs=[RunInput(name="n", type="integer")],
    ).model_copy(update={"id": "wf_item", "name": "item"})  # fmt: skip
    mapping = workflow(
        [node("xs", "transform", expression="[1, 2, 3]"), node("m", "map", workflow="wf_item", item_input="n"),
         node("out", "output", name="results")],
        ["xs.output -> m.items", "m.results -> out.value"],
    ).model_copy(update={"id": "wf_map", "name": "map of asks"})  # fmt: skip

    async def go() -> None:
        service = RunService(store, catalog_with([]), EngineServices(providers=default_providers()))
        store.workflows.save(item)
        store.workflows.save(mapping)
        started = service.start(mapping)
        assert started.handle is not None
        assert (await started.handle.wait()).status == "succeeded"

    asyncio.run(go())
    stats = InsightsReader(store.db).stats("wf_map", None)
    [model] = stats.models
    assert (model.model, model.calls, model.truncated, model.output_tokens) == ("offline:echo", 3, 3, 6)
    nodes = {n.node_id: (n.runs, n.attempts, n.retries, n.failures) for n in stats.nodes}
    assert nodes["m › ask"] == (1, 3, 0, 0) and nodes["m › again"] == (1, 6, 3, 0)
    assert nodes["m"] == (1, 1, 0, 0)
    retried = [(f.kind, f.error_class, f.node_id, f.count) for f in stats.failures]
    assert retried == [("retry", "rate_limit", "m › again", 3)]


def test_a_roll_up_that_fails_never_costs_the_runs_record_and_is_counted_later(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    wf = workflow([node("a", "t.noop")], [])

    def broken(self: object, run_ids: object) -> None:
        raise sqlite3.OperationalError("no such table: insight_node_day")

    monkeypatch.setattr(Rollup, "add_runs", broken)

    async def go() -> str:
        service = RunService(store, catalog_with([]), EngineServices())
        store.workflows.save(wf)
        started = service.start(wf)
        assert started.handle is not None
        assert (await started.handle.wait()).status == "succeeded"
        return started.run_id

    run_id = asyncio.run(go())
    assert store.runs.get(run_id).status == "succeeded"
    assert [s.status for s in store.runs.steps(run_id)] == ["succeeded"]
    with store.db.read() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM insight_rolled").scalar() == 0
    monkeypatch.undo()
    assert InsightsReader(store.db).stats(wf.id, None).by_status == {"succeeded": 1}


def test_an_empty_library_has_no_figures(store: Store) -> None:
    stats = InsightsReader(store.db).stats(None, parse_since("7d"))
    assert (stats.runs, stats.success_rate, stats.p50_s, stats.days, stats.suggestions) == (0, None, None, [], [])


@pytest.mark.parametrize("text", ["7", "0d", "tomorrow", "-3d", "5y"])
def test_a_bad_period_is_refused_with_what_is_accepted(text: str) -> None:
    with pytest.raises(ValueError, match="24h, 7d, 30d or 2w, or 'all'"):
        parse_since(text)


INSIGHTS_VERSION = next(m.version for m in MIGRATIONS if m.summary.startswith("insights"))


def test_a_library_from_before_the_roll_ups_is_upgraded_and_its_runs_counted(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    store = open_store(path)
    _known(store)
    store.close()
    with sqlite3.connect(path) as conn:  # make it a library of the schema before: runs, no roll-ups
        tables = conn.execute(
            "SELECT name FROM sqlite_master WHERE name LIKE 'insight_%' AND type = 'table'"
        ).fetchall()
        later = [  # and what the schemas after it added
            statement.split()[2]
            for migration in MIGRATIONS
            if migration.version > INSIGHTS_VERSION
            for statement in migration.statements
            if statement.lstrip().startswith("CREATE TABLE")
        ]
        for name in [*(name for (name,) in tables), *later]:
            conn.execute(f"DROP TABLE {name}")
        conn.execute("DROP INDEX run_by_finished")
        conn.execute("DROP INDEX run_live")
        conn.execute(f"PRAGMA user_version = {INSIGHTS_VERSION - 1}")
    conn.close()
    store = open_store(path)
    try:
        assert store.db.upgraded[0] == INSIGHTS_VERSION and store.db.backup_path is not None
        stats = InsightsReader(store.db).stats("wf_a", None, now=NOW)
        assert stats.by_status == {"succeeded": 6, "failed": 1}
    finally:
        store.close()
