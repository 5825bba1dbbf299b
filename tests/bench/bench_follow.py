"""Benchmark: `flowdesk follow` of a run in another process, the old pace beside the adaptive one, in one run.

`flowdesk follow RUN` reads the run's journal in the library. Before, it read again at once after a read
that found events (a tight loop while a run's events flow) and every 0.1 s when none came; now it waits
20 ms after events, then longer at each quiet read up to 0.1 s, and 0.5 s once the run has been quiet
for 2 s (``journal_follow.PollPace``). Both
follow the same runs at once, each in its own thread of this process, while the real service (its own
process) runs them: a busy run (a for_each of many transforms: events flow), a quiet one (a chain
of short delays: an event now and then) and an idle one (two delays of 5 s: a run that waits). Per run and pace: reads of the journal, the follower's CPU seconds,
and the lag of each event (when the follower had it, after the event's own time: the recorder's commit
delay is in both), median and worst.

    .venv/bin/python tests/bench/bench_follow.py [--items 1500] [--delays 8]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from support.service_flows import item_loop
from support.service_process import ServiceProcess
from support.wfbuild import node, workflow

from flowdesk.cli.remote import follow_journal
from flowdesk.model.workflow import Workflow
from flowdesk.store.journal_follow import JournalFollower, PollPace
from flowdesk.store.store import open_store


class OldPace(PollPace):
    """`flowdesk follow` before: read again at once after events, every 0.1 s when none came."""

    def next(self, got_events: bool) -> float:
        return 0.0 if got_events else 0.1


def quiet_chain(count: int, seconds: float, wf_id: str) -> Workflow:
    nodes = [node("start", "start")] + [node(f"d{i}", "delay", seconds=seconds) for i in range(count)]
    edges = ["start.inputs -> d0.value"] + [f"d{i}.value -> d{i + 1}.value" for i in range(count - 1)]
    return workflow(nodes, edges).model_copy(update={"id": wf_id, "name": wf_id})


class Follower(threading.Thread):
    def __init__(self, db: Path, run_id: str, pace: PollPace) -> None:
        super().__init__(daemon=True)
        self.db, self.run_id, self.pace = db, run_id, pace
        self.lags: list[float] = []
        self.reads = 0
        self.cpu_s = 0.0

    def run(self) -> None:
        store = open_store(self.db)
        try:
            follower = JournalFollower(store.db, self.run_id)
            read = follower.read

            def counted(**kwargs: object) -> object:
                self.reads += 1
                return read(**kwargs)  # type: ignore[arg-type]

            follower.read = counted  # type: ignore[method-assign]
            cpu = time.thread_time()
            follow_journal(follower, lambda event: self.lags.append(time.time() - event.ts), self.pace)
            self.cpu_s = time.thread_time() - cpu
        finally:
            store.close()


def follow_both(service: ServiceProcess, db: Path, workflow_id: str) -> list[Follower]:
    with service.client() as api:
        run_id = api.post(f"/api/workflows/{workflow_id}/runs", json={}).json()["run_id"]
    followers = [Follower(db, run_id, OldPace()), Follower(db, run_id, PollPace())]
    for follower in followers:
        follower.start()
    for follower in followers:
        follower.join(600)
    return followers


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=1500)
    parser.add_argument("--delays", type=int, default=8)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-follow-"))
    os.environ["FLOWDESK_CONFIG"] = str(folder / "settings.json")
    db = folder / "library.db"
    store = open_store(db)
    store.workflows.save(item_loop(args.items, wf_id="wf_busy"))
    store.workflows.save(quiet_chain(args.delays, 0.4, "wf_quiet"))
    store.workflows.save(quiet_chain(2, 5.0, "wf_idle"))
    store.close()
    print(f"load: {os.getloadavg()[0]:.2f} (1 min average) on {os.cpu_count()} cores")
    print(f"{'run':34} {'pace':9} {'events':>7} {'reads':>6} {'cpu s':>6} {'lag p50 ms':>11} {'lag max ms':>11}")
    service = ServiceProcess(db, limit=2).start()
    try:
        for label, workflow_id in ((f"busy: for_each of {args.items}", "wf_busy"),
                                   (f"quiet: {args.delays} delays of 0.4 s", "wf_quiet"),
                                   ("idle: 2 delays of 5 s", "wf_idle")):  # fmt: skip
            for pace, follower in zip(("old", "adaptive"), follow_both(service, db, workflow_id), strict=True):
                lags = follower.lags
                print(f"{label:34} {pace:9} {len(lags):7} {follower.reads:6} {follower.cpu_s:6.2f}"
                      f" {statistics.median(lags) * 1000:11.0f} {max(lags) * 1000:11.0f}")  # fmt: skip
    finally:
        service.stop()
    print(f"load: {os.getloadavg()[0]:.2f} (1 min average) at the end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
