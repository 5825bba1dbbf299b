"""Property tests of the file format: any valid workflow survives a write/read round trip byte for
byte, and no damaged file makes the reader raise anything but WorkflowFileError."""

from __future__ import annotations

import json
import operator
from typing import Any, get_args

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flowdesk.model.fileformat import (
    Fragment,
    WorkflowFileError,
    dumps_fragment,
    dumps_workflow,
    loads_fragment,
    loads_workflow,
)
from flowdesk.model.types import ValueType
from flowdesk.model.workflow import (
    Edge,
    ErrorClass,
    LoopSettings,
    Node,
    PinnedOutput,
    Position,
    RetryPolicy,
    RunInput,
    Settings,
    Workflow,
)

FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

_ID_START = "abcxyzABCXYZ_"
_ID_REST = _ID_START + "0123456789"
ids = st.builds(operator.add, st.sampled_from(_ID_START), st.text(alphabet=_ID_REST, max_size=11))
"""Ids matching ID_PATTERN (a small alphabet keeps generation fast; from_regex is slow to build)."""
finite = st.floats(allow_nan=False, allow_infinity=False)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70) | finite | st.text(max_size=12),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)
configs = st.dictionaries(st.text(max_size=10), json_values, max_size=5)
optional_text = st.none() | st.text(max_size=20)
run_timeouts = st.none() | st.floats(min_value=0, max_value=30 * 86400, exclude_min=True, allow_infinity=False)

retry_policies = st.builds(
    RetryPolicy,
    max_attempts=st.integers(1, 100),
    initial_delay_s=st.floats(0, 3600),
    multiplier=st.floats(1, 10),
    max_delay_s=st.floats(0, 86400),
    jitter=st.floats(0, 1),
    retry_on=st.lists(st.sampled_from(get_args(ErrorClass)), max_size=4, unique=True).map(tuple),
)
pinned_outputs = st.none() | st.builds(
    PinnedOutput, outputs=st.dictionaries(ids, json_values, max_size=3), source_run=optional_text
)
node_bodies = st.builds(
    Node,
    id=st.just("node"),  # replaced by a unique id when drawn into a workflow
    kind=st.text(min_size=1, max_size=20),
    name=st.text(max_size=30),
    position=st.builds(Position, x=finite, y=finite),
    config=configs,
    retry=retry_policies,
    timeout_s=st.none() | st.floats(min_value=0, max_value=7 * 86400, exclude_min=True),
    on_error=st.sampled_from(["fail", "continue"]),
    breakpoint=st.booleans(),
    pinned=pinned_outputs,
)


@st.composite
def workflows(draw: st.DrawFn) -> Workflow:
    node_ids = draw(st.lists(ids, max_size=6, unique=True))
    nodes = [draw(node_bodies).model_copy(update={"id": node_id}) for node_id in node_ids]
    edges = []
    if node_ids:
        for edge_id in draw(st.lists(ids, max_size=8, unique=True)):
            edges.append(
                Edge(
                    id=edge_id,
                    source=draw(st.sampled_from(node_ids)),
                    source_port=draw(ids),
                    target=draw(st.sampled_from(node_ids)),
                    target_port=draw(ids),
                    loop=draw(
                        st.none()
                        | st.builds(LoopSettings, max_iterations=st.integers(1, 1_000_000), until=optional_text)
                    ),
                )
            )
    inputs = [
        RunInput(
            name=name,
            type=draw(st.sampled_from(list(ValueType))),
            required=draw(st.booleans()),
            default=draw(json_values),
            description=draw(st.text(max_size=30)),
        )
        for name in draw(st.lists(ids, max_size=3, unique=True))
    ]
    return Workflow(
        id=draw(ids),
        name=draw(st.text(max_size=40)),
        description=draw(st.text(max_size=60)),
        version=draw(st.integers(1, 10**6)),
        inputs=tuple(inputs),
        settings=Settings(max_concurrency=draw(st.integers(1, 10_000)), run_timeout_s=draw(run_timeouts)),
        nodes=tuple(nodes),
        edges=tuple(edges),
    )


def normalised(wf: Workflow) -> Workflow:
    return wf.model_copy(
        update={
            "nodes": tuple(sorted(wf.nodes, key=lambda n: n.id)),
            "edges": tuple(sorted(wf.edges, key=lambda e: e.id)),
        }
    )


@FUZZ
@given(workflows())
def test_round_trip_is_equal_and_byte_identical(wf: Workflow) -> None:
    text = dumps_workflow(wf)
    loaded = loads_workflow(text.encode("utf-8"))
    assert loaded == normalised(wf)
    assert dumps_workflow(loaded) == text


