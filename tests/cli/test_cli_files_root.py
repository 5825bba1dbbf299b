"""The README's ETL command writes where the user says, never into flowdesk's installed resources;
a file-tool workflow without --files-root stops at once naming the flag."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from test_cli_commands import assert_no_traceback, flowdesk

from flowdesk.paths import examples_dir, resources_dir

README = Path(__file__).resolve().parents[2] / "README.md"


def _readme_etl_commands() -> list[str]:
    block = re.search(r"## Command line\n\n```bash\n(.*?)```", README.read_text(encoding="utf-8"), re.DOTALL)
    assert block is not None
    return [line for line in block.group(1).splitlines() if "etl" in line]


def test_the_readmes_etl_command_writes_into_the_users_folder_only(tmp_path: Path) -> None:
    commands = _readme_etl_commands()
    assert commands and any(line.startswith("flowdesk run") for line in commands)
    data_before = sorted(os.listdir(examples_dir() / "data"))
    (tmp_path / "resources").symlink_to(resources_dir())  # the README's paths are relative to the checkout
    env = {**os.environ, "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]])}
    done = subprocess.run(
        ["bash", "-e", "-c", "\n".join(commands)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert sorted(os.listdir(examples_dir() / "data")) == data_before
    assert not (examples_dir() / "data" / "orders_report.json").exists()
    reports = [p for p in tmp_path.rglob("orders_report.json") if "resources" not in p.parts]
    assert len(reports) == 1


def test_a_files_root_inside_the_installed_resources_is_refused() -> None:
    proc = flowdesk("run", str(examples_dir() / "etl_orders.json"), "--files-root", str(examples_dir() / "data"))
    assert proc.returncode == 2
    assert "is inside flowdesk's installed resources, which a run must not write into" in proc.stderr
    assert not (examples_dir() / "data" / "orders_report.json").exists()
    assert_no_traceback(proc)


def test_a_files_root_that_does_not_exist_is_refused(tmp_path: Path) -> None:
    proc = flowdesk("run", str(examples_dir() / "etl_orders.json"), "--files-root", str(tmp_path / "nowhere"))
    assert proc.returncode == 2 and "there is no such folder" in proc.stderr
