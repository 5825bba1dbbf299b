"""What a node's run function may ask of the running engine.

Run functions have the signature ``async def run(ctx: NodeContext, inputs: dict, config) -> dict``:
``inputs`` holds the values that arrived, by input port; ``config`` is the node's parsed config
model; the returned dict holds a value per output port that *fires* (a port left out does not
fire, and the edges leaving it resolve as skipped). The engine implements this protocol; the
nodes layer only knows the protocol, so node kinds (built-in or plugin) never import the engine.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, Protocol

from flowdesk.nodes.llm_contract import LLMProvider, LLMUsage

LogLevel = Literal["debug", "info", "warning", "error"]


SUB_WORKFLOW_LABEL = "run"
"""The label of the one run a sub-workflow node starts (a map's item runs are labelled "item N")."""


class NodeFailure(Exception):
    """A node failed for a reason its run function understands; ``error_class`` steers retries."""

    def __init__(self, message: str, error_class: str = "node", retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.error_class = error_class
        self.retry_after_s = retry_after_s
        """Seconds a server asked to wait before trying again (its ``Retry-After``), if it said."""


class NodeContext(Protocol):
    node_id: str
    run_id: str
    iteration: int
    run_inputs: Mapping[str, Any]
    files_root: Path | None
    """The folder file tools may read and write, chosen by the user; None = file tools refused."""

    def render(self, template: str, inputs: Mapping[str, Any], *, field: str = "template") -> str:
        """Render a sandboxed template with inputs, run.inputs, nodes.<id>.output and loop in scope."""
        ...

    def evaluate(self, expression: str, inputs: Mapping[str, Any], *, field: str = "expression") -> Any:
        """Evaluate a sandboxed expression to a JSON value."""
        ...

    def log(self, message: str, level: LogLevel = "info") -> None: ...

    def llm(self, provider: str, credential: str | None) -> LLMProvider: ...

    def llm_delta(self, text: str) -> None:
        """Report a streamed piece of an LLM reply (shown live in the log dock and the CLI)."""
        ...

    def add_usage(self, usage: LLMUsage) -> None:
        """Count tokens and cost against this attempt."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Sleep on the engine's clock (fake in tests), cancellable like everything else."""
        ...

    async def wait_for_approval(self, message: str) -> tuple[bool, str]:
        """Wait for a person's decision; returns (approved, comment)."""
        ...

    async def run_workflow(
        self, ref: str, inputs: Mapping[str, Any], *, label: str, key: str | None = None
    ) -> dict[str, Any]:
        """Run another workflow (by library id/slug or relative path) to completion; its outputs.

        ``label`` names the run for people, in messages (:data:`SUB_WORKFLOW_LABEL`, "item 44"); ``key``
        names it among the node's runs for good (the label when not given): a continued run finds the
        runs that had finished by their keys, so a key must not change between versions ("item 43",
        counted from 0, for a map's 44th item).
        """
        ...

    async def run_body(self, inputs: Mapping[str, Any], *, label: str, key: str | None = None) -> dict[str, Any]:
        """Run this for_each node's inline body (model/bodies.py) once, as a sub-run; its outputs (``label``
        and ``key`` as for :meth:`run_workflow`)."""
        ...

    def report_limit(self, message: str) -> None:
        """Say that a loop stopped at its limit: a warning on the node and in the run's result."""
        ...

    def progress(self, done: int, total: int) -> None:
        """Report progress of a long node (a map's items), shown as "k of n"."""
        ...

    def set_run_output(self, name: str, value: Any) -> None:
        """Put a value into the run's outputs (what the output node does)."""
        ...

    def tool(self, name: str) -> Any:
        """The registered tool callable called ``name``."""
        ...

    async def http_request(
        self, method: str, url: str, *, headers: Mapping[str, str], params: Mapping[str, str], content: bytes | None
    ) -> tuple[int, dict[str, str], bytes]:
        """Make an HTTP request through the engine's client (so tests can point it at a local server)."""
        ...

    def secret(self, credential: str, url: str | None = None) -> str:
        """The value of a named credential, to be sent to ``url``; never log or return it.

        Fails (NodeFailure naming the credential and the host) when ``url``'s host is not one the
        credential may go to."""
        ...
