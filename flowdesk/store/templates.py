"""Workflow templates: the built-in examples and a person's own, saved with "Save as template".

A person's templates are workflow files in ``templates`` in the user's data folder (or
``FLOWDESK_TEMPLATES``), so they survive a new library and can be copied between machines. A broken
file is left out of the list rather than breaking it. ``list_templates`` is what the app's welcome
view, `flowdesk templates` and the service's ``GET /api/templates`` show.
"""

from __future__ import annotations

import os
import re
import uuid
from dataclasses import dataclass
from pathlib import Path

from flowdesk.model.fileformat import WorkflowFileError, read_workflow, write_workflow
from flowdesk.model.workflow import Workflow
from flowdesk.paths import examples_dir
from flowdesk.store.location import data_dir

ENV = "FLOWDESK_TEMPLATES"


@dataclass(frozen=True)
class Template:
    path: Path
    name: str
    description: str
    nodes: int
    builtin: bool
    """Shipped with flowdesk (an example) rather than saved by the user."""


def user_templates_dir() -> Path:
    chosen = os.environ.get(ENV)
    return Path(chosen).expanduser().absolute() if chosen else data_dir() / "templates"


def _read(folder: Path, *, builtin: bool) -> list[Template]:
    found = []
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            workflow = read_workflow(path)
        except WorkflowFileError:
            continue
        found.append(Template(path, workflow.name, workflow.description, len(workflow.nodes), builtin))
    return found


def list_templates() -> list[Template]:
    """Every template, by name; the user's own first among equal names."""
    every = _read(user_templates_dir(), builtin=False) + _read(examples_dir(), builtin=True)
    return sorted(every, key=lambda t: (t.name.lower(), t.builtin))


def save_template(workflow: Workflow, name: str | None = None) -> Path:
    """Write ``workflow`` as one of the user's templates (a fresh id, version 1); returns its file.

    A template of the same name is replaced: saving again updates it."""
    title = (name or workflow.name).strip()
    if not title:
        raise ValueError("a template needs a name")
    slug = re.sub(r"[^a-z0-9]+", "_", title.lower()).strip("_")[:60] or "template"
    folder = user_templates_dir()
    folder.mkdir(parents=True, exist_ok=True)
    template = workflow.model_copy(update={"id": f"wf_{uuid.uuid4().hex[:12]}", "name": title, "version": 1})
    path = folder / f"{slug}.json"
    write_workflow(template, path)
    return path


def remove_template(path: Path) -> None:
    """Delete one of the user's templates (a built-in one is refused)."""
    if path.parent.resolve() != user_templates_dir().resolve():
        raise ValueError(f"{path} is not one of your templates; built-in templates cannot be removed")
    path.unlink()
