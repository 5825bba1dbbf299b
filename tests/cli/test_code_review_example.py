"""The code-review example shows its loop when run as it comes: the review asks for a fix, then approves."""

from __future__ import annotations

import json

from test_cli_commands import flowdesk

from flowdesk.paths import examples_dir


def test_the_code_review_example_loops_with_its_default_input(tmp_path: object) -> None:
    proc = flowdesk("run", str(examples_dir() / "code_review_loop.json"), "--db", f"{tmp_path}/lib.db")
    assert proc.returncode == 0, proc.stderr
    assert "fix ok" in proc.stderr and "review#2 ok" in proc.stderr  # one revision went back to review
    assert json.loads(proc.stdout)["review"]["approved"] is True
