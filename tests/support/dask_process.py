"""A Dask cluster in a process of its own, for the window's tests.

A LocalCluster started inside a Qt test process would put the scheduler's and the workers' threads
there, which the app never has. Here the cluster (scheduler and two workers, threads in that process)
runs in a child process, as a real one runs on other machines, and the test process holds only the
client the app itself makes (on its connection thread, where Python's collector no longer runs: see
``flowdesk/ui/collector.py``).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

SCRIPT = """
import json, sys
import distributed
cluster = distributed.LocalCluster(
    n_workers=2, threads_per_worker=2, processes=False, dashboard_address=None, host="127.0.0.1",
    protocol="tcp://",
)
print(json.dumps({"scheduler": cluster.scheduler_address, "workers": sorted(cluster.scheduler_info["workers"])}),
      flush=True)
sys.stdin.read()  # until the test closes our stdin
cluster.close()
"""


@dataclass(frozen=True)
class ClusterProcess:
    scheduler_address: str
    workers: frozenset[str]


@contextmanager
def cluster_process() -> Iterator[ClusterProcess]:
    proc = subprocess.Popen(
        [sys.executable, "-c", SCRIPT], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line, "the cluster process did not start"
        info = json.loads(line)
        yield ClusterProcess(info["scheduler"], frozenset(info["workers"]))
    finally:
        if proc.stdin is not None:
            proc.stdin.close()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
