"""Loop edges: when a pass has quiesced, reset the loop body and start the next pass.

A loop edge runs from a node back to one of its ancestors (docs/architecture.md §3). Its value is held until
no node of the loop body (the target and everything downstream of it) is queued or running; then
the body's state is reset, edges from outside the body keep their values, and the target runs again
with the value sent back. ``max_iterations`` and ``until`` end the loop.

A resumed run replays the passes its record holds (see ``RunOptions.prior``): the same code makes
the same decisions on the restored values, so the counts and iteration numbers go on from where
the interrupted run stopped. What the record already says is not said twice: a replayed pass's
``LoopIterated`` is marked restored, and the end of a loop is logged only when it is news.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flowdesk.engine.events import ErrorInfo, LoopIterated, NodeLog
from flowdesk.engine.run_state import ACTIVE, DELIVERED, SKIPPED, UNRESOLVED, RunState


class LoopsMixin(RunState):
    def _fire_loops(self, i: int, fired: Mapping[str, Any], *, restored: bool = False) -> None:
        """Hold the values node ``i`` sent back on its loop edges; ``restored``: it came from the record."""
        for e in self.plan.nodes[i].loop_out:
            port = self.plan.source_ports[e]
            if port in fired:
                self._pending_loops.append((e, fired[port], restored))
        if self._pending_loops:
            self._try_loops()

    def _try_loops(self) -> None:
        """Start the next pass of each pending loop whose previous pass has quiesced."""
        still: list[tuple[int, Any, bool]] = []
        for pending in self._pending_loops:
            body = self.plan.loop_body(pending[0])
            if any(self._busy(n) for n in body):
                still.append(pending)
            else:
                self._next_pass(*pending)
        self._pending_loops = still

    def _busy(self, n: int) -> bool:
        """Still part of the current pass: queued, running, waiting, or with some inputs in and
        others (from outside the loop, say) still to come."""
        status = self.status[n]
        return status in ACTIVE or (status == "idle" and 0 < self.remaining[n] < len(self.plan.nodes[n].in_edges))

    def _next_pass(self, e: int, value: Any, restored: bool) -> None:
        edge = self.plan.edge(e)
        assert edge.loop is not None
        source = self.plan.nodes[edge.source]
        done = self.loop_count.get(e, 0)
        if edge.loop.until:
            scope = self.make_context(source, self.iteration[edge.source], 1).scope({"value": value})
            scope["value"] = value
            try:
                stop = bool(self.services.sandbox.evaluate(edge.loop.until, scope, field=f"loop edge {edge.id} until"))
            except Exception as exc:  # noqa: BLE001 - a bad until expression ends the loop and the run, with the reason
                self._stop("failed", ErrorInfo(message=str(exc), error_class="node", node_id=source.id))
                return
            if stop:
                if not restored:  # else the record has it, from the run that produced the value
                    self._log(edge.source, "info", f"loop edge {edge.id}: 'until' is true, the loop ends")
                return
        if done + 1 >= edge.loop.max_iterations:
            if not restored:
                self._log(
                    edge.source,
                    "warning",
                    f"loop edge {edge.id} reached its maximum of {edge.loop.max_iterations} iterations; the loop ends",
                )
            return
        self.loop_count[e] = done + 1
        self._reset_body(e, value)

    def _reset_body(self, e: int, value: Any) -> None:
        plan = self.plan
        edge = plan.edge(e)
        body = plan.loop_body(e)
        plan_nodes, sources = plan.nodes, plan.sources
        is_merge_head = plan_nodes[edge.target].spec.joins
        this_pass, nested = self.loop_count.get(e, 0), plan.nested_bodies(e)
        for n in body:
            self.loop_pass[n] = 0 if n in nested else this_pass
            for inner in plan_nodes[n].loop_out:  # loops nested in this body start counting afresh
                if inner != e and plan.targets[inner] in body:
                    self.loop_count.pop(inner, None)
            self.iteration[n] += 1
            self.status[n] = "idle"
            self.skip_reason[n] = ""
            arrived: dict[str, Any] = {}
            remaining = skipped = 0
            for ie in plan_nodes[n].in_edges:
                if sources[ie] in body:
                    self.edge_state[ie] = UNRESOLVED
                    remaining += 1
                elif self.edge_state[ie] == DELIVERED:
                    # a merge at the loop's head takes the value sent back, not the first pass's again
                    if not (n == edge.target and is_merge_head):
                        arrived[plan.target_ports[ie]] = self.edge_value[ie]
                elif self.edge_state[ie] == SKIPPED:
                    if not (n == edge.target and plan.target_ports[ie] == edge.target_port):
                        skipped += 1
                else:
                    remaining += 1
            self.arrived[n], self.remaining[n], self.skipped_in[n] = arrived, remaining, skipped
        self.arrived[edge.target][edge.target_port] = value
        if self.listening:
            self.emit(
                LoopIterated(
                    run_id=self.run_id,
                    ts=self._now(),
                    node_id=plan_nodes[edge.target].id,
                    iteration=self.iteration[edge.target],
                    edge_id=edge.id,
                    source="restored" if self._recorded(edge.target) else "run",
                )
            )
        for n in sorted(body):
            if self.remaining[n] == 0 and self.status[n] == "idle":
                if self._should_skip(n):
                    source = "restored" if self._recorded(n) else "run"
                    self._skip(n, self.skip_reason[n] or "an input was skipped", source)
                else:
                    self._make_ready(n)

    def _log(self, i: int, level: str, message: str) -> None:
        if self.listening:
            self.emit(
                NodeLog(
                    run_id=self.run_id,
                    ts=self._now(),
                    node_id=self.plan.nodes[i].id,
                    iteration=self.iteration[i],
                    level=level,
                    message=message,
                )
            )
