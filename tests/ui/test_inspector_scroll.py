"""Each node's settings open at their top (issue 13.2): scrolled down in one node's long form, picking
another does not leave the person in the middle of the next one's."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from flowdesk.paths import examples_dir
from flowdesk.ui.main_window import MainWindow


def test_the_inspector_starts_each_node_at_its_top(qtbot: QtBot, window: MainWindow) -> None:
    assert window.open_workflow(str(examples_dir() / "code_review_loop.json"))
    window.resize(1024, 700)
    window.show_inspector()
    window.scene.select(["review"])  # an LLM node: a form taller than the dock
    scroll = window.inspector.verticalScrollBar()
    qtbot.waitUntil(lambda: scroll.maximum() > 0, timeout=2000)
    scroll.setValue(scroll.maximum())
    assert scroll.value() > 0
    window.scene.select(["fix"])
    qtbot.wait(20)
    assert scroll.value() == 0
