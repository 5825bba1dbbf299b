"""``nodes.<id>.output`` in templates and expressions: other nodes' outputs, and why one has none.

A template that reads a node without an output gets a sentence that says why (there is no such
node, it was skipped and for what reason, it has not finished yet) rather than Jinja's generic
"object has no attribute". The answer is a strict undefined value, not an exception, so
``nodes.x is defined`` still tests for an output; reading it further raises the sentence.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from jinja2 import StrictUndefined


def template_scope(
    inputs: Mapping[str, Any], run_inputs: Mapping[str, Any], run_id: str, nodes: NodesScope, loop_pass: int
) -> dict[str, Any]:
    """What templates and expressions can read (docs/architecture.md §3): the node's inputs, the run's
    inputs and id, other nodes' outputs, and the pass of the innermost loop around the node."""
    return {
        "inputs": inputs,
        "run": {"inputs": run_inputs, "id": run_id},
        "nodes": nodes,
        "loop": {"index": loop_pass + 1, "index0": loop_pass, "first": loop_pass == 0},
    }


class NodesScope(Mapping[str, Any]):
    """A live view of the run's finished nodes' outputs, built on demand (never copied per node)."""

    __slots__ = ("_by_id", "_outputs", "_reasons", "_status")

    def __init__(
        self,
        outputs: dict[str, dict[str, Any]],
        by_id: Mapping[str, int],
        status: Sequence[str],
        skip_reason: Sequence[str],
    ) -> None:
        self._outputs = outputs
        self._by_id = by_id
        self._status = status
        self._reasons = skip_reason

    def snapshot(self) -> dict[str, Any]:
        """The view as JSON values, for a node whose attempt runs on a cluster worker."""
        return {
            "outputs": dict(self._outputs),
            "by_id": dict(self._by_id),
            "status": list(self._status),
            "reasons": list(self._reasons),
        }

    @classmethod
    def from_snapshot(cls, data: Mapping[str, Any]) -> NodesScope:
        return cls(data.get("outputs", {}), data.get("by_id", {}), data.get("status", []), data.get("reasons", []))

    def __getitem__(self, node_id: str) -> Any:
        outputs = self._outputs.get(node_id)
        if outputs is not None:
            return {"output": outputs}
        return StrictUndefined(hint=self.missing(node_id))

    def missing(self, node_id: str) -> str:
        """Why ``node_id`` has no output to read, in words."""
        i = self._by_id.get(node_id)
        if i is None:
            return f"there is no node '{node_id}' in this workflow"
        status = self._status[i]
        if status == "skipped":
            reason = self._reasons[i]
            return f"node '{node_id}' was skipped{f' ({reason})' if reason else ''}, so it has no output"
        if status == "failed":
            return f"node '{node_id}' failed, so it has no output"
        return f"node '{node_id}' has not finished yet (it is {status}); connect it to this node to wait for it"

    def __contains__(self, node_id: object) -> bool:
        return node_id in self._outputs

    def get(self, node_id: str, default: Any = None) -> Any:
        return {"output": self._outputs[node_id]} if node_id in self._outputs else default

    def __iter__(self) -> Iterator[str]:
        return iter(self._outputs)

    def __len__(self) -> int:
        return len(self._outputs)
