"""Mistakes in templates and expressions are found by validation, before any run (issue 13.4).

Each case is a workflow with one mistake, as a person would make it while typing; validation (with
the engine's source reader, as the Problems dock and `flowdesk validate` use it) must name the node,
the field, the mistake and where it is, in the author's words.
"""

from __future__ import annotations

from typing import Any

import pytest
from support.wfbuild import edge, node, workflow

from flowdesk.engine.source_reader import SourceReader
from flowdesk.model.validation import CODES, validate
from flowdesk.model.workflow import RunInput
from flowdesk.nodes.registry import default_registry

FORBIDDEN = ("dict object", "NodesScope", "end of template", "Jinja", "print statement", "statement block")

READER = SourceReader()


def _problems(wf: Any) -> list[Any]:
    return [p for p in validate(wf, default_registry(), sources=READER) if p.code in _OURS]


_OURS = {"source-syntax", "undeclared-run-input", "unknown-node-reference", "unknown-port-reference", "unknown-name"}


def _one(config_node: Any, *, inputs: tuple[RunInput, ...] = (), extra: tuple[Any, ...] = ()) -> Any:
    """start -> fetch (http) -> the node under test -> out; run input 'topic' declared unless told otherwise."""
    nodes = [node("start", "start"), node("fetch", "http", url="https://example.com"), config_node, *extra,
             node("out", "output", name="result")]  # fmt: skip
    port = {"llm": "input", "transform": "input", "condition": "value", "switch": "value", "http": "url"}
    target_in = port.get(config_node.kind, "input")
    target_out = {"llm": "text", "condition": "true", "switch": "default", "http": "body"}.get(
        config_node.kind, "output"
    )
    edges = ["start.inputs -> fetch.url", f"fetch.body -> {config_node.id}.{target_in}",
             f"{config_node.id}.{target_out} -> out.value"]  # fmt: skip
    return workflow(nodes, edges, inputs=inputs or (RunInput(name="topic"),))


CASES = [
    # (the node, code, node id, field, words the message must contain)
    (node("ask", "llm", prompt="Write about {{ run.inputs.topc }}"), "undeclared-run-input", "config.prompt",
     ["Node 'ask'", "the user prompt (config.prompt)", "reads run.inputs.topc", "'topc' is not a run input",
      "its run inputs: topic"]),
    (node("ask", "llm", prompt="{{ nodes.fetc.output.body }}"), "unknown-node-reference", "config.prompt",
     ["reads nodes.fetc.output.body", "there is no node 'fetc'"]),
    (node("ask", "llm", prompt="{{ nodes.fetch.output.bdy }}"), "unknown-port-reference", "config.prompt",
     ["node 'fetch' has no output 'bdy'", "its outputs: body, status, headers"]),
    (node("ask", "llm", prompt="{{ nodes.fetch.outputs }}"), "unknown-name", "config.prompt",
     ["a node offers only its outputs: nodes.fetch.output"]),
    (node("ask", "llm", prompt="{{ inputs.inptu }}"), "unknown-port-reference", "config.prompt",
     ["reads inputs.inptu", "there is no input 'inptu'", "its input ports: input"]),
    (node("ask", "llm", prompt="{{ imputs.input }}"), "unknown-name", "config.prompt",
     ["reads 'imputs', which is not defined there", "inputs, run.inputs, nodes.<id>.output and loop"]),
    (node("ask", "llm", system="Be {{ run.inputs.tone", prompt="x"), "source-syntax", "config.system",
     ["the system prompt (config.system) has a mistake at line 1, column 22", "the template ends too early"]),
    (node("ask", "llm", prompt="Hi\n{% for x in inputs.input %}{{ x }}"), "source-syntax", "config.prompt",
     ["at line 2", "the template ends inside a '{% for %}' block: close it with '{% endfor %}'"]),
    (node("t", "transform", expression="inputs.input +"), "source-syntax", "config.expression",
     ["the expression (config.expression) has a mistake at line 1, column 15", "the expression ends too early"]),
    (node("t", "transform", expression="(inputs.input"), "source-syntax", "config.expression",
     ["column 14", "the expression ends too early: ')' is missing"]),
    (node("t", "transform", expression="inputs.input inputs"), "source-syntax", "config.expression",
     ["column 14", "unexpected 'inputs' after the expression"]),
    (node("t", "transform", expression="'abc"), "source-syntax", "config.expression",
     ["column 1", "a text started with ' is not closed"]),
    (node("t", "transform", mode="template", expression="{{ inputs.input | shout }}"), "source-syntax",
     "config.expression", ["column 19", "there is no filter named 'shout'"]),
    (node("t", "transform", mode="template", expression="{{ inputs.input }"), "source-syntax", "config.expression",
     ["column 17", "unexpected '}'"]),
    (node("c", "condition", expression="run.inputs.limit > 3"), "undeclared-run-input", "config.expression",
     ["reads run.inputs.limit"]),
    (node("ask", "http", url="https://x/{{ run.inputs.q }}"), "undeclared-run-input", "config.url",
     ["the URL (config.url)", "'q' is not a run input"]),
    (node("ask", "http", url="https://x", headers={"X-Key": "{{ nodes.nope.output.k }}"}), "unknown-node-reference",
     "config.headers.X-Key", ["request headers 'X-Key' (config.headers.X-Key)", "there is no node 'nope'"]),
    (node("tl", "tool", tool="json_pick", args={"data": "{{ run.inputs.dta }}"}), "undeclared-run-input",
     "config.args.data", ["args 'data'", "'dta' is not a run input"]),
    (node("ok", "approval", message="Ship {{ run.id }} {{ run.input.x }}?"), "unknown-name", "config.message",
     ["reads run.input.x, but run has only run.inputs and run.id"]),
]  # fmt: skip


