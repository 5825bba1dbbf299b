"""`flowdesk trace RUN --otlp URL | --file out.json`: a recorded run as OpenTelemetry spans.

The spans carry the journal's real times; ``--otlp`` sends them to any OTLP/HTTP collector (Jaeger,
Tempo, an OpenTelemetry Collector, LLM tracing tools), ``--file`` writes OTLP JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from flowdesk.cli.common import CliError, add_library_options, open_library, resolve_run_id


def register(commands: Any) -> None:
    p = commands.add_parser(
        "trace",
        help="export a run as OpenTelemetry spans (OTLP/HTTP or an OTLP JSON file)",
        description="A span per run, node attempt, loop pass and sub-run or map item, with the journal's times "
        "and the GenAI conventions for LLM calls (model, tokens, finish reasons).",
    )
    p.add_argument("run_id", metavar="RUN", help="the run (a unique prefix of its id is enough)")
    p.add_argument("--otlp", metavar="URL", help="an OTLP/HTTP collector, e.g. http://localhost:4318")
    p.add_argument("--file", metavar="PATH", help="write the spans as OTLP JSON to this file ('-' for stdout)")
    add_library_options(p)
    p.set_defaults(handler=handle_trace)


def handle_trace(args: argparse.Namespace) -> int:
    if not args.otlp and not args.file:
        raise CliError("say where the trace goes: --otlp URL (a collector), --file PATH (OTLP JSON), or both")
    try:
        import opentelemetry.exporter.otlp.proto.http
        import opentelemetry.sdk  # noqa: F401
    except ImportError as exc:  # the observability extra is not installed
        raise CliError(
            f"flowdesk trace needs the OpenTelemetry SDK: pip install 'flowdesk[observability]' ({exc})"
        ) from None
    from flowdesk.store.insights_trace import TraceError, load_run, make_spans, otlp_json, otlp_traces_url, send_spans

    if args.otlp:
        try:
            otlp_traces_url(args.otlp)
        except TraceError as exc:
            raise CliError(str(exc)) from None
    with open_library(args) as store:
        run = load_run(store.db, resolve_run_id(store, args.run_id))
    spans = make_spans(run)
    if args.file:
        text = json.dumps(otlp_json(spans), indent=2)
        if args.file == "-":
            sys.stdout.write(text + "\n")
        else:
            try:
                Path(args.file).write_text(text + "\n", encoding="utf-8")
            except OSError as exc:
                raise CliError(f"cannot write {args.file}: {exc.strerror}") from None
            print(f"wrote {len(spans)} span(s) of run {run.id} to {args.file}", file=sys.stderr)
    if args.otlp:
        try:
            send_spans(spans, args.otlp)
        except TraceError as exc:
            raise CliError(str(exc), 1) from None
        print(f"sent {len(spans)} span(s) of run {run.id} to {args.otlp}", file=sys.stderr)
    return 0
