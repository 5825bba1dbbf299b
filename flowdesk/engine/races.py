"""Races: a merge that goes on with the first value (or the first N) and cancels the rest.

A merge in mode 'first' or 'count' (its kind's ``fires_after``) is queued as soon as enough values
arrived, without waiting for its other inputs (``transitions.py``). The branches still running
toward it are then wasted work, so they are cancelled: every node whose every forward path leads
into that merge (its *feeders*), and only those. A node that also feeds something else (shared
upstream work, or a loop edge back) goes on, since another part of the workflow waits for it.

Cancelled feeders end ``cancelled`` with the reason (a status of their own, not a failure): the run
still succeeds. Pure graph arithmetic over the plan, no asyncio; the executor cancels the tasks.
"""

from __future__ import annotations

from flowdesk.engine.plan import Plan


class RaceFeeders:
    """The feeders of each racing merge of one plan, found once per merge (see module docstring)."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self._feeders: dict[int, tuple[int, ...]] = {}

    def of(self, merge: int) -> tuple[int, ...]:
        """Nodes whose every forward path leads into ``merge``, nearest first."""
        found = self._feeders.get(merge)
        if found is None:
            found = self._feeders[merge] = self._find(merge)
        return found

    def _find(self, merge: int) -> tuple[int, ...]:
        """Walk back from the merge; a node joins once all its out-edges lead to joined nodes.

        Each edge into a joined node is counted once (each node is expanded once), so a node's count
        reaches its number of out-edges exactly when every one of them leads into the merge.
        """
        plan = self.plan
        nodes, sources = plan.nodes, plan.sources
        inside = {merge}
        counted: dict[int, int] = {}
        order: list[int] = []
        frontier = [merge]
        while frontier:
            current = frontier.pop()
            for e in nodes[current].in_edges:
                source = sources[e]
                if source in inside:
                    continue
                counted[source] = counted.get(source, 0) + 1
                pn = nodes[source]
                if counted[source] == len(pn.out_edges) and not pn.loop_out:
                    inside.add(source)
                    order.append(source)
                    frontier.append(source)
        return tuple(order)


def lost_race_reason(merge_title: str, merge_id: str, needed: int) -> str:
    """Why a feeder was cancelled, in the words the log, the run view and `flowdesk show` use."""
    what = "the first value" if needed == 1 else f"the first {needed} values"
    return f"lost the race: '{merge_title}' ({merge_id}) went on with {what} to arrive"
