"""Workflow validation: each rule caught, located and worded for a person; a correct graph passes clean."""

from __future__ import annotations

import random
from collections import Counter
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ConfigDict, Field

from flowdesk.model.kinds import KindSpec, MappingCatalog, NodePorts, PortSpec
from flowdesk.model.types import ValueType
from flowdesk.model.validation import CODES, Problem, has_errors, validate
from flowdesk.model.workflow import Edge, LoopSettings, Node, RunInput, Workflow
from flowdesk.nodes.kinds import BUILTIN_KINDS
from flowdesk.nodes.registry import builtin_registry

CATALOG = builtin_registry()
LOOP = LoopSettings(max_iterations=3)


def node(node_id: str, kind: str, title: str = "", on_error: str = "fail", **config: object) -> Node:
    """``title`` is the node's name on the canvas; keyword arguments are its config (an output's ``name``)."""
    return Node(id=node_id, kind=kind, name=title, on_error=on_error, config=config)  # type: ignore[arg-type]


def edge(edge_id: str, source: str, target: str, *, loop: LoopSettings | None = None) -> Edge:
    """``edge("e1", "fetch.body", "review.input")``: ports written as on the canvas."""
    src, src_port = source.split(".")
    dst, dst_port = target.split(".")
    return Edge(id=edge_id, source=src, source_port=src_port, target=dst, target_port=dst_port, loop=loop)


def workflow(nodes: list[Node], edges: list[Edge] = (), inputs: list[RunInput] = ()) -> Workflow:  # type: ignore[assignment]
    return Workflow(id="wf", nodes=tuple(nodes), edges=tuple(edges), inputs=tuple(inputs))


def codes(problems: list[Problem]) -> list[str]:
    return [p.code for p in problems]


def only(problems: list[Problem], code: str) -> Problem:
    """The single problem of ``code``; fails with the full list when there are none or several."""
    found = [p for p in problems if p.code == code]
    assert len(found) == 1, f"expected one {code!r}, got: {[str(p) for p in problems]}"
    return found[0]


def code_review() -> Workflow:
    """The code review example: review -> condition -> approve | fix -> back to review (a loop edge)."""
    return workflow(
        [
            node("start", "start", "Start"),
            node("review", "llm", "Review", prompt="Review: {{ inputs.input }}"),
            node("approved", "condition", "Approved?", expression="'LGTM' in inputs.value"),
            node("approve", "output", "Approve", name="review"),
            node("fix", "llm", "Fix", prompt="Fix: {{ inputs.input }}"),
            node("hint", "note", "Hint", text="the loop runs at most 3 times"),
        ],
        [
            edge("e1", "start.inputs", "review.input"),
            edge("e2", "review.text", "approved.value"),
            edge("e3", "approved.true", "approve.value"),
            edge("e4", "approved.false", "fix.input"),
            edge("e5", "fix.text", "review.input", loop=LOOP),
        ],
        [RunInput(name="code")],
    )


def every_kind() -> Workflow:
    """A valid workflow using every built-in kind, wired through its real ports."""
    return workflow(
        [
            node("start", "start"),
            node("fetch", "http", "Fetch", url="https://example.org/{{ run.inputs.page }}"),
            node("items", "transform", "Items", expression="inputs.input.items"),
            node("loop", "for_each", "Loop"),
            node("trim", "transform", "Trim", expression="inputs.input"),
            node("gather", "collect", "Gather"),
            node("each", "map", "Each", workflow="summarize"),
            node("route", "switch", "Route", cases=["short", "long"]),
            node("short", "llm", "Short"),
            node("long", "subworkflow", "Long", workflow="long_summary"),
            node("join", "merge", "Join", mode="first"),
            node("wait", "delay", "Wait", seconds=0.5),
            node("check", "approval", "Check"),
            node("tool", "tool", "Tool", tool="echo"),
            node("ok", "condition", "OK?"),
            node("result", "output", "Result"),
            node("rejected", "output", "Rejected", name="rejected"),
            node("memo", "note", "Memo"),
        ],
        [
            edge("e1", "start.inputs", "fetch.input"),
            edge("e2", "fetch.body", "items.input"),
            edge("e3", "items.output", "loop.items"),
            edge("e3a", "loop.item", "trim.input"),
            edge("e3b", "trim.output", "gather.value"),
            edge("e3c", "gather.results", "each.items"),
            edge("e4", "each.results", "route.value"),
            edge("e5", "route.short", "short.input"),
            edge("e6", "route.long", "long.inputs"),
            edge("e7", "short.text", "join.in_1"),
            edge("e8", "long.outputs", "join.in_2"),
            edge("e9", "join.output", "wait.value"),
            edge("e10", "wait.value", "check.value"),
            edge("e11", "check.approved", "tool.input"),
            edge("e12", "check.rejected", "rejected.value"),
            edge("e13", "tool.output", "ok.value"),
            edge("e14", "ok.true", "result.value"),
            edge("e15", "ok.false", "fetch.input", loop=LOOP),
        ],
        [RunInput(name="page")],
    )


