"""A hidden hook that times the app's start-up: ``FLOWDESK_STARTUP_PROBE=FILE flowdesk [open ID]``.

Start-up time is what a person waits for between launching flowdesk and a window they can use, so
it is measured from outside, on the real entry point (``tests/bench/bench_startup.py`` launches
the app with this variable set). The app marks its phases (imports, library, window, shown); once
the window has been painted for the first time and Qt's event loop is about to wait for input,
the marks go to FILE as JSON and the app quits. Without the variable nothing is measured.

The clock starts when the ``flowdesk`` package is first imported (``flowdesk.IMPORTED_AT``), the
first of our code to run; the wall-clock time of that moment is written too, so the benchmark can
add the interpreter's own start before it.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from PySide6.QtCore import QAbstractEventDispatcher, QEvent, QObject
from PySide6.QtWidgets import QApplication, QWidget

import flowdesk

PROBE_ENV = "FLOWDESK_STARTUP_PROBE"


class StartupProbe(QObject):
    """Collects the start-up marks; a probe without a file (the normal case) only ignores them."""

    def __init__(self, path: Path | None) -> None:
        super().__init__()
        self.path = path
        self.marks: dict[str, float] = {}
        self._painted = False

    @classmethod
    def from_env(cls) -> StartupProbe:
        value = os.environ.get(PROBE_ENV)
        return cls(Path(value) if value else None)

    def mark(self, name: str) -> None:
        """The phase ``name`` ended now."""
        if self.path is not None:
            self.marks[name] = time.perf_counter() - flowdesk.IMPORTED_AT

    def watch(self, window: QWidget) -> None:
        """Report and quit once ``window`` has been painted and the event loop has nothing left to do."""
        if self.path is not None:
            window.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint and not self._painted:
            self._painted = True
            self.mark("painted")
            dispatcher = QAbstractEventDispatcher.instance()
            assert dispatcher is not None
            dispatcher.aboutToBlock.connect(self._idle)  # the frame is flushed and nothing else is queued
        return False

    def _idle(self) -> None:
        dispatcher = QAbstractEventDispatcher.instance()
        if dispatcher is not None:
            dispatcher.aboutToBlock.disconnect(self._idle)
        self.mark("idle")
        assert self.path is not None
        entered = time.time() - (time.perf_counter() - flowdesk.IMPORTED_AT)
        self.path.write_text(json.dumps({"entered_wall": entered, "marks": self.marks}), encoding="utf-8")
        QApplication.quit()
