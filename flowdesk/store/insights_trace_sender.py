"""Sending every run's trace as it finishes (the opt-in ``trace_otlp_url`` setting).

When a run's task ends, its spans are made from the library on the loop's thread (a few queries),
then exported to the collector on a thread of their own, so a slow or absent collector never holds
up the app or the next run. A failure is logged, never raised: a run's result does not depend on it.
A command line that ends waits for the traces of its runs (``TraceSending.finish``).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

from flowdesk.store.database import Database, LibraryError
from flowdesk.store.insights_rollup import ENDED

log = logging.getLogger(__name__)


class TraceSending:
    """The runs whose traces go to a collector when they end, and the threads sending them."""

    def __init__(self) -> None:
        self.tasks: list[asyncio.Task[Any]] = []
        self.threads: list[threading.Thread] = []

    def watch(self, task: asyncio.Task[Any], db: Database, run_id: str, url: str) -> None:
        """Export ``run_id``'s trace to ``url`` once ``task`` (its run) is done, if the run ended then."""
        self.tasks = [t for t in self.tasks if not t.done()]
        self.tasks.append(task)
        task.add_done_callback(lambda _task: self._send(db, run_id, url))

    async def finish(self, timeout_s: float = 15.0) -> None:
        """Wait for the watched runs to end and their traces to be sent (at most ``timeout_s`` each)."""
        pending = [t for t in self.tasks if not t.done()]
        if pending:
            await asyncio.wait(pending, timeout=timeout_s)
        await asyncio.sleep(0)  # the runs' done callbacks start the sending threads
        for thread in self.threads:
            await asyncio.to_thread(thread.join, timeout_s)

    def _send(self, db: Database, run_id: str, url: str) -> None:
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
        self.threads = [t for t in self.threads if t.is_alive()]
        self.threads.append(thread)
        thread.start()