@pytest.mark.parametrize(("config_node", "code", "field", "words"), CASES, ids=[c[0].id + "-" + c[1] for c in CASES])
def test_each_mistake_is_found_on_its_node_and_field_in_the_authors_words(
    config_node: Any, code: str, field: str, words: list[str]
) -> None:
    problems = _problems(_one(config_node))
    assert len(problems) == 1, [p.message for p in problems]
    (problem,) = problems
    assert (problem.severity, problem.code, problem.node_id, problem.field) == ("error", code, config_node.id, field)
    for word in words:
        assert word in problem.message, problem.message
    for bad in FORBIDDEN:
        assert bad not in problem.message, problem.message
    assert code in CODES


@pytest.mark.parametrize(
    "config_node",
    [
        node("ask", "llm", prompt="{{ run.inputs.topic }} {{ nodes.fetch.output.body }} {{ inputs.input }}"),
        node("ask", "llm", prompt="{{ run.inputs.style | default('plain') }} {{ nodes.later.output.x is defined }}"),
        node("ask", "llm", prompt="{% for x in inputs.input %}{{ loop.index }}{{ x.name }}{% endfor %}"),
        node("ask", "llm", prompt="{% set n = namespace(k=1) %}{{ n.k }}{{ range(3) | list }}{{ run.id }}"),
        node("t", "transform", expression="nodes['fetch'].output['status'] == 200 and inputs['input']"),
        node("t", "transform", mode="template", expression="{{ inputs.input }} is {{ 'ok' }}"),
        node("ask", "llm", prompt="{{ nodes[inputs.input].output }}"),  # a computed node id: not checked
    ],
)
def test_correct_sources_raise_nothing(config_node: Any) -> None:
    assert _problems(_one(config_node)) == []


def test_a_loop_edges_until_is_read_too() -> None:
    wf = workflow(
        [node("count", "transform", expression="1"), node("again", "transform", expression="inputs.input")],
        ["count.output -> again.input", edge("again.output -> count.input", loop=3, until="value > run.inputs.n")],
    )
    (problem,) = _problems(wf)
    assert (problem.code, problem.edge_id, problem.field) == ("undeclared-run-input", "e_again_output_count_input",
                                                              "loop.until")  # fmt: skip
    assert "'until' expression (loop.until) reads run.inputs.n" in problem.message


def test_notes_are_not_templates() -> None:
    wf = _one(node("t", "transform", expression="inputs.input"), extra=(node("memo", "note", text="{{ oops"),))
    assert _problems(wf) == []


def test_without_a_reader_validation_is_as_before() -> None:
    wf = _one(node("ask", "llm", prompt="{{ run.inputs.topc }}"))
    assert not [p for p in validate(wf, default_registry()) if p.code in _OURS]


def _loop(reader: Any) -> Any:
    """start -> items -> for_each [trim -> shout] -> collect -> reader -> out: 'trim' and 'shout' run once
    per item, inside the body; 'reader' runs once, after the collect."""
    return workflow(
        [
            node("start", "start"),
            node("items", "transform", expression="[1, 2, 3]"),
            node("loop", "for_each").model_copy(update={"name": "Loop"}),
            node("trim", "transform", expression="inputs.input"),
            node("shout", "transform", expression="nodes.trim.output"),  # inside the body: its own item's value
            node("gather", "collect"),
            reader,
            node("out", "output", name="result"),
        ],
        ["start.inputs -> items.input", "items.output -> loop.items", "loop.item -> trim.input",
         "trim.output -> shout.input", "shout.output -> gather.value", f"gather.results -> {reader.id}.input",
         f"{reader.id}.output -> out.value"],
    )  # fmt: skip


def test_reading_a_node_inside_a_loop_body_from_outside_it_is_a_located_problem() -> None:
    """After the collect a body node has no single value (it ran once per item, in the items' own
    runs): the engine would fail there, or read nothing. Validation says so on the node and field."""
    template = "Last: {{ nodes.trim.output }} of {{ nodes.gather.output.results | length }}"
    wf = _loop(node("after", "transform", mode="template", expression=template))
    problems = [p for p in validate(wf, default_registry(), sources=READER) if p.severity == "error"]
    assert [(p.code, p.node_id, p.field) for p in problems] == [("body-node-reference", "after", "config.expression")]
    message = problems[0].message
    for words in ["Node 'after'", "(config.expression)", "reads nodes.trim.output", "inside the loop body of 'Loop'",
                  "once per item", "nodes.gather.output"]:  # fmt: skip
        assert words in message, message
    assert "body-node-reference" in CODES


def test_body_nodes_reading_each_other_and_readers_of_the_collect_raise_nothing() -> None:
    wf = _loop(node("after", "transform", expression="nodes.gather.output.results | length"))
    assert [p for p in validate(wf, default_registry(), sources=READER) if p.severity == "error"] == []
