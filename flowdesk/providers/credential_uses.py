"""Which stored credentials a workflow would use, and where their keys would go: said when one is imported.

Why: a workflow file names credentials by name only, so an imported one could ask for any key
this machine holds. Importing says which it names and where each key may go (its hosts), so a
person sees it before running; sending a key anywhere else fails at run time anyway.
"""

from __future__ import annotations

from flowdesk.model.workflow import Workflow
from flowdesk.providers.catalog import PROVIDERS
from flowdesk.providers.settings import LLMSettings


def credential_uses(workflow: Workflow, settings: LLMSettings) -> list[str]:
    """One sentence per node that uses a credential, in node order."""
    lines = []
    for node in workflow.nodes:
        config = node.config
        named = config.get("credential")
        name = named if isinstance(named, str) and named else None
        if node.kind == "llm":
            provider = str(config.get("model", "offline:echo")).partition(":")[0]
            if provider not in PROVIDERS or provider == "offline":
                continue
            name = name or provider
            sent_to = f"its {provider} calls"
        elif node.kind == "http" and name is not None:
            sent_to = f"{config.get('url', '')!s}"[:120]
        else:
            continue
        lines.append(f"node '{node.id}' uses credential '{name}' for {sent_to}; {_where(name, settings)}")
    return lines


def _where(name: str, settings: LLMSettings) -> str:
    info = settings.credential(name)
    if info is None:
        spec = PROVIDERS.get(name)
        if spec is not None and spec.default_base_url:
            return f"its key may go to {spec.default_base_url}"
        return "no credential of that name is set up here"
    hosts = ", ".join(info.allowed_hosts()) or "nowhere yet"
    return f"its key may go to: {hosts}"
