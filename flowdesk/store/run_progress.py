"""How far a run has come, from its step rows: what `GET /api/runs/{id}` and the inbox show of a live run."""

from __future__ import annotations

from dataclasses import dataclass

from flowdesk.store.database import Database

_DONE = ("succeeded", "failed", "skipped", "cancelled")


@dataclass(frozen=True)
class Progress:
    done: int
    """Nodes with a final result (their latest loop pass and attempt)."""
    total: int
    running: tuple[str, ...]
    """The nodes running now (top-level run only)."""


def run_progress(db: Database, run_id: str) -> Progress:
    with db.read() as conn:
        total = conn.exec_driver_sql("SELECT node_count FROM run WHERE id = ?", (run_id,)).scalar() or 0
        rows = conn.exec_driver_sql(
            "SELECT node_id, status FROM step WHERE run_id = ? ORDER BY segment, iteration, attempt, id", (run_id,)
        ).all()
    latest = {node: status for node, status in rows}
    done = sum(1 for status in latest.values() if status in _DONE)
    running = tuple(sorted(node for node, status in latest.items() if status in ("running", "waiting")))
    return Progress(done=min(done, int(total)) if total else done, total=int(total), running=running)
