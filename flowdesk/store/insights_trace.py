"""A recorded run as OpenTelemetry spans, with the real times of its journal (``flowdesk trace``).

One span for the run; under it a span per loop pass (the attempts of pass N of any node), and a
span per node attempt; a sub-workflow or map item run is a span under the attempt of the node that
started it, with its own attempts under it. LLM attempts follow the GenAI semantic conventions
(``gen_ai.request.model``, ``gen_ai.usage.input_tokens`` / ``output_tokens``,
``gen_ai.response.finish_reasons``, read from the node's "finished: REASON" log line).

The spans are made with the OpenTelemetry SDK and exported by its OTLP/HTTP exporter, or encoded
by its protobuf encoder and written as OTLP JSON. The trace id is derived from the run id, so a
run sent twice is one trace. The SDK is imported here only, by the commands that use it.
"""

from __future__ import annotations

import json
import random
import re
from collections import defaultdict
from dataclasses import dataclass, field
from hashlib import blake2b
from typing import Any

from flowdesk.store.database import Database
from flowdesk.store.insights_children import library_document_text
from flowdesk.store.insights_rollup import read_document

_FINISHED = re.compile(r"^(?:\w+: )?finished: ([^;]+);")
"""The LLM node's closing log line, as kept ("finished: length; 12 in + 2 out tokens ..."; "info: " before
it in runs recorded while the log repeated the level in its messages)."""
NS = 1_000_000_000


class TraceError(Exception):
    """The trace could not be sent or written; the message says where and why."""


@dataclass
class _Attempt:
    node_id: str
    iteration: int
    attempt: int
    status: str
    error: str | None
    start: float
    end: float
    input_tokens: int
    output_tokens: int
    cost_usd: float
    finish_reasons: list[str] = field(default_factory=list)


@dataclass
class _Run:
    id: str
    name: str
    status: str
    error: str | None
    start: float
    end: float
    parent_node_id: str | None
    models: dict[str, str]
    attempts: list[_Attempt]
    children: list[_Run] = field(default_factory=list)


def trace_id_of(run_id: str) -> int:
    return int.from_bytes(blake2b(run_id.encode(), digest_size=16).digest(), "big") or 1


def load_run(db: Database, run_id: str) -> _Run:
    """The run, its attempts and its sub-runs (recursively), from the journal's rows."""
    with db.read():
        raw = db.raw()  # the same connection, inside the read transaction
        row = raw.execute(
            "SELECT r.id, r.workflow_name, r.status, r.error, coalesce(r.started_at, r.created_at),"
            " coalesce(r.finished_at, r.started_at, r.created_at), r.parent_node_id, b.data"
            " FROM run r LEFT JOIN blob b ON b.hash = r.document_hash WHERE r.id = ?",
            (run_id,),
        ).fetchone()
        if row is None:
            from flowdesk.store.workflows import NotFoundError

            raise NotFoundError(f"there is no run '{run_id}' in the library (see `flowdesk runs`)")
        return _load(raw, row, None)


