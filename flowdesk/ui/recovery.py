"""Recovery copies of unsaved edits, so a crash of the program loses at most a few seconds of work.

While a workflow has unsaved edits, the window writes it to a recovery file a moment after each
change (atomically: a crash mid-write leaves the previous copy). Saving or discarding the edits
removes the file. Each file is named after the process that wrote it (its owner token in the
library), so at start-up only the copies of processes that are gone are offered: a second flowdesk
open on the same library keeps its own copies to itself.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from flowdesk.model.fileformat import WorkflowFileError, dumps_workflow, loads_workflow
from flowdesk.model.workflow import Workflow

log = logging.getLogger(__name__)
FORMAT = "flowdesk.recovery"


@dataclass(frozen=True)
class RecoveredCopy:
    path: Path
    workflow: Workflow
    source: str | None
    """'library', or the file the workflow was opened from."""
    saved_at: float


class RecoveryFolder:
    """Recovery files of one library, written by the process holding ``owner`` (its token)."""

    def __init__(self, folder: Path, owner: str) -> None:
        self.folder = folder
        self.owner = owner

    def _path(self, workflow_id: str, owner: str | None = None) -> Path:
        return self.folder / f"{workflow_id}.{owner or self.owner}.json"

    def write(self, workflow: Workflow, source: str | None) -> Path:
        """Keep ``workflow`` (unsaved) as this process's recovery copy; atomic."""
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self._path(workflow.id)
        body = {"format": FORMAT, "saved_at": time.time(), "source": source, "workflow": dumps_workflow(workflow)}
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")
        os.replace(temporary, path)
        return path

    def discard(self, workflow_id: str) -> None:
        """The edits were saved or given up: no copy to offer any more."""
        self._path(workflow_id).unlink(missing_ok=True)

    def pending(self, alive: Callable[[str], bool]) -> list[RecoveredCopy]:
        """Copies left by processes that are gone (``alive(token)`` says which still run), newest first."""
        if not self.folder.is_dir():
            return []
        copies = []
        for path in sorted(self.folder.glob("*.json")):
            owner = path.stem.rsplit(".", 1)[-1]
            if owner == self.owner or alive(owner):
                continue
            copy = self._read(path)
            if copy is not None:
                copies.append(copy)
        return sorted(copies, key=lambda c: c.saved_at, reverse=True)

    def _read(self, path: Path) -> RecoveredCopy | None:
        try:
            body = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(body, dict) or body.get("format") != FORMAT:
                raise ValueError("not a flowdesk recovery file")
            workflow = loads_workflow(body["workflow"], source=str(path))
        except (OSError, ValueError, KeyError, TypeError, WorkflowFileError) as exc:
            log.warning("recovery file %s cannot be read (%s); it is left where it is", path, exc)
            return None
        return RecoveredCopy(path, workflow, body.get("source"), float(body.get("saved_at", 0.0)))

    def drop(self, copy: RecoveredCopy) -> None:
        """A copy the person recovered (it is now their unsaved edit) or declined."""
        copy.path.unlink(missing_ok=True)
