"""Nothing is cut off in the window at 1024×700, opened so or resized back to it (issue 13.6): each text
widget gets at least the room its size hint asks for, each dock shows in one tab bar, the timeline's
labels stay inside it and the runs panel's status reads whole."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QLabel,
    QProgressBar,
    QTabBar,
    QWidget,
)
from pytestqt.qtbot import QtBot
from shiboken6 import getCppPointer
from support.wfbuild import node, workflow
from test_run_inspect import run_once
from test_run_window import named, press_run, slow_chain, states, wait_finished

from flowdesk.model.fileformat import read_workflow
from flowdesk.model.workflow import Node, Position, Workflow
from flowdesk.nodes.registry import builtin_registry
from flowdesk.paths import examples_dir
from flowdesk.store.store import Store
from flowdesk.ui.main_window import MainWindow

SMALL = (1024, 700)


def settle(qtbot: QtBot, win: MainWindow, size: tuple[int, int]) -> None:
    win.resize(*size)
    qtbot.waitUntil(lambda: (win.width(), win.height()) == size, timeout=2000)
    qtbot.wait(30)  # the layout pass and the tab-bar sweep after it


def cut_off(win: MainWindow) -> list[str]:
    """Visible widgets of the window smaller than their content needs, described."""
    found = []
    for widget in win.findChildren(QWidget):
        if not widget.isVisible() or widget.window() is not win or widget.visibleRegion().isEmpty():
            continue
        if isinstance(widget, QLabel) and (widget.wordWrap() or not widget.text()):
            continue
        if isinstance(widget, (QLabel, QAbstractButton, QProgressBar)):
            need = widget.sizeHint()
        elif isinstance(widget, (QAbstractSpinBox, QComboBox)):
            need = widget.minimumSizeHint()
        else:
            continue
        if widget.width() < need.width() or widget.height() < need.height():
            text = getattr(widget, "text", lambda: "")()
            found.append(
                f"{type(widget).__name__} {text!r}: {widget.width()}×{widget.height()}, needs {need.width()}×{need.height()}"
            )
    return found


def tab_bars_per_dock(win: MainWindow) -> dict[str, int]:
    """How many visible tab bars of the window list each dock (a leftover bar lists it a second time)."""
    pointers = {getCppPointer(dock)[0]: name for name, dock in win._docks.items()}
    counts = dict.fromkeys(win._docks, 0)
    for bar in win.findChildren(QTabBar):
        if bar.parent() is win and bar.isVisible():
            for index in range(bar.count()):
                name = pointers.get(bar.tabData(index))
                if name is not None:
                    counts[name] += 1
    return counts


def check_inspector(qtbot: QtBot, win: MainWindow, where: str) -> None:
    """Each kind of node in the inspector, on Settings and on Run data: nothing cut off."""
    for each in win.document.nodes:
        win.scene.select([each.id])
        for tab in (None, win.runs.record):
            win.show_inspector(tab)
            try:  # the form is laid out in the next passes of the event loop
                qtbot.waitUntil(lambda: not cut_off(win), timeout=1000)
            except qtbot.TimeoutError:
                pass
            problems = cut_off(win)
            assert problems == [], f"{where}, node {each.id} ({each.kind}): {problems}"


def test_each_dock_shows_in_one_tab_bar_at_start_after_resizing_and_restored(
    qtbot: QtBot, window: MainWindow, store: Store, tmp_path
) -> None:
    QApplication.processEvents()  # the first frame: painted before Qt's deferred deletion of its leftover bar
    assert max(tab_bars_per_dock(window).values()) == 1
    settle(qtbot, window, SMALL)
    assert max(tab_bars_per_dock(window).values()) == 1
    settle(qtbot, window, (1600, 1000))
    settle(qtbot, window, SMALL)
    assert max(tab_bars_per_dock(window).values()) == 1
    window.close()  # saves the layout
    again = MainWindow(store, builtin_registry(), window.settings)
    again.resize(*SMALL)
    again.show()
    qtbot.waitExposed(again)
    settle(qtbot, again, SMALL)
    assert max(tab_bars_per_dock(again).values()) == 1
    again.stack.setClean()
    again.close()
    again.deleteLater()


def test_nothing_is_cut_off_at_1024_nor_after_resizing_back(
    qtbot: QtBot, run_window: MainWindow, answer_dialog: Callable[..., None]
) -> None:
    win = run_window
    win.load(read_workflow(examples_dir() / "code_review_loop.json"), "library")
    assert run_once(qtbot, win, answer_dialog) == "succeeded"
    settle(qtbot, win, SMALL)
    check_inspector(qtbot, win, "opened at 1024×700")
    settle(qtbot, win, (1600, 1000))
    settle(qtbot, win, SMALL)
    check_inspector(qtbot, win, "resized back to 1024×700")
    tree = win.runs.runs_panel.tree
    item = tree.topLevelItem(0)
    needed = tree.fontMetrics().horizontalAdvance(item.text(0)) + tree.indentation() + 8
    assert tree.columnWidth(0) >= needed, "the run's status is cut in the Runs panel"


def test_every_kind_of_node_fits_the_inspector_at_1024(qtbot: QtBot, window: MainWindow) -> None:
    registry = builtin_registry()
    nodes = [
        Node(id=f"n_{spec.name}", kind=spec.name, config=spec.default_config(), position=Position(x=i * 240, y=0))
        for i, spec in enumerate(registry)
    ]
    window.load(Workflow(id="every_kind", name="every kind", nodes=tuple(nodes)), "library")
    settle(qtbot, window, SMALL)
    check_inspector(qtbot, window, "every kind")


def test_the_status_bar_and_the_timeline_read_whole_at_1024(qtbot: QtBot, run_window: MainWindow) -> None:
    win = run_window
    win.load(slow_chain(), "library")
    press_run(qtbot, win)
    qtbot.waitUntil(lambda: states(win).get("wait") == "running", timeout=10_000)
    settle(qtbot, win, SMALL)
    assert win.runs.progress.isVisible()
    assert cut_off(win) == []  # the progress text and the run's state beside it
    win.runs.stop_action.trigger()
    assert wait_finished(qtbot, win) == "cancelled"
    win._docks["timeline"].raise_()
    settle(qtbot, win, (1600, 1000))
    settle(qtbot, win, SMALL)
    chart = win.runs.timeline.chart
    start, end = chart._range()
    labels = chart.axis_labels(start, end)
    assert labels and all(chart.rect().contains(rect.toAlignedRect()) for _x, rect, _label in labels)
    assert cut_off(win) == []


def test_a_long_status_message_ends_with_an_ellipsis_before_the_buttons_and_reads_whole_in_the_tooltip(
    qtbot: QtBot, run_window: MainWindow
) -> None:
    win = run_window
    failing = named(
        workflow(
            [node("start", "start"), node("bad", "transform", expression="inputs.input.missing.deeper.still"),
             node("out", "output", name="value")],
            ["start.inputs -> bad.input", "bad.output -> out.value"],
        ),
        "failing_with_a_long_reason",
    )  # fmt: skip
    win.load(failing, "library")
    settle(qtbot, win, SMALL)
    press_run(qtbot, win)
    assert wait_finished(qtbot, win) == "failed"
    bar = win.statusBar()
    fitter = win.runs.status_line.fitter
    qtbot.waitUntil(lambda: bar.currentMessage().endswith("…"), timeout=2000)
    assert bar.fontMetrics().horizontalAdvance(bar.currentMessage()) <= fitter.room()
    assert "inputs.input.missing.deeper.still" in bar.toolTip() and bar.toolTip().startswith("Run ")
    settle(qtbot, win, (1600, 1000))  # room for all of it again
    qtbot.waitUntil(lambda: bar.currentMessage() == bar.toolTip(), timeout=2000)
