"""Kinds that bracket an inline loop body: for_each opens it, collect closes it (model/bodies.py)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from flowdesk.model.kinds import KindSpec, NodePorts, PortSpec
from flowdesk.model.types import ValueType
from flowdesk.nodes.runners.bodies import restore_collect, run_collect, run_for_each


class ForEachConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    concurrency: int = Field(4, ge=1, le=1000, description="Items whose body runs at once, at most.")
    item_errors: Literal["fail", "include"] = Field(
        "fail", description="'fail': one failed item fails the node; 'include': its slot holds the error."
    )
    max_items: int = Field(
        1000,
        ge=1,
        le=1_000_000,
        description="Items run at most; a longer list runs its first ones and the run reports the limit.",
    )


class CollectConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")


FOR_EACH = KindSpec(
    run=run_for_each,
    name="for_each",
    display_name="For Each",
    category="Flow",
    description=(
        "Runs the nodes between it and its Collect once per item of a list, a few at a time;"
        " the Collect gathers the results in item order."
    ),
    icon="map",
    config_model=ForEachConfig,
    ports=NodePorts(
        inputs=(PortSpec("items", ValueType.ARRAY, required=True, description="The list to loop over."),),
        outputs=(
            PortSpec(
                "item",
                ValueType.ANY,
                description="The current item, into the loop body (its index there: loop.index0).",
            ),
        ),
    ),
    body="opens",
)

COLLECT = KindSpec(
    run=run_collect,
    restore=restore_collect,
    name="collect",
    display_name="Collect",
    category="Flow",
    description="Ends a For Each's loop body: takes each item's result and emits them all as a list, in item order.",
    icon="merge",
    config_model=CollectConfig,
    ports=NodePorts(
        inputs=(PortSpec("value", ValueType.ANY, required=True, description="The item's result, from the body."),),
        outputs=(PortSpec("results", ValueType.ARRAY, description="One result per item, in item order."),),
    ),
    body="closes",
)
