"""The built-in node kinds (docs/architecture.md §5), declared: ports, config model, presentation.

Their run functions are attached by ``flowdesk.nodes.runners`` once the engine exists; a kind
without one is shown and validated but refused by the executor.
"""

from __future__ import annotations

from flowdesk.model.kinds import KindSpec
from flowdesk.nodes.kinds.flow import APPROVAL, DELAY, MAP, SUBWORKFLOW
from flowdesk.nodes.kinds.io import NOTE, OUTPUT, START
from flowdesk.nodes.kinds.llm import HTTP, LLM, TOOL
from flowdesk.nodes.kinds.logic import CONDITION, MERGE, SWITCH, TRANSFORM
from flowdesk.nodes.kinds.loops import COLLECT, FOR_EACH

BUILTIN_KINDS: tuple[KindSpec, ...] = (
    START,
    OUTPUT,
    NOTE,
    LLM,
    HTTP,
    TOOL,
    TRANSFORM,
    CONDITION,
    SWITCH,
    MERGE,
    MAP,
    FOR_EACH,
    COLLECT,
    SUBWORKFLOW,
    DELAY,
    APPROVAL,
)
