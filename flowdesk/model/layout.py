"""Auto-layout: a layered (Sugiyama-style) drawing of a workflow, left to right. No Qt here.

A workflow reads as a flow from its sources to its sinks, so nodes are put in columns by the
longest path from a source (every wire then runs rightwards), the order inside each column is
chosen to cross few wires (barycentre sweeps, keeping the best order seen), and each node is then
moved up or down towards the wires it has, so that chains come out straight. Loop edges go
backwards by nature and are left out of the layering; a stray cycle of forward edges (an invalid
workflow can have one) is broken where a depth-first search finds it.

The caller passes each node's real card size (the canvas knows them; this module does not) and,
when it has them, where on its card each wire ends, which is what lets a chain line up port to port.
Each weakly connected part is laid out on its own, one below another; lone nodes go in a row below.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported where a layout is made: networkx takes ~0.2 s, too long for the app's start
    import networkx as nx


@dataclass(frozen=True, slots=True)
class Box:
    """A node's card: top-left corner and size, in scene units."""

    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True, slots=True)
class Link:
    """A forward wire between two laid-out nodes; ``*_y`` is where it meets each card, from its top."""

    source: str
    target: str
    source_y: float = 0.0
    target_y: float = 0.0


@dataclass(frozen=True, slots=True)
class Spacing:
    layer_gap: float = 90.0
    """Horizontal room between columns, for the wires."""
    node_gap: float = 40.0
    """Vertical room between cards in one column."""
    part_gap: float = 80.0
    """Vertical room between separately laid-out parts of the graph."""
    grid: float = 10.0
    """Positions are rounded to this (the canvas's snap step); 0 leaves them as computed."""
    sweeps: int = 8
    """Most barycentre sweep pairs (down, then up) tried in the crossing reduction."""


@dataclass(slots=True)
class _Part:
    """One connected part while it is laid out: real nodes first, then dummy nodes of long wires."""

    names: list[str]
    heights: list[float]
    widths: list[float]
    layer: list[int]
    edges: list[tuple[int, int, float, float]]
    """(upper, lower, offset at upper, offset at lower): each spans exactly one layer."""


def layered_layout(
    boxes: Mapping[str, Box], links: Iterable[Link], spacing: Spacing | None = None
) -> dict[str, tuple[float, float]]:
    """New top-left positions for every node in ``boxes``, anchored at their current top-left corner.

    Links whose ends are not both in ``boxes`` are ignored, so a selection can be laid out alone.
    """
    import networkx as nx

    spacing = spacing or Spacing()
    if not boxes:
        return {}
    graph = _acyclic(boxes, links)
    parts = sorted(
        (sorted(c, key=lambda n: (boxes[n].y, boxes[n].x, n)) for c in nx.weakly_connected_components(graph)),
        key=lambda c: (boxes[c[0]].y, boxes[c[0]].x, c[0]),
    )
    left, top = min(b.x for b in boxes.values()), min(b.y for b in boxes.values())
    placed: dict[str, tuple[float, float]] = {}
    loners = [c[0] for c in parts if len(c) == 1]
    y, widest = top, 0.0
    for names in (c for c in parts if len(c) > 1):
        part_pos = _layout_part(graph, names, boxes, spacing)
        for name, (px, py) in part_pos.items():
            placed[name] = (left + px, y + py)
        y += max(py + boxes[n].height for n, (_, py) in part_pos.items()) + spacing.part_gap
        widest = max(widest, *(px + boxes[n].width for n, (px, _) in part_pos.items()))
    placed.update(_row(loners, boxes, left, y, max(widest, 1000.0), spacing))
    return {name: (_snap(x, spacing.grid), _snap(y, spacing.grid)) for name, (x, y) in placed.items()}


def _snap(value: float, grid: float) -> float:
    return round(value / grid) * grid if grid > 0 else value


def _row(
    names: Sequence[str], boxes: Mapping[str, Box], left: float, top: float, width: float, spacing: Spacing
) -> dict[str, tuple[float, float]]:
    """Unconnected nodes side by side, wrapping at ``width``, in their current reading order."""
    placed: dict[str, tuple[float, float]] = {}
    x, y, line_height = left, top, 0.0
    for name in sorted(names, key=lambda n: (boxes[n].y, boxes[n].x, n)):
        box = boxes[name]
        if x > left and x + box.width > left + width:
            x, y, line_height = left, y + line_height + spacing.node_gap, 0.0
        placed[name] = (x, y)
        x += box.width + spacing.node_gap
        line_height = max(line_height, box.height)
    return placed


