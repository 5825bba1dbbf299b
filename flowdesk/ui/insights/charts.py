"""The Insights view's charts, drawn with pyqtgraph: days on a date axis, a click picks a day.

Every chart's x is a UTC day's start (seconds), so one date axis reads them all and a click
anywhere in a chart maps back to the nearest day that has runs (``day_clicked``).
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence

import pyqtgraph as pg
from PySide6.QtCore import QPointF, Signal
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

from flowdesk.ui.theming import tone

DAY_S = 86_400
BAR_WIDTH = DAY_S * 0.7
HEADROOM = 1.08
AXIS_WIDTH = 52
"""The value axis' width: room for '30000' (pyqtgraph drops labels that do not fit)."""
MODEL_COLOURS = ("#3b82f6", "#f59e0b", "#10b981", "#a855f7", "#ef4444", "#14b8a6", "#eab308", "#6366f1")
STATUS_TONES = {"succeeded": "success", "failed": "error", "cancelled": "muted", "interrupted": "warning"}


class DayChart(pg.PlotWidget):
    """One chart over days; emits the UTC day a person clicked on (the nearest with data).

    Its legend is in its title (a coloured square before each name): a legend inside a small chart
    covered its bars and lines, whatever room was left for it."""

    day_clicked = Signal(int)

    def __init__(self, title: str, *, percent: bool = False) -> None:
        super().__init__(axisItems={"bottom": pg.DateAxisItem(orientation="bottom", utcOffset=0)})
        self.days: list[int] = []
        self.span: tuple[int, int] | None = None
        """The first and last UTC day the chart spans (the period), set before it is drawn."""
        self.layers: dict[int, str] = {}
        """id of a drawn item -> the name of its layer or series (what the title's legend shows)."""
        self._title = title
        self._names: list[tuple[str, QColor]] = []
        self._percent = percent
        self.setMenuEnabled(False)
        self.setMouseEnabled(x=False, y=False)
        self.hideButtons()
        left = self.getPlotItem().getAxis("left")
        left.enableAutoSIPrefix(False)  # "(x0.001)" beside a cost reads worse than 0.05
        left.setWidth(AXIS_WIDTH)
        self.describe_day: Callable[[int], str] | None = None
        """What the tooltip says of a day (set by the window); the day under the pointer is described."""
        self.scene().sigMouseClicked.connect(self._clicked)
        self.scene().sigMouseMoved.connect(self._hovered)
        self.restyle()

    def restyle(self) -> None:
        """Colours from the window's palette, so the charts follow the light or dark theme."""
        palette = QApplication.palette()
        self.setBackground(palette.color(QPalette.ColorRole.Base))
        text = palette.color(QPalette.ColorRole.Text)
        item = self.getPlotItem()
        for name in ("left", "bottom"):
            axis = item.getAxis(name)
            axis.setPen(pg.mkPen(palette.color(QPalette.ColorRole.Mid)))
            axis.setTextPen(pg.mkPen(text))
        self._show_title()

    def _show_title(self) -> None:
        text = QApplication.palette().color(QPalette.ColorRole.Text).name()
        keys = "".join(
            f"&nbsp;&nbsp;<span style='color:{colour.name()}'>■</span>&nbsp;{html.escape(name)}"
            for name, colour in self._names
        )
        self.getPlotItem().setTitle(f"<b>{html.escape(self._title)}</b>{keys}", color=text, size="9pt")

    def start(self, days: Sequence[int]) -> None:
        self.clear()
        self.days = list(days)
        self.layers.clear()
        self._names = []
        first, last = self.span or ((days[0], days[-1]) if days else (0, 0))
        if self.span or days:
            self.setXRange(first * DAY_S, (last + 1) * DAY_S, padding=0.02)

    def stacked_bars(self, days: Sequence[int], layers: Sequence[tuple[str, QColor, Sequence[float]]]) -> None:
        """Bars per day, one layer on the other (``layers``: name, colour, a value per day)."""
        self.start(days)
        base = [0.0] * len(days)
        xs = [d * DAY_S + DAY_S / 2 for d in days]
        for name, colour, values in layers:
            if not any(values):
                continue
            bars = pg.BarGraphItem(x=xs, height=list(values), y0=list(base), width=BAR_WIDTH, brush=colour, pen=None)
            self.addItem(bars)
            self.layers[id(bars)] = name
            self._names.append((name, colour))
            base = [b + v for b, v in zip(base, values, strict=True)]
        self._show_title()
        self.setYRange(0, max(base, default=1) * HEADROOM or 1, padding=0)

    def lines(self, days: Sequence[int], series: Sequence[tuple[str, QColor, Sequence[float | None]]]) -> None:
        """A line per series, a dot per day that has a value."""
        self.start(days)
        top = 0.0
        for name, colour, values in series:
            points = [(d * DAY_S + DAY_S / 2, v) for d, v in zip(days, values, strict=True) if v is not None]
            if not points:
                continue
            xs, ys = zip(*points, strict=True)
            line = self.plot(list(xs), list(ys), pen=pg.mkPen(colour, width=2), symbol="o", symbolSize=6,
                             symbolBrush=colour, symbolPen=None)  # fmt: skip
            self.layers[id(line)] = name
            if len(series) > 1:
                self._names.append((name, colour))
            top = max(top, *ys)
        self._show_title()
        self.setYRange(0, 100 * HEADROOM if self._percent else top * HEADROOM or 1, padding=0)

    def day_at(self, scene_pos: QPointF) -> int | None:
        """The day with data nearest to a point of the chart's scene."""
        if not self.days:
            return None
        x = self.getPlotItem().vb.mapSceneToView(scene_pos).x()
        return min(self.days, key=lambda d: abs(d * DAY_S + DAY_S / 2 - x))

    def point_of(self, day: int) -> QPointF:
        """Where a day's bar or point is, in the widget's coordinates (for tests and tooltips)."""
        y = sum(self.getPlotItem().vb.viewRange()[1]) / 4
        scene = self.getPlotItem().vb.mapViewToScene(QPointF(day * DAY_S + DAY_S / 2, y))
        return self.mapFromScene(scene).toPointF()

    def _hovered(self, scene_pos: QPointF) -> None:
        day = self.day_at(scene_pos) if self.describe_day is not None else None
        self.setToolTip(self.describe_day(day) if day is not None and self.describe_day is not None else "")

    def _clicked(self, event: object) -> None:
        day = self.day_at(event.scenePos())  # type: ignore[attr-defined]
        if day is not None:
            self.day_clicked.emit(day)


def status_colour(status: str) -> QColor:
    return tone(STATUS_TONES.get(status, "neutral"))


def model_colour(index: int) -> QColor:
    return QColor(MODEL_COLOURS[index % len(MODEL_COLOURS)])
