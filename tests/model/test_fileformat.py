"""The workflow file: lossless, deterministic writing, atomic saving, and one clear located error
for every way a file can be wrong (docs/architecture.md §2)."""

from __future__ import annotations

import json
import os
import random
import stat
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from fileformat_samples import sample_workflow  # tests/model is on sys.path (no __init__ files)

from flowdesk.model import _jsoncheck
from flowdesk.model._pydantic_errors import clean_loc
from flowdesk.model.fileformat import (
    FRAGMENT_FORMAT,
    MAX_DEPTH,
    MAX_FILE_BYTES,
    OMITTED_WHILE_OFF,
    Fragment,
    WorkflowFileError,
    dumps_fragment,
    dumps_workflow,
    loads_fragment,
    loads_workflow,
    read_workflow,
    write_workflow,
)
from flowdesk.model.workflow import (
    FORMAT,
    Node,
    Position,
    RetryPolicy,
    Workflow,
)


def minimal(**fields: Any) -> dict[str, Any]:
    return {"format": FORMAT, "format_version": 1, "id": "wf", **fields}


def load_error(data: str | bytes | dict[str, Any], source: str = "wf.json") -> WorkflowFileError:
    text = json.dumps(data) if isinstance(data, dict) else data
    with pytest.raises(WorkflowFileError) as info:
        loads_workflow(text, source)
    err = info.value
    assert "\n" not in str(err) and "Traceback" not in str(err)
    return err


def normalised(wf: Workflow) -> Workflow:
    """The workflow with nodes and edges in file order (by id), for comparing with a reloaded one."""
    return wf.model_copy(
        update={
            "nodes": tuple(sorted(wf.nodes, key=lambda n: n.id)),
            "edges": tuple(sorted(wf.edges, key=lambda e: e.id)),
        }
    )


# ---------------------------------------------------------------- round trip and determinism


def test_write_read_round_trip_is_lossless(tmp_path: Path) -> None:
    wf = sample_workflow()
    path = tmp_path / "wf.json"
    write_workflow(wf, path)
    assert read_workflow(path) == normalised(wf)


def test_rewriting_a_file_we_wrote_is_byte_identical(tmp_path: Path) -> None:
    path = tmp_path / "wf.json"
    write_workflow(sample_workflow(), path)
    first = path.read_bytes()
    write_workflow(read_workflow(path), path)
    assert path.read_bytes() == first


def test_hand_written_file_loads_and_settles_after_one_write(tmp_path: Path) -> None:
    """Compact, reordered, ints where floats are meant: read, write, read again is stable."""
    text = (
        '{"nodes":[{"kind":"llm","id":"b","position":{"y":2,"x":1},"config":{"z":[1,2],"a":null}}],'
        '"id":"wf","format_version":1,"format":"flowdesk.workflow","edges":[]}'
    )
    wf = loads_workflow(text)
    written = dumps_workflow(wf)
    again = loads_workflow(written)
    assert again == wf
    assert dumps_workflow(again) == written
    assert wf.nodes[0].position == Position(x=1.0, y=2.0)


def test_shuffled_nodes_edges_and_config_keys_dump_identically() -> None:
    wf = sample_workflow()
    expected = dumps_workflow(wf)
    rng = random.Random(7)
    for _ in range(10):
        nodes = [
            n.model_copy(update={"config": dict(rng.sample(list(n.config.items()), len(n.config)))}) for n in wf.nodes
        ]
        rng.shuffle(nodes)
        edges = list(wf.edges)
        rng.shuffle(edges)
        assert dumps_workflow(wf.model_copy(update={"nodes": tuple(nodes), "edges": tuple(edges)})) == expected


def test_dump_layout() -> None:
    text = dumps_workflow(sample_workflow())
    data = json.loads(text)
    assert text.endswith("}\n") and not text.endswith("\n\n")
    assert text.startswith('{\n  "format": "flowdesk.workflow",\n  "format_version": 1,\n')
    assert list(data) == list(Workflow.model_fields)
    assert [n["id"] for n in data["nodes"]] == ["fetch", "start", "summarise"]
    assert [e["id"] for e in data["edges"]] == ["e_1", "e_2", "e_loop"]
    written = [name for name in Node.model_fields if name not in OMITTED_WHILE_OFF]  # no node here is remote
    assert all(list(n) == written for n in data["nodes"])
    assert list(data["nodes"][2]["retry"]) == list(RetryPolicy.model_fields)


