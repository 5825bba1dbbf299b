"""Sending every run's trace as it finishes (the opt-in ``trace_otlp_url`` setting).

When a run's task ends, its spans are made from the library on the loop's thread (a few queries),
then exported to the collector on a thread of their own, so a slow or absent collector never holds
up the app or the next run. A failure is logged, never raised: a run's result does not depend on it.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

from flowdesk.store.database import Database, LibraryError
from flowdesk.store.insights_rollup import ENDED

log = logging.getLogger(__name__)


def send_when_finished(
    task: asyncio.Task[Any], db: Database, run_id: str, url: str, threads: list[threading.Thread] | None = None
) -> None:
    """Export ``run_id``'s trace to ``url`` once ``task`` (its run) is done, if the run ended then.

    The sending thread is added to ``threads``, so a command line that ends can wait for it."""

    def done(_task: asyncio.Task[Any]) -> None:
        try:
            from flowdesk.store.insights_trace import load_run, make_spans, send_spans

            run = load_run(db, run_id)
            if run.status not in ENDED:
                return  # waiting for an approval: its trace goes when it ends
            spans = make_spans(run)
        except ImportError as exc:
            log.warning("run %s: its trace was not sent: the OpenTelemetry SDK is not installed (%s)", run_id, exc)
            return
        except (LibraryError, LookupError, ValueError) as exc:
            log.warning("run %s: its trace was not sent: %s", run_id, exc)
            return

        def export() -> None:
            try:
                send_spans(spans, url)
            except Exception as exc:  # noqa: BLE001 - a thread of its own: say it, never crash the app
                log.warning("run %s: its trace was not sent to %s: %s", run_id, url, exc)

        thread = threading.Thread(target=export, name=f"trace-{run_id}", daemon=True)
        if threads is not None:
            threads[:] = [t for t in threads if t.is_alive()]
            threads.append(thread)
        thread.start()

    task.add_done_callback(done)
