"""Hints for the inspector, carried in a config field's JSON Schema (``json_schema_extra``).

The inspector builds its form from the config model; these say which editor a string field wants.
"""

from __future__ import annotations

from typing import Any

TEMPLATE: dict[str, Any] = {"widget": "template"}
"""A multi-line Jinja template, edited in a monospace editor."""
EXPRESSION: dict[str, Any] = {"widget": "expression"}
"""A one-line sandboxed expression."""
CREDENTIAL: dict[str, Any] = {"widget": "credential"}
"""The name of a stored credential; the inspector offers names and never shows a value."""
WORKFLOW_REF: dict[str, Any] = {"widget": "workflow"}
"""A reference to another workflow: a library id or slug, or a file path relative to this one."""
MODEL: dict[str, Any] = {"widget": "model"}
"""A provider:model reference; the inspector lists the models of the configured credentials."""
