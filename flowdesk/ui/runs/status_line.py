"""The shown run in the status bar: its state and usage, its progress, and the two ways on from its end.

"Show the failed node" selects where a failed run stopped; "Show result" opens the Result view of a
finished run, so the answer is one click from where the end of the run is announced.
"""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QProgressBar, QPushButton, QStatusBar

from flowdesk.ui.runs.runs_panel import STATUS_MARK, money
from flowdesk.ui.runs.trace import RunTrace

ENDED_WITH_RESULT = ("succeeded", "failed", "cancelled", "interrupted")
"""Run states whose Result view has something to say (outputs, or why there are none)."""


class RunStatusLine:
    """The status bar's permanent widgets for the shown run (the bar itself belongs to the window)."""

    def __init__(self, bar: QStatusBar) -> None:
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(180)
        self.progress.setFormat("%v of %m nodes")
        self.progress.hide()
        self.run_status = QLabel()
        self.failed_button = QPushButton("Show the failed node")
        self.failed_button.setFlat(True)
        self.failed_button.hide()
        self.result_button = QPushButton("Show result")
        self.result_button.setFlat(True)
        self.result_button.setToolTip("Open the shown run's result: its outputs in full, readable and copyable")
        self.result_button.hide()
        bar.addPermanentWidget(self.run_status)
        bar.addPermanentWidget(self.failed_button)
        bar.addPermanentWidget(self.result_button)
        bar.addPermanentWidget(self.progress)

    def show_trace(self, trace: RunTrace) -> None:
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
        self.progress.hide()
        self.run_status.clear()
        self.failed_button.hide()
        self.result_button.hide()
