"""The ticket-triage example runs as it comes, offline: its for_each body runs once per ticket (in
ticket order in the result), and its race goes on with the quick rule, cancelling the slow review."""

from __future__ import annotations

import json

from test_cli_commands import flowdesk

from flowdesk.paths import examples_dir


def test_the_ticket_triage_example_loops_over_its_tickets_and_races(tmp_path: object) -> None:
    db = f"{tmp_path}/lib.db"
    proc = flowdesk("run", str(examples_dir() / "ticket_triage.json"), "--db", db)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)["report"]
    assert report["routed_by"] == "rule"
    assert [(t["ticket"], t["queue"]) for t in report["tickets"]] == [
        (1, "on-call"),
        (2, "support"),
        (3, "on-call"),
        (4, "support"),
    ]
    for index in range(4):  # one sub-run per ticket, named by its index
        assert f".each.0.1.item_{index} started" in proc.stderr
    assert "review cancelled: lost the race" in proc.stderr
    assert "warning" not in proc.stderr


def test_more_tickets_than_max_items_are_reported(tmp_path: object) -> None:
    tickets = json.dumps([f"ticket {i}" for i in range(101)])
    proc = flowdesk("run", str(examples_dir() / "ticket_triage.json"), "--db", f"{tmp_path}/lib.db",
                    "--input", f"tickets={tickets}")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert len(json.loads(proc.stdout)["report"]["tickets"]) == 100
    assert "flowdesk: warning: 'For each ticket': the list has 101 items, more than max_items (100)" in proc.stderr