def test_inputs_keep_declared_order_and_free_form_keys_are_sorted() -> None:
    data = json.loads(dumps_workflow(sample_workflow()))
    assert [i["name"] for i in data["inputs"]] == ["topic", "depth", "extra"]
    assert list(data["inputs"][2]["default"]) == ["a", "z"]
    assert list(data["inputs"][2]["default"]["a"][1]) == ["b", "y"]
    fetch = data["nodes"][0]
    assert list(fetch["config"]) == ["headers", "url"] and list(fetch["config"]["headers"]) == ["a", "b"]
    assert list(fetch["pinned"]["outputs"]["output"]) == ["body", "status"]
    assert data["nodes"][2]["retry"]["retry_on"] == ["rate_limit", "timeout"]  # a model field: as given


def test_unicode_is_written_as_is_and_survives() -> None:
    text = dumps_workflow(sample_workflow())
    assert "Recherche — 研究 ✓" in text and "\\u" not in text
    assert loads_workflow(text.encode("utf-8")).name == "Recherche — 研究 ✓"


def test_nan_is_refused_rather_than_writing_an_unreadable_file() -> None:
    with pytest.raises(ValueError):
        Node(id="a", kind="x", position=Position(x=float("nan")))
    try:
        wf = Workflow(id="wf", nodes=(Node(id="a", kind="x", config={"k": float("inf")}),))
    except ValueError:
        return  # refused by the model already
    with pytest.raises(ValueError):
        dumps_workflow(wf)


def test_saving_a_lone_surrogate_fails_before_touching_the_file(tmp_path: Path) -> None:
    path = tmp_path / "wf.json"
    write_workflow(Workflow(id="old"), path)
    bad = Workflow(id="wf", nodes=(Node(id="a", kind="x", config={"k": "\ud800"}),))
    with pytest.raises(ValueError):
        write_workflow(bad, path)
    assert read_workflow(path).id == "old" and len(list(tmp_path.iterdir())) == 1


def test_utf8_bom_is_accepted() -> None:
    text = dumps_workflow(sample_workflow())
    assert loads_workflow(b"\xef\xbb\xbf" + text.encode("utf-8")) == loads_workflow(text)
    assert loads_workflow("\ufeff" + text) == loads_workflow(text)


def test_duplicate_ids_are_left_to_validation() -> None:
    node = {"id": "a", "kind": "x"}
    wf = loads_workflow(json.dumps(minimal(nodes=[node, node])))
    assert [n.id for n in wf.nodes] == ["a", "a"]


def test_format_holds_no_secret_fields() -> None:
    """Secrets live in the keyring: no field of the format is meant for one, and an unknown field
    (such as an api_key pasted into a node by hand) is refused, not carried along into saves.
    A node's free-form config is the kind's business; validation checks it against the kind."""
    suspicious = ("key", "token", "password", "secret")

    def field_names(model: type) -> set[str]:
        schema = model.model_json_schema()
        names = set(schema.get("properties", {}))
        for definition in schema.get("$defs", {}).values():
            names |= set(definition.get("properties", {}))
        return names

    assert not {n for n in field_names(Workflow) if any(s in n.lower() for s in suspicious)}
    err = load_error(minimal(nodes=[{"id": "llm_1", "kind": "llm", "api_key": "sk-123"}]))
    assert err.path == "nodes[0].api_key" and "unknown field" in err.message


# ---------------------------------------------------------------- fragments


def test_fragment_round_trip_and_determinism() -> None:
    wf = sample_workflow()
    text = dumps_fragment(wf.nodes[:2], wf.edges[:1])
    assert json.loads(text)["format"] == FRAGMENT_FORMAT and text.endswith("\n")
    fragment = loads_fragment(text)
    assert fragment == Fragment(nodes=tuple(sorted(wf.nodes[:2], key=lambda n: n.id)), edges=wf.edges[:1])
    assert dumps_fragment(reversed(wf.nodes[:2]), iter(wf.edges[:1])) == text
    assert dumps_fragment(fragment.nodes, fragment.edges) == text


