"""Finding the workflows that map and subworkflow nodes name, when running from files."""

from __future__ import annotations

from pathlib import Path

from flowdesk.model.fileformat import read_workflow
from flowdesk.model.workflow import Workflow


class FileWorkflowResolver:
    """Resolves a reference as a path relative to the folder of the workflow being run.

    ``summarise`` and ``summarise.json`` both name ``<folder>/summarise.json``. Each file is read
    once per resolver (a map over 1,000 items does not re-read it 1,000 times).
    """

    def __init__(self, base: Path) -> None:
        self.base = base
        self._cache: dict[Path, Workflow] = {}

    def resolve(self, ref: str) -> Workflow:
        path = (self.base / ref).expanduser()
        if not path.suffix:
            path = path.with_suffix(".json")
        path = path.resolve()
        if path not in self._cache:
            if not path.is_file():
                raise LookupError(f"no workflow file {path}")
            self._cache[path] = read_workflow(path)
        return self._cache[path]
