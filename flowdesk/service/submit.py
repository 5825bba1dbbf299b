"""The one way to start a run through the service: what the API, webhooks and triggers call."""

from __future__ import annotations

from typing import Any, Protocol


class SubmitError(ValueError):
    """The run cannot be submitted: its workflow or inputs are invalid. ``problems`` locate each cause."""

    def __init__(self, message: str, problems: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or []


class SubmitRun(Protocol):
    async def __call__(
        self,
        workflow_id: str,
        inputs: dict[str, Any],
        *,
        version: int | None = None,
        idempotency_key: str | None = None,
        trigger: str | None = None,
    ) -> str:
        """Record the run as queued and return its id (an idempotency key used before returns that run's id).

        Raises ``NotFoundError`` for an unknown workflow or version and ``SubmitError`` for an invalid
        workflow or inputs (each problem located: node id, field, input name)."""
        ...