# --- correct graphs -------------------------------------------------------------------------------


@pytest.mark.parametrize("for_run", [True, False])
@pytest.mark.parametrize("build", [code_review, every_kind])
def test_a_correct_workflow_has_no_problems(build: object, for_run: bool) -> None:
    assert validate(build(), CATALOG, for_run=for_run) == []  # type: ignore[operator]


def test_every_builtin_kind_is_exercised_by_the_correct_example() -> None:
    assert {n.kind for n in every_kind().nodes} == {k.name for k in BUILTIN_KINDS}


# --- ids ------------------------------------------------------------------------------------------


def test_a_duplicate_node_id_is_reported_once_and_only_the_first_node_is_checked_further() -> None:
    wf = workflow(
        [
            node("start", "start"),
            node("a", "transform", "First"),
            node("a", "http", "Second"),
            node("a", "transform", "Third"),
            node("out", "output"),
            node("bad", "http", "Bad"),
        ],
        [edge("e1", "start.inputs", "a.input"), edge("e2", "a.output", "out.value")],
    )
    problems = validate(wf, CATALOG)
    dup = only(problems, "duplicate-node-id")
    assert (dup.severity, dup.node_id, dup.field) == ("error", "a", "id")
    assert "3 nodes" in dup.message and "'First', 'Second', 'Third'" in dup.message
    # the rest is still validated: the other http node's empty url is found, the second 'a' (http) is not
    assert [p.node_id for p in problems if p.code == "invalid-config"] == ["bad"]
    assert "unreachable" in codes(problems)  # 'bad' is not connected


def test_a_duplicate_edge_id_is_reported_once_and_each_wire_is_still_checked() -> None:
    wf = workflow(
        [node("start", "start"), node("t", "transform"), node("out", "output")],
        [edge("e1", "start.inputs", "t.input"), edge("e1", "t.output", "out.value"), edge("e1", "t.nope", "out.value")],
    )
    problems = validate(wf, CATALOG)
    dup = only(problems, "duplicate-edge-id")
    assert (dup.edge_id, dup.node_id, dup.field) == ("e1", None, "id")
    assert "3 edges" in dup.message
    assert only(problems, "unknown-port").field == "source_port"  # the third wire's bad port


# --- edges and ports ------------------------------------------------------------------------------


def test_an_edge_to_or_from_a_missing_node_is_dangling() -> None:
    wf = workflow(
        [node("start", "start"), node("out", "output")],
        [
            edge("e1", "start.inputs", "out.value"),
            edge("e2", "ghost.output", "out.value"),
            edge("e3", "start.inputs", "gone.input"),
        ],
    )
    problems = validate(wf, CATALOG)
    dangling = [p for p in problems if p.code == "dangling-edge"]
    assert [(p.edge_id, p.field) for p in dangling] == [("e2", "source"), ("e3", "target")]
    assert "'ghost' does not exist" in dangling[0].message
    assert "multiple-feeds" not in codes(problems)  # a wire from nowhere delivers nothing


def test_an_unknown_port_names_the_ports_there_are() -> None:
    wf = workflow(
        [node("start", "start"), node("review", "llm", "Review"), node("out", "output")],
        [edge("e1", "start.inputs", "review.code"), edge("e2", "review.answer", "out.value")],
    )
    problems = [p for p in validate(wf, CATALOG) if p.code == "unknown-port"]
    assert [(p.edge_id, p.node_id, p.field) for p in problems] == [
        ("e1", "review", "target_port"),
        ("e2", "review", "source_port"),
    ]
    assert problems[0].message == (
        "Edge e1 (start.inputs -> review.code): Node 'Review' (review) has no input port 'code' (its inputs: 'input')."
    )
    assert "(its outputs: 'text', 'json')" in problems[1].message


def test_a_port_used_in_the_wrong_direction_says_so() -> None:
    wf = workflow(
        [node("start", "start"), node("a", "transform", "A"), node("b", "transform", "B"), node("out", "output")],
        [edge("e1", "start.inputs", "a.input"), edge("e2", "a.input", "b.output"), edge("e3", "a.output", "out.value")],
    )
    problems = [p for p in validate(wf, CATALOG) if p.code == "port-direction"]
    assert [(p.node_id, p.field) for p in problems] == [("a", "source_port"), ("b", "target_port")]
    assert "'input' is an input port of Node 'A' (a); an edge must start at an output port" in problems[0].message
    assert "'output' is an output port of Node 'B' (b); an edge must end at an input port" in problems[1].message


