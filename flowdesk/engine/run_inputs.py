"""A run's inputs as the workflow declares them: checked, converted from typed text, defaults filled in.

Its own module because the runner, the child runs (which compare a child's inputs with its record
on resume) and the app's inputs dialog all need it, and the child runs sit below the runner.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from flowdesk.engine.results import RunInputError
from flowdesk.model.types import ValueType
from flowdesk.model.workflow import Workflow


def prepare_inputs(workflow: Workflow, given: Mapping[str, Any], *, from_text: bool = False) -> dict[str, Any]:
    """The run's inputs: declared ones checked and converted, defaults filled in.

    With ``from_text`` (values typed on a command line) strings are converted to the declared
    type: numbers, booleans, and JSON for objects and arrays.
    """
    declared = {i.name: i for i in workflow.inputs}
    unknown = sorted(set(given) - set(declared))
    if unknown:
        names = ", ".join(declared) or "none"
        raise RunInputError(f"'{unknown[0]}' is not an input of this workflow (its inputs: {names})")
    values: dict[str, Any] = {}
    for name, spec in declared.items():
        if name in given:
            values[name] = _convert(name, spec.type, given[name], from_text)
        elif spec.required and spec.default is None:
            raise RunInputError(f"input '{name}' is required" + (f": {spec.description}" if spec.description else ""))
        else:
            values[name] = spec.default
    return values


_PY_TYPES: dict[ValueType, tuple[type, ...]] = {
    ValueType.STRING: (str,),
    ValueType.NUMBER: (int, float),
    ValueType.INTEGER: (int,),
    ValueType.BOOLEAN: (bool,),
    ValueType.OBJECT: (dict,),
    ValueType.ARRAY: (list,),
}


def _convert(name: str, value_type: ValueType, value: Any, from_text: bool) -> Any:
    if from_text and isinstance(value, str) and value_type not in (ValueType.STRING, ValueType.ANY):
        try:
            if value_type == ValueType.BOOLEAN and value.lower() in ("true", "false", "yes", "no", "1", "0"):
                value = value.lower() in ("true", "yes", "1")
            else:
                value = json.loads(value)
        except ValueError:
            raise RunInputError(f"input '{name}' must be {value_type.value}, got {value!r}") from None
    if value_type == ValueType.ANY:
        return value
    expected = _PY_TYPES[value_type]
    is_bool = isinstance(value, bool)
    if not isinstance(value, expected) or (is_bool and value_type != ValueType.BOOLEAN):
        raise RunInputError(f"input '{name}' must be {value_type.value}, got {type(value).__name__} {value!r:.60}")
    return value
