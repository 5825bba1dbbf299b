"""`flowdesk schema` and `flowdesk kinds`: what the file format and the node kinds look like."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from flowdesk.model.kinds import KindSpec
from flowdesk.model.schema import schema_text
from flowdesk.nodes.registry import default_registry


def register(commands: Any) -> None:
    p = commands.add_parser(
        "schema",
        help="print the JSON Schema of the workflow file format",
        description="Print the JSON Schema of the workflow file format.",
    )
    p.set_defaults(handler=lambda args: _print(schema_text()))
    p = commands.add_parser(
        "kinds",
        help="list node kinds and their config fields",
        description="List the installed node kinds (built-in and plugins) and their config fields.",
    )
    p.add_argument("kind", nargs="?", help="show one kind only")
    p.add_argument("--json", action="store_true", help="print as JSON (with each kind's config JSON Schema)")
    p.set_defaults(handler=handle_kinds)


def _print(text: str) -> int:
    sys.stdout.write(text)
    return 0


def handle_kinds(args: argparse.Namespace) -> int:
    registry = default_registry()
    kinds = [k for k in registry if args.kind in (None, k.name)]
    if not kinds:
        print(f"flowdesk: there is no node kind '{args.kind}' (see `flowdesk kinds`)", file=sys.stderr)
        return 1
    if args.json:
        json.dump([_kind_json(k) for k in kinds], sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        for spec in kinds:
            _print_kind(spec)
    for error in registry.plugin_errors:
        print(f"warning: plugin {error.entry_point} could not be loaded: {error.message}", file=sys.stderr)
    return 0


def _kind_json(spec: KindSpec) -> dict[str, Any]:
    ports = spec.ports_for(spec.default_config())
    return {
        "name": spec.name,
        "display_name": spec.display_name,
        "category": spec.category,
        "description": spec.description,
        "runnable": spec.runnable,
        "inputs": [{"name": p.name, "type": p.type.value, "required": p.required} for p in ports.inputs],
        "outputs": [{"name": p.name, "type": p.type.value} for p in ports.outputs],
        "config_schema": spec.config_model.model_json_schema(),
    }


def _print_kind(spec: KindSpec) -> None:
    ports = spec.ports_for(spec.default_config())
    print(f"{spec.name}  ({spec.display_name}, {spec.category})")
    print(f"    {spec.description}")
    if ports.inputs:
        print("    inputs:  " + ", ".join(f"{p.name}: {p.type.value}{'*' if p.required else ''}" for p in ports.inputs))
    if ports.outputs:
        print("    outputs: " + ", ".join(f"{p.name}: {p.type.value}" for p in ports.outputs))
    for name, field in spec.config_model.model_fields.items():
        default = field.get_default(call_default_factory=True)
        print(f"    - {name} = {json.dumps(default)}: {field.description}")
    print()
