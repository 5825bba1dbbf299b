"""The window's Dask tests (``cluster/``: Settings > Execution's Test connection, F5 on a cluster) in a
pytest process of their own.

They start a Dask client on a thread of the window's process. In the shared GUI test process, after
many other window tests, that process twice crashed later inside the garbage collector on Qt's thread
(the cause is not found; never with these tests alone), so they run apart and the rest of the suite
does not inherit their threads. Their result is this test's: every one of them must pass.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

CLUSTER_WINDOW_TESTS = "FLOWDESK_CLUSTER_WINDOW_TESTS"
"""What tells ``conftest.py`` here to collect ``cluster/`` (it leaves it out otherwise)."""
HERE = Path(__file__).parent


def test_the_windows_cluster_tests_pass_in_a_process_of_their_own() -> None:
    env = {**os.environ, CLUSTER_WINDOW_TESTS: "1"}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(HERE / "cluster")],
        cwd=HERE.parent.parent, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    summary = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
    assert done.returncode == 0, f"{summary}\n{done.stdout[-4000:]}\n{done.stderr[-2000:]}"
    assert " passed" in summary and "failed" not in summary and "error" not in summary, summary
