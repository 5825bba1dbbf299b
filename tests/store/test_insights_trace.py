"""`flowdesk trace`: a recorded run's spans reach an OTLP/HTTP collector (one on loopback here) with the
right parents, names, times and GenAI attributes; --file writes OTLP JSON; bad input is refused clearly."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.otlp_collector import Collector, attributes
from support.wfbuild import catalog_with, counting_loop, node, workflow

from flowdesk.cli import main
from flowdesk.engine.services import EngineServices
from flowdesk.model.fileformat import dumps_workflow
from flowdesk.model.workflow import RunInput
from flowdesk.providers.resolver import default_providers
from flowdesk.providers.settings import LLMSettings, save_settings
from flowdesk.store.running import RunService
from flowdesk.store.store import open_store


@pytest.fixture
def collector() -> Iterator[Collector]:
    c = Collector()
    yield c
    c.close()


def _record(db: Path, wf: Any, *others: Any) -> str:
    store = open_store(db)
    try:
        service = RunService(store, catalog_with([]), EngineServices(providers=default_providers()))
        for other in (*others, wf):
            store.workflows.save(other)

        async def go() -> str:
            started = service.start(wf)
            assert started.handle is not None
            result = await started.handle.wait()
            assert result.status == "succeeded", result.error
            return started.run_id

        return asyncio.run(go())
    finally:
        store.close()


def _map_of_llm_calls() -> tuple[Any, Any]:
    item = workflow(
        [node("start", "start"), node("ask", "llm", model="offline:echo", max_tokens=2, prompt="say {{ run.inputs.n }} now"),
         node("out", "output", name="said")],
        ["start.inputs -> ask.input", "ask.text -> out.value"],
        inputs=[RunInput(name="n", type="integer")],
    ).model_copy(update={"id": "wf_item", "name": "item"})  # fmt: skip
    mapping = workflow(
        [node("xs", "transform", expression="[1, 2]"), node("m", "map", workflow="wf_item", item_input="n"),
         node("out", "output", name="results")],
        ["xs.output -> m.items", "m.results -> out.value"],
    ).model_copy(update={"id": "wf_map", "name": "map of asks"})  # fmt: skip
    return mapping, item


def test_a_runs_spans_reach_the_collector_with_parents_names_and_genai_attributes(
    tmp_path: Path, collector: Collector, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "lib.db"
    mapping, item = _map_of_llm_calls()
    run_id = _record(db, mapping, item)
    assert main(["trace", run_id, "--otlp", collector.url, "--db", str(db)]) == 0
    assert "sent 12 span(s)" in capsys.readouterr().err
    assert collector.paths == ["/v1/traces"]
    by_id = {s.span_id: s for s in collector.spans}
    assert sorted(s.name for s in collector.spans) == sorted(
        ["run map of asks", "node xs", "node m", "node out", "map item 1: item", "map item 2: item"]
        + 2 * ["node start", "chat echo", "node out"]
    )
    [root] = [s for s in collector.spans if not s.parent_span_id]
    assert root.name == "run map of asks" and attributes(root)["flowdesk.run.id"] == run_id
    assert len({s.trace_id for s in collector.spans}) == 1
    [m] = [s for s in collector.spans if s.name == "node m"]
    assert by_id[m.parent_span_id] is root
    items = [s for s in collector.spans if s.name.startswith("map item")]
    assert len(items) == 2 and all(by_id[s.parent_span_id] is m for s in items)
    assert sorted(attributes(s)["flowdesk.map.item"] for s in items) == [0, 1]  # the index in the list
    chats = [s for s in collector.spans if s.name == "chat echo"]
    assert len(chats) == 2 and {by_id[c.parent_span_id].span_id for c in chats} == {s.span_id for s in items}
    for chat in chats:
        attrs = attributes(chat)
        assert attrs["gen_ai.request.model"] == "echo" and attrs["gen_ai.provider.name"] == "offline"
        assert attrs["gen_ai.usage.output_tokens"] == 2 and attrs["gen_ai.usage.input_tokens"] > 0
        assert attrs["gen_ai.response.finish_reasons"] == ["length"]
        parent = by_id[chat.parent_span_id]
        assert parent.start_time_unix_nano <= chat.start_time_unix_nano <= chat.end_time_unix_nano
        assert chat.end_time_unix_nano <= parent.end_time_unix_nano
    assert root.start_time_unix_nano <= m.start_time_unix_nano and m.end_time_unix_nano <= root.end_time_unix_nano


def test_loop_passes_are_spans_holding_that_pass_s_attempts(tmp_path: Path) -> None:
    db = tmp_path / "lib.db"
    run_id = _record(db, counting_loop(stop_below=3, max_iterations=5))
    out = tmp_path / "trace.json"
    assert main(["trace", run_id, "--file", str(out), "--db", str(db)]) == 0
    data = json.loads(out.read_text())
    spans = data["resourceSpans"][0]["scopeSpans"][0]["spans"]
    by_id = {s["spanId"]: s for s in spans}
    assert all(len(s["traceId"]) == 32 and len(s["spanId"]) == 16 for s in spans)  # hex, as OTLP JSON says
    passes = {s["name"]: s for s in spans if s["name"].startswith("loop pass")}
    assert set(passes) == {"loop pass 1", "loop pass 2"}
    counted = [s for s in spans if s["name"] == "node count"]
    assert sorted(by_id.get(s.get("parentSpanId", ""), {}).get("name", "run") for s in counted) == [
        "loop pass 1",
        "loop pass 2",
        "run " + counting_loop(stop_below=3, max_iterations=5).name,
    ]
    resource = {a["key"]: a["value"] for a in data["resourceSpans"][0]["resource"]["attributes"]}
    assert resource["service.name"] == {"stringValue": "flowdesk"}


def test_bad_trace_requests_get_one_clear_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "lib.db"
    run_id = _record(db, counting_loop(stop_below=2, max_iterations=3))
    assert main(["trace", run_id, "--db", str(db)]) == 2
    assert "--otlp URL" in capsys.readouterr().err
    assert main(["trace", run_id, "--otlp", "localhost:4318", "--db", str(db)]) == 2
    assert "needs an http:// or https:// URL" in capsys.readouterr().err
    assert main(["trace", "nosuchrun", "--file", "-", "--db", str(db)]) == 2
    assert "no run 'nosuchrun'" in capsys.readouterr().err
    assert main(["trace", run_id, "--otlp", "http://127.0.0.1:9", "--db", str(db)]) == 1
    assert "did not take the trace" in capsys.readouterr().err


def test_the_opt_in_setting_sends_each_runs_trace_as_it_ends(
    tmp_path: Path, collector: Collector, capsys: pytest.CaptureFixture[str]
) -> None:
    save_settings(LLMSettings(trace_otlp_url=collector.url))
    wf_file = tmp_path / "two.json"
    wf = workflow(
        [node("a", "transform", expression="1"), node("b", "transform", expression="inputs.input + 1")],
        ["a.output -> b.input"],
    )
    wf_file.write_text(dumps_workflow(wf), encoding="utf-8")
    assert main(["run", str(wf_file), "--quiet", "--db", str(tmp_path / "lib.db")]) == 0
    names = {s.name for s in collector.spans}  # `flowdesk run` waited for the trace to arrive
    assert names == {f"run {wf.name}", "node a", "node b"}


def test_a_bad_collector_url_in_the_settings_file_is_named() -> None:
    with pytest.raises(ValueError, match="http:// or https:// URL"):
        LLMSettings(trace_otlp_url="localhost:4318")