def test_an_edge_into_the_start_node_reads_well() -> None:
    wf = workflow(
        [node("start", "start", "Start"), node("t", "transform"), node("out", "output")],
        [
            edge("e1", "start.inputs", "t.input"),
            edge("e2", "t.output", "out.value"),
            edge("e3", "t.output", "start.inputs"),
        ],
    )
    problem = only(validate(wf, CATALOG), "unknown-port")
    assert problem.message == (
        "Edge e3 (t.output -> start.inputs): Node 'Start' (start) takes no inputs, so no edge can end at it."
    )
    assert (problem.node_id, problem.edge_id, problem.field) == ("start", "e3", "target_port")


def test_an_edge_out_of_an_output_node_reads_well() -> None:
    wf = workflow(
        [node("start", "start"), node("out", "output", "Out"), node("t", "transform")],
        [edge("e1", "start.inputs", "out.value"), edge("e2", "out.value", "t.input")],
    )
    problem = only(validate(wf, CATALOG), "unknown-port")
    assert "Node 'Out' (out) gives no outputs, so no edge can start at it" in problem.message


def test_the_error_port_exists_only_with_on_error_continue() -> None:
    def wired(on_error: str) -> Workflow:
        return workflow(
            [
                node("start", "start"),
                node("call", "http", "Call", on_error=on_error, url="https://x"),
                node("out", "output"),
                node("oops", "output", name="error"),
            ],
            [
                edge("e1", "start.inputs", "call.input"),
                edge("e2", "call.body", "out.value"),
                edge("e3", "call.error", "oops.value"),
            ],
        )

    assert validate(wired("continue"), CATALOG) == []
    problem = only(validate(wired("fail"), CATALOG), "unknown-port")
    assert "has an 'error' port only when its on_error is 'continue'" in problem.message


def test_a_merge_has_as_many_input_ports_as_configured() -> None:
    wf = workflow(
        [
            node("start", "start"),
            node("a", "transform"),
            node("b", "transform"),
            node("c", "transform"),
            node("join", "merge", inputs=2),
            node("out", "output"),
        ],
        [
            edge("e1", "start.inputs", "a.input"),
            edge("e2", "start.inputs", "b.input"),
            edge("e3", "start.inputs", "c.input"),
            edge("e4", "a.output", "join.in_1"),
            edge("e5", "b.output", "join.in_2"),
            edge("e6", "c.output", "join.in_3"),
            edge("e7", "join.output", "out.value"),
        ],
    )
    assert only(validate(wf, CATALOG), "unknown-port").edge_id == "e6"
    three = wf.model_copy(
        update={"nodes": tuple(node("join", "merge", inputs=3) if n.id == "join" else n for n in wf.nodes)}
    )
    assert validate(three, CATALOG) == []


def test_an_edge_touching_a_note_is_an_unknown_port_and_notes_escape_graph_rules() -> None:
    wf = workflow(
        [node("start", "start"), node("memo", "note", "Memo"), node("out", "output")],
        [
            edge("e1", "start.inputs", "out.value"),
            edge("e2", "memo.text", "out.value"),
            edge("e3", "start.inputs", "memo.text"),
        ],
    )
    problems = validate(wf, CATALOG)
    assert Counter(codes(problems)) == {"unknown-port": 2}  # not unreachable, not a second feed of out.value
    assert all("is a Note, which has no ports" in p.message for p in problems)
    lonely = workflow(
        [node("start", "start"), node("memo", "note"), node("out", "output")], [edge("e1", "start.inputs", "out.value")]
    )
    assert validate(lonely, CATALOG) == []


def test_incompatible_port_types_are_refused_with_the_types_named() -> None:
    wf = workflow(
        [
            node("start", "start"),
            node("ask", "llm", "Ask"),
            node("each", "map", "Each", workflow="w"),
            node("out", "output"),
        ],
        [
            edge("e1", "start.inputs", "ask.input"),
            edge("e2", "ask.text", "each.items"),
            edge("e3", "each.results", "out.value"),
        ],
    )
    problem = only(validate(wf, CATALOG), "type-mismatch")
    assert problem.message == (
        "Edge e2 (ask.text -> each.items): a string output cannot feed an array input "
        "(from Node 'Ask' (ask) to Node 'Each' (each))."
    )
    assert (problem.node_id, problem.edge_id, problem.field) == ("each", "e2", "target_port")


def test_an_integer_may_feed_a_number_and_any_feeds_everything() -> None:
    number_in = KindSpec(
        "scale",
        "Scale",
        "Data",
        "",
        ports=NodePorts((PortSpec("factor", ValueType.NUMBER), PortSpec("items", ValueType.ARRAY)), ()),
    )
    catalog = MappingCatalog.of([*BUILTIN_KINDS, number_in])
    wf = workflow(
        [node("start", "start"), node("call", "http", url="https://x"), node("s", "scale"), node("out", "output")],
        [
            edge("e1", "start.inputs", "call.input"),
            edge("e2", "call.status", "s.factor"),
            edge("e3", "call.body", "s.items"),
            edge("e4", "call.headers", "out.value"),
        ],
    )
    assert validate(wf, catalog) == []


