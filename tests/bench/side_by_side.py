"""Run one measurement of a bench against two checkouts of flowdesk, each in a fresh process.

The code before a change is a second git worktree (``git worktree add ../flowdesk-base main``);
its ``flowdesk`` package is put first on ``sys.path`` in a child process, which runs the bench's
own measuring code (from this checkout) against it. So old and new are measured in the same run,
by the same code, and can be printed side by side as ratios.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

WORKER_FLAG = "--worker"


def run_in(code_root: Path, script: Path, measure: str, *args: object, timeout: float = 900.0) -> Any:
    """``measure(*args)`` of ``script``, run against the flowdesk package in ``code_root``; its JSON result."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(code_root)}
    command = [sys.executable, str(script), WORKER_FLAG, str(code_root), measure, *map(str, args)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{measure}{args} failed against {code_root}:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def worker_call(argv: list[str], measures: dict[str, Any]) -> bool:
    """In a child started by :func:`run_in`: run the named measure and print its result as JSON."""
    if len(argv) < 3 or argv[1] != WORKER_FLAG:
        return False
    root, name, *args = argv[2:]
    import flowdesk

    assert Path(flowdesk.__file__).resolve().is_relative_to(Path(root).resolve()), flowdesk.__file__
    result = measures[name](*(json.loads(a) for a in args))
    print(json.dumps(result))
    return True


def ratio(old: float, new: float) -> str:
    """How many times faster (old / new), for the tables."""
    return f"{old / new:.1f}x" if new > 0 else "-"