def test_fragment_errors() -> None:
    with pytest.raises(WorkflowFileError, match="it is a workflow file"):
        loads_fragment(dumps_workflow(sample_workflow()))
    with pytest.raises(WorkflowFileError, match="copied from a newer flowdesk"):
        loads_fragment(json.dumps({"format": FRAGMENT_FORMAT, "format_version": 9}))
    with pytest.raises(WorkflowFileError) as info:
        loads_fragment(
            json.dumps(
                {
                    "format": FRAGMENT_FORMAT,
                    "format_version": 1,
                    "nodes": [{"id": "n_1", "kind": "x", "retry": {"max_attempts": 0}}],
                }
            )
        )
    assert str(info.value).startswith("<clipboard>: nodes[0] (node 'n_1').retry.max_attempts: ")
    with pytest.raises(WorkflowFileError, match="text is empty"):
        loads_fragment("")
    with pytest.raises(WorkflowFileError, match="it is a copied selection"):
        loads_workflow(dumps_fragment([], []))


# ---------------------------------------------------------------- saving


def test_failed_save_leaves_the_old_file_and_no_temp_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "wf.json"
    write_workflow(Workflow(id="old"), path)
    before = path.read_bytes()

    def crash(*_args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(WorkflowFileError, match="cannot write the file: no space left on device"):
        write_workflow(sample_workflow(), path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["wf.json"]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions and symlinks")
def test_save_keeps_permissions_and_writes_through_a_symlink(tmp_path: Path) -> None:
    real = tmp_path / "real.json"
    write_workflow(Workflow(id="old"), real)
    real.chmod(0o640)
    link = tmp_path / "link.json"
    link.symlink_to(real)
    write_workflow(Workflow(id="new"), link)
    assert link.is_symlink() and read_workflow(real).id == "new"
    assert stat.S_IMODE(real.stat().st_mode) == 0o640


def test_save_into_a_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(WorkflowFileError) as info:
        write_workflow(Workflow(id="wf"), tmp_path / "nope" / "wf.json")
    assert str(info.value).endswith("wf.json: cannot write the file: its folder does not exist")


def test_save_refuses_a_workflow_too_large_to_open_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("flowdesk.model.fileformat.MAX_FILE_BYTES", 1000)
    path = tmp_path / "wf.json"
    with pytest.raises(WorkflowFileError, match=r"cannot save: the workflow is too large \(0\.0 MiB"):
        write_workflow(sample_workflow(), path)
    assert not path.exists()


# ---------------------------------------------------------------- bad input, each located


def test_invalid_json_gives_line_and_column() -> None:
    text = '{\n  "format": "flowdesk.workflow",\n  "format_version": 1\n  "id": "wf"\n}\n'
    err = load_error(text)
    assert (err.line, err.column) == (4, 3)
    assert str(err) == "wf.json:4:3: Expecting ',' delimiter"


def test_trailing_text_after_the_document() -> None:
    err = load_error(json.dumps(minimal()) + "\n}")
    assert err.line == 2 and "extra text after the JSON document" in str(err)


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"nodes": [{"kind": "llm"}]}, "wf.json: nodes[0].id: required field is missing"),
        (
            {"nodes": [{"id": "llm_1", "kind": "llm", "retry": {"max_attempts": 0}}]},
            "wf.json: nodes[0] (node 'llm_1').retry.max_attempts: Input should be greater than or equal to 1 (got 0)",
        ),
        (
            {"nodes": [{"id": "llm_1", "kind": "llm", "retyr": {}}]},
            "wf.json: nodes[0] (node 'llm_1').retyr: unknown field; did you mean 'retry'?",
        ),
        (
            {"nodes": [{"id": "a", "kind": "x", "position": 5}]},
            "wf.json: nodes[0] (node 'a').position: must be a JSON object (got 5)",
        ),
        (
            {"nodes": [{"id": "a", "kind": "x", "on_error": "stop"}]},
            "wf.json: nodes[0] (node 'a').on_error: Input should be 'fail' or 'continue' (got 'stop')",
        ),
        (
            {"edges": [{"id": "e_1", "source": "1x", "source_port": "o", "target": "b", "target_port": "i"}]},
            (
                "wf.json: edges[0] (edge 'e_1').source: '1x' is not a valid id: use letters, digits and _ (at most 64),"
                " not starting with a digit"
            ),
        ),
        (
            {
                "edges": [
                    {
                        "id": "e_1",
                        "source": "a",
                        "source_port": "o",
                        "target": "b",
                        "target_port": "i",
                        "loop": {"max_iterations": "many"},
                    }
                ]
            },
            (
                "wf.json: edges[0] (edge 'e_1').loop.max_iterations: Input should be a valid integer,"
                " unable to parse string as an integer (got 'many')"
            ),
        ),
        (
            {"settings": {"max_concurency": 2}},
            "wf.json: settings.max_concurency: unknown field; did you mean 'max_concurrency'?",
        ),
        ({"nodes": {"a": {}}}, "wf.json: nodes: must be a list (got an object)"),
        ({"name": 5}, "wf.json: name: Input should be a valid string (got 5)"),
        (
            {"colour": "red"},
            (
                "wf.json: colour: unknown field (fields here: format, format_version, id, name,"
                " description, version, inputs, settings, nodes, edges)"
            ),
        ),
    ],
)
def test_model_errors_name_the_field_and_the_node(fields: dict[str, Any], expected: str) -> None:
    assert str(load_error(minimal(**fields))) == expected


