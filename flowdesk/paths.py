"""Where the files that ship beside the code live (resources/: schema, examples, icons, themes)."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def resources_dir() -> Path:
    """The resources folder, in a source checkout and in an installed flowdesk alike."""
    return Path(str(files("flowdesk.resources")))


def examples_dir() -> Path:
    return resources_dir() / "examples"


def schema_path() -> Path:
    return resources_dir() / "schema" / "workflow.schema.json"
