"""The recorder's memo of small values and port maps gives the very texts and hashes it would compute."""

from __future__ import annotations

from typing import Any

import pytest

from flowdesk.store.values import BlobBatch, ValueMemo, text_hash, to_json

VALUES: list[Any] = [None, True, False, 1, 0, -7, 10**30, "", "x", "é → ✓", "a \ud800 b", "long " * 100]


def _plain(value: Any) -> tuple[str, str]:
    text = to_json(value)
    return text_hash(text), text


@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_a_remembered_value_has_the_hash_and_text_of_a_fresh_one(value: Any) -> None:
    memo = ValueMemo()
    first = BlobBatch(memo=memo)
    assert first.value(value) == _plain(value)[0]
    second = BlobBatch(memo=memo)  # the next commit: the memo answers
    assert second.value(value) == _plain(value)[0]
    second.flush(_Recording())  # type: ignore[arg-type]
    assert _Recording.last == [{"hash": _plain(value)[0], "size": len(_plain(value)[1]), "data": _plain(value)[1]}]


def test_true_and_one_and_equal_floats_stay_apart() -> None:
    batch = BlobBatch(memo=ValueMemo())
    hashes = [batch.value(v) for v in (True, 1, 1.0, 0.0, -0.0, False, 0)]
    assert hashes == [_plain(v)[0] for v in (True, 1, 1.0, 0.0, -0.0, False, 0)]
    assert len(set(hashes)) == 7


def test_a_value_already_in_the_library_is_not_written_again_from_the_memo() -> None:
    memo = ValueMemo()
    BlobBatch(memo=memo).value("x")
    known = {_plain("x")[0]}
    batch = BlobBatch(known, memo)
    batch.value("x")
    assert not batch


def test_port_maps_read_as_their_json_and_a_full_memo_starts_over() -> None:
    memo = ValueMemo()
    batch = BlobBatch(memo=memo)
    for i in range(5000):  # past the memo's limit: it is emptied and filled again, answers unchanged
        values = {"out": i, "é": None}
        assert batch.value_map(values) == to_json({"out": _plain(i)[0], "é": _plain(None)[0]})
    assert len(memo.values) <= 4096 and len(memo.maps) <= 4096


class _Recording:
    last: list[dict[str, Any]] = []

    def executemany(self, sql: str, rows: list[dict[str, Any]]) -> None:
        _Recording.last = rows
