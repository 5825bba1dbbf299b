"""Auto-layout and align/distribute as pure functions over boxes (no Qt)."""

from __future__ import annotations

import itertools
import random

import pytest

from flowdesk.model.align import Alignment, Axis, align, distribute
from flowdesk.model.layout import Box, Link, Spacing, layered_layout

CARD = (190.0, 80.0)


def boxes_at(*names: str, size: tuple[float, float] = CARD) -> dict[str, Box]:
    """Boxes in a rough column, in the given order (the initial order the layout starts from)."""
    return {name: Box(0.0, i * 100.0, *size) for i, name in enumerate(names)}


def placed_boxes(boxes: dict[str, Box], positions: dict[str, tuple[float, float]]) -> dict[str, Box]:
    return {n: Box(*positions[n], boxes[n].width, boxes[n].height) for n in boxes}


def overlaps(a: Box, b: Box) -> bool:
    return a.x < b.x + b.width and b.x < a.x + a.width and a.y < b.y + b.height and b.y < a.y + a.height


def assert_no_overlaps(boxes: dict[str, Box]) -> None:
    for (na, a), (nb, b) in itertools.combinations(boxes.items(), 2):
        assert not overlaps(a, b), f"{na} {a} overlaps {nb} {b}"


def crossings(boxes: dict[str, Box], links: list[Link]) -> int:
    """Pairs of wires between the same two columns whose ends come in opposite orders."""
    count = 0
    for p, q in itertools.combinations(links, 2):
        same_columns = boxes[p.source].x == boxes[q.source].x and boxes[p.target].x == boxes[q.target].x
        if not same_columns:
            continue
        ps, qs = boxes[p.source].y + p.source_y, boxes[q.source].y + q.source_y
        pt, qt = boxes[p.target].y + p.target_y, boxes[q.target].y + q.target_y
        if (ps - qs) * (pt - qt) < 0:
            count += 1
    return count


def test_a_chain_runs_left_to_right_in_one_straight_line() -> None:
    boxes = {"a": Box(300, 500, *CARD), "b": Box(0, 0, *CARD), "c": Box(100, 900, *CARD)}
    links = [Link("a", "b", 50, 50), Link("b", "c", 50, 50)]
    out = layered_layout(boxes, links)
    assert out["a"][0] < out["b"][0] < out["c"][0]
    assert out["a"][1] == out["b"][1] == out["c"][1]  # port to port: straight wires
    assert out["b"][0] - out["a"][0] >= CARD[0] + Spacing().layer_gap
    assert min(x for x, _ in out.values()) == 0 and min(y for _, y in out.values()) == 0  # stays where it was


def test_ports_at_different_heights_line_up() -> None:
    boxes = boxes_at("a", "b")
    out = layered_layout(boxes, [Link("a", "b", source_y=60, target_y=30)])
    assert out["a"][1] + 60 == out["b"][1] + 30


def test_layers_follow_the_longest_path_from_a_source() -> None:
    boxes = boxes_at("start", "short", "long1", "long2", "end")
    links = [Link("start", "short"), Link("short", "end"), Link("start", "long1"), Link("long1", "long2")]
    links.append(Link("long2", "end"))
    out = layered_layout(boxes, links)
    columns = sorted({x for x, _ in out.values()})
    column = {name: columns.index(x) for name, (x, _) in out.items()}
    assert column == {"start": 0, "short": 1, "long1": 1, "long2": 2, "end": 3}


def test_crossings_are_undone() -> None:
    boxes = boxes_at("a1", "a2", "b1", "b2")
    links = [Link("a1", "b2", 40, 40), Link("a2", "b1", 40, 40)]
    out = placed_boxes(boxes, layered_layout(boxes, links))
    assert out["b2"].y < out["b1"].y
    assert crossings(out, links) == 0


def test_a_fan_out_is_centred_on_its_source() -> None:
    boxes = boxes_at("src", "x", "y", "z")
    links = [Link("src", t, 40, 40) for t in ("x", "y", "z")]
    out = placed_boxes(boxes, layered_layout(boxes, links))
    assert out["x"].y < out["y"].y < out["z"].y
    assert abs(out["y"].y - out["src"].y) <= Spacing().grid
    assert_no_overlaps(out)


def test_a_cycle_of_forward_wires_does_not_stop_the_layout() -> None:
    boxes = boxes_at("a", "b", "c")
    out = layered_layout(boxes, [Link("a", "b"), Link("b", "c"), Link("c", "a")])
    assert out["a"][0] < out["b"][0] < out["c"][0]