def test_error_attributes() -> None:
    err = load_error(minimal(nodes=[{"id": "ok", "kind": "x"}, {"id": "llm_1", "kind": "x", "timeout_s": -1}]))
    assert (err.source, err.path, err.node_id, err.edge_id) == ("wf.json", "nodes[1].timeout_s", "llm_1", None)
    assert (err.line, err.column) == (None, None)
    assert err.message.startswith("Input should be greater than 0")


def test_several_problems_name_the_first_and_count_the_rest() -> None:
    err = load_error(minimal(nodes=[{"id": "a"}, {"kind": "x"}], version=0))
    assert str(err) == "wf.json: version: Input should be greater than or equal to 1 (got 0) (and 2 more problems)"
    single = load_error(minimal(version=0, name=1))
    assert single.message.endswith("(and 1 more problem)")


def test_missing_node_id_has_no_id_to_name() -> None:
    err = load_error(minimal(nodes=[{"kind": "llm", "id": 7}]))
    assert err.node_id is None and str(err) == "wf.json: nodes[0].id: Input should be a valid string (got 7)"


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ({"format_version": 1, "id": "wf"}, 'wf.json: not a flowdesk workflow file (it has no "format" field)'),
        (
            {"format": "acme.flow", "format_version": 1},
            "wf.json: not a flowdesk workflow file (format is 'acme.flow', expected 'flowdesk.workflow')",
        ),
        ({"format": FORMAT, "id": "wf"}, "wf.json: format_version: required field is missing"),
        (
            {"format": FORMAT, "format_version": "1"},
            "wf.json: format_version: must be a whole number, got '1' (a string)",
        ),
        (
            {"format": FORMAT, "format_version": 1.0},
            "wf.json: format_version: must be a whole number, got 1.0 (a number)",
        ),
        (
            {"format": FORMAT, "format_version": True},
            "wf.json: format_version: must be a whole number, got True (true/false)",
        ),
        (
            {"format": FORMAT, "format_version": 2, "id": "wf"},
            (
                "wf.json: written by a newer flowdesk (format_version 2; this flowdesk reads up to 1)"
                " — upgrade flowdesk to open it"
            ),
        ),
        (
            {"format": FORMAT, "format_version": 0, "id": "wf"},
            "wf.json: format_version 0 is too old for this flowdesk: there is no upgrade from format_version 0 to 1",
        ),
    ],
)
def test_format_header_problems(document: dict[str, Any], expected: str) -> None:
    assert str(load_error(document)) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[1, 2]", "wf.json: not a flowdesk workflow file: the top level is a list, expected a JSON object"),
        ('"hello"', "wf.json: not a flowdesk workflow file: the top level is a string, expected a JSON object"),
        ("null", "wf.json: not a flowdesk workflow file: the top level is null, expected a JSON object"),
    ],
)
def test_top_level_must_be_an_object(text: str, expected: str) -> None:
    assert str(load_error(text)) == expected


