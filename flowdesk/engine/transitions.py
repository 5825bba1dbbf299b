"""How a run moves on when a node ends: pure transitions of its state, no asyncio, no I/O.

Given the state and a node's outcome, :class:`Transitions` resolves the node's outgoing edges
(delivered where its port fired, skipped where it did not), counts down its successors' unresolved
inputs, queues those whose count reaches zero (``state.ready``) or skips them, holds loop values
and starts the next pass of a loop once its body is quiet, and tells the outlet what happened. It
never waits and never starts a task: the executor (``executor.py``) does that with what it finds
in ``state.ready``. So every rule of scheduling can be tested by calling these methods directly.

Loop edges (docs/architecture.md §3): a loop edge's value is held until no node of the loop body
(the target and everything downstream of it) is active; then the body's state is reset, edges from
outside the body keep their values, and the target runs again with the value sent back.
``max_iterations`` and ``until`` end the loop. A resumed run replays the passes its record holds
(see ``RunOptions.prior``): the same rules make the same decisions on the restored values, so counts
and iteration numbers go on from where the interrupted run stopped; what the record already says
(a replayed pass, the end of a loop) is not said twice.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from flowdesk.engine.attempts import Outcome
from flowdesk.engine.events import (
    NO_USAGE,
    ErrorInfo,
    LoopIterated,
    NodeCancelled,
    NodeFailed,
    NodeLog,
    NodeQueued,
    NodeSkipped,
    NodeSucceeded,
)
from flowdesk.engine.outlet import EventOutlet
from flowdesk.engine.races import RaceFeeders, lost_race_reason
from flowdesk.engine.run_state import ACTIVE, DELIVERED, NOT_STARTED, SKIPPED, TERMINAL, UNRESOLVED, RunState
from flowdesk.engine.sandbox import Sandbox
from flowdesk.engine.scope import template_scope
from flowdesk.model.kinds import ERROR_PORT

Stop = Callable[[str, ErrorInfo | None], None]
"""How the transitions ask for the run to stop: (status, error)."""


class Transitions:
    """The rules that move one run's state on; see the module docstring."""

    def __init__(
        self, state: RunState, outlet: EventOutlet, run_id: str, now: Callable[[], float], sandbox: Sandbox, stop: Stop
    ) -> None:
        self.state = state
        self.plan = state.plan
        self.outlet = outlet
        self.emit = outlet.emit
        self.run_id = run_id
        self.now = now
        self.sandbox = sandbox
        self.stop = stop
        # the arrays themselves (never replaced): one attribute lookup less in the hot path
        self.status, self.iteration, self.arrived = state.status, state.iteration, state.arrived
        self.remaining, self.skipped_in, self.skip_reason = state.remaining, state.skipped_in, state.skip_reason
        self.edge_state, self.edge_value, self.ready = state.edge_state, state.edge_value, state.ready
        self.race_feeders = RaceFeeders(self.plan)
        self.abort: Callable[[int], None] = lambda i: None
        """Cancels node ``i``'s task (set by the executor): a running branch that lost a race."""
        self.known: Callable[[int], bool] | None = None
        """Whether node ``i``'s result is known without running it (restored or pinned; set by the
        executor when some can be). Such a node is queued ahead of the others, so a resumed run replays
        what its record holds, and decides the races it recorded, before starting any branch: a branch
        the recorded race decided against is cancelled without ever starting."""

    # ------------------------------------------------------------ a node's end
    def make_ready(self, i: int) -> None:
        self.status[i] = "queued"
        if self.known is not None and self.known(i):
            self.ready.appendleft(i)
        else:
            self.ready.append(i)
        if self.outlet.listening:
            self.emit(NodeQueued(run_id=self.run_id, ts=self.now(), node_id=self.plan.nodes[i].id,
                                 iteration=self.iteration[i]))  # fmt: skip

    def complete(self, i: int, outcome: Outcome) -> None:
        """Node ``i`` ended with ``outcome``: succeed, send its error on (on_error continue), or stop the run."""
        pn = self.plan.nodes[i]
        if outcome.usage is not NO_USAGE:
            self.state.usage = self.state.usage + outcome.usage
        if outcome.ok:
            self.succeed(i, outcome)
            return
        error = outcome.error or ErrorInfo(message="failed", node_id=pn.id)
        handled = pn.node.on_error == "continue"
        self.status[i] = "failed"
        if self.outlet.listening:
            self.emit(
                NodeFailed(run_id=self.run_id, ts=self.now(), node_id=pn.id, iteration=self.iteration[i],
                           attempt=outcome.attempt, error=error, duration_s=outcome.duration_s, handled=handled,
                           usage=outcome.usage, worker=outcome.worker)
            )  # fmt: skip
        if not handled:
            self.stop("failed", error.with_message(f"node '{pn.node.title}' ({pn.id}) failed: {error.message}"))
            return
        fired = {
            ERROR_PORT: {"message": error.message, "error_class": error.error_class, "node_id": pn.id,
                         "attempts": outcome.attempt}
        }  # fmt: skip
        self.state.node_outputs[pn.id] = fired
        self.propagate(i, fired)
        self.fire_loops(i, fired)

    def succeed(self, i: int, outcome: Outcome, source: str = "run") -> None:
        pn = self.plan.nodes[i]
        self.status[i] = "succeeded"
        outputs = outcome.outputs
        self.state.node_outputs[pn.id] = outputs
        if self.outlet.listening:
            self.emit(
                NodeSucceeded(run_id=self.run_id, ts=self.now(), node_id=pn.id, iteration=self.iteration[i],
                              attempt=outcome.attempt, outputs=outputs, duration_s=outcome.duration_s,
                              usage=outcome.usage, source=source, worker=outcome.worker)
            )  # fmt: skip
        self.propagate(i, outputs)
        if pn.loop_out or self.state.pending_loops:
            self.fire_loops(i, outputs, restored=source == "restored")

    def skip(self, i: int, reason: str, source: str = "run") -> None:
        self.status[i] = "skipped"
        if self.outlet.listening:
            self.emit(NodeSkipped(run_id=self.run_id, ts=self.now(), node_id=self.plan.nodes[i].id,
                                  iteration=self.iteration[i], reason=reason, source=source))  # fmt: skip
        self.propagate(i, None)

    def cancelled(self, i: int, *, suspending: bool) -> None:
        """Node ``i``'s task was cancelled; ``suspending``: the run stops as 'waiting' at its approvals."""
        if self.status[i] == "waiting" and suspending:
            return  # suspended at an approval: it stays 'waiting', to be decided later
        self.status[i] = "cancelled"
        if self.outlet.listening:
            self.emit(NodeCancelled(run_id=self.run_id, ts=self.now(), node_id=self.plan.nodes[i].id,
                                    iteration=self.iteration[i]))  # fmt: skip

    def never_started(self) -> None:
        """The run stopped: nodes that never started never will."""
        self.status[:] = ["not_run" if s in NOT_STARTED else s for s in self.status]

    def propagate(self, start: int, fired: Mapping[str, Any] | None) -> None:
        """Resolve the forward edges leaving ``start``: delivered where its port fired, else skipped.

        Iterative (a worklist), so a skip rippling down a 10,000-node chain needs no deep recursion.
        """
        plan = self.plan
        plan_nodes, source_ports, targets, target_ports = plan.nodes, plan.source_ports, plan.targets, plan.target_ports
        if not plan_nodes[start].out_edges:
            return
        edge_state, edge_value, arrived, remaining = self.edge_state, self.edge_value, self.arrived, self.remaining
        fires_after = plan.fires_after
        work: list[tuple[int, Mapping[str, Any] | None]] = [(start, fired)]
        while work:
            i, out = work.pop()
            for e in plan_nodes[i].out_edges:
                t, port = targets[e], source_ports[e]
                if out is not None and port in out:
                    edge_state[e] = DELIVERED
                    if fires_after[t] and self.status[t] != "idle":  # a race already decided: too late
                        edge_value[e] = out[port]
                    else:
                        edge_value[e] = arrived[t][target_ports[e]] = out[port]
                else:
                    edge_state[e] = SKIPPED
                    self.skipped_in[t] += 1
                    if not self.skip_reason[t]:
                        title = plan_nodes[i].node.title
                        self.skip_reason[t] = f"no value arrived on '{target_ports[e]}' ('{title}'.{port} did not fire)"
                remaining[t] -= 1
                if remaining[t] == 0:
                    if self.status[t] != "idle":  # a racing merge that went on, or a feeder it cancelled
                        continue
                    if self.should_skip(t):
                        self.status[t] = "skipped"
                        if self.outlet.listening:
                            self.emit(
                                NodeSkipped(run_id=self.run_id, ts=self.now(), node_id=plan_nodes[t].id,
                                            iteration=self.iteration[t], reason=self.skip_reason[t],
                                            source="restored" if self.state.recorded(t) else "run")
                            )  # fmt: skip
                        work.append((t, None))
                    else:
                        self.make_ready(t)
                elif fires_after[t] and len(arrived[t]) >= fires_after[t] and self.status[t] == "idle":
                    self.make_ready(t)
                    self.decide_race(t)

    def decide_race(self, merge: int) -> None:
        """``merge`` goes on with the values in: cancel the branches still running toward it (races.py)."""
        plan, status = self.plan, self.status
        pn = plan.nodes[merge]
        reason = lost_race_reason(pn.node.title, pn.id, plan.fires_after[merge])
        losers = [n for n in self.race_feeders.of(merge) if status[n] not in TERMINAL]
        for n in losers:
            running = status[n] in ("running", "waiting")
            status[n] = "cancelled"
            if running:
                self.abort(n)
            if self.outlet.listening:
                self.emit(NodeCancelled(run_id=self.run_id, ts=self.now(), node_id=plan.nodes[n].id,
                                        iteration=self.iteration[n], reason=reason))  # fmt: skip
        for n in losers:
            self.propagate(n, None)

    def should_skip(self, t: int) -> bool:
        if self.plan.nodes[t].spec.joins:
            return not self.arrived[t]
        return self.skipped_in[t] > 0

    # ------------------------------------------------------------ loops
    def fire_loops(self, i: int, fired: Mapping[str, Any], *, restored: bool = False) -> None:
        """Hold the values node ``i`` sent back on its loop edges; ``restored``: it came from the record."""
        pending = self.state.pending_loops
        for e in self.plan.nodes[i].loop_out:
            port = self.plan.source_ports[e]
            if port in fired:
                pending.append((e, fired[port], restored))
        if pending:
            self.try_loops()

    def try_loops(self) -> None:
        """Start the next pass of each pending loop whose previous pass has quiesced."""
        still: list[tuple[int, Any, bool]] = []
        for pending in self.state.pending_loops:
            body = self.plan.loop_body(pending[0])
            if any(self._busy(n) for n in body):
                still.append(pending)
            else:
                self._next_pass(*pending)
        self.state.pending_loops = still

    def _busy(self, n: int) -> bool:
        """Still part of the current pass: queued, running, waiting, or with some inputs in and
        others (from outside the loop, say) still to come."""
        status = self.status[n]
        return status in ACTIVE or (status == "idle" and 0 < self.remaining[n] < len(self.plan.nodes[n].in_edges))

    def _next_pass(self, e: int, value: Any, restored: bool) -> None:
        edge = self.plan.edge(e)
        assert edge.loop is not None
        state = self.state
        done = state.loop_count.get(e, 0)
        if edge.loop.until:
            scope = template_scope({"value": value}, state.inputs, self.run_id, state.nodes_scope,
                                   state.loop_pass[edge.source])  # fmt: skip
            scope["value"] = value
            try:
                stop = bool(self.sandbox.evaluate(edge.loop.until, scope, field=f"loop edge {edge.id} until"))
            except Exception as exc:  # noqa: BLE001 - a bad until expression ends the loop and the run, with the reason
                self.stop(
                    "failed", ErrorInfo(message=str(exc), error_class="node", node_id=self.plan.nodes[edge.source].id)
                )
                return
            if stop:
                if not restored:  # else the record has it, from the run that produced the value
                    self.log(edge.source, "info", f"loop edge {edge.id}: 'until' is true, the loop ends")
                return
        if done + 1 >= edge.loop.max_iterations:
            limit = edge.loop.max_iterations
            message = f"loop edge {edge.id} reached its maximum of {limit} iterations; the loop ends"
            if not restored:
                self.log(edge.source, "warning", message)
            state.warnings.append(f"'{self.plan.nodes[edge.source].node.title}': {message}")
            return
        state.loop_count[e] = done + 1
        self._reset_body(e, value)

    def _reset_body(self, e: int, value: Any) -> None:
        plan, state = self.plan, self.state
        edge = plan.edge(e)
        body = plan.loop_body(e)
        plan_nodes, sources = plan.nodes, plan.sources
        is_merge_head = plan_nodes[edge.target].spec.joins
        this_pass, nested = state.loop_count.get(e, 0), plan.nested_bodies(e)
        for n in body:
            state.loop_pass[n] = 0 if n in nested else this_pass
            for inner in plan_nodes[n].loop_out:  # loops nested in this body start counting afresh
                if inner != e and plan.targets[inner] in body:
                    state.loop_count.pop(inner, None)
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
        if self.outlet.listening:
            self.emit(
                LoopIterated(run_id=self.run_id, ts=self.now(), node_id=plan_nodes[edge.target].id,
                             iteration=self.iteration[edge.target], edge_id=edge.id,
                             source="restored" if state.recorded(edge.target) else "run")
            )  # fmt: skip
        for n in sorted(body):
            if self.remaining[n] == 0 and self.status[n] == "idle":
                if self.should_skip(n):
                    self.skip(
                        n, self.skip_reason[n] or "an input was skipped", "restored" if state.recorded(n) else "run"
                    )
                else:
                    self.make_ready(n)

    def log(self, i: int, level: str, message: str) -> None:
        if self.outlet.listening:
            self.emit(NodeLog(run_id=self.run_id, ts=self.now(), node_id=self.plan.nodes[i].id,
                              iteration=self.iteration[i], level=level, message=message))  # fmt: skip
