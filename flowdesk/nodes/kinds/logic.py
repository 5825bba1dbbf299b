"""Kinds that shape and route data: transform, condition, switch, merge."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from flowdesk.model.ids import is_valid_id
from flowdesk.model.kinds import KindSpec, NodePorts, PortSpec
from flowdesk.model.types import ValueType
from flowdesk.nodes.kinds.sources import fields, transform_sources
from flowdesk.nodes.kinds.widgets import EXPRESSION, TEMPLATE
from flowdesk.nodes.runners.basic import run_condition, run_merge, run_switch, run_transform

_VALUE_IN = PortSpec("value", ValueType.ANY, required=True, description="The value to test and route.")


class TransformConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    mode: Literal["expression", "template"] = Field(
        "expression", description="'expression' computes a JSON value; 'template' renders text."
    )
    expression: str = Field(
        "inputs.input",
        min_length=1,
        max_length=100_000,
        description="The expression or template; may read inputs, run.inputs and nodes.<id>.output.",
        json_schema_extra=TEMPLATE,
    )


class ConditionConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    expression: str = Field(
        "inputs.value",
        min_length=1,
        max_length=10_000,
        description="When true, the value goes out of 'true'; otherwise out of 'false'.",
        json_schema_extra=EXPRESSION,
    )


class SwitchConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    expression: str = Field(
        "inputs.value",
        min_length=1,
        max_length=10_000,
        description="Its result picks the output port of the same name, else 'default'.",
        json_schema_extra=EXPRESSION,
    )
    cases: list[str] = Field(
        default_factory=lambda: ["a", "b"],
        min_length=1,
        max_length=64,
        description="One output port per case (names: letters, digits, _).",
    )

    @field_validator("cases")
    @classmethod
    def _distinct_names(cls, cases: list[str]) -> list[str]:
        for case in cases:
            if not is_valid_id(case) or case == "default":
                raise ValueError(f"case {case!r} is not a usable port name (letters, digits, _; not 'default')")
        if len(set(cases)) != len(cases):
            raise ValueError("case names must be distinct")
        return cases


class MergeConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    mode: Literal["all", "first", "count"] = Field(
        "all",
        description=(
            "'all': waits for every branch, a list of the values in port order; 'first': a race, the first"
            " value to arrive (the branches still running are cancelled); 'count': the first 'count' values,"
            " in the order they arrived (the rest are cancelled)."
        ),
    )
    inputs: int = Field(2, ge=2, le=32, description="Number of input ports.")
    count: int = Field(1, ge=1, le=32, description="With mode 'count': how many values to wait for (at most 'inputs').")

    @model_validator(mode="after")
    def _count_fits(self) -> MergeConfig:
        if self.mode == "count" and self.count > self.inputs:
            raise ValueError(f"count {self.count} is more than the {self.inputs} inputs")
        return self


def merge_fires_after(config: BaseModel) -> int:
    """Values that make a merge run before every branch is in: 1 for 'first', N for 'count', else 0."""
    assert isinstance(config, MergeConfig)
    if config.mode == "first":
        return 1
    if config.mode == "count":
        return config.count
    return 0


def _switch_ports(config: BaseModel) -> NodePorts:
    assert isinstance(config, SwitchConfig)
    outputs = tuple(PortSpec(case, ValueType.ANY) for case in config.cases)
    return NodePorts((_VALUE_IN,), (*outputs, PortSpec("default", ValueType.ANY)))


def _merge_ports(config: BaseModel) -> NodePorts:
    assert isinstance(config, MergeConfig)
    inputs = tuple(PortSpec(f"in_{i}", ValueType.ANY) for i in range(1, config.inputs + 1))
    out_type = ValueType.ANY if config.mode == "first" else ValueType.ARRAY
    return NodePorts(inputs, (PortSpec("output", out_type),))


TRANSFORM = KindSpec(
    run=run_transform,
    name="transform",
    display_name="Transform",
    category="Data",
    description="Computes a new value from its input with a sandboxed expression or template.",
    icon="transform",
    config_model=TransformConfig,
    sources=transform_sources,
    ports=NodePorts(
        inputs=(PortSpec("input", ValueType.ANY, description="Readable as inputs.input."),),
        outputs=(PortSpec("output", ValueType.ANY),),
    ),
    remote=True,
)

CONDITION = KindSpec(
    run=run_condition,
    name="condition",
    display_name="Condition",
    category="Flow",
    description="Routes its input to 'true' or 'false'; the branch not taken is skipped.",
    icon="condition",
    config_model=ConditionConfig,
    sources=fields(expressions=("expression",)),
    ports=NodePorts((_VALUE_IN,), (PortSpec("true", ValueType.ANY), PortSpec("false", ValueType.ANY))),
    remote=True,
)

SWITCH = KindSpec(
    run=run_switch,
    name="switch",
    display_name="Switch",
    category="Flow",
    description="Routes its input to the output named by an expression's result, else 'default'.",
    icon="switch",
    config_model=SwitchConfig,
    sources=fields(expressions=("expression",)),
    ports=_switch_ports,
    remote=True,
)

MERGE = KindSpec(
    run=run_merge,
    name="merge",
    display_name="Merge",
    category="Flow",
    description=(
        "Joins branches: waits for all, or races them (first / count: runs as soon as enough arrived and"
        " cancels the rest); skipped only when all were skipped."
    ),
    icon="merge",
    config_model=MergeConfig,
    ports=_merge_ports,
    joins=True,
    fires_after=merge_fires_after,
)
