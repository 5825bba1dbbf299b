"""The shown run in the status bar: its state and usage, its progress, and the two ways on from its end.

"Show the failed node" selects where a failed run stopped; "Show result" opens the Result view of a
finished run, so the answer is one click from where the end of the run is announced.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtWidgets import QLabel, QProgressBar, QPushButton, QStatusBar, QWidget

from flowdesk.ui.runs.runs_panel import STATUS_MARK, money
from flowdesk.ui.runs.trace import RunTrace

ENDED_WITH_RESULT = ("succeeded", "failed", "cancelled", "interrupted")
"""Run states whose Result view has something to say (outputs, or why there are none)."""
MESSAGE_MS = 8000
GAP = 12
"""Pixels kept between a message's end and the first widget on the right."""


class MessageFitter(QObject):
    """Ends a status bar message that does not fit before the bar's widgets with "…" (the whole of it in
    the bar's tooltip), instead of cutting it mid-word against them; refitted when the window resizes."""

    def __init__(self, bar: QStatusBar, widgets: list[QWidget]) -> None:
        super().__init__(bar)
        self.bar = bar
        self.widgets = widgets
        self.full = ""
        self._fitting = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.fit)
        bar.messageChanged.connect(self._changed)
        bar.installEventFilter(self)

    def _changed(self, text: str) -> None:
        if self._fitting:
            return
        self.full = text
        self.bar.setToolTip(text)
        self._timer.start(0)  # once the widgets just shown or hidden have their places

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.bar and event.type() == QEvent.Type.Resize and self.full:
            self._timer.start(0)
        return False

    def room(self) -> int:
        """The width a message has: up to the leftmost shown widget on the right of the bar."""
        lefts = [w.geometry().left() for w in self.widgets if w.isVisible()]
        return min(lefts, default=self.bar.width()) - GAP - self.bar.contentsMargins().left() - 6

    def fit(self) -> None:
        if not self.full or self.bar.currentMessage() == "":
            return
        shown = self.bar.fontMetrics().elidedText(self.full, Qt.TextElideMode.ElideRight, max(self.room(), 40))
        if shown != self.bar.currentMessage():
            self._fitting = True
            try:
                self.bar.showMessage(shown, MESSAGE_MS)
            finally:
                self._fitting = False


class RunStatusLine:
    """The status bar's permanent widgets for the shown run (the bar itself belongs to the window)."""

    def __init__(self, bar: QStatusBar) -> None:
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(180)
        self.progress.setFormat("%v of %m nodes")
        self.progress.hide()
        self.run_status = QLabel()
        self.where = QLabel()
        self.where.setToolTip("Where the shown run's map items and sub-workflow calls run")
        self.where.hide()
        self.failed_button = QPushButton("Show the failed node")
        self.failed_button.setFlat(True)
        self.failed_button.hide()
        self.result_button = QPushButton("Show result")
        self.result_button.setFlat(True)
        self.result_button.setToolTip("Open the shown run's result: its outputs in full, readable and copyable")
        self.result_button.hide()
        bar.addPermanentWidget(self.where)
        bar.addPermanentWidget(self.run_status)
        bar.addPermanentWidget(self.failed_button)
        bar.addPermanentWidget(self.result_button)
        bar.addPermanentWidget(self.progress)
        shown = [self.where, self.run_status, self.failed_button, self.result_button, self.progress]
        self.fitter = MessageFitter(bar, shown)

    def show_where(self, where: str | None) -> None:
        """Where the shown run runs ("on this computer", "on the Dask cluster at …"); None: not known."""
        self.where.setText(f"on {where} ·" if where else "")
        self.where.setVisible(bool(where))

    def show_trace(self, trace: RunTrace, where: str | None = None) -> None:
        self.show_where(where)
        total = max(trace.node_count, len(trace.nodes), 1)
        self.progress.setMaximum(total)
        self.progress.setValue(min(trace.done_count(), total))
        self.progress.setVisible(not trace.finished)
        inputs, outputs, cost = trace.totals()
        usage = f" · {inputs + outputs:,} tokens" if inputs + outputs else ""
        usage += f" · {money(cost)}" if cost else ""
        paused = f" before '{trace.paused_at}'" if trace.status == "paused" and trace.paused_at else ""
        self.run_status.setText(f"{STATUS_MARK.get(trace.status, '')} {trace.status}{paused}{usage}")
        self.failed_button.setVisible(trace.status == "failed" and bool(trace.error_node))
        self.result_button.setVisible(trace.finished and trace.status in ENDED_WITH_RESULT)

    def clear(self) -> None:
        self.show_where(None)
        self.progress.hide()
        self.run_status.clear()
        self.failed_button.hide()
        self.result_button.hide()
