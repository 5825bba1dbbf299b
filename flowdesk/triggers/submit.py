"""How a trigger starts a run: the one call the service (``flowdesk serve``) provides to triggers."""

from __future__ import annotations

from typing import Any, Protocol


class SubmitRun(Protocol):
    """Queue a run of a library workflow; returns the run's id.

    ``version`` None means the workflow's run version (see ``flowdesk.store.lifecycle.run_version``);
    a repeated ``idempotency_key`` returns the run it started before instead of starting another, which
    is what keeps a schedule slot or a finished run from firing twice; ``trigger`` names the trigger
    that asked (for the run's record).
    """

    async def __call__(
        self,
        workflow_id: str,
        inputs: dict[str, Any],
        *,
        version: int | None = None,
        idempotency_key: str | None = None,
        trigger: str | None = None,
    ) -> str: ...


class TriggerRefused(ValueError):
    """The trigger's input cannot start a run (a webhook body that does not fit the declared inputs).

    ``problems`` are located: (where, what), e.g. ("body.count", "expected an integer, got 'x'").
    """

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{where}: {what}" for where, what in problems))
        self.problems = problems
