"""The Insights window: how one workflow, or all, did over a period.

It reads the roll-ups only (``flowdesk.store.insights``), so it opens in a fraction of a second on a
big library. Runs that ended without being counted (the first time: every earlier run) are counted
in steps on a timer, so a long backfill never freezes the window; the figures refresh when it is done.
A click on a chart lists that day's runs; double-clicking one asks the main window to open it.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QEvent, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QSplitter,
    QTabWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from flowdesk.store.database import LibraryError
from flowdesk.store.insights import PERIODS, InsightsReader, Stats
from flowdesk.store.insights_rollup import catch_up
from flowdesk.store.store import Store
from flowdesk.ui.insights import tables
from flowdesk.ui.insights.charts import DAY_S, DayChart, model_colour, status_colour
from flowdesk.ui.theming import tone

PERIOD_LABELS = {"24h": "Last 24 hours", "7d": "Last 7 days", "30d": "Last 30 days", "all": "All time"}
BACKFILL_STEP = 500
"""Runs counted per timer tick while earlier runs are backfilled (about a tenth of a second)."""
STATUSES = ("succeeded", "failed", "cancelled", "interrupted")


class InsightsWindow(QWidget):
    run_opened = Signal(str)
    """A run was double-clicked in a day's list: the main window shows it."""

    def __init__(
        self, store: Store, workflow: str | None = None, period: str = "30d", parent: QWidget | None = None
    ) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setWindowTitle("Insights")
        self.store = store
        self.reader = InsightsReader(store.db)
        self.stats: Stats | None = None
        self.picked_day: int | None = None
        self.workflow_box = QComboBox()
        self.period_box = QComboBox()
        for key, label in PERIOD_LABELS.items():
            self.period_box.addItem(label, key)
        self.period_box.setCurrentIndex(list(PERIOD_LABELS).index(period))
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.charts = {
            "runs": DayChart("Runs per day"),
            "success": DayChart("Success rate (%)", percent=True),
            "duration": DayChart("Duration (s)"),
            "cost": DayChart("Cost per day ($)"),
            "tokens": DayChart("Tokens per day"),
        }
        self.lists = {
            "Suggestions": tables.table(tables.SUGGESTION_HEADERS, stretch=1),
            "Where the time goes": tables.table(tables.NODE_HEADERS),
            "Failures": tables.table(tables.FAILURE_HEADERS, stretch=5),
            "Models": tables.table(tables.MODEL_HEADERS),
            "Runs of the day": tables.table(tables.RUN_HEADERS, stretch=1),
        }
        self.tabs = QTabWidget()
        for name, tree in self.lists.items():
            self.tabs.addTab(tree, name)
        self._layout()
        self._backfill = QTimer(self)
        self._backfill.setInterval(0)
        self._backfill.timeout.connect(self._count_more)
        self._fill_workflows(workflow)
        for chart in self.charts.values():
            chart.day_clicked.connect(self.pick_day)
            chart.describe_day = self.describe_day
        self.workflow_box.currentIndexChanged.connect(lambda _: self.reload())
        self.period_box.currentIndexChanged.connect(lambda _: self.reload())
        self.lists["Runs of the day"].itemDoubleClicked.connect(self._open_run)
        self.resize(1280, 860)
        self.split.setSizes([600, 260])
        self._count_more(first=True)

    def _layout(self) -> None:
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Workflow"))
        bar.addWidget(self.workflow_box, 1)
        bar.addWidget(QLabel("Period"))
        bar.addWidget(self.period_box)
        grid_holder = QWidget()
        grid = QGridLayout(grid_holder)
        grid.setContentsMargins(0, 0, 0, 0)
        for i, name in enumerate(("runs", "success", "duration", "cost", "tokens")):
            grid.addWidget(self.charts[name], i // 2, i % 2, 1, 2 if name == "tokens" else 1)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(grid_holder)
        split.addWidget(self.tabs)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        split.setChildrenCollapsible(False)
        self.tabs.setMinimumHeight(170)
        grid_holder.setMinimumHeight(320)
        self.split = split
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.summary)
        layout.addWidget(split, 1)

    def _fill_workflows(self, selected: str | None) -> None:
        self.workflow_box.blockSignals(True)
        self.workflow_box.clear()
        self.workflow_box.addItem("All workflows", None)
        for key, name in self.reader.workflows():
            self.workflow_box.addItem(name, key)
        at = self.workflow_box.findData(selected) if selected else 0
        if selected and at < 0:  # a workflow with no counted run yet
            self.workflow_box.addItem(selected, selected)
            at = self.workflow_box.count() - 1
        self.workflow_box.setCurrentIndex(max(at, 0))
        self.workflow_box.blockSignals(False)

    # ------------------------------------------------------------ reading
    @property
    def workflow(self) -> str | None:
        return self.workflow_box.currentData()

    @property
    def period(self) -> str:
        return str(self.period_box.currentData())

    def _count_more(self, first: bool = False) -> None:
        """Count a step of runs not counted yet; the figures are read once none is left."""
        try:
            counted = 0 if self.store.db.read_only else catch_up(self.store.db, batch=BACKFILL_STEP, max_batches=1)
        except LibraryError as exc:  # a library that cannot be written now is read as it is
            self.summary.setText(f"Could not count the latest runs ({exc}); showing what was counted before.")
            counted = 0
        if counted >= BACKFILL_STEP:
            self.summary.setText(f"Counting earlier runs for the first time… ({counted:,} more counted)")
            if not self._backfill.isActive():
                self._backfill.start()
            if first:
                self.reload()
            return
        self._backfill.stop()
        if not first:
            self._fill_workflows(self.workflow)
        self.reload()

    def refresh(self) -> None:
        """Count the runs that ended since, then show the figures again (the window shown once more)."""
        self._count_more()

    def reload(self) -> None:
        stats = self.reader.stats(self.workflow, PERIODS[self.period], refresh=False)
        self.stats = stats
        self._show_summary(stats)
        self._draw(stats)
        tables.fill_suggestions(self.lists["Suggestions"], stats)
        tables.fill_nodes(self.lists["Where the time goes"], stats)
        tables.fill_failures(self.lists["Failures"], stats)
        tables.fill_models(self.lists["Models"], stats)
        if self.picked_day is None or self.picked_day not in {d.day for d in stats.days}:
            self.picked_day = None
            tables.fill_runs(self.lists["Runs of the day"], [])
        if stats.suggestions:
            self.tabs.setTabText(0, f"Suggestions ({len(stats.suggestions)})")

    def _show_summary(self, stats: Stats) -> None:
        if self._backfill.isActive():
            return
        if not stats.runs:
            self.summary.setText(f"No finished runs of {stats.name} in this period.")
            return
        rate = f"{stats.success_rate:.1%}" if stats.success_rate is not None else "—"
        by = ", ".join(f"{stats.by_status[s]:,} {s}" for s in STATUSES if stats.by_status.get(s))
        self.summary.setText(
            f"<b>{stats.runs:,}</b> runs ({by}) · success <b>{rate}</b> · duration p50 "
            f"<b>{tables.seconds(stats.p50_s)}</b>, p95 <b>{tables.seconds(stats.p95_s)}</b> · "
            f"{stats.input_tokens + stats.output_tokens:,} tokens · cost <b>{tables.money(stats.cost_usd)}</b>"
        )

    def _draw(self, stats: Stats) -> None:
        days = [d.day for d in stats.days]
        today = int(time.time() // DAY_S)
        first = stats.since_day if stats.since_day is not None else (days[0] if days else today)
        for chart in self.charts.values():  # every chart spans the period, with data or not
            chart.span = (min([first, *days[:1]]), max([today, *days[-1:]]))
        self.charts["runs"].stacked_bars(
            days, [(s, status_colour(s), [d.runs.get(s, 0) for d in stats.days]) for s in STATUSES]
        )
        rates = [100.0 * d.runs.get("succeeded", 0) / d.total if d.total else None for d in stats.days]
        self.charts["success"].lines(days, [("success", tone("success"), rates)])
        self.charts["duration"].lines(
            days,
            [
                ("p50", tone("running"), [d.p50_s for d in stats.days]),
                ("p95", tone("warning"), [d.p95_s for d in stats.days]),
            ],
        )
        models = [m.model for m in stats.models]
        self.charts["cost"].stacked_bars(
            days,
            [(m, model_colour(i), [stats.model_cost_by_day.get(d, {}).get(m, 0.0) for d in days])
             for i, m in enumerate(models)],
        )  # fmt: skip
        self.charts["tokens"].stacked_bars(
            days,
            [("input", model_colour(0), [d.input_tokens for d in stats.days]),
             ("output", model_colour(1), [d.output_tokens for d in stats.days])],
        )  # fmt: skip

    def describe_day(self, day: int) -> str:
        """A day's figures, for the charts' tooltips."""
        found = next((d for d in self.stats.days if d.day == day), None) if self.stats is not None else None
        if found is None:
            return ""
        by = ", ".join(f"{found.runs[s]:,} {s}" for s in STATUSES if found.runs.get(s))
        return (
            f"{found.date}: {found.total:,} runs ({by})\np50 {tables.seconds(found.p50_s)}, "
            f"p95 {tables.seconds(found.p95_s)} · {found.input_tokens + found.output_tokens:,} tokens · "
            f"{tables.money(found.cost_usd)}\nclick to list its runs"
        )

    # ------------------------------------------------------------ a day's runs
    def pick_day(self, day: int) -> None:
        """List the runs of ``day`` (of the chosen workflow) and show that list."""
        self.picked_day = day
        runs = self.reader.runs_on(self.workflow, day)
        tree = self.lists["Runs of the day"]
        tables.fill_runs(tree, runs)
        index = self.tabs.indexOf(tree)
        self.tabs.setTabText(index, f"Runs of {time.strftime('%d %b %Y', time.gmtime(day * DAY_S))} ({len(runs):,})")
        self.tabs.setCurrentIndex(index)

    def _open_run(self, item: QTreeWidgetItem, _column: int) -> None:
        run_id = item.data(0, tables.RUN_ID_ROLE)
        if run_id:
            self.run_opened.emit(str(run_id))

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange and self.stats is not None:
            for chart in self.charts.values():
                chart.restyle()
            self._draw(self.stats)
