"""A plugin as a third party would write one: one node kind and one tool."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from flowdesk.model.kinds import KindSpec, NodePorts, PortSpec
from flowdesk.model.types import ValueType


class ReverseConfig(BaseModel):
    model_config = {"extra": "forbid"}
    times: int = Field(1, ge=1, le=10, description="How many times to reverse (odd = reversed).")


async def _run_reverse(ctx: Any, inputs: dict[str, Any], config: ReverseConfig) -> dict[str, Any]:
    text = str(inputs.get("text", ""))
    for _ in range(config.times):
        text = text[::-1]
    return {"text": text}


KINDS = [
    KindSpec(
        name="example.reverse",
        display_name="Reverse Text",
        category="Example Plugin",
        description="Reverses a string (a node kind from a plugin).",
        icon="transform",
        config_model=ReverseConfig,
        ports=NodePorts(
            inputs=(PortSpec("text", ValueType.STRING, required=True),),
            outputs=(PortSpec("text", ValueType.STRING),),
        ),
        run=_run_reverse,
    )
]


def shout(text: str) -> str:
    """A tool: upper-cases its argument."""
    return text.upper() + "!"