def test_an_input_fed_twice_is_an_error_but_a_loop_edge_may_feed_a_fed_port() -> None:
    wf = workflow(
        [
            node("start", "start"),
            node("a", "transform"),
            node("b", "transform"),
            node("t", "transform", "T"),
            node("out", "output"),
        ],
        [
            edge("e1", "start.inputs", "a.input"),
            edge("e2", "start.inputs", "b.input"),
            edge("e3", "a.output", "t.input"),
            edge("e4", "b.output", "t.input"),
            edge("e5", "t.output", "out.value"),
        ],
    )
    problem = only(validate(wf, CATALOG), "multiple-feeds")
    assert (problem.node_id, problem.edge_id) == ("t", "e4")
    assert "Node 'T' (t): input 'input' is fed by 2 edges (e3, e4)" in problem.message
    assert "Merge" in problem.message
    assert "multiple-feeds" not in codes(validate(code_review(), CATALOG))  # review.input: forward + loop


# --- cycles and loops -----------------------------------------------------------------------------


def chain(ids: list[str], *, first: str = "start") -> list[Edge]:
    """Edges first -> ids[0] -> ids[1] -> ... through transform ports."""
    edges = [edge("c0", f"{first}.inputs", f"{ids[0]}.input")]
    edges += [edge(f"c{i}", f"{a}.output", f"{b}.input") for i, (a, b) in enumerate(pairwise(ids), start=1)]
    return edges


def test_a_forward_cycle_is_reported_once_with_its_nodes() -> None:
    wf = workflow(
        [
            node("start", "start"),
            node("m", "merge"),
            node("b", "transform", "B"),
            node("c", "transform", "C"),
            node("out", "output"),
        ],
        [
            edge("e1", "start.inputs", "m.in_1"),
            edge("e2", "m.output", "b.input"),
            edge("e3", "b.output", "c.input"),
            edge("e4", "c.output", "m.in_2"),
            edge("e5", "c.output", "out.value"),
        ],
    )
    problem = only(validate(wf, CATALOG), "cycle")
    assert problem.message == (
        "Nodes 'B' (b) -> 'C' (c) -> 'm' -> 'B' (b) form a cycle; "
        "make one of its edges a loop edge if the repetition is meant."
    )
    assert (problem.severity, problem.node_id, problem.edge_id) == ("error", "b", "e2")
    as_loop = wf.model_copy(update={"edges": (*wf.edges[:3], edge("e4", "c.output", "m.in_2", loop=LOOP), wf.edges[4])})
    assert validate(as_loop, CATALOG) == []


def test_a_tangle_of_many_cycles_is_one_problem_and_separate_cycles_are_separate() -> None:
    ids = [f"n{i}" for i in range(5)]
    dense = [
        edge(f"d{a}{b}", f"{a}.output", f"{b}.in_{ids.index(a) + 1}") for a in ids for b in ids if a != b
    ]  # every pair, both ways: dozens of elementary cycles
    nodes = [
        node("start", "start"),
        *[node(i, "merge", inputs=5) for i in ids],
        node("x", "merge"),
        node("y", "merge"),
        node("out", "output"),
    ]
    separate = [edge("x1", "x.output", "y.in_1"), edge("y1", "y.output", "x.in_1")]
    problems = validate(workflow(nodes, [*dense, *separate]), CATALOG)
    cycles = [p for p in problems if p.code == "cycle"]
    assert [p.node_id for p in cycles] == ["n0", "x"]
    assert "In all 5 nodes are caught in cycles here: n0, n1, n2, n3, n4." in cycles[0].message


def test_a_node_feeding_itself_is_a_cycle() -> None:
    wf = workflow(
        [node("start", "start"), node("m", "merge", "M"), node("out", "output")],
        [edge("e1", "start.inputs", "m.in_1"), edge("e2", "m.output", "m.in_2"), edge("e3", "m.output", "out.value")],
    )
    problem = only(validate(wf, CATALOG), "cycle")
    assert problem.message.startswith("Node 'M' (m) feeds itself")
    assert problem.edge_id == "e2"


def test_a_long_cycle_is_found_without_recursion_and_its_path_is_shortened() -> None:
    ids = [f"t{i:04d}" for i in range(3000)]
    nodes = [node("start", "start"), node("join", "merge"), *[node(i, "transform") for i in ids], node("out", "output")]
    edges = [
        edge("a", "start.inputs", "join.in_1"),
        edge("b", "join.output", f"{ids[0]}.input"),
        *chain(ids, first="start")[1:],
        edge("back", f"{ids[-1]}.output", "join.in_2"),
        edge("o", f"{ids[-1]}.output", "out.value"),
    ]
    problem = only(validate(workflow(nodes, edges), CATALOG), "cycle")
    assert "... (3001 nodes in all)" in problem.message and len(problem.message) < 400


