"""The Insights window on a library with known runs: opened from View, its figures and charts, the
period picker, a click on a day listing that day's runs, a double-click opening one in the main window."""

from __future__ import annotations

import time
from collections import defaultdict

import pyqtgraph as pg
import pytest
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot
from support.insights_library import RunSpec, StepSpec, add_document, document, generate, insert_runs
from support.wfbuild import node, workflow

from flowdesk.store.store import Store
from flowdesk.ui.insights.charts import DAY_S, DayChart
from flowdesk.ui.insights.window import InsightsWindow
from flowdesk.ui.main_window import MainWindow

NOW = time.time()
TODAY = int(NOW // DAY_S)


def _library(store: Store) -> str:
    wf = workflow([node("ask", "transform"), node("say", "transform")], ["ask.output -> say.input"])
    wf = wf.model_copy(update={"name": "Morning brief"})
    store.workflows.save(wf)
    doc = add_document(store.db, document(wf.id, {"ask": "openai:gpt-4o-mini"}, ["ask", "say"]))
    runs = []
    for i, (days_ago, status) in enumerate(
        [(0, "succeeded"), (0, "succeeded"), (0, "failed"), (2, "succeeded"), (2, "cancelled"), (12, "succeeded")]
    ):
        start = (TODAY - days_ago) * DAY_S + 60 * (i + 1)
        steps = [
            StepSpec("ask", start, start + 1.0, tokens=(100, 20), cost=0.02),
            StepSpec("say", start + 1, start + 1.5),
        ]
        error = ("timeout", "ask", "no reply") if status == "failed" else None
        runs.append(RunSpec(f"run{i}", wf.id, start, 1.5, status, steps, error))
    insert_runs(store.db, runs, {wf.id: doc})
    return wf.id


def _bars(chart: DayChart) -> dict[int, dict[str, float]]:
    """Per day, the height of each layer's bar (read from the chart's items)."""
    found: dict[int, dict[str, float]] = defaultdict(dict)
    for item in chart.getPlotItem().items:
        if isinstance(item, pg.BarGraphItem):
            for x, h in zip(item.opts["x"], item.opts["height"], strict=True):
                if h:
                    found[int(x // DAY_S)][chart.layers[id(item)]] = h
    return dict(found)


def _hover(chart: DayChart, at: QPointF) -> None:
    """The pointer moved over the chart (QTest's moves did not reach pyqtgraph's scene offscreen)."""
    viewport = chart.viewport()
    move = QMouseEvent(QEvent.Type.MouseMove, at, viewport.mapToGlobal(at), Qt.MouseButton.NoButton,
                       Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)  # fmt: skip
    QApplication.sendEvent(viewport, move)


def _open(qtbot: QtBot, window: MainWindow) -> InsightsWindow:
    qtbot.keyClick(window, Qt.Key.Key_Y, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    view = window.insights.view
    assert view is not None
    qtbot.waitExposed(view)
    return view


def test_view_insights_shows_the_months_figures_and_charts(qtbot: QtBot, window: MainWindow, store: Store) -> None:
    _library(store)
    view = _open(qtbot, window)
    assert view.workflow is None and view.period == "30d"
    text = view.summary.text()
    assert "<b>6</b> runs (4 succeeded, 1 failed, 1 cancelled)" in text and "66.7%" in text
    assert _bars(view.charts["runs"]) == {
        TODAY - 12: {"succeeded": 1},
        TODAY - 2: {"succeeded": 1, "cancelled": 1},
        TODAY: {"succeeded": 2, "failed": 1},
    }
    assert _bars(view.charts["cost"])[TODAY] == {"openai:gpt-4o-mini": pytest.approx(0.06)}
    failures = view.lists["Failures"].topLevelItem(0)
    assert [failures.text(i) for i in range(4)] == ["run failed", "timeout", "ask", "1"]
    nodes = view.lists["Where the time goes"]
    assert {nodes.topLevelItem(i).text(0) for i in range(nodes.topLevelItemCount())} == {
        "Morning brief / ask",
        "Morning brief / say",
    }


def test_the_period_picker_narrows_the_figures(qtbot: QtBot, window: MainWindow, store: Store) -> None:
    _library(store)
    view = _open(qtbot, window)
    view.period_box.setFocus()
    qtbot.keyClick(view.period_box, Qt.Key.Key_Up)  # 30 days -> 7 days
    assert view.period == "7d"
    assert "<b>5</b> runs" in view.summary.text()
    assert set(_bars(view.charts["runs"])) == {TODAY - 2, TODAY}
    qtbot.keyClick(view.period_box, Qt.Key.Key_Up)  # -> 24 hours: yesterday and today
    assert "<b>3</b> runs" in view.summary.text()


def test_a_click_on_a_day_lists_its_runs_and_a_double_click_opens_one(
    qtbot: QtBot, window: MainWindow, store: Store
) -> None:
    wf_id = _library(store)
    view = _open(qtbot, window)
    chart = view.charts["runs"]
    _hover(chart, chart.point_of(TODAY))
    qtbot.waitUntil(lambda: "3 runs (2 succeeded, 1 failed)" in chart.toolTip())
    qtbot.mouseClick(chart.viewport(), Qt.MouseButton.LeftButton, pos=chart.point_of(TODAY - 2).toPoint())
    runs = view.lists["Runs of the day"]
    assert view.tabs.currentWidget() is runs
    listed = [runs.topLevelItem(i).text(0) for i in range(runs.topLevelItemCount())]
    assert listed == ["run4", "run3"]
    item = runs.topLevelItem(1)
    qtbot.waitUntil(lambda: runs.visualItemRect(item).height() > 0)
    rect = runs.visualItemRect(item)
    qtbot.mouseClick(runs.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    opened: list[str] = []
    view.run_opened.connect(opened.append)
    qtbot.mouseDClick(runs.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert opened == ["run3"]
    assert window.document is not None and window.document.workflow.id == wf_id
    assert window.runs.shown == "run3"
    assert window.runs.runs_panel.current_run() == "run3"


def test_earlier_runs_are_counted_in_steps_while_the_window_stays_usable(qtbot: QtBot, store: Store) -> None:
    generate(store.db, runs=1_200, attempts=2_400, days=3, workflows=2, now=NOW)
    view = InsightsWindow(store)
    qtbot.addWidget(view)
    view.show()
    assert "Counting earlier runs" in view.summary.text()  # one step of BACKFILL_STEP runs so far
    qtbot.waitUntil(lambda: "<b>1,200</b> runs" in view.summary.text(), timeout=20_000)
    assert [view.workflow_box.itemText(i) for i in range(view.workflow_box.count())] == [
        "All workflows",
        "Workflow 0",
        "Workflow 1",
    ]


def test_opening_the_view_again_shows_the_runs_that_ended_since(qtbot: QtBot, window: MainWindow, store: Store) -> None:
    wf_id = _library(store)
    view = _open(qtbot, window)
    assert "<b>6</b> runs" in view.summary.text()
    view.close()
    start = NOW - 60
    more = RunSpec("later", wf_id, start, 2.0, steps=[StepSpec("ask", start, start + 2.0)])
    insert_runs(store.db, [more], {wf_id: add_document(store.db, document(wf_id, {}, ["ask"]))})
    assert _open(qtbot, window) is view
    assert "<b>7</b> runs" in view.summary.text()
