"""The base of the document's models: what the file format asks of every object in it."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Strict(BaseModel):
    """Base for the document models: unknown fields are errors (a typo must not vanish silently), values
    never change once made, and a number is finite."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
