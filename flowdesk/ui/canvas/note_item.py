"""Note nodes as sticky comments: a coloured sheet with a title and wrapped text, behind the wires.

A note is a node of kind ``note`` (it never runs); its size, colour and text are its config, so
editing, moving and deleting it go through the same commands as any node.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPainterPath, QPen, QPolygonF
from PySide6.QtWidgets import QGraphicsSceneHoverEvent, QStyleOptionGraphicsItem, QWidget

from flowdesk.model.kinds import NodePorts
from flowdesk.model.workflow import Node
from flowdesk.ui.canvas.far import FarCard
from flowdesk.ui.canvas.node_item import CanvasNodeItem
from flowdesk.ui.canvas.theme import LOD_TEXT, CanvasTheme

NOTE_KIND = "note"
_FOLD = 14.0
_PAD = 10.0


def _font(bold: bool) -> QFont:
    font = QFont()
    font.setPixelSize(12)
    font.setBold(bold)
    return font


def _number(value: Any, default: float, low: float, high: float) -> float:
    """A size from the config, kept sane even if the config is not (it is validated elsewhere)."""
    try:
        return min(max(float(value), low), high)
    except (TypeError, ValueError):
        return default


class NoteItem(CanvasNodeItem):
    """A sticky comment. Notes sit under the nodes and wires (z below both)."""

    def __init__(self, node: Node, theme: CanvasTheme) -> None:
        self._read(node)
        super().__init__(node, theme)
        self.setRect(self._bounds())
        self.setZValue(-2.0)

    def _read(self, node: Node) -> None:
        config = node.config
        self._width = _number(config.get("width"), 240.0, 80.0, 4000.0)
        self._height = _number(config.get("height"), 120.0, 40.0, 4000.0)
        colour = QColor(str(config.get("color") or "#fff3b0"))
        self._colour = colour if colour.isValid() else QColor("#fff3b0")
        self._text = str(config.get("text") or "")
        self._name = node.name

    @property
    def title(self) -> str:
        return self.node.title

    @property
    def text(self) -> str:
        return self._text

    def set_node(self, node: Node, ports: NodePorts) -> None:
        self._read(node)
        self.setRect(self._bounds())  # (Qt is told of a change of the bounds, if they change)
        self.node = node
        self.refresh()
        self.sync_position()

    def far_look(self) -> FarCard:
        border = self.theme.selection if self.isSelected() else self._colour.darker(135)
        return FarCard(self.card_rect().translated(self.pos()), self._colour, outline=border)

    def _bounds(self) -> QRectF:
        return QRectF(-2.0, -2.0, self._width + 6.0, self._height + 6.0)

    def card_rect(self) -> QRectF:
        return QRectF(0.0, 0.0, self._width, self._height)

    def shape(self) -> QPainterPath:
        path = QPainterPath()
        path.addRect(QRectF(0.0, 0.0, self._width, self._height))
        return path

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        lod = option.levelOfDetailFromTransform(painter.worldTransform())
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        w, h = self._width, self._height
        sheet = QPolygonF([QPointF(0, 0), QPointF(w, 0), QPointF(w, h - _FOLD), QPointF(w - _FOLD, h), QPointF(0, h)])
        shadow = QColor(0, 0, 0, 28)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(shadow)
        painter.drawPolygon(sheet.translated(2.5, 3.0))
        border = self.theme.selection if self.isSelected() else self._colour.darker(135)
        painter.setPen(QPen(border, 2.2 if self.isSelected() else 1.0))
        painter.setBrush(self._colour)
        painter.drawPolygon(sheet)
        painter.setBrush(self._colour.darker(115))
        painter.drawPolygon(QPolygonF([QPointF(w, h - _FOLD), QPointF(w - _FOLD, h - _FOLD), QPointF(w - _FOLD, h)]))
        if lod < LOD_TEXT:
            return
        ink = QColor("#3f3a1d") if self._colour.lightness() > 128 else QColor("#f8f5e6")
        painter.setPen(ink)
        body = QRectF(_PAD, _PAD, w - 2 * _PAD, h - 2 * _PAD - 4)
        painter.save()
        painter.setClipRect(body)
        if self._name:
            painter.setFont(_font(True))
            title_rect = QRectF(body.left(), body.top(), body.width(), 18)
            painter.drawText(title_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, self._name)
            body.setTop(body.top() + 22)
        painter.setFont(_font(False))
        line = QFontMetricsF(painter.font()).lineSpacing()
        body.setHeight(max(line, body.height() // line * line))  # whole lines only, never half a line
        painter.setClipRect(body)
        painter.drawText(
            body, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop | Qt.TextFlag.TextWordWrap, self._text
        )
        painter.restore()

    def hoverMoveEvent(self, event: QGraphicsSceneHoverEvent) -> None:
        tip = f"{self._name}\n{self._text}" if self._name else self._text
        if tip != self.toolTip():
            self.setToolTip(tip)
        super().hoverMoveEvent(event)
