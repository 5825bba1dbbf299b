"""`flowdesk stats [SLUG] [--since 7d] [--json]`: how a workflow (or all of them) did over a period.

The figures are the Insights view's, read from the library's roll-ups (``flowdesk.store.insights``).
"""

from __future__ import annotations

import argparse
import time
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from flowdesk.cli.common import (
    CliError,
    add_library_options,
    fmt_cost,
    fmt_duration,
    open_library,
    print_json,
    print_table,
    shorten,
)

if TYPE_CHECKING:
    from flowdesk.store.insights import Stats


def register(commands: Any) -> None:
    p = commands.add_parser(
        "stats",
        help="how workflows did over a period: runs, success rate, durations, tokens, cost, slow nodes",
        description="Runs per day by status, success rate, duration p50/p95, tokens and cost per model, failures "
        "grouped, the nodes where the time goes, and suggestions, for one workflow or all. Days are UTC days.",
    )
    p.add_argument("ref", nargs="?", metavar="SLUG", help="one workflow (id or slug); all workflows without it")
    p.add_argument("--since", default="7d", metavar="SPAN", help="24h, 7d (default), 30d, 2w, ... or all")
    p.add_argument("--json", action="store_true", help="print as JSON")
    add_library_options(p)
    p.set_defaults(handler=handle_stats)


ENDED = ("succeeded", "failed", "cancelled", "interrupted")


def handle_stats(args: argparse.Namespace) -> int:
    from flowdesk.store.insights import InsightsReader, parse_since

    try:
        since = parse_since(args.since)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    with open_library(args) as store:
        reader = InsightsReader(store.db)
        key = reader.workflow_key(args.ref) if args.ref else None
        stats = reader.stats(key, since)
    if args.json:
        print_json(_as_json(stats))
        return 0
    _print(stats, args.since)
    return 0


def _as_json(stats: Stats) -> dict[str, Any]:
    data = asdict(stats)
    data["runs"], data["success_rate"] = stats.runs, stats.success_rate
    for day, raw in zip(stats.days, data["days"], strict=True):
        raw["date"] = day.date
    data["model_cost_by_day"] = {str(k): v for k, v in stats.model_cost_by_day.items()}
    data["concurrency"] = {k: {"peak": v[0], "limit": v[1]} for k, v in stats.concurrency.items()}
    return data


def _print(stats: Stats, since: str) -> None:
    start = (
        "all time"
        if stats.since_day is None
        else "since " + time.strftime("%Y-%m-%d UTC", time.gmtime(stats.since_day * 86_400))
    )
    print(f"{stats.name}: {since} ({start})")
    if not stats.runs:
        print("no finished runs in this period")
        return
    parts = ", ".join(f"{stats.by_status[s]:,} {s}" for s in ENDED if stats.by_status.get(s))
    rate = f"{stats.success_rate:.1%}" if stats.success_rate is not None else "-"
    print(
        f"runs {stats.runs:,} ({parts}); success {rate}; duration p50 {fmt_duration(stats.p50_s)}, "
        f"p95 {fmt_duration(stats.p95_s)}; tokens {stats.input_tokens:,} in + {stats.output_tokens:,} out; "
        f"cost {fmt_cost(stats.cost_usd)}"
    )
    print()
    print_table(
        ["DAY", "RUNS", "SUCCEEDED", "FAILED", "OTHER", "P50", "P95", "TOKENS", "COST"],
        [_day_row(d) for d in stats.days],
    )
    if stats.models:
        print()
        print_table(
            ["MODEL", "CALLS", "TOKENS IN", "TOKENS OUT", "CUT AT MAX_TOKENS", "COST"],
            [[m.model, f"{m.calls:,}", f"{m.input_tokens:,}", f"{m.output_tokens:,}", f"{m.truncated:,}",
              fmt_cost(m.cost_usd)] for m in stats.models],
        )  # fmt: skip
    _print_nodes(stats)
    _print_failures(stats)
    if stats.suggestions:
        print("\nsuggestions:")
        for s in stats.suggestions:
            print(f"- {s.text}\n  evidence: {s.evidence}")


def _day_row(d: Any) -> list[str]:
    ok, failed = d.runs.get("succeeded", 0), d.runs.get("failed", 0)
    return [d.date, f"{d.total:,}", f"{ok:,}", f"{failed:,}", f"{d.total - ok - failed:,}", fmt_duration(d.p50_s),
            fmt_duration(d.p95_s), f"{d.input_tokens + d.output_tokens:,}", fmt_cost(d.cost_usd)]  # fmt: skip


def _print_nodes(stats: Stats) -> None:
    if not stats.nodes:
        return
    several = stats.workflow is None
    print()
    print_table(
        ["NODE", "CRITICAL PATH", "TIME", "ATTEMPTS", "RETRIES", "FAILURES", "COST"],
        [[shorten(f"{stats.names.get(n.workflow, n.workflow)} / {n.node_id}" if several else n.node_id, 50),
          f"{n.critical_share:.0%}", fmt_duration(n.duration_s), f"{n.attempts:,}", f"{n.retries:,}",
          f"{n.failures:,}", fmt_cost(n.cost_usd)] for n in stats.nodes[:15]],
    )  # fmt: skip


def _print_failures(stats: Stats) -> None:
    if not stats.failures:
        return
    print()
    print_table(
        ["FAILURES", "CLASS", "NODE", "COUNT", "COST", "EXAMPLE"],
        [["run failed" if f.kind == "run" else "retried", f.error_class, f.node_id or "-", f"{f.count:,}",
          fmt_cost(f.cost_usd), shorten(f.message, 60)] for f in stats.failures[:15]],
    )  # fmt: skip
