"""Unexpected errors: the details land in the log file, the person reads one sentence, no traceback."""

from __future__ import annotations

import sys
from pathlib import Path

from flowdesk.ui.error_guard import ErrorGuard


def _raise() -> None:
    raise RuntimeError("the widget lost its model\nsecond line of detail")


def test_an_uncaught_error_is_logged_in_full_and_summed_up_in_one_line(tmp_path: Path) -> None:
    told: list[str] = []
    guard = ErrorGuard(tmp_path / "logs" / "flowdesk.log", told.append).install()
    try:
        try:
            _raise()
        except RuntimeError:
            sys.excepthook(*sys.exc_info())
    finally:
        guard.uninstall()
    (message,) = told
    assert "the widget lost its model" in message and str(tmp_path / "logs" / "flowdesk.log") in message
    assert "Traceback" not in message and "second line" not in message
    logged = (tmp_path / "logs" / "flowdesk.log").read_text()
    assert "Traceback" in logged and "_raise" in logged and "second line of detail" in logged
    assert sys.excepthook is not guard._excepthook  # put back


def test_an_error_in_an_event_loop_callback_is_reported_the_same_way(tmp_path: Path) -> None:
    told: list[str] = []
    guard = ErrorGuard(tmp_path / "flowdesk.log", told.append).install()
    try:
        try:
            _raise()
        except RuntimeError as exc:
            guard._loop_handler(None, {"message": "Task exception was never retrieved", "exception": exc})
        guard._loop_handler(None, {"message": "a plain warning without an exception"})
    finally:
        guard.uninstall()
    assert len(told) == 1 and guard.count == 1  # the plain warning is logged, not announced
    logged = (tmp_path / "flowdesk.log").read_text()
    assert "Task exception was never retrieved" in logged and "_raise" in logged
    assert "a plain warning without an exception" in logged
