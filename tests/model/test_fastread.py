"""Reading a sound file takes the Rust fast path; what it cannot vouch for still gets the careful,
located message (issue 16.7)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fileformat_samples import sample_workflow  # tests/model is on sys.path (no __init__ files)

from flowdesk.model import _fastread, _jsoncheck
from flowdesk.model.fileformat import (
    MAX_DEPTH,
    MAX_FILE_BYTES,
    WorkflowFileError,
    _parse,
    _validate,
    dumps_workflow,
    loads_workflow,
)
from flowdesk.model.workflow import FORMAT, NO_RETRY, Node, RetryPolicy, Workflow


def _never(*_args: object, **_kwargs: object) -> None:
    raise AssertionError("a sound file must not take the careful Python walk")


def _with_config(value_text: str) -> str:
    doc = {"format": FORMAT, "format_version": 1, "id": "wf", "nodes": [{"id": "a", "kind": "x", "config": {"v": 0}}]}
    return json.dumps(doc).replace('{"v": 0}', '{"v": ' + value_text + "}")


def test_a_sound_file_is_read_without_the_python_walk(monkeypatch: pytest.MonkeyPatch) -> None:
    text = dumps_workflow(sample_workflow())
    careful = loads_workflow(text)
    monkeypatch.setattr(_jsoncheck, "parse_json_text", _never)
    monkeypatch.setattr("flowdesk.model.fileformat.parse_json_text", _never)
    assert loads_workflow(text) == careful
    assert loads_workflow(text.encode("utf-8")) == careful
    assert loads_workflow(b"\xef\xbb\xbf" + text.encode("utf-8")) == careful


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1e400", "wf.json: nodes[0] (node 'a').config.v: number is too large (beyond a 64-bit float)"),
        ("[1, -1e999]", "wf.json: nodes[0] (node 'a').config.v[1]: number is too large (beyond a 64-bit float)"),
        ('{"k": 1, "k": 2}', "wf.json: nodes[0] (node 'a').config.v: the key \"k\" appears twice in this object"),
        ("NaN", "wf.json: nodes[0] (node 'a').config.v: NaN is not allowed: JSON numbers must be finite"),
    ],
)
def test_values_pydantic_lets_through_still_get_the_located_message(value: str, expected: str) -> None:
    text = _with_config(value)
    assert _fastread.read_fast(text, MAX_FILE_BYTES) is None
    with pytest.raises(WorkflowFileError) as info:
        loads_workflow(text, "wf.json")
    assert str(info.value) == expected


def test_a_file_without_its_header_is_not_taken_for_the_current_format() -> None:
    for missing in ("format", "format_version"):
        doc: dict[str, Any] = {"format": FORMAT, "format_version": 1, "id": "wf"}
        del doc[missing]
        assert _fastread.read_fast(json.dumps(doc), MAX_FILE_BYTES) is None
        with pytest.raises(WorkflowFileError):
            loads_workflow(json.dumps(doc))


@pytest.mark.parametrize("version", ['"1"', "1.0", "true"])
def test_a_version_that_is_not_a_whole_number_gets_the_careful_message(version: str) -> None:
    text = '{"format": "flowdesk.workflow", "format_version": ' + version + ', "id": "wf"}'
    assert _fastread.read_fast(text, MAX_FILE_BYTES) is None
    with pytest.raises(WorkflowFileError) as info:
        loads_workflow(text, "wf.json")
    assert str(info.value).startswith("wf.json: format_version: must be a whole number")


def test_depth_near_the_limit_is_measured_the_careful_way() -> None:
    def nested(depth: int) -> str:
        inner = depth - 4  # top object, nodes list, node object, config object
        return _with_config("[" * inner + "]" * inner)

    shallow = nested(10)
    assert _fastread.read_fast(shallow, MAX_FILE_BYTES) is not None
    assert _fastread.read_fast(nested(MAX_DEPTH), MAX_FILE_BYTES) is None  # near the limit: not vouched for
    assert loads_workflow(nested(MAX_DEPTH)).nodes[0].config["v"]  # ... and still accepted
    with pytest.raises(WorkflowFileError) as info:
        loads_workflow(nested(MAX_DEPTH + 1))
    assert info.value.message.startswith("nested too deeply")


def test_oversized_text_never_reaches_the_fast_parser(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("jiter.from_json", _never)
    monkeypatch.setattr(_fastread.Workflow, "model_validate", _never)
    assert _fastread.read_fast(b" " * (MAX_FILE_BYTES + 1), MAX_FILE_BYTES) is None


def test_a_sound_file_is_parsed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The bytes go through one JSON parser: pydantic validates the parsed value rather than
    parsing the text a second time (half the reading time of a big file went to the second parse)."""
    import jiter

    parses: list[int] = []
    real = jiter.from_json

    def counting(data: bytes, **kwargs: Any) -> Any:
        parses.append(len(data))
        return real(data, **kwargs)

    text = dumps_workflow(sample_workflow())
    careful = loads_workflow(text)
    monkeypatch.setattr("jiter.from_json", counting)
    monkeypatch.setattr(_fastread.Workflow, "model_validate_json", _never)
    assert loads_workflow(text) == careful
    assert len(parses) == 1


@pytest.mark.parametrize("careful", [False, True], ids=["fast path", "careful path"])
def test_nodes_keeping_the_default_retry_policy_share_one_after_reading(careful: bool) -> None:
    """A file spells the default policy out on every node; a 10,000-node file must not become
    10,000 policy objects (memory, and a fifth of the reading time)."""
    nodes = [Node(id=f"n{i}", kind="transform") for i in range(50)]
    tuned = Node(id="tuned", kind="llm", retry=RetryPolicy(max_attempts=3))
    text = dumps_workflow(Workflow(id="wf", nodes=(*nodes, tuned)))
    assert text.count('"max_attempts": 1,') == 50  # the file does spell each one out
    if careful:  # the path every file the fast one turns down goes through
        read = _validate(Workflow, _parse(text, "wf.json", "file"), "wf.json")
    else:
        read = _fastread.read_fast(text, MAX_FILE_BYTES)
    assert read is not None
    assert {id(node.retry) for node in read.nodes if node.id != "tuned"} == {id(NO_RETRY)}
    assert read.node("tuned").retry == RetryPolicy(max_attempts=3)  # a tuned policy keeps its values


@pytest.mark.parametrize("spelling", ['"max_attempts": 1.0', '"max_attempts": true'])
def test_a_default_policy_spelled_another_way_reads_as_validation_reads_it(spelling: str) -> None:
    """JSON's 1.0 and true are what pydantic reads as 1, so sharing the default changes no value."""
    text = dumps_workflow(Workflow(id="wf", nodes=(Node(id="a", kind="x"),))).replace('"max_attempts": 1', spelling)
    assert loads_workflow(text).nodes[0].retry == RetryPolicy.model_validate(json.loads(text)["nodes"][0]["retry"])
