"""Badges drawn as vector shapes: a node's run state and its problem marker.

Shapes are drawn with paths, not font glyphs, so they look the same on every platform and font
(an offscreen or minimal system may have no symbol font at all). Each state has a distinct shape,
not only a distinct colour: queued ⋯, running ▶, succeeded ✓, failed ✕, skipped – (hollow, dashed
ring), waiting ‖, cancelled ■. Idle draws nothing.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QPainter, QPainterPath, QPen, QPolygonF

from flowdesk.ui.canvas.theme import NodeState

WHITE = QColor("#ffffff")


def draw_state_badge(
    painter: QPainter, centre: QPointF, radius: float, state: NodeState, colour: QColor, card: QColor = WHITE
) -> None:
    """Paint the badge of ``state`` as a disc of ``colour`` with a white glyph (nothing for idle).

    Skipped and not run are hollow instead (a dashed ring on the card's colour): the node did not run.
    """
    if state == NodeState.IDLE:
        return
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    disc = QRectF(centre.x() - radius, centre.y() - radius, 2 * radius, 2 * radius)
    if state in (NodeState.SKIPPED, NodeState.NOT_RUN):
        pen = QPen(colour, 1.6, Qt.PenStyle.DashLine)
        painter.setPen(pen)
        painter.setBrush(QBrush(card))
        painter.drawEllipse(disc)
        glyph_colour = colour
    else:
        painter.setPen(QPen(colour.darker(130), 1.0))
        painter.setBrush(colour)
        painter.drawEllipse(disc)
        glyph_colour = WHITE
    _GLYPHS[state](painter, centre, radius * 0.5, glyph_colour)
    painter.restore()


def _stroke(painter: QPainter, colour: QColor, width: float) -> None:
    pen = QPen(colour, width)
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    painter.setPen(pen)
    painter.setBrush(Qt.BrushStyle.NoBrush)


def _fill(painter: QPainter, colour: QColor) -> None:
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(colour)


def _queued(painter: QPainter, c: QPointF, s: float, colour: QColor) -> None:
    _fill(painter, colour)
    dot = s * 0.32
    for dx in (-s * 0.85, 0.0, s * 0.85):
        painter.drawEllipse(QPointF(c.x() + dx, c.y()), dot, dot)


def _running(painter: QPainter, c: QPointF, s: float, colour: QColor) -> None:
    _fill(painter, colour)
    painter.drawPolygon(
        QPolygonF([QPointF(c.x() - s * 0.6, c.y() - s), QPointF(c.x() + s, c.y()), QPointF(c.x() - s * 0.6, c.y() + s)])
    )


def _succeeded(painter: QPainter, c: QPointF, s: float, colour: QColor) -> None:
    _stroke(painter, colour, s * 0.45)
    path = QPainterPath(QPointF(c.x() - s * 0.85, c.y() + s * 0.05))
    path.lineTo(c.x() - s * 0.2, c.y() + s * 0.7)
    path.lineTo(c.x() + s * 0.9, c.y() - s * 0.65)
    painter.drawPath(path)


def _failed(painter: QPainter, c: QPointF, s: float, colour: QColor) -> None:
    _stroke(painter, colour, s * 0.45)
    k = s * 0.7
    painter.drawLine(QPointF(c.x() - k, c.y() - k), QPointF(c.x() + k, c.y() + k))
    painter.drawLine(QPointF(c.x() - k, c.y() + k), QPointF(c.x() + k, c.y() - k))


def _skipped(painter: QPainter, c: QPointF, s: float, colour: QColor) -> None:
    _stroke(painter, colour, s * 0.45)
    painter.drawLine(QPointF(c.x() - s * 0.8, c.y()), QPointF(c.x() + s * 0.8, c.y()))


def _waiting(painter: QPainter, c: QPointF, s: float, colour: QColor) -> None:
    _fill(painter, colour)
    w, h = s * 0.5, s * 1.7
    painter.drawRect(QRectF(c.x() - s * 0.75, c.y() - h / 2, w, h))
    painter.drawRect(QRectF(c.x() + s * 0.25, c.y() - h / 2, w, h))


def _cancelled(painter: QPainter, c: QPointF, s: float, colour: QColor) -> None:
    _fill(painter, colour)
    k = s * 0.75
    painter.drawRect(QRectF(c.x() - k, c.y() - k, 2 * k, 2 * k))


def _not_run(painter: QPainter, c: QPointF, s: float, colour: QColor) -> None:
    """A small hollow ring: the run never came here (skipped's dash means a branch turned away)."""
    _stroke(painter, colour, s * 0.35)
    painter.drawEllipse(c, s * 0.45, s * 0.45)


def _interrupted(painter: QPainter, c: QPointF, s: float, colour: QColor) -> None:
    """A lightning bolt, as the runs panel marks an interrupted run."""
    _fill(painter, colour)
    bolt = [(0.25, -1.0), (-0.65, 0.15), (-0.05, 0.15), (-0.3, 1.0), (0.65, -0.2), (0.05, -0.2)]
    painter.drawPolygon(QPolygonF([QPointF(c.x() + dx * s, c.y() + dy * s) for dx, dy in bolt]))


_GLYPHS = {
    NodeState.QUEUED: _queued,
    NodeState.RUNNING: _running,
    NodeState.SUCCEEDED: _succeeded,
    NodeState.FAILED: _failed,
    NodeState.SKIPPED: _skipped,
    NodeState.WAITING: _waiting,
    NodeState.CANCELLED: _cancelled,
    NodeState.NOT_RUN: _not_run,
    NodeState.INTERRUPTED: _interrupted,
}


def problem_badge_path(centre: QPointF, radius: float) -> QPainterPath:
    """A warning triangle around ``centre`` (also the badge's hover area for its tooltip)."""
    r = radius
    triangle = QPolygonF(
        [
            QPointF(centre.x(), centre.y() - r),
            QPointF(centre.x() + r, centre.y() + r * 0.8),
            QPointF(centre.x() - r, centre.y() + r * 0.8),
        ]
    )
    path = QPainterPath()
    path.addPolygon(triangle)
    path.closeSubpath()
    return path


def draw_problem_badge(painter: QPainter, centre: QPointF, radius: float, colour: QColor) -> None:
    """A filled warning triangle with a white exclamation mark."""
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(
        QPen(colour.darker(125), 1.0, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap, Qt.PenJoinStyle.RoundJoin)
    )
    painter.setBrush(colour)
    painter.drawPath(problem_badge_path(centre, radius))
    _stroke(painter, WHITE, radius * 0.24)
    painter.drawLine(QPointF(centre.x(), centre.y() - radius * 0.35), QPointF(centre.x(), centre.y() + radius * 0.2))
    _fill(painter, WHITE)
    painter.drawEllipse(QPointF(centre.x(), centre.y() + radius * 0.52), radius * 0.12, radius * 0.12)
    painter.restore()