def test_a_loop_edge_must_lead_back_to_an_ancestor() -> None:
    wf = workflow(
        [
            node("start", "start"),
            node("a", "transform", "A"),
            node("b", "transform", "B"),
            node("side", "transform", "Side"),
            node("out", "output"),
        ],
        [
            *chain(["a", "b"]),
            edge("e1", "b.output", "out.value"),
            edge("e2", "start.inputs", "side.input"),
            edge("fwd", "a.output", "b.input", loop=LOOP),
            edge("across", "side.output", "a.input", loop=LOOP),
        ],
    )
    problems = [p for p in validate(wf, CATALOG) if p.code == "loop-not-back-edge"]
    assert [(p.edge_id, p.node_id, p.field) for p in problems] == [("fwd", "a", "target"), ("across", "side", "target")]
    assert problems[0].message == (
        "Loop edge fwd (a.output -> b.input): Node 'B' (b) is not upstream of Node 'A' (a), so this loop edge "
        "does not lead back; a loop edge must return to an ancestor of its source."
    )


def test_a_loop_edge_from_a_node_to_itself_is_refused() -> None:
    wf = workflow(
        [node("start", "start"), node("t", "transform", "T"), node("out", "output")],
        [*chain(["t"]), edge("e1", "t.output", "out.value"), edge("self", "t.output", "t.input", loop=LOOP)],
    )
    problem = only(validate(wf, CATALOG), "loop-self-edge")
    assert (problem.node_id, problem.edge_id) == ("t", "self")
    assert "not from Node 'T' (t) to itself" in problem.message
    assert "cycle" not in codes(validate(wf, CATALOG))


def test_a_loop_edge_across_a_wide_dag_is_checked_against_ancestors_only() -> None:
    rng = random.Random(5)
    ids = [f"n{i}" for i in range(200)]
    nodes = [node("start", "start"), *[node(i, "merge") for i in ids], node("out", "output")]
    edges = [edge("s", "start.inputs", "n0.in_1")]
    for i, target in enumerate(ids[1:], start=1):
        edges.append(edge(f"f{i}", f"{ids[rng.randrange(i)]}.output", f"{target}.in_1"))
    parents = {e.target: e.source for e in edges}
    ancestors_of_last = set()
    current = ids[-1]
    while current in parents:
        current = parents[current]
        ancestors_of_last.add(current)
    outsider = next(i for i in ids[:-1] if i not in ancestors_of_last)
    insider = next(i for i in ids if i in ancestors_of_last and i != "start")
    edges += [
        edge("good", f"{ids[-1]}.output", f"{insider}.in_2", loop=LOOP),
        edge("bad", f"{ids[-1]}.output", f"{outsider}.in_2", loop=LOOP),
        edge("o", f"{ids[-1]}.output", "out.value"),
    ]
    problems = validate(workflow(nodes, edges), CATALOG)
    assert [p.edge_id for p in problems if p.code == "loop-not-back-edge"] == ["bad"]


# --- kinds and config -----------------------------------------------------------------------------


def placeholder_workflow() -> Workflow:
    return workflow(
        [node("start", "start"), node("fetch", "acme.fetch_page", "Fetch page", depth=3), node("out", "output")],
        [edge("e1", "start.inputs", "fetch.url"), edge("e2", "fetch.page", "out.value")],
    )


def test_an_uninstalled_kind_is_an_error_for_a_run_and_a_warning_while_editing() -> None:
    for_run = only(validate(placeholder_workflow(), CATALOG), "unknown-kind")
    assert (for_run.severity, for_run.node_id, for_run.field) == ("error", "fetch", "kind")
    assert for_run.message == (
        "Node 'Fetch page' (fetch): kind 'acme.fetch_page' is not installed, so the node "
        "is kept unchanged as a placeholder and cannot run."
    )
    editing = validate(placeholder_workflow(), CATALOG, for_run=False)
    assert [(p.code, p.severity) for p in editing] == [("unknown-kind", "warning")]


def test_a_placeholders_edges_are_never_unknown_ports_nor_its_config_checked() -> None:
    problems = validate(placeholder_workflow(), CATALOG)
    assert codes(problems) == ["unknown-kind"]


def test_an_empty_required_setting_names_the_node_and_the_field() -> None:
    wf = workflow(
        [node("start", "start"), node("fetch", "http", "Fetch"), node("out", "output")],
        [edge("e1", "start.inputs", "fetch.input"), edge("e2", "fetch.body", "out.value")],
    )
    problem = only(validate(wf, CATALOG), "invalid-config")
    assert problem.message == "Node 'Fetch' (fetch): url (config.url) must not be empty."
    assert (problem.severity, problem.node_id, problem.field) == ("error", "fetch", "config.url")


