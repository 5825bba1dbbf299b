"""Where a node's card sits on the canvas: a pair of floats that reads and writes as ``{"x": ..., "y": ...}``.

Every node holds one, and every move of a node makes a new one: an arrow-key nudge of a 5,000-node
selection makes 5,000. As a pydantic model each cost a model's making (an instance, its dict, its
set of fields set: about 0.85 µs and 480 bytes besides the two numbers); as a tuple it costs a
tuple (0.27 µs, 64 bytes). The nudge of 5,000 nodes in the window took 5 ms less.

To pydantic and in a file nothing changed: a position is validated by :data:`PositionFields` (the
same fields, the same errors at the same paths, the same JSON Schema under the same name) and
written as it wrote (``exclude_defaults``, for a run's compact copy, leaves out a coordinate at 0).
"""

from __future__ import annotations

from math import isfinite
from operator import itemgetter
from typing import Any, ClassVar

from pydantic import BaseModel, GetCoreSchemaHandler, create_model
from pydantic_core import CoreSchema, core_schema

from flowdesk.model.strict import Strict

PositionFields: type[BaseModel] = create_model(
    "Position", __base__=Strict, __module__=__name__, x=(float, 0.0), y=(float, 0.0)
)
"""What a position is in a file: its two fields, checked as every model of the format is. Named
``Position``, so the JSON Schema and the messages name it as they always did."""


class Position(tuple[float, float]):
    """A node's place: the top-left corner of its card, in scene units. Immutable, as the models are.

    Being a tuple, it equals the pair ``(x, y)`` and unpacks as one; code (plugins too) reads ``.x`` and
    ``.y`` and makes one with ``Position(x=..., y=...)``, as it did when it was a model.
    """

    __slots__ = ()
    fields_model: ClassVar[type[BaseModel]] = PositionFields
    """What it is in a file (error messages look a field up in it)."""

    x = property(itemgetter(0), doc="Left edge.")
    y = property(itemgetter(1), doc="Top edge.")

    def __new__(cls, x: float = 0.0, y: float = 0.0) -> Position:
        """Checked as a file's position is: ints become floats; infinity, NaN and non-numbers are refused
        (pydantic's ``ValidationError``)."""
        fields = PositionFields(x=x, y=y)
        return tuple.__new__(cls, (fields.x, fields.y))  # type: ignore[attr-defined]

    def shifted(self, dx: float, dy: float) -> Position:
        """This place moved by (dx, dy): what ``Position(x=x + dx, y=y + dy)`` gives, made without validating
        when the sums are finite floats (once per node of a nudge); otherwise validated, and refused as
        such a position would be."""
        x, y = self[0] + dx, self[1] + dy
        if type(x) is not float or type(y) is not float or not (isfinite(x) and isfinite(y)):
            return Position(x=x, y=y)
        return tuple.__new__(Position, (x, y))

    def __repr__(self) -> str:
        return f"Position(x={self[0]!r}, y={self[1]!r})"

    def __getnewargs__(self) -> tuple[float, float]:  # type: ignore[override]
        """Pickled (a workflow sent to a Dask worker) as the two numbers ``__new__`` takes."""
        return (self[0], self[1])

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        """A ``Position`` is taken as it is; anything else is validated as :data:`PositionFields` (no tag
        of this function in an error's path) and written as the object it is in a file."""
        fields = handler.generate_schema(PositionFields)

        def validate(value: Any, inner: core_schema.ValidatorFunctionWrapHandler) -> Position:
            if type(value) is Position:
                return value
            checked = inner(value)
            return tuple.__new__(Position, (checked.x, checked.y))

        def serialize(value: Position, info: core_schema.SerializationInfo) -> dict[str, float]:
            if info.exclude_defaults:  # a run's compact copy of its workflow: a coordinate at 0 left out
                return {name: v for name, v in (("x", value[0]), ("y", value[1])) if v != 0.0}
            return {"x": value[0], "y": value[1]}

        return core_schema.no_info_wrap_validator_function(
            validate,
            fields,
            serialization=core_schema.plain_serializer_function_ser_schema(serialize, info_arg=True),
        )
