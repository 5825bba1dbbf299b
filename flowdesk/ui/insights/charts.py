"""The Insights view's charts, drawn with pyqtgraph: days on a date axis, a click picks a day.

Every chart's x is a UTC day's start (seconds), so one date axis reads them all and a click
anywhere in a chart maps back to the nearest day that has runs (``day_clicked``).
"""

from __future__ import annotations

from collections.abc import Sequence

import pyqtgraph as pg
from PySide6.QtCore import QPointF, Signal
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

from flowdesk.ui.theming import tone

DAY_S = 86_400
BAR_WIDTH = DAY_S * 0.7
HEADROOM = 1.3
"""The y range's top over the highest value: room for the legend's row."""
MODEL_COLOURS = ("#3b82f6", "#f59e0b", "#10b981", "#a855f7", "#ef4444", "#14b8a6", "#eab308", "#6366f1")
STATUS_TONES = {"succeeded": "success", "failed": "error", "cancelled": "muted", "interrupted": "warning"}


class DayChart(pg.PlotWidget):
    """One chart over days; emits the UTC day a person clicked on (the nearest with data)."""

    day_clicked = Signal(int)

    def __init__(self, title: str, unit: str = "") -> None:
        super().__init__(axisItems={"bottom": pg.DateAxisItem(orientation="bottom", utcOffset=0)})
        self.days: list[int] = []
        self._title = title
        self.setMenuEnabled(False)
        self.setMouseEnabled(x=False, y=False)
        self.hideButtons()
        if unit:
            self.getPlotItem().setLabel("left", unit)
        self.scene().sigMouseClicked.connect(self._clicked)
        self.restyle()

    def restyle(self) -> None:
        """Colours from the window's palette, so the charts follow the light or dark theme."""
        palette = QApplication.palette()
        self.setBackground(palette.color(QPalette.ColorRole.Base))
        text = palette.color(QPalette.ColorRole.Text)
        item = self.getPlotItem()
        item.setTitle(self._title, color=text.name(), size="10pt")
        for name in ("left", "bottom"):
            axis = item.getAxis(name)
            axis.setPen(pg.mkPen(palette.color(QPalette.ColorRole.Mid)))
            axis.setTextPen(pg.mkPen(text))

    def start(self, days: Sequence[int]) -> None:
        self.clear()
        self.days = list(days)
        if self.getPlotItem().legend is not None:
            self.getPlotItem().legend.clear()
        if days:
            self.setXRange(days[0] * DAY_S - DAY_S, days[-1] * DAY_S + DAY_S, padding=0.02)

    def stacked_bars(self, days: Sequence[int], layers: Sequence[tuple[str, QColor, Sequence[float]]]) -> None:
        """Bars per day, one layer on the other (``layers``: name, colour, a value per day)."""
        self.start(days)
        legend = self._legend(sum(1 for _, _, v in layers if any(v)))
        base = [0.0] * len(days)
        xs = [d * DAY_S + DAY_S / 2 for d in days]
        for name, colour, values in layers:
            if not any(values):
                continue
            bars = pg.BarGraphItem(x=xs, height=list(values), y0=list(base), width=BAR_WIDTH, brush=colour, pen=None)
            self.addItem(bars)
            legend.addItem(bars, name)
            base = [b + v for b, v in zip(base, values, strict=True)]
        self.setYRange(0, max(base, default=1) * HEADROOM or 1, padding=0)

    def lines(self, days: Sequence[int], series: Sequence[tuple[str, QColor, Sequence[float | None]]]) -> None:
        """A line per series, a dot per day that has a value."""
        self.start(days)
        self._legend(len(series))
        top = 0.0
        for name, colour, values in series:
            points = [(d * DAY_S + DAY_S / 2, v) for d, v in zip(days, values, strict=True) if v is not None]
            if not points:
                continue
            xs, ys = zip(*points, strict=True)
            self.plot(list(xs), list(ys), pen=pg.mkPen(colour, width=2), symbol="o", symbolSize=6,
                      symbolBrush=colour, symbolPen=None, name=name)  # fmt: skip
            top = max(top, *ys)
        self.setYRange(0, top * HEADROOM or 1, padding=0)

    def _legend(self, columns: int) -> pg.LegendItem:
        """One row of names above the data (the y range leaves room for it), on the chart's background."""
        legend = self.getPlotItem().legend
        if legend is None:
            legend = self.addLegend(offset=(4, 2), labelTextColor=_text(), colCount=max(columns, 1))
        else:
            legend.setColumnCount(max(columns, 1))
        legend.setLabelTextColor(_text())
        return legend

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

    def _clicked(self, event: object) -> None:
        day = self.day_at(event.scenePos())  # type: ignore[attr-defined]
        if day is not None:
            self.day_clicked.emit(day)


def _text() -> QColor:
    return QApplication.palette().color(QPalette.ColorRole.Text)


def status_colour(status: str) -> QColor:
    return tone(STATUS_TONES.get(status, "neutral"))


def model_colour(index: int) -> QColor:
    return QColor(MODEL_COLOURS[index % len(MODEL_COLOURS)])