@pytest.mark.parametrize("config", [{}, {"url": ""}, {"method": "GET"}], ids=["left-out", "blank", "other-key"])
def test_a_blank_default_counts_as_unset_whether_or_not_the_key_is_in_the_file(config: dict[str, str]) -> None:
    """pydantic never validates a default; a file that leaves out http's url must not pass."""
    wf = workflow(
        [node("start", "start"), node("fetch", "http", "Fetch", **config), node("out", "output")],
        [edge("e1", "start.inputs", "fetch.input"), edge("e2", "fetch.body", "out.value")],
    )
    assert [(p.code, p.field) for p in validate(wf, CATALOG)] == [("invalid-config", "config.url")]


def test_every_config_error_is_its_own_readable_problem() -> None:
    bad = node("ask", "llm", "Ask", model="gpt4", temperature=5, colour="red", stop=["ok", 7], max_tokens="many")
    wf = workflow(
        [node("start", "start"), bad, node("out", "output")],
        [edge("e1", "start.inputs", "ask.input"), edge("e2", "ask.text", "out.value")],
    )
    problems = {p.field: p.message for p in validate(wf, CATALOG) if p.code == "invalid-config"}
    assert problems == {
        "config.colour": "Node 'Ask' (ask): colour (config.colour) is not a setting of LLM nodes.",
        "config.max_tokens": (
            "Node 'Ask' (ask): max tokens (config.max_tokens) must be a valid integer, "
            "unable to parse string as an integer (got 'many')."
        ),
        "config.model": (
            "Node 'Ask' (ask): model (config.model) does not have the expected form (provider:model, "
            "e.g. offline:echo, openai:gpt-4o-mini, anthropic:claude-3-5-haiku) (got 'gpt4')."
        ),
        "config.stop.1": "Node 'Ask' (ask): stop (config.stop.1) must be a valid string (got 7).",
        "config.temperature": (
            "Node 'Ask' (ask): temperature (config.temperature) must be less than or equal to 2 (got 5)."
        ),
    }


def test_a_validator_message_loses_pydantics_prefix() -> None:
    wf = workflow(
        [node("start", "start"), node("route", "switch", "Route", cases=["a", "a"]), node("out", "output")],
        [edge("e1", "start.inputs", "route.value"), edge("e2", "route.a", "out.value")],
    )
    problem = only(validate(wf, CATALOG), "invalid-config")
    assert problem.message == "Node 'Route' (route): cases (config.cases) is invalid: case names must be distinct."


def test_a_missing_required_setting_is_required_and_long_values_are_cut() -> None:
    class Needy(BaseModel):
        model_config = ConfigDict(extra="forbid")
        endpoint: str = Field(title="Endpoint URL")
        code: str = Field("x", max_length=5)

    spec = KindSpec(
        "needy", "Needy", "Test", "", config_model=Needy, ports=NodePorts((PortSpec("input"),), (PortSpec("output"),))
    )
    catalog = MappingCatalog.of([*BUILTIN_KINDS, spec])
    wf = workflow(
        [node("start", "start"), node("n", "needy", "Needy one", code="y" * 500), node("out", "output")],
        [edge("e1", "start.inputs", "n.input"), edge("e2", "n.output", "out.value")],
    )
    problems = {p.field: p.message for p in validate(wf, catalog)}
    assert problems["config.endpoint"] == "Node 'Needy one' (n): Endpoint URL (config.endpoint) is required."
    assert problems["config.code"].startswith("Node 'Needy one' (n): code (config.code) must have at most 5 characters")
    assert len(problems["config.code"]) < 200 and "...'" not in problems["config.code"][:60]


def test_a_node_without_a_name_is_named_by_its_id_once() -> None:
    wf = workflow(
        [node("start", "start"), node("http_1", "http"), node("out", "output")],
        [edge("e1", "start.inputs", "http_1.input"), edge("e2", "http_1.body", "out.value")],
    )
    assert only(validate(wf, CATALOG), "invalid-config").message == (
        "Node 'http_1': url (config.url) must not be empty."
    )


# --- required inputs, reachability, start and output ----------------------------------------------


def test_an_unconnected_required_input_is_an_error() -> None:
    wf = workflow([node("start", "start"), node("out", "output", "Result")])
    problem = only(validate(wf, CATALOG), "required-input")
    assert problem.message == "Node 'Result' (out): input 'value' is required but nothing is connected to it."
    assert (problem.severity, problem.node_id) == ("error", "out")


def test_a_required_input_fed_only_by_a_loop_edge_is_empty_on_the_first_pass() -> None:
    wf = workflow(
        [node("start", "start"), node("a", "transform"), node("ok", "condition", "OK?"), node("out", "output")],
        [
            edge("e1", "start.inputs", "a.input"),
            edge("e2", "a.output", "out.value"),
            edge("e3", "a.output", "ok.value", loop=LOOP),
        ],
    )
    problems = validate(wf, CATALOG)
    assert "only a loop edge feeds it, so the first pass has no value" in only(problems, "required-input").message