def test_parts_are_stacked_and_lone_nodes_put_in_a_row_below() -> None:
    boxes = boxes_at("p1", "p2", "q1", "q2", "lone1", "lone2")
    out = placed_boxes(boxes, layered_layout(boxes, [Link("p1", "p2"), Link("q1", "q2")]))
    assert_no_overlaps(out)
    assert out["p1"].y + out["p1"].height < out["q1"].y  # the first part (higher before) stays on top
    assert out["lone1"].y == out["lone2"].y > out["q1"].y
    assert out["lone1"].x < out["lone2"].x


def test_links_to_nodes_outside_the_boxes_are_ignored() -> None:
    boxes = boxes_at("a", "b")
    out = layered_layout(boxes, [Link("a", "b"), Link("outside", "a"), Link("b", "gone")])
    assert set(out) == {"a", "b"}


def test_positions_are_on_the_grid_and_anchored_at_the_old_top_left() -> None:
    boxes = {"a": Box(1003, 2007, 173, 61), "b": Box(1500, 2500, 200, 95)}
    out = layered_layout(boxes, [Link("a", "b", 31, 47)])
    assert all(x % 10 == 0 and y % 10 == 0 for x, y in out.values())
    assert min(x for x, _ in out.values()) == 1000
    assert min(y for _, y in out.values()) == 2010


@pytest.mark.parametrize("seed", range(6))
def test_random_graphs_have_no_overlaps_and_every_wire_goes_right(seed: int) -> None:
    rng = random.Random(seed)
    size = rng.randint(5, 80)
    boxes = {
        f"n{i}": Box(rng.uniform(-900, 900), rng.uniform(-900, 900), rng.choice([170, 200, 220]), rng.randint(50, 160))
        for i in range(size)
    }
    links = [
        Link(f"n{rng.randrange(i)}", f"n{i}", rng.uniform(0, 40), rng.uniform(0, 40))
        for i in range(1, size)
        for _ in range(rng.choice([0, 1, 1, 2]))
    ]
    out = placed_boxes(boxes, layered_layout(boxes, links))
    assert_no_overlaps(out)
    for link in links:
        assert out[link.target].x >= out[link.source].x + out[link.source].width + Spacing().layer_gap - 1e-6
    again = layered_layout(boxes, links)
    assert placed_boxes(boxes, again) == out  # deterministic


def test_the_layout_reduces_crossings_of_a_shuffled_tree() -> None:
    rng = random.Random(5)
    names = [f"n{i}" for i in range(40)]
    links = [Link(f"n{(i - 1) // 2}", f"n{i}", 40, 40) for i in range(1, 40)]  # a binary tree
    shuffled = names[:]
    rng.shuffle(shuffled)
    boxes = {n: Box((int(n[1:]).bit_length()) * 300.0, shuffled.index(n) * 100.0, *CARD) for n in names}
    assert crossings(boxes, links) > 20
    out = placed_boxes(boxes, layered_layout(boxes, links))
    assert crossings(out, links) == 0


def test_align_each_way() -> None:
    boxes = {"a": Box(0, 0, 100, 50), "b": Box(300, 200, 200, 80)}
    assert align(boxes, Alignment.LEFT) == {"a": (0, 0), "b": (0, 200)}
    assert align(boxes, Alignment.RIGHT) == {"a": (400, 0), "b": (300, 200)}
    assert align(boxes, Alignment.TOP) == {"a": (0, 0), "b": (300, 0)}
    assert align(boxes, Alignment.BOTTOM) == {"a": (0, 230), "b": (300, 200)}
    assert align(boxes, Alignment.CENTRE_X) == {"a": (200, 0), "b": (150, 200)}
    assert align(boxes, Alignment.CENTRE_Y) == {"a": (0, 115), "b": (300, 100)}


def test_distribute_makes_equal_gaps_and_keeps_the_ends() -> None:
    boxes = {"a": Box(0, 0, 100, 50), "b": Box(150, 10, 200, 50), "c": Box(600, 20, 100, 50)}
    out = distribute(boxes, Axis.HORIZONTAL)
    assert out == {"a": (0, 0), "b": (250, 10), "c": (600, 20)}  # gaps of 150 on either side of b
    vertical = {"a": Box(0, 0, 100, 40), "b": Box(0, 45, 100, 100), "c": Box(0, 400, 100, 40)}
    assert distribute(vertical, Axis.VERTICAL) == {"a": (0, 0), "b": (0, 170), "c": (0, 400)}
    two = {"a": Box(0, 0, 10, 10), "b": Box(50, 0, 10, 10)}
    assert distribute(two, Axis.HORIZONTAL) == {"a": (0, 0), "b": (50, 0)}  # nothing between to spread