@FUZZ
@given(workflows(), st.randoms(use_true_random=False))
def test_order_of_nodes_edges_and_keys_never_shows_in_the_file(wf: Workflow, rng: Any) -> None:
    nodes = [n.model_copy(update={"config": dict(rng.sample(list(n.config.items()), len(n.config)))}) for n in wf.nodes]
    edges = list(wf.edges)
    rng.shuffle(nodes)
    rng.shuffle(edges)
    shuffled = wf.model_copy(update={"nodes": tuple(nodes), "edges": tuple(edges)})
    assert dumps_workflow(shuffled) == dumps_workflow(wf)


@FUZZ
@given(workflows())
def test_fragment_round_trip(wf: Workflow) -> None:
    text = dumps_fragment(wf.nodes, wf.edges)
    fragment = loads_fragment(text)
    assert fragment == Fragment(nodes=normalised(wf).nodes, edges=normalised(wf).edges)
    assert dumps_fragment(fragment.nodes, fragment.edges) == text


# ---------------------------------------------------------------- damaged input


def check_reader_outcome(data: bytes | str) -> None:
    """The reader's whole contract for arbitrary input: a workflow it can write back, or one clear error."""
    try:
        wf = loads_workflow(data, "fuzz.json")
    except WorkflowFileError as err:
        assert str(err).startswith("fuzz.json") and "\n" not in str(err)
        return
    text = dumps_workflow(wf)
    assert loads_workflow(text) == wf
    assert dumps_workflow(loads_workflow(text)) == text


mutations = st.lists(
    st.one_of(
        st.tuples(st.just("flip"), st.integers(0, 10**6), st.integers(0, 255)),
        st.tuples(st.just("truncate"), st.integers(0, 10**6)),
        st.tuples(st.just("insert"), st.integers(0, 10**6), st.binary(min_size=1, max_size=8)),
        st.tuples(st.just("delete"), st.integers(0, 10**6), st.integers(1, 16)),
    ),
    min_size=1,
    max_size=4,
)


def mutate(data: bytes, ops: list[tuple[Any, ...]]) -> bytes:
    for op in ops:
        at = op[1] % (len(data) + 1)
        if op[0] == "flip" and data:
            at %= len(data)
            data = data[:at] + bytes([data[at] ^ (op[2] or 1)]) + data[at + 1 :]
        elif op[0] == "truncate":
            data = data[:at]
        elif op[0] == "insert":
            data = data[:at] + op[2] + data[at:]
        elif op[0] == "delete":
            data = data[:at] + data[at + op[2] :]
    return data


@FUZZ
@given(workflows(), mutations)
def test_damaged_bytes_give_only_workflow_file_errors(wf: Workflow, ops: list[tuple[Any, ...]]) -> None:
    check_reader_outcome(mutate(dumps_workflow(wf).encode("utf-8"), ops))


@FUZZ
@given(st.binary(max_size=200) | st.text(max_size=200))
def test_arbitrary_input_gives_only_workflow_file_errors(data: bytes | str) -> None:
    check_reader_outcome(data)


def all_paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(value, dict):
        for key, item in value.items():
            found += all_paths(item, (*path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found += all_paths(item, (*path, i))
    return found


@FUZZ
@given(workflows(), st.data())
def test_wrong_values_anywhere_give_located_errors(wf: Workflow, data: st.DataObject) -> None:
    """Structure-aware damage: replace, delete or add a value at a random place in a valid file."""
    document = json.loads(dumps_workflow(wf))
    path = data.draw(st.sampled_from(all_paths(document)[1:] or [("id",)]))
    parent = document
    for key in path[:-1]:
        parent = parent[key]
    action = data.draw(st.sampled_from(["replace", "delete", "add"]))
    if action == "replace":
        parent[path[-1]] = data.draw(json_values)
    elif action == "delete":
        del parent[path[-1]]
    elif isinstance(parent, dict):
        parent[data.draw(st.text(max_size=10))] = data.draw(json_values)
    else:
        parent.insert(path[-1], data.draw(json_values))
    check_reader_outcome(json.dumps(document, ensure_ascii=data.draw(st.booleans())))


@FUZZ
@given(workflows(), mutations)
def test_damaged_fragments_give_only_workflow_file_errors(wf: Workflow, ops: list[tuple[Any, ...]]) -> None:
    damaged = mutate(dumps_fragment(wf.nodes, wf.edges).encode("utf-8"), ops)
    try:
        fragment = loads_fragment(damaged)
    except WorkflowFileError as err:
        assert "\n" not in str(err)
    else:
        assert isinstance(fragment, Fragment)
