"""Promises about the project itself: CI runs what the README says, every package is installed, layers hold."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOW_LAYERS = ("model", "nodes", "engine", "providers", "store")


def _readme_commands() -> list[str]:
    return re.findall(r"```bash\n(.+?)\n```", (ROOT / "README.md").read_text(encoding="utf-8"))


def test_ci_runs_exactly_the_readme_test_command() -> None:
    test_command = _readme_commands()[1]
    assert "pytest" in test_command
    ci_lines = [line for line in (ROOT / ".ci" / "run").read_text().splitlines() if line and not line.startswith("#")]
    assert test_command in ci_lines


def test_every_package_is_listed_for_installation() -> None:
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "flowdesk").rglob("__init__.py")}
    assert found <= listed, f"add to [tool.setuptools] packages: {sorted(found - listed)}"


def test_imports_point_down_the_layers() -> None:
    order = ["model", "nodes", "engine", "providers", "store", "ui", "cli"]
    for index, layer in enumerate(order[:-2]):
        above = order[index + 1 :]
        for path in (ROOT / "flowdesk" / layer).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            for upper in above:
                assert not re.search(rf"^\s*(from|import) flowdesk\.{upper}\b", text, re.M), f"{path} imports {upper}"
            if layer in LOW_LAYERS:
                assert not re.search(r"^\s*(from|import) PySide6", text, re.M), f"{path} imports Qt"
            if layer != "store":
                assert not re.search(r"^\s*(from|import) (sqlmodel|sqlalchemy|sqlite3)", text, re.M), path
