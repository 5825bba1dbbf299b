"""Value types carried on ports, and which of them may be wired together.

Port values are JSON values; the type is a promise about the shape, checked when two
ports are connected (so a wire that can never work is refused while editing, not at run time).
"""

from __future__ import annotations

from enum import StrEnum


class ValueType(StrEnum):
    ANY = "any"
    STRING = "string"
    NUMBER = "number"
    INTEGER = "integer"
    BOOLEAN = "boolean"
    OBJECT = "object"
    ARRAY = "array"


def compatible(source: ValueType, target: ValueType) -> bool:
    """Can a value produced as ``source`` be delivered to an input declared ``target``?

    ``any`` on either side is accepted (checked at run time instead); an integer is a number.
    """
    if source == target or ValueType.ANY in (source, target):
        return True
    return source == ValueType.INTEGER and target == ValueType.NUMBER


def incompatibility_reason(source: ValueType, target: ValueType) -> str | None:
    """A sentence explaining why ``source`` cannot feed ``target``, or None when it can."""
    if compatible(source, target):
        return None
    return f"{_article(source)} {source.value} output cannot feed {_article(target)} {target.value} input"


def _article(value_type: ValueType) -> str:
    return "an" if value_type.value[0] in "aeiou" else "a"