def _acyclic(boxes: Mapping[str, Box], links: Iterable[Link]) -> nx.DiGraph:
    """The wires among ``boxes`` as a DAG; a wire closing a cycle is dropped (DFS back edges)."""
    import networkx as nx

    graph = nx.DiGraph()
    graph.add_nodes_from(boxes)
    for link in links:
        if link.source in boxes and link.target in boxes and link.source != link.target:
            ports = graph.get_edge_data(link.source, link.target, {}).get("ports", [])
            graph.add_edge(link.source, link.target, ports=[*ports, (link.source_y, link.target_y)])
    if not nx.is_directed_acyclic_graph(graph):
        graph.remove_edges_from(_back_edges(graph, sorted(boxes, key=lambda n: (boxes[n].x, boxes[n].y, n))))
    return graph


def _back_edges(graph: nx.DiGraph, roots: Sequence[str]) -> list[tuple[str, str]]:
    """Edges to a node still on the depth-first stack; iterative, so a long chain cannot overflow."""
    state: dict[str, int] = {}  # 1 on the stack, 2 finished
    back: list[tuple[str, str]] = []
    for root in roots:
        if root in state:
            continue
        state[root] = 1
        stack = [(root, iter(graph.successors(root)))]
        while stack:
            node, successors = stack[-1]
            step = next(successors, None)
            if step is None:
                state[node] = 2
                stack.pop()
            elif state.get(step) == 1:
                back.append((node, step))
            elif step not in state:
                state[step] = 1
                stack.append((step, iter(graph.successors(step))))
    return back


def _layout_part(
    graph: nx.DiGraph, names: list[str], boxes: Mapping[str, Box], spacing: Spacing
) -> dict[str, tuple[float, float]]:
    """Positions of one connected part, relative to its own top-left corner."""
    part = _build_part(graph, names, boxes)
    order = _initial_order(part, boxes)
    order = _reduce_crossings(part, order, spacing.sweeps)
    xs = _column_x(part, len(order), spacing)
    ys = _assign_y(part, order, spacing)
    top = min(ys[i] for i in range(len(names)))
    return {names[i]: (xs[part.layer[i]], ys[i] - top) for i in range(len(names))}


def _build_part(graph: nx.DiGraph, names: list[str], boxes: Mapping[str, Box]) -> _Part:
    """Layers by longest path from the sources; a wire spanning several layers gets dummy nodes.

    ``graph`` may hold other parts too: a part's wires all stay inside it.
    """
    index = {name: i for i, name in enumerate(names)}
    layer = [0] * len(names)
    waiting = [len(graph.pred[name]) for name in names]
    ready = [i for i, count in enumerate(waiting) if count == 0]
    while ready:  # Kahn's order: every predecessor is placed before its successors
        i = ready.pop()
        for successor in graph.succ[names[i]]:
            j = index[successor]
            layer[j] = max(layer[j], layer[i] + 1)
            waiting[j] -= 1
            if waiting[j] == 0:
                ready.append(j)
    part = _Part(
        names=list(names),
        heights=[boxes[n].height for n in names],
        widths=[boxes[n].width for n in names],
        layer=layer,
        edges=[],
    )
    for source in names:
        for target, data in graph.succ[source].items():
            for source_y, target_y in data["ports"]:
                _add_span(part, index[source], index[target], source_y, target_y)
    return part


def _add_span(part: _Part, upper: int, lower: int, upper_y: float, lower_y: float) -> None:
    """A wire from ``upper`` to ``lower``, through a dummy in every layer it crosses."""
    previous, previous_y = upper, upper_y
    for layer in range(part.layer[upper] + 1, part.layer[lower]):
        dummy = len(part.layer)
        part.layer.append(layer)
        part.heights.append(0.0)
        part.widths.append(0.0)
        part.edges.append((previous, dummy, previous_y, 0.0))
        previous, previous_y = dummy, 0.0
    part.edges.append((previous, lower, previous_y, lower_y))


