"""Located problems: what validation reports about a workflow.

A problem names where it is (node, edge, field path) as data, not only in its sentence, so the
canvas can badge the node, the inspector can mark the field, and the CLI can print JSON; the
``code`` is the stable part that tools and tests match on, the message may be reworded freely.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

Severity = Literal["error", "warning"]
"""An error stops a run (or marks a file as broken); a warning is worth knowing but never blocks."""

_SEVERITY_RANK: dict[str, int] = {"error": 0, "warning": 1}


@dataclass(frozen=True, slots=True)
class Problem:
    severity: Severity
    code: str
    """Stable machine code, e.g. ``dangling-edge``; see :data:`flowdesk.model.validation.CODES`."""
    message: str
    """One sentence a person understands, naming the node by title and id."""
    node_id: str | None = None
    edge_id: str | None = None
    field: str | None = None
    """Field path inside the node or edge, e.g. ``config.url`` or ``target_port``."""

    def to_json(self) -> dict[str, Any]:
        """Every key always present, so consumers of ``flowdesk validate --json`` need no guessing."""
        return {
            "severity": self.severity,
            "code": self.code,
            "message": self.message,
            "node_id": self.node_id,
            "edge_id": self.edge_id,
            "field": self.field,
        }

    def __str__(self) -> str:
        return f"{self.severity}: {self.message}"


def has_errors(problems: Iterable[Problem]) -> bool:
    """True when any problem blocks a run; warnings alone never do."""
    return any(p.severity == "error" for p in problems)


def sort_key(problem: Problem) -> tuple[int, str, str, str, str, str]:
    """Errors first, then by location and code, so two validations of one graph print identically."""
    return (
        _SEVERITY_RANK[problem.severity],
        problem.node_id or "",
        problem.edge_id or "",
        problem.code,
        problem.field or "",
        problem.message,
    )
