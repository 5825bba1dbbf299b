"""Run data pages a map's items in their list's order, numbered as the run's messages number them
("item 2 failed" is the page "item 2 of 3"), whatever order their runs started in."""

from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot

from flowdesk.store.store import open_store
from flowdesk.ui.runs.node_record import NodeRecord


def test_a_maps_items_are_paged_in_list_order_whatever_order_they_started_in(qtbot: QtBot, tmp_path: Path) -> None:
    store = open_store(tmp_path / "lib.db")
    conn = store.db.raw()
    conn.execute("INSERT INTO run (id, status, created_at) VALUES ('r1', 'failed', 1)")
    for started, index in enumerate([2, 0, 1]):  # the third item's run began first (a resumed run, say)
        conn.execute(
            "INSERT INTO run (id, status, created_at, kind, parent_run_id, parent_node_id)"
            f" VALUES ('r1.each.0.1.item_{index}', 'succeeded', {10 + started}, 'child', 'r1', 'each')"
        )
    record = NodeRecord(store)
    qtbot.addWidget(record)
    record.show_node("r1", "each")
    paged = {page.title: page.item_run for page in record.pages}
    assert list(paged) == ["item 1 of 3", "item 2 of 3", "item 3 of 3"]
    assert paged["item 2 of 3"] == "r1.each.0.1.item_1"  # the second item of the list (its key counts from 0)
    store.close()
