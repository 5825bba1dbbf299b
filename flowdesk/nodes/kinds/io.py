"""Kinds at the edges of a run: where run inputs enter, where outputs leave, and canvas notes."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from flowdesk.model.ids import ID_PATTERN
from flowdesk.model.kinds import KindSpec, NodePorts, PortSpec
from flowdesk.model.types import ValueType
from flowdesk.nodes.kinds.widgets import TEMPLATE
from flowdesk.nodes.runners.basic import restore_output, run_output, run_start


class OutputConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field("result", pattern=ID_PATTERN, description="Key of this value in the run's outputs.")


class NoteConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field("", max_length=20_000, description="The comment shown on the canvas.", json_schema_extra=TEMPLATE)
    color: str = Field("#fff3b0", pattern=r"^#[0-9a-fA-F]{6}$", description="Background colour of the note.")
    width: float = Field(240, ge=80, le=4000, description="Width on the canvas.")
    height: float = Field(120, ge=40, le=4000, description="Height on the canvas.")


START = KindSpec(
    run=run_start,
    name="start",
    display_name="Start",
    category="Input / Output",
    description="Where a run begins: emits the run's inputs as one object.",
    icon="start",
    ports=NodePorts(outputs=(PortSpec("inputs", ValueType.OBJECT, description="The run's inputs by name."),)),
    singleton=True,
)

OUTPUT = KindSpec(
    run=run_output,
    restore=restore_output,
    name="output",
    display_name="Output",
    category="Input / Output",
    description="Puts the value it receives into the run's outputs under a name.",
    icon="output",
    config_model=OutputConfig,
    ports=NodePorts(inputs=(PortSpec("value", ValueType.ANY, required=True),)),
)

NOTE = KindSpec(
    name="note",
    display_name="Note",
    category="Canvas",
    description="A sticky comment on the canvas; never runs.",
    icon="note",
    config_model=NoteConfig,
    runnable=False,
)
