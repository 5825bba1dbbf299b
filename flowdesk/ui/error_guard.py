"""Unexpected errors in the app: the details go to a log file, the person gets one short sentence.

Qt calls Python slots from C++, where an exception has nowhere to go but ``sys.excepthook``; the
asyncio loop reports a failed callback to its exception handler. Both land here, so no traceback
ever reaches a dialog, and nothing is lost for whoever investigates: the file has it all.
"""

from __future__ import annotations

import logging
import sys
import traceback
from collections.abc import Callable
from logging.handlers import RotatingFileHandler
from pathlib import Path
from types import TracebackType
from typing import Any

log = logging.getLogger("flowdesk.errors")

Notify = Callable[[str], None]


class ErrorGuard:
    """Installs itself as the excepthook and the loop's exception handler; ``uninstall`` puts them back."""

    def __init__(self, log_file: Path, notify: Notify) -> None:
        self.log_file = log_file
        self.notify = notify
        self.count = 0
        log_file.parent.mkdir(parents=True, exist_ok=True)
        self._handler = RotatingFileHandler(log_file, maxBytes=2_000_000, backupCount=2, encoding="utf-8")
        self._handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        self._previous_hook = sys.excepthook
        self._loop: Any = None

    def install(self, loop: Any = None) -> ErrorGuard:
        logging.getLogger("flowdesk").addHandler(self._handler)
        sys.excepthook = self._excepthook
        if loop is not None:
            self._loop = loop
            loop.set_exception_handler(self._loop_handler)
        return self

    def uninstall(self) -> None:
        sys.excepthook = self._previous_hook
        if self._loop is not None:
            self._loop.set_exception_handler(None)
        logging.getLogger("flowdesk").removeHandler(self._handler)
        self._handler.close()

    def _excepthook(
        self, kind: type[BaseException], error: BaseException, tb: TracebackType | None
    ) -> None:  # fmt: skip
        if issubclass(kind, KeyboardInterrupt):
            self._previous_hook(kind, error, tb)
            return
        self.report(error, "".join(traceback.format_exception(kind, error, tb)))

    def _loop_handler(self, _loop: Any, context: dict[str, Any]) -> None:
        error = context.get("exception")
        message = str(context.get("message", "error in the event loop"))
        if error is None:
            log.warning("%s", message)
            return
        details = "".join(traceback.format_exception(type(error), error, error.__traceback__))
        self.report(error, f"{message}\n{details}")

    def report(self, error: BaseException, details: str) -> None:
        """Log everything, tell the person one line (where the details are, too)."""
        self.count += 1
        log.error("unexpected error: %s\n%s", error, details)
        summary = str(error).splitlines()[0][:200] if str(error) else type(error).__name__
        self.notify(f"Something went wrong inside flowdesk ({summary}). Details are in {self.log_file}.")