def _initial_order(part: _Part, boxes: Mapping[str, Box]) -> list[list[int]]:
    """Each layer in the current top-to-bottom order, so a second layout changes little."""
    count = len(part.names)
    guess = [boxes[n].y + boxes[n].height / 2 for n in part.names] + [0.0] * (len(part.layer) - count)
    for upper, lower, _, _ in part.edges:  # dummies come in chain order: each follows its upper end
        if lower >= count:
            guess[lower] = guess[upper]
    layers: list[list[int]] = [[] for _ in range(max(part.layer) + 1)]
    for node in range(len(part.layer)):
        layers[part.layer[node]].append(node)
    return [sorted(nodes, key=lambda n: (guess[n], n)) for nodes in layers]


def _reduce_crossings(part: _Part, order: list[list[int]], sweeps: int) -> list[list[int]]:
    """Barycentre sweeps, down and up in turn; the order with the fewest crossings seen wins."""
    down: dict[int, list[tuple[int, float]]] = {}
    up: dict[int, list[tuple[int, float]]] = {}
    for upper, lower, upper_y, lower_y in part.edges:
        down.setdefault(lower, []).append((upper, _fraction(upper_y, part.heights[upper])))
        up.setdefault(upper, []).append((lower, _fraction(lower_y, part.heights[lower])))
    spans = _spans_by_layer(part)
    best, best_crossings = [list(nodes) for nodes in order], _crossings(spans, order)
    stale = 0
    for sweep in range(2 * sweeps):
        if sweep % 2 == 0:
            for layer in range(1, len(order)):
                order[layer] = _by_barycentre(order[layer], order[layer - 1], down)
        else:
            for layer in range(len(order) - 2, -1, -1):
                order[layer] = _by_barycentre(order[layer], order[layer + 1], up)
        crossings = _crossings(spans, order)
        if crossings < best_crossings:
            best, best_crossings, stale = [list(nodes) for nodes in order], crossings, 0
        else:
            stale += 1
        if best_crossings == 0 or stale >= 4:
            break
    return best


def _fraction(offset: float, height: float) -> float:
    """Where on its card a wire ends, 0..1 from the top (a dummy is a point: 0.5)."""
    return min(max(offset / height, 0.0), 1.0) if height > 0 else 0.5


def _by_barycentre(nodes: list[int], fixed: list[int], neighbours: Mapping[int, list[tuple[int, float]]]) -> list[int]:
    """``nodes`` sorted by the mean place of their neighbours in the ``fixed`` layer; loners stay put."""
    place = {node: i for i, node in enumerate(fixed)}
    keys: list[float] = []
    for i, node in enumerate(nodes):
        near = neighbours.get(node)
        keys.append(sum(place[n] + f for n, f in near) / len(near) if near else i + 0.5)
    return [node for _, _, node in sorted(zip(keys, range(len(nodes)), nodes, strict=True))]


_Span = tuple[int, float, int, float]
"""A wire between neighbouring layers: upper node, where on it the wire ends (0..1), lower node, and on it."""


def _spans_by_layer(part: _Part) -> list[list[_Span]]:
    """Every wire, grouped by its upper layer: fixed while the sweeps only reorder the nodes."""
    by_layer: dict[int, list[_Span]] = {}
    for upper, lower, upper_y, lower_y in part.edges:
        span = (upper, _fraction(upper_y, part.heights[upper]), lower, _fraction(lower_y, part.heights[lower]))
        by_layer.setdefault(part.layer[upper], []).append(span)
    return list(by_layer.values())


def _crossings(spans: list[list[_Span]], order: list[list[int]]) -> int:
    """Wire crossings between every pair of neighbouring layers (inversions, with a Fenwick tree).

    Ends are compared by the node's place and then the port's height on it, so two wires leaving
    one card's ports in the wrong order count as crossing, as they look.
    """
    place = {node: i for nodes in order for i, node in enumerate(nodes)}
    return sum(
        _inversions(
            [((place[upper], at_upper), (place[lower], at_lower)) for upper, at_upper, lower, at_lower in layer]
        )
        for layer in spans
    )


def _inversions(pairs: list[tuple[tuple[int, float], tuple[int, float]]]) -> int:
    """Pairs whose second ends come in the opposite order to their first ends (ties never cross).

    Wires are taken in the order of their first ends, keeping the second ends seen so far sorted:
    each new wire crosses the earlier ones that end strictly below it. Bisecting a short sorted
    list (a layer holds tens of wires) runs in C, where a Fenwick tree would loop in Python.
    """
    seen: list[tuple[int, float]] = []
    total = 0
    for _, lower in sorted(pairs):
        at = bisect_right(seen, lower)
        total += len(seen) - at
        seen.insert(at, lower)
    return total


