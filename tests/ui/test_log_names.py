"""The log names nodes as the canvas does, by their names, for a live run and for one reopened (issue 13.6)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot
from test_run_inspect import chain, run_once

from flowdesk.model.workflow import Workflow
from flowdesk.ui.main_window import MainWindow
from flowdesk.ui.runs.log_panel import LogPanel

NAMES = {"double": "Double it", "plus": "Add one", "out": "Answer"}


def named_chain() -> Workflow:
    wf = chain()
    return wf.model_copy(
        update={"nodes": tuple(n.model_copy(update={"name": NAMES.get(n.id, n.id)}) for n in wf.nodes)}
    )


def node_column(panel: LogPanel) -> set[str]:
    return {line.split("\t")[1] for line in panel.shown_lines()} - {""}


def check_names(qtbot: QtBot, win: MainWindow) -> None:
    panel = win.runs.log_panel
    shown = node_column(panel)
    assert {"Double it", "Add one"} <= shown and not {"double", "plus"} & shown
    choices = [panel.node_box.itemText(i) for i in range(panel.node_box.count())]
    assert "Add one" in choices and "plus" not in choices
    panel.node_box.setCurrentIndex(choices.index("Add one"))
    assert node_column(panel) == {"Add one"}
    first = panel.proxy.index(0, 1)
    qtbot.mouseClick(panel.table.viewport(), Qt.MouseButton.LeftButton, pos=panel.table.visualRect(first).center())
    assert win.scene.selected_node_ids() == ["plus"]  # a click still selects the node itself
    panel.show_node(None)


def test_the_log_names_nodes_by_their_names_live_and_reopened(
    qtbot: QtBot, run_window: MainWindow, answer_dialog: Callable[..., None]
) -> None:
    win = run_window
    win.load(named_chain(), "library")
    assert run_once(qtbot, win, answer_dialog) == "succeeded"
    check_names(qtbot, win)
    win.new_workflow()
    win.open_workflow("chain")
    tree = win.runs.runs_panel.tree
    tree.setCurrentItem(tree.topLevelItem(0))
    check_names(qtbot, win)