@pytest.mark.parametrize(
    ("data", "expected"),
    [(b"", "file is empty"), ("", "file is empty"), (b" \n\t\r\n", "file is empty (only whitespace)")],
)
def test_empty_files(data: str | bytes, expected: str) -> None:
    assert str(load_error(data)) == f"wf.json: {expected}"


@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_numbers_are_refused(token: str) -> None:
    text = json.dumps(minimal(nodes=[{"id": "llm_1", "kind": "x", "config": {"t": "PLACEHOLDER"}}]))
    err = load_error(text.replace('"PLACEHOLDER"', token))
    assert str(err) == f"wf.json: nodes[0] (node 'llm_1').config.t: {token} is not allowed: JSON numbers must be finite"


def test_number_overflowing_to_infinity_is_refused() -> None:
    err = load_error(json.dumps(minimal(settings={"run_timeout_s": 1})).replace(": 1}", ": 1e999}"))
    assert str(err) == "wf.json: settings.run_timeout_s: number is too large (beyond a 64-bit float)"


def test_integer_with_too_many_digits_is_refused_with_its_position() -> None:
    err = load_error('{"format": "flowdesk.workflow",\n "x": ' + "7" * 5000 + "}")
    assert (err.line, err.column) == (2, 7) and "too many digits" in err.message


def test_duplicate_json_keys_are_refused() -> None:
    err = load_error(
        '{"format": "flowdesk.workflow", "format_version": 1, "id": "wf",'
        ' "nodes": [{"id": "a", "kind": "x", "kind": "y"}]}'
    )
    assert str(err) == "wf.json: nodes[0] (node 'a'): the key \"kind\" appears twice in this object"
    top = load_error('{"format": "flowdesk.workflow", "format_version": 1, "id": "a", "id": "b"}')
    assert str(top) == 'wf.json: the key "id" appears twice at the top level'


def test_lone_surrogate_escape_is_refused() -> None:
    err = load_error(
        json.dumps(minimal(nodes=[{"id": "a", "kind": "x", "config": {"q": "PLACEHOLDER"}}])).replace(
            "PLACEHOLDER", "\\ud83d"
        )
    )
    assert str(err) == (
        "wf.json: nodes[0] (node 'a').config.q: text holds \\ud83d, half of a surrogate pair,"
        " which is not valid Unicode"
    )
    assert loads_workflow(json.dumps(minimal(name="\U0001f600"))).name == "\U0001f600"  # a whole pair is fine


def nested(depth: int) -> str:
    """A workflow whose deepest list sits at ``depth`` levels (the top object is level 1)."""
    inner = depth - 4  # top object, nodes list, node object, config object
    return json.dumps(minimal(nodes=[{"id": "a", "kind": "x", "config": {"v": "HOLE"}}])).replace(
        '"HOLE"', "[" * inner + "]" * inner
    )


def test_nesting_up_to_the_limit_is_accepted_one_more_is_refused() -> None:
    assert loads_workflow(nested(MAX_DEPTH)).nodes[0].config["v"]
    err = load_error(nested(MAX_DEPTH + 1))
    assert err.message == f"nested too deeply (more than {MAX_DEPTH} levels of lists and objects)"
    assert err.line == 1 and nested(MAX_DEPTH + 1)[err.column - 1] == "["


def test_json_nested_10000_deep_is_a_clear_error_not_a_recursion_error() -> None:
    text = "[" * 10_000 + "]" * 10_000
    err = load_error('{"format": "flowdesk.workflow",\n"x": ' + text + "}")
    assert err.message.startswith("nested too deeply")
    assert (err.line, err.column) == (2, 6 + MAX_DEPTH - 1)


def test_binary_garbage_is_not_a_text_file() -> None:
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256))
    assert str(load_error(png, "logo.png")) == "logo.png:1:1: not a text file: byte 0x89 at offset 0 is not valid UTF-8"
    garbage = random.Random(1234).randbytes(4096)
    err = load_error(garbage)
    assert "is not valid UTF-8" in err.message and "offset" in err.message


