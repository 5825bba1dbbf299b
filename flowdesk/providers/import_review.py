"""What a workflow from elsewhere would do on this machine, said before it is opened or run.

Why: a workflow file is data, but some of its nodes act: a Tool node calls Python code installed
here (a plugin's tool can do anything the user can), a node of a plugin kind runs that plugin's
code, and an LLM or HTTP node can send a stored credential. A file someone sent is opened after the
person has read which credentials it names and where their keys would go, and it runs code only
after they said yes (the app asks once per imported workflow; the CLI says it at ``flowdesk import``).
Qt-free so the app and the CLI give the same sentences.
"""

from __future__ import annotations

from dataclasses import dataclass

from flowdesk.model.workflow import Workflow
from flowdesk.nodes.registry import Registry, builtin_registry
from flowdesk.nodes.tools import BUILTIN_FUNCTIONS
from flowdesk.providers.credential_uses import credential_uses
from flowdesk.providers.settings import LLMSettings

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


def review_import(workflow: Workflow, settings: LLMSettings, registry: Registry) -> ImportReview:
    """What to tell a person before a workflow from a file is opened."""
    return ImportReview(
        credentials=tuple(credential_uses(workflow, settings)),
        code=tuple(code_uses(workflow, registry)),
    )
