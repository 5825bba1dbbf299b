"""Kinds that structure a run: map over a list, call a sub-workflow, wait, ask a person."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from flowdesk.model.ids import ID_PATTERN
from flowdesk.model.kinds import KindSpec, NodePorts, PortSpec
from flowdesk.model.types import ValueType
from flowdesk.nodes.kinds.sources import fields
from flowdesk.nodes.kinds.widgets import TEMPLATE, WORKFLOW_REF
from flowdesk.nodes.runners.basic import run_approval, run_delay, run_subworkflow
from flowdesk.nodes.runners.mapping import run_map


class MapConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    workflow: str = Field(
        "",
        min_length=1,
        max_length=1000,
        description="Workflow run once per item: a library id or slug, or a file path relative to this file.",
        json_schema_extra=WORKFLOW_REF,
    )
    item_input: str = Field("item", pattern=ID_PATTERN, description="Run input of that workflow receiving the item.")
    concurrency: int = Field(4, ge=1, le=1000, description="Items processed at once, at most.")
    item_errors: Literal["fail", "include"] = Field(
        "fail", description="'fail': one failed item fails the node; 'include': its slot holds the error."
    )


class SubworkflowConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    workflow: str = Field(
        "",
        min_length=1,
        max_length=1000,
        description="Workflow to run: a library id or slug, or a file path relative to this file.",
        json_schema_extra=WORKFLOW_REF,
    )


class DelayConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    seconds: float = Field(1.0, ge=0, le=86_400, description="How long to wait before passing the value on.")


class ApprovalConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    message: str = Field(
        "Approve to continue?",
        min_length=1,
        max_length=20_000,
        description="What the person is asked (template).",
        json_schema_extra=TEMPLATE,
    )


MAP = KindSpec(
    run=run_map,
    name="map",
    display_name="Map",
    category="Flow",
    description="Runs a workflow once per item of a list, a few at a time, and collects the results in order.",
    icon="map",
    config_model=MapConfig,
    ports=NodePorts(
        inputs=(PortSpec("items", ValueType.ARRAY, required=True, description="The list to map over."),),
        outputs=(PortSpec("results", ValueType.ARRAY, description="One result per item, in item order."),),
    ),
)

SUBWORKFLOW = KindSpec(
    run=run_subworkflow,
    name="subworkflow",
    display_name="Sub-workflow",
    category="Flow",
    description="Runs another workflow once with the given inputs and emits its outputs.",
    icon="subworkflow",
    config_model=SubworkflowConfig,
    ports=NodePorts(
        inputs=(PortSpec("inputs", ValueType.OBJECT, description="Run inputs of the inner workflow."),),
        outputs=(PortSpec("outputs", ValueType.OBJECT, description="Outputs of the inner workflow."),),
    ),
)

DELAY = KindSpec(
    run=run_delay,
    name="delay",
    display_name="Delay",
    category="Flow",
    description="Waits, then passes its input on unchanged.",
    icon="delay",
    config_model=DelayConfig,
    ports=NodePorts((PortSpec("value", ValueType.ANY),), (PortSpec("value", ValueType.ANY),)),
    remote=True,
)

APPROVAL = KindSpec(
    run=run_approval,
    name="approval",
    display_name="Human Approval",
    category="Flow",
    description="Waits for a person to approve or reject; routes its input to 'approved' or 'rejected'.",
    icon="approval",
    config_model=ApprovalConfig,
    sources=fields(templates=("message",)),
    ports=NodePorts(
        (PortSpec("value", ValueType.ANY, description="The value being approved."),),
        (PortSpec("approved", ValueType.ANY), PortSpec("rejected", ValueType.ANY)),
    ),
)