def _load(raw: Any, row: Any, parent_doc: Any) -> _Run:
    run_id, name, status, error, start, end, parent_node, doc = row
    if doc is None and parent_doc is not None:  # a map item or sub-workflow run: its workflow's document
        doc = library_document_text(raw, parent_doc.workflows.get(parent_node or ""))
    facts = read_document(doc)
    attempts = [
        _Attempt(n, it, a, st, err, s or start, f or s or start, tin, tout, cost)
        for n, it, a, st, err, s, f, tin, tout, cost in raw.execute(
            "SELECT node_id, iteration, attempt, status, error, started_at, finished_at, input_tokens, output_tokens,"
            " cost_usd FROM step WHERE run_id = ? AND source = 'run' AND status != 'skipped'"
            " ORDER BY started_at, node_id",
            (run_id,),
        ).fetchall()
    ]
    by_node: dict[tuple[str, int], list[_Attempt]] = defaultdict(list)
    for a in attempts:
        by_node[(a.node_id, a.iteration)].append(a)
    for node_id, iteration, ts, message in raw.execute(
        "SELECT node_id, iteration, ts, message FROM log WHERE run_id = ? AND kind = 'node_log' AND message LIKE"
        " '%finished: %'",
        (run_id,),
    ).fetchall():
        found = _FINISHED.match(message)
        owners = [a for a in by_node.get((node_id, iteration), []) if a.start <= ts <= a.end + 1e-3]
        if found and owners:
            owners[-1].finish_reasons.append(found.group(1).strip())
    run = _Run(run_id, name, status, error, start, end, parent_node, facts.models, attempts)
    for child in raw.execute(
        "SELECT r.id, r.workflow_name, r.status, r.error, coalesce(r.started_at, r.created_at),"
        " coalesce(r.finished_at, r.started_at, r.created_at), r.parent_node_id, b.data"
        " FROM run r LEFT JOIN blob b ON b.hash = r.document_hash WHERE r.parent_run_id = ? AND r.kind = 'child'"
        " ORDER BY r.created_at",
        (run_id,),
    ).fetchall():
        run.children.append(_load(raw, child, facts))
    return run


# ---------------------------------------------------------------- spans
def make_spans(run: _Run) -> list[Any]:
    """The run as finished SDK spans (``ReadableSpan``), parents before children."""
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from opentelemetry.sdk.trace.id_generator import IdGenerator

    class _RunIds(IdGenerator):
        """The trace id from the run id; span ids at random."""

        def __init__(self, trace_id: int) -> None:
            self._trace_id = trace_id
            self._random = random.Random()

        def generate_span_id(self) -> int:
            return self._random.getrandbits(64) or 1

        def generate_trace_id(self) -> int:
            return self._trace_id

    memory = InMemorySpanExporter()
    provider = TracerProvider(
        resource=Resource.create({"service.name": "flowdesk"}), id_generator=_RunIds(trace_id_of(run.id))
    )
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer("flowdesk")
    _run_span(tracer, run, None)
    provider.shutdown()
    return sorted(memory.get_finished_spans(), key=lambda s: (s.start_time, s.end_time))


def _run_span(tracer: Any, run: _Run, parent: Any) -> None:
    from opentelemetry import trace

    attributes: dict[str, Any] = {
        "flowdesk.run.id": run.id,
        "flowdesk.workflow.name": run.name,
        "flowdesk.run.status": run.status,
    }
    label = run.id.rsplit(".", 1)[-1] if parent is not None else ""  # a child's id ends with its label
    if label.startswith("item_") and label[5:].isdigit():
        name = f"map item {int(label[5:]) + 1}: {run.name}"  # counted from 1, as the app pages them
        attributes["flowdesk.map.item"] = int(label[5:])  # the item's index in the list, from 0
    else:
        name = f"sub-workflow {run.name}" if parent is not None else f"run {run.name}"
    span = tracer.start_span(
        name,
        context=trace.set_span_in_context(parent) if parent is not None else None,
        start_time=_ns(run.start),
        attributes=attributes,
    )
    _set_status(span, run.status, run.error)
    passes: dict[int, Any] = {}
    for iteration in sorted({a.iteration for a in run.attempts if a.iteration > 0}):
        members = [a for a in run.attempts if a.iteration == iteration]
        passes[iteration] = tracer.start_span(
            f"loop pass {iteration}",
            context=trace.set_span_in_context(span),
            start_time=_ns(min(a.start for a in members)),
            attributes={"flowdesk.loop.pass": iteration, "flowdesk.run.id": run.id},
        )
    attempt_spans: list[tuple[_Attempt, Any]] = []
    for a in run.attempts:
        holder = passes.get(a.iteration, span)
        attempt_spans.append((a, _attempt_span(tracer, run, a, holder)))
    for child in run.children:
        holder = next(
            (
                s
                for a, s in reversed(attempt_spans)
                if a.node_id == child.parent_node_id and a.start <= child.start + 1e-3
            ),
            span,
        )
        _run_span(tracer, child, holder)
    for a, s in attempt_spans:
        s.end(end_time=_ns(max(a.end, a.start)))
    for iteration, s in passes.items():
        s.end(end_time=_ns(max(a.end for a in run.attempts if a.iteration == iteration)))
    span.end(end_time=_ns(max(run.end, run.start)))


