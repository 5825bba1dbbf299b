"""The JSON Schema of the workflow file, generated from the models so it cannot drift from them.

The schema ships in ``resources/schema/workflow.schema.json`` for editors and other tools (a
workflow file can name it for completion and checking). It is generated, never edited: after
changing the models run ``python -m flowdesk.model.schema``; a test fails while the file is stale.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from typing import Any

from flowdesk.model.workflow import FORMAT, FORMAT_VERSION, Workflow
from flowdesk.paths import schema_path

_log = logging.getLogger(__name__)

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_ID = f"urn:flowdesk:schema:workflow:{FORMAT_VERSION}"
"""A URN, not a URL: nothing is served anywhere, and the version in it changes with the format."""
REGENERATE_COMMAND = "python -m flowdesk.model.schema"


def workflow_json_schema() -> dict[str, Any]:
    """The schema of a workflow file as this flowdesk writes it (format_version FORMAT_VERSION).

    Two things pydantic cannot see are added: the reader requires ``format`` and
    ``format_version`` although the models give them defaults, and ``format_version`` is exactly
    the current version (an older file is upgraded on load, so it is not valid *as written*).
    """
    schema = Workflow.model_json_schema()
    properties = schema["properties"]
    properties["format_version"] = {**properties["format_version"], "const": FORMAT_VERSION}
    required = list(schema.get("required", []))
    schema["required"] = ["format", "format_version", *(r for r in required if r not in ("format", "format_version"))]
    schema.update(
        {
            "$schema": SCHEMA_DIALECT,
            "$id": SCHEMA_ID,
            "title": "flowdesk workflow",
            "description": (
                f"A flowdesk workflow file (format {FORMAT!r}, format_version {FORMAT_VERSION}). "
                f"Generated from flowdesk.model.workflow; regenerate with `{REGENERATE_COMMAND}`."
            ),
        }
    )
    return schema


def schema_text() -> str:
    """The schema as file text: the same models always give the same bytes."""
    return json.dumps(workflow_json_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Rewrite the shipped schema file (or, with ``--check``, fail if it is stale). Returns the exit code."""
    parser = argparse.ArgumentParser(prog="python -m flowdesk.model.schema", description=__doc__)
    parser.add_argument("--check", action="store_true", help="do not write; exit 1 if the file is out of date")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    path = schema_path()
    wanted = schema_text().encode("utf-8")
    current = path.read_bytes() if path.is_file() else None
    if current == wanted:
        _log.info("%s is up to date", path)
        return 0
    if args.check:
        _log.error("%s is out of date; run `%s`", path, REGENERATE_COMMAND)
        return 1
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(wanted)  # bytes, so the file has \n line ends on every OS
    _log.info("wrote %s", path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