def test_bad_byte_in_a_text_file_is_located() -> None:
    data = b'{\n  "name": "caf\xe9"\n}'
    err = load_error(data)
    assert (err.line, err.column) == (2, 15) and "byte 0xe9 at offset 16" in err.message


def test_utf16_file_is_named_as_such() -> None:
    err = load_error(json.dumps(minimal()).encode("utf-16"))
    assert err.message == "file is UTF-16 text; save it as UTF-8"


def test_oversized_text_is_refused_before_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    def never(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("an oversized file must not be parsed")

    monkeypatch.setattr(_jsoncheck.json, "loads", never)
    err = load_error(b" " * (MAX_FILE_BYTES + 1))
    assert err.message == "file is too large (32.0 MiB; the limit is 32 MiB)"
    assert load_error("é" * (MAX_FILE_BYTES // 2 + 1)).message.startswith("file is too large (32.0 MiB")


def test_50_mb_file_is_refused_quickly_without_reading_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "huge.json"
    with path.open("wb") as fh:
        fh.write(b'{"format": "flowdesk.workflow", "x": "')
        fh.seek(50 * 1024 * 1024 - 3)
        fh.write(b'"}\n')

    def never(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("an oversized file must not be read")

    monkeypatch.setattr(Path, "open", never)
    started = time.perf_counter()
    with pytest.raises(WorkflowFileError) as info:
        read_workflow(path)
    assert time.perf_counter() - started < 1.0
    assert str(info.value) == f"{path}: file is too large (50.0 MiB; the limit is 32 MiB)"


def test_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(WorkflowFileError) as info:
        read_workflow(tmp_path / "nope.json")
    assert str(info.value) == f"{tmp_path / 'nope.json'}: no such file"
    with pytest.raises(WorkflowFileError) as info:
        read_workflow(tmp_path)
    assert str(info.value) == f"{tmp_path}: is a folder, not a workflow file"
    with pytest.raises(WorkflowFileError, match="no such file"):
        read_workflow(str(tmp_path / "nope" / "wf.json"))


def test_unreadable_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A permission error (simulated: CI runs as root, who reads anything) gets a plain sentence."""
    path = tmp_path / "wf.json"
    path.write_text("{}")

    def refuse(self: Path, *args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "open", refuse)
    with pytest.raises(WorkflowFileError, match="permission denied"):
        read_workflow(path)


def test_read_reports_content_problems_with_the_path_as_source(tmp_path: Path) -> None:
    path = tmp_path / "wf.json"
    path.write_text('{"format": "flowdesk.workflow", "format_version": 1, "id": "wf", "nodes": [{"kind": "x"}]}')
    with pytest.raises(WorkflowFileError) as info:
        read_workflow(path)
    assert str(info.value) == f"{path}: nodes[0].id: required field is missing"


# ---------------------------------------------------------------- the error itself


def test_error_str_forms() -> None:
    assert (
        str(WorkflowFileError("Expecting ',' delimiter", "wf.json", line=3, column=14))
        == "wf.json:3:14: Expecting ',' delimiter"
    )
    assert (
        str(WorkflowFileError("bad", "wf.json", path="nodes[2].retry", node_id="llm_1"))
        == "wf.json: nodes[2] (node 'llm_1').retry: bad"
    )
    edge_error = WorkflowFileError("bad", "wf.json", path="edges[0]", edge_id="e_1")
    assert str(edge_error) == "wf.json: edges[0] (edge 'e_1'): bad"
    assert str(WorkflowFileError("bad", path="settings")) == "<string>: settings: bad"
    assert str(WorkflowFileError("two\nlines", "f")) == "f: two lines"


def test_clean_loc_drops_pydantic_union_tags() -> None:
    document = {"nodes": [{"config": {"k": [0, {"list": {"a": 1}}]}}]}
    loc = ("nodes", 0, "config", "k", "list", 1, "dict", "list", "dict", "a", "int")
    assert clean_loc(document, loc) == ("nodes", 0, "config", "k", 1, "list", "a")
    assert clean_loc(document, ("nodes", 0, "kind")) == ("nodes", 0, "kind")
    assert clean_loc({"x": {}}, ("x", "function-after[check(), int]", "y")) == ("x", "y")