def test_nodes_the_start_does_not_reach_are_warned_about() -> None:
    wf = workflow(
        [
            node("start", "start", "Start"),
            node("a", "transform"),
            node("island", "transform", "Island"),
            node("below", "transform"),
            node("out", "output"),
            node("unknown", "acme.thing"),
        ],
        [
            edge("e1", "start.inputs", "a.input"),
            edge("e2", "a.output", "out.value"),
            edge("e3", "island.output", "below.input"),
        ],
    )
    problems = [p for p in validate(wf, CATALOG, for_run=False) if p.code == "unreachable"]
    assert [(p.node_id, p.severity) for p in problems] == [
        ("below", "warning"),
        ("island", "warning"),
        ("unknown", "warning"),
    ]
    assert problems[1].message == (
        "Node 'Island' (island) is not connected to Node 'Start' (start): nothing from the start of the run reaches it."
    )


def test_without_a_start_node_nothing_is_unreachable() -> None:
    wf = workflow([node("a", "transform"), node("out", "output")], [edge("e1", "a.output", "out.value")])
    assert validate(wf, CATALOG) == []


def test_a_second_start_node_is_an_error_on_that_node() -> None:
    wf = workflow(
        [node("start", "start", "Start"), node("start_2", "start", "Again"), node("out", "output")],
        [edge("e1", "start.inputs", "out.value")],
    )
    problem = only(validate(wf, CATALOG), "duplicate-singleton")
    assert problem.node_id == "start_2"
    assert problem.message == (
        "Node 'Again' (start_2): a workflow can have only one Start node, and Node 'Start' (start) is already one."
    )


@pytest.mark.parametrize("nodes", [[], [node("memo", "note")]], ids=["empty", "only-notes"])
def test_a_run_needs_something_to_run(nodes: list[Node]) -> None:
    problem = only(validate(workflow(nodes), CATALOG), "nothing-to-run")
    assert (problem.severity, problem.node_id) == ("error", None)
    assert validate(workflow(nodes), CATALOG, for_run=False) == []


def test_a_run_without_an_output_node_is_warned_about_only_for_a_run() -> None:
    wf = workflow([node("start", "start"), node("a", "transform")], [edge("e1", "start.inputs", "a.input")])
    problems = validate(wf, CATALOG)
    assert [(p.code, p.severity) for p in problems] == [("no-output", "warning")]
    assert "the run will produce no outputs" in problems[0].message
    assert not has_errors(problems)
    assert validate(wf, CATALOG, for_run=False) == []


def test_run_inputs_without_a_start_node_are_warned_about() -> None:
    wf = workflow(
        [node("a", "transform"), node("out", "output")],
        [edge("e1", "a.output", "out.value")],
        [RunInput(name="topic"), RunInput(name="tone")],
    )
    problem = only(validate(wf, CATALOG, for_run=False), "inputs-without-start")
    assert (problem.severity, problem.field) == ("warning", "inputs")
    assert "('topic', 'tone')" in problem.message


def test_two_outputs_under_one_name_are_an_error() -> None:
    wf = workflow(
        [
            node("start", "start"),
            node("o1", "output", "First"),
            node("o2", "output", "Second"),
            node("o3", "output", name="other"),
        ],
        [
            edge("e1", "start.inputs", "o1.value"),
            edge("e2", "start.inputs", "o2.value"),
            edge("e3", "start.inputs", "o3.value"),
        ],
    )
    problem = only(validate(wf, CATALOG), "duplicate-output-name")
    assert (problem.node_id, problem.field) == ("o2", "config.name")
    assert problem.message == (
        "Node 'Second' (o2): output name 'result' is already used by Node 'First' (o1); "
        "one value would overwrite the other."
    )


def test_two_run_inputs_under_one_name_are_an_error() -> None:
    wf = code_review()
    wf = wf.model_copy(update={"inputs": (*wf.inputs, RunInput(name="code", type=ValueType.NUMBER))})
    problem = only(validate(wf, CATALOG), "duplicate-input-name")
    assert problem.field == "inputs.1.name"


# --- the result as a whole ------------------------------------------------------------------------


def broken() -> Workflow:
    """A workflow that breaks nearly every rule at once."""
    return workflow(
        [
            node("start", "start"),
            node("start2", "start"),
            node("a", "transform", "A"),
            node("a", "llm"),
            node("fetch", "http", "Fetch"),
            node("each", "map", "Each", workflow="w"),
            node("ghost", "acme.x", "Ghost"),
            node("memo", "note"),
            node("o1", "output"),
            node("o2", "output"),
            node("lone", "condition", "Lone"),
            node("m", "merge"),
        ],
        [
            edge("e1", "start.inputs", "a.input"),
            edge("e1", "a.output", "fetch.input"),
            edge("e3", "fetch.status", "each.items"),
            edge("e4", "each.results", "o1.value"),
            edge("e5", "fetch.body", "o1.value"),
            edge("e6", "nowhere.output", "o2.value"),
            edge("e7", "memo.text", "o2.value"),
            edge("e8", "o1.value", "a.input"),
            edge("e9", "ghost.x", "start.inputs"),
            edge("e10", "m.output", "m.in_1"),
            edge("e11", "fetch.body", "start.inputs", loop=LOOP),
            edge("e12", "each.results", "each.items", loop=LOOP),
            edge("e13", "a.output", "lone.value", loop=LOOP),
        ],
        [RunInput(name="x"), RunInput(name="x")],
    )


