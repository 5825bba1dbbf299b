"""What a workflow from elsewhere would do on this machine, said before it is opened or run.

Why: a workflow file is data, but some of its nodes act: a Tool node calls Python code installed
here (a plugin's tool can do anything the user can), a node of a plugin kind runs that plugin's
code, and an LLM or HTTP node can send a stored credential. A file someone sent is opened after the
person has read which credentials it names and where their keys would go, and it runs code only
after they said yes (the app asks once per imported workflow; the CLI says it at ``flowdesk import``).
Qt-free so the app and the CLI give the same sentences.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from flowdesk.model.fileformat import WorkflowFileError, read_workflow
from flowdesk.model.workflow import Workflow
from flowdesk.nodes.registry import Registry, builtin_registry
from flowdesk.nodes.tools import BUILTIN_FUNCTIONS
from flowdesk.providers.credential_uses import credential_uses
from flowdesk.providers.settings import LLMSettings

log = logging.getLogger(__name__)
BUILTIN_TOOL_EFFECTS = {
    "file_read": "reads files in the folder you choose for the run",
    "file_write": "writes files in the folder you choose for the run",
}
"""Built-in tools that reach beyond the run's values (the others compute on their arguments only)."""


@dataclass(frozen=True)
class ImportReview:
    """Sentences, one per node, in node order: the credentials it would use, and the code it would run."""

    credentials: tuple[str, ...]
    code: tuple[str, ...]

    @property
    def is_quiet(self) -> bool:
        """Nothing to ask about: no credential named, no code run."""
        return not self.credentials and not self.code


def code_uses(workflow: Workflow, registry: Registry) -> list[str]:
    """One sentence per node that runs code beyond flowdesk's sandboxed expressions."""
    builtin_tools = {fn.__name__ for fn in BUILTIN_FUNCTIONS}
    builtin_kinds = {spec.name for spec in builtin_registry()}
    lines = []
    for node in workflow.nodes:
        if node.kind == "tool":
            tool = str(node.config.get("tool", ""))
            if tool in BUILTIN_TOOL_EFFECTS:
                what = f"calls the built-in tool '{tool}', which {BUILTIN_TOOL_EFFECTS[tool]}"
            elif tool in builtin_tools:
                continue  # a pure built-in (json_pick, regex_extract …): computes on its arguments only
            else:
                what = f"calls the tool '{tool}': Python code installed on this machine"
        elif node.kind not in builtin_kinds:
            if node.kind in registry:
                what = f"is of the plugin node kind '{node.kind}', which runs that plugin's Python code"
            else:
                what = f"is of the node kind '{node.kind}', which no installed plugin provides (one would run its code)"
        else:
            continue
        lines.append(f"node '{node.id}' {what}")
    return lines


Loader = Callable[[str], Workflow | None]
"""The workflow a map or sub-workflow node's ``workflow`` setting names (None: not found)."""
MAX_CALLED = 50
"""Called workflows followed at most (a bound for a file that calls many, or itself in a ring)."""


def files_beside(folder: Path) -> Loader:
    """A loader of called workflow files next to the one being imported (what importing it brings along)."""

    def load(ref: str) -> Workflow | None:
        path = folder / ref
        if not ref.endswith(".json") or not path.is_file():
            return None
        try:
            return read_workflow(path)
        except (WorkflowFileError, OSError) as exc:
            log.info("cannot read %s, a workflow called from %s: %s", path, folder, exc)
            return None

    return load


def called(workflow: Workflow, load: Loader) -> list[tuple[str, Workflow]]:
    """The workflows ``workflow`` calls (map and sub-workflow nodes), theirs in turn, each once."""
    found: list[tuple[str, Workflow]] = []
    seen: set[str] = set()
    pending = [workflow]
    while pending and len(found) < MAX_CALLED:
        for node in pending.pop().nodes:
            ref = node.config.get("workflow")
            if node.kind not in ("map", "subworkflow") or not isinstance(ref, str) or ref in seen:
                continue
            seen.add(ref)
            callee = load(ref)
            if callee is not None:
                found.append((ref, callee))
                pending.append(callee)
    return found


def code_uses_deep(workflow: Workflow, registry: Registry, load: Loader) -> list[str]:
    """:func:`code_uses` of ``workflow`` and of every workflow it calls (their lines say through which)."""
    lines = code_uses(workflow, registry)
    for ref, callee in called(workflow, load):
        lines += [f"via the workflow it calls, '{ref}': {line}" for line in code_uses(callee, registry)]
    return lines


def review_import(
    workflow: Workflow, settings: LLMSettings, registry: Registry, load: Loader = lambda _ref: None
) -> ImportReview:
    """What to tell a person before a workflow from a file is opened; ``load`` finds the workflows it calls
    (those files come along when it is saved, so what they do is said too)."""
    credentials = credential_uses(workflow, settings)
    for ref, callee in called(workflow, load):
        credentials += [f"via the workflow it calls, '{ref}': {line}" for line in credential_uses(callee, settings)]
    return ImportReview(credentials=tuple(credentials), code=tuple(code_uses_deep(workflow, registry, load)))