def _column_x(part: _Part, layers: int, spacing: Spacing) -> list[float]:
    """Left edge of each column: the widest card of every column before it, and the gaps."""
    widest = [0.0] * layers
    for node, layer in enumerate(part.layer):
        widest[layer] = max(widest[layer], part.widths[node])
    xs, x = [], 0.0
    for width in widest:
        xs.append(x)
        x += width + spacing.layer_gap
    return xs


_PLACEMENT_PASSES = 4


def _assign_y(part: _Part, order: list[list[int]], spacing: Spacing) -> list[float]:
    """Vertical places: stacked in order, then pulled towards the ports they are wired to.

    Each pass moves a column as close as it can (least squares) to where its wires would run
    straight, never changing the order inside the column or letting cards overlap.
    """
    ys = [0.0] * len(part.layer)
    for nodes in order:
        y = 0.0
        for a, b in zip(nodes, [*nodes[1:], None], strict=True):
            ys[a] = y
            y += _separation(part, spacing, a, b)
    towards_up: dict[int, list[tuple[int, float, float]]] = {}
    towards_down: dict[int, list[tuple[int, float, float]]] = {}
    for upper, lower, upper_y, lower_y in part.edges:
        towards_up.setdefault(lower, []).append((upper, upper_y, lower_y))
        towards_down.setdefault(upper, []).append((lower, lower_y, upper_y))
    for _ in range(_PLACEMENT_PASSES):
        for nodes in order[1:]:
            _place_column(part, spacing, nodes, ys, towards_up)
        for nodes in reversed(order[:-1]):
            _place_column(part, spacing, nodes, ys, towards_down)
    for nodes in order[1:]:  # last from the sources on, so the main flow ends straight
        _place_column(part, spacing, nodes, ys, towards_up)
    return ys


def _separation(part: _Part, spacing: Spacing, a: int, b: int | None) -> float:
    """Distance from the top of ``a`` to the top of ``b`` below it: a card's height and a gap.

    Dummies (wires passing through the column) need only a little room from their neighbours.
    """
    real = len(part.names)
    gap = spacing.node_gap if a < real and (b is None or b < real) else spacing.node_gap / 2
    return part.heights[a] + gap


def _place_column(
    part: _Part,
    spacing: Spacing,
    nodes: list[int],
    ys: list[float],
    neighbours: Mapping[int, list[tuple[int, float, float]]],
) -> None:
    """Move one column's nodes towards their neighbours' ports, keeping order and separation.

    With ``c`` the least distance of each node from the first, ``z = y - c`` must not decrease down
    the column; the weighted least-squares answer is an isotonic regression (pool adjacent violators).
    """
    offsets, targets, weights = [], [], []
    c = 0.0
    for a, b in zip(nodes, [*nodes[1:], None], strict=True):
        near = neighbours.get(a)
        if near:
            wanted = sum(ys[other] + other_y - own_y for other, other_y, own_y in near) / len(near)
            weight = float(len(near))
        else:
            wanted, weight = ys[a], 0.25
        offsets.append(c)
        targets.append(wanted - c)
        weights.append(weight)
        if b is not None:
            c += _separation(part, spacing, a, b)
    for node, offset, z in zip(nodes, offsets, _isotonic(targets, weights), strict=True):
        ys[node] = z + offset


def _isotonic(targets: Sequence[float], weights: Sequence[float]) -> list[float]:
    """The non-decreasing sequence nearest ``targets`` in weighted least squares (PAVA, linear time)."""
    blocks: list[list[float]] = []  # [weight, weighted sum, count]
    for target, weight in zip(targets, weights, strict=True):
        blocks.append([weight, weight * target, 1])
        while len(blocks) > 1 and blocks[-2][1] / blocks[-2][0] >= blocks[-1][1] / blocks[-1][0]:
            w, s, n = blocks.pop()
            blocks[-1][0] += w
            blocks[-1][1] += s
            blocks[-1][2] += n
    result: list[float] = []
    for weight, total, count in blocks:
        result.extend([total / weight] * int(count))
    return result
