"""The run timeline: one row per node, one bar per attempt over time, coloured (and marked) by status.

It answers "where did the time go": long bars stand out, retries show as several bars on a row,
loop passes as bars one after another, waits for an approval as a long hatched bar. Reused and
pinned results take no time and show as a thin tick.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QScrollArea, QToolTip, QWidget

from flowdesk.ui.runs.trace import AttemptSpan, RunTrace
from flowdesk.ui.theming import is_dark

ROW = 22
LABEL_WIDTH = 150
AXIS = 22
COLOURS = {
    "running": "#3b82f6",
    "succeeded": "#16a34a",
    "failed": "#dc2626",
    "cancelled": "#9ca3af",
    "skipped": "#d1d5db",
    "waiting": "#f59e0b",
}
"""Bar fills: mid tones that stand out on a light and on a dark chart alike."""
DARK_COLOURS = {"skipped": "#6b7280", "cancelled": "#8b919a"}
"""On a dark chart the pale greys would glare brighter than a real bar; these sit back as they should."""


def nice_step(span: float, target_ticks: int = 6) -> float:
    """A round tick step (1, 2 or 5 times a power of ten) giving about ``target_ticks`` ticks."""
    if span <= 0:
        return 1.0
    raw = span / target_ticks
    power = 10 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= raw)


class TimelineChart(QWidget):
    node_clicked = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.trace: RunTrace | None = None
        self.rows: list[str] = []
        """Node ids, in the order they started."""
        self.names: Callable[[str], str] = lambda node_id: node_id
        """A node's name for its id (the window sets it: rows are labelled as the canvas names nodes)."""
        self.setMouseTracking(True)
        self.setMinimumHeight(AXIS + ROW)

    def set_trace(self, trace: RunTrace | None) -> None:
        self.trace = trace
        self.refresh()

    def refresh(self) -> None:
        order: dict[str, float] = {}
        for span in self.trace.spans if self.trace else ():
            order.setdefault(span.node_id, span.start)
        self.rows = sorted(order, key=lambda node: order[node])
        self.setMinimumHeight(AXIS + ROW * max(1, len(self.rows)) + 4)
        self.update()

    def sizeHint(self) -> QSize:
        return QSize(600, AXIS + ROW * max(1, len(self.rows)) + 4)

    def _range(self) -> tuple[float, float]:
        assert self.trace is not None
        spans = self.trace.spans
        start = min((s.start for s in spans), default=self.trace.started_at or 0.0)
        if self.trace.started_at is not None:
            start = min(start, self.trace.started_at)
        ends = [s.end if s.end is not None else time.time() for s in spans]
        end = max([*ends, self.trace.finished_at or start])
        return start, max(end, start + 0.001)

    def _x(self, t: float, start: float, end: float) -> float:
        width = max(10.0, self.width() - LABEL_WIDTH - 12)
        return LABEL_WIDTH + (t - start) / (end - start) * width

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), self.palette().base())
        if self.trace is None or not self.rows:
            painter.setPen(self.palette().placeholderText().color())
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "No node has run yet in the shown run")
            return
        start, end = self._range()
        self._paint_axis(painter, start, end)
        text = self.palette().text().color()
        for row, node_id in enumerate(self.rows):
            y = AXIS + row * ROW
            if row % 2:
                painter.fillRect(QRectF(0, y, self.width(), ROW), self.palette().alternateBase())
            painter.setPen(text)
            label = self.fontMetrics().elidedText(self.names(node_id), Qt.TextElideMode.ElideMiddle, LABEL_WIDTH - 8)
            painter.drawText(QRectF(4, y, LABEL_WIDTH - 8, ROW), Qt.AlignmentFlag.AlignVCenter, label)
        for span in self.trace.spans:
            self._paint_span(painter, span, start, end)

    def axis_labels(self, start: float, end: float) -> list[tuple[float, QRectF, str]]:
        """Each tick: its x, the rectangle its label is drawn in, and the label. A label is centred on its
        tick but kept inside the chart, so the last one (at the right edge) is read whole, not cut."""
        step = nice_step(end - start)
        metrics = self.fontMetrics()
        ticks = []
        t = 0.0
        while t <= end - start + 1e-9:
            x = self._x(start + t, start, end)
            label = f"{t:g} s" if step >= 1 else f"{t * 1000:g} ms"
            width = metrics.horizontalAdvance(label) + 6
            left = min(max(x - width / 2, LABEL_WIDTH - width / 2), self.width() - width)
            ticks.append((x, QRectF(left, 2, width, AXIS - 6), label))
            t += step
        return ticks

    def _paint_axis(self, painter: QPainter, start: float, end: float) -> None:
        grid = QColor(self.palette().mid().color())
        grid.setAlpha(90)
        for x, rect, label in self.axis_labels(start, end):
            painter.setPen(QPen(grid, 1))
            painter.drawLine(QPointF(x, AXIS - 4), QPointF(x, self.height()))
            painter.setPen(self.palette().text().color())
            painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, label)

    def _span_rect(self, span: AttemptSpan, start: float, end: float) -> QRectF:
        row = self.rows.index(span.node_id)
        x0 = self._x(span.start, start, end)
        x1 = self._x(span.end if span.end is not None else time.time(), start, end)
        return QRectF(x0, AXIS + row * ROW + 4, max(3.0, x1 - x0), ROW - 8)

    def _paint_span(self, painter: QPainter, span: AttemptSpan, start: float, end: float) -> None:
        rect = self._span_rect(span, start, end)
        colours = {**COLOURS, **DARK_COLOURS} if is_dark(self.palette()) else COLOURS
        colour = QColor(colours.get(span.status, "#6b7280"))
        painter.setPen(QPen(colour.darker(130) if colour.lightness() > 100 else colour.lighter(140), 1))
        style = Qt.BrushStyle.BDiagPattern if span.status in ("waiting", "cancelled") else Qt.BrushStyle.SolidPattern
        if span.source != "run":
            style = Qt.BrushStyle.Dense5Pattern
        painter.setBrush(QBrush(colour, style))
        painter.drawRoundedRect(rect, 3, 3)

    def span_at(self, pos: QPointF) -> AttemptSpan | None:
        if self.trace is None or not self.rows:
            return None
        start, end = self._range()
        for span in reversed(self.trace.spans):
            if self._span_rect(span, start, end).adjusted(-2, -3, 2, 3).contains(pos):
                return span
        return None

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        span = self.span_at(event.position())
        if span is None:
            QToolTip.hideText()
            return
        took = (span.end if span.end is not None else time.time()) - span.start
        lines = [self.names(span.node_id), f"{span.status}, {took:.3f} s", f"attempt {span.attempt}"]
        if span.iteration:
            lines.append(f"loop pass {span.iteration + 1}")
        if span.source != "run":
            lines.append({"pinned": "pinned output", "restored": "reused from an earlier run"}.get(span.source, ""))
        QToolTip.showText(event.globalPosition().toPoint(), "\n".join(lines), self)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        span = self.span_at(event.position())
        if span is not None:
            self.node_clicked.emit(span.node_id)


class Timeline(QScrollArea):
    """The chart in a scroll area (a run of many nodes is tall)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.chart = TimelineChart()
        self.setWidget(self.chart)
        self.setWidgetResizable(True)
