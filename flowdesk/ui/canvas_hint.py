"""The empty canvas says how to add the first node (a new user saw a blank grid and nothing to do)."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QLabel

from flowdesk.model.document import Change
from flowdesk.ui.open_document import OpenDocument

HINT = (
    "<b>This workflow is empty.</b><br>Drag a node from the Nodes panel onto the canvas,<br>"
    "or press <b>Tab</b> here to search for one."
)


class EmptyCanvasHint(QObject):
    """A label in the middle of ``doc``'s canvas, shown while the document has no nodes."""

    def __init__(self, doc: OpenDocument) -> None:
        super().__init__(doc.view)
        self.doc = doc
        viewport = doc.view.viewport()
        self.label = QLabel(HINT, viewport)
        self.label.setObjectName("emptyCanvasHint")
        self.label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.label.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.label.setEnabled(False)  # drawn in the palette's muted text colour, light or dark
        viewport.installEventFilter(self)
        doc.subscribe(self._changed)
        self._changed(None)

    def _changed(self, _change: Change | None) -> None:
        self.label.setVisible(not self.doc.document.nodes)
        self._place()

    def _place(self) -> None:
        viewport = self.label.parentWidget()
        self.label.adjustSize()
        self.label.move((viewport.width() - self.label.width()) // 2, (viewport.height() - self.label.height()) // 2)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Resize:
            self._place()
        return super().eventFilter(watched, event)
