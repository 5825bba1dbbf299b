"""Where each kind keeps its templates and expressions (``KindSpec.sources``), for validation to read."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from flowdesk.model.kinds import SourcesFn, SourceText


def fields(
    *, templates: tuple[str, ...] = (), expressions: tuple[str, ...] = (), maps: tuple[str, ...] = ()
) -> SourcesFn:
    """A kind's sources: string fields that are templates or expressions, and mappings whose string
    values are templates (headers, query parameters, tool arguments). Fields left out, or not text
    (an invalid config, reported by its own rule), are skipped."""

    def sources(config: Mapping[str, Any]) -> Iterator[SourceText]:
        for name in templates:
            if isinstance(text := config.get(name), str) and text:
                yield SourceText(name, text, "template")
        for name in expressions:
            if isinstance(text := config.get(name), str) and text:
                yield SourceText(name, text, "expression")
        for name in maps:
            values = config.get(name)
            if isinstance(values, Mapping):
                for key, text in values.items():
                    if isinstance(text, str) and text:
                        yield SourceText(f"{name}.{key}", text, "template")

    return sources


def transform_sources(config: Mapping[str, Any]) -> Iterator[SourceText]:
    """A transform's ``expression`` is an expression or a template, as its ``mode`` says."""
    text = config.get("expression")
    if isinstance(text, str) and text:
        yield SourceText("expression", text, "template" if config.get("mode") == "template" else "expression")