def _attempt_span(tracer: Any, run: _Run, a: _Attempt, parent: Any) -> Any:
    from opentelemetry import trace

    attributes: dict[str, Any] = {
        "flowdesk.node.id": a.node_id,
        "flowdesk.node.attempt": a.attempt,
        "flowdesk.node.iteration": a.iteration,
        "flowdesk.node.status": a.status,
        "flowdesk.cost_usd": a.cost_usd,
    }
    name = f"node {a.node_id}"
    model = run.models.get(a.node_id)
    if model is not None:
        provider, _, model_name = model.partition(":")
        name = f"chat {model_name}"
        attributes.update({
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": provider,
            "gen_ai.system": provider,
            "gen_ai.request.model": model_name,
            "gen_ai.usage.input_tokens": a.input_tokens,
            "gen_ai.usage.output_tokens": a.output_tokens,
        })  # fmt: skip
        if a.finish_reasons:
            attributes["gen_ai.response.finish_reasons"] = list(a.finish_reasons)
    span = tracer.start_span(
        name, context=trace.set_span_in_context(parent), start_time=_ns(a.start), attributes=attributes
    )
    _set_status(span, a.status, a.error)
    return span


def _set_status(span: Any, status: str, error: str | None) -> None:
    from opentelemetry.trace import Status, StatusCode

    if status in ("failed", "interrupted"):
        message = ""
        try:
            info = json.loads(error) if error else {}
            message = f"{info.get('error_class', 'error')}: {info.get('message', '')}" if isinstance(info, dict) else ""
        except ValueError:
            message = error or ""
        span.set_status(Status(StatusCode.ERROR, message[:500]))
    elif status == "succeeded":
        span.set_status(Status(StatusCode.OK))


def _ns(ts: float) -> int:
    return int(ts * NS)


# ---------------------------------------------------------------- sending and writing
def otlp_traces_url(url: str) -> str:
    """The collector's traces endpoint: a URL without a path gets OTLP/HTTP's ``/v1/traces``."""
    from urllib.parse import urlsplit

    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise TraceError(f"--otlp needs an http:// or https:// URL of an OTLP/HTTP collector, not '{url}'")
    return url.strip() if parts.path not in ("", "/") else url.strip().rstrip("/") + "/v1/traces"


def send_spans(spans: list[Any], url: str, *, timeout_s: float = 10.0) -> None:
    """Export the spans to an OTLP/HTTP collector (protobuf); a TraceError says why it did not take them."""
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace.export import SpanExportResult

    endpoint = otlp_traces_url(url)
    exporter = OTLPSpanExporter(endpoint=endpoint, timeout=timeout_s)
    try:
        result = exporter.export(spans)
    finally:
        exporter.shutdown()
    if result is not SpanExportResult.SUCCESS:
        raise TraceError(f"the collector at {endpoint} did not take the trace (see the log with -v for why)")


def otlp_json(spans: list[Any]) -> dict[str, Any]:
    """The spans as OTLP JSON (an ExportTraceServiceRequest; ids in hex, enums as numbers, per the spec)."""
    from google.protobuf.json_format import MessageToDict
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans

    data = MessageToDict(encode_spans(spans), use_integers_for_enums=True)
    for resource in data.get("resourceSpans", []):
        for scope in resource.get("scopeSpans", []):
            for span in scope.get("spans", []):
                for key in ("traceId", "spanId", "parentSpanId"):
                    if span.get(key):
                        span[key] = _hex(span[key])
    return data


def _hex(b64: str) -> str:
    import base64

    return base64.b64decode(b64).hex()