def test_problems_are_sorted_errors_first_then_by_place_and_code() -> None:
    problems = validate(broken(), CATALOG)
    keys = [(p.severity != "error", p.node_id or "", p.edge_id or "", p.code) for p in problems]
    assert keys == sorted(keys)
    assert problems == validate(broken(), CATALOG)
    assert {p.severity for p in problems} == {"error", "warning"}


def test_every_reported_code_is_documented_and_every_message_names_its_node() -> None:
    problems = validate(broken(), CATALOG)
    seen = set(codes(problems))
    assert seen <= set(CODES)
    assert len(seen) >= 15, sorted(seen)
    for p in problems:
        if p.node_id is not None and p.code not in ("duplicate-node-id", "cycle"):
            assert f"({p.node_id})" in p.message or f"'{p.node_id}'" in p.message, p
        assert p.message.endswith("."), p


def test_problem_as_json_has_every_key() -> None:
    problem = only(
        validate(workflow([node("start", "start"), node("out", "output", "Out")]), CATALOG), "required-input"
    )
    assert problem.to_json() == {
        "severity": "error",
        "code": "required-input",
        "message": problem.message,
        "node_id": "out",
        "edge_id": None,
        "field": None,
    }
    assert str(problem).startswith("error: Node 'Out' (out)")


def test_has_errors_ignores_warnings() -> None:
    warning = Problem("warning", "no-output", "x")
    assert not has_errors([]) and not has_errors([warning])
    assert has_errors([warning, Problem("error", "cycle", "y")])
    assert has_errors(iter([Problem("error", "cycle", "y")]))


def test_a_large_valid_dag_passes_clean() -> None:
    """Not timed (see tests/bench/bench_validation.py); checks nothing degrades into per-node noise."""
    rng = random.Random(3)
    ids = [f"n{i}" for i in range(2000)]
    nodes = [node("start", "start"), *[node(i, "merge", inputs=3) for i in ids], node("out", "output")]
    edges = [edge("s", "start.inputs", "n0.in_1")]
    for i, target in enumerate(ids[1:], start=1):
        for port, source in enumerate(rng.sample(ids[:i], min(i, rng.randint(1, 3))), start=1):
            edges.append(edge(f"e{i}_{port}", f"{source}.output", f"{target}.in_{port}"))
    edges.append(edge("o", "n1999.output", "out.value"))
    assert validate(workflow(nodes, edges), CATALOG) == []


# --- never raises, whatever the graph -------------------------------------------------------------

KINDS = [k.name for k in BUILTIN_KINDS] + ["acme.missing"]
PORTS = ["input", "output", "value", "inputs", "text", "in_1", "in_2", "true", "error", "items", "results", "zzz"]


@st.composite
def random_workflows(draw: st.DrawFn) -> Workflow:
    ids = draw(st.lists(st.sampled_from([f"n{i}" for i in range(8)]), min_size=0, max_size=8))
    nodes = [
        Node(id=i, kind=draw(st.sampled_from(KINDS)), on_error=draw(st.sampled_from(["fail", "continue"]))) for i in ids
    ]
    ends = st.sampled_from([*ids, "ghost"]) if ids else st.just("ghost")
    edges = [
        Edge(
            id=f"e{draw(st.integers(0, 12))}",
            source=draw(ends),
            source_port=draw(st.sampled_from(PORTS)),
            target=draw(ends),
            target_port=draw(st.sampled_from(PORTS)),
            loop=draw(st.none() | st.just(LOOP)),
        )
        for _ in range(draw(st.integers(0, 14)))
    ]
    return workflow(nodes, edges)


@settings(max_examples=300, deadline=None)
@given(random_workflows(), st.booleans())
def test_any_graph_validates_without_raising_into_documented_sorted_problems(wf: Workflow, for_run: bool) -> None:
    problems = validate(wf, CATALOG, for_run=for_run)
    assert set(codes(problems)) <= set(CODES)
    keys = [(p.severity != "error", p.node_id or "", p.edge_id or "", p.code) for p in problems]
    assert keys == sorted(keys)
    assert all(p.message for p in problems)
    if not for_run:
        assert "nothing-to-run" not in codes(problems) and "no-output" not in codes(problems)
