"""Work around PySide6 6.12.0 on CPython 3.11 losing a reference to ``None`` on every void call.

Found while painting the canvas: with PySide6/shiboken6 6.12.0 (abi3 wheels) on Python 3.11, each
call of a Qt method that returns nothing (``QPainter.setPen``, ``QRectF.setTop``, ...) hands
Python a ``None`` it never took a reference to. From Python 3.12 ``None`` is immortal (PEP 683)
and this is harmless; on 3.11 ``None``'s count falls by one per call, and after some tens of
thousands of calls (one repaint of a large canvas) the interpreter aborts with "Fatal Python error:
none_dealloc: deallocating None".

The fix does what 3.12 does: it gives ``None`` a reference count so large that no number of lost
references can bring it to zero. It is applied only where the leak is measured, so a fixed PySide6
or a newer Python is left alone. ``flowdesk.ui`` applies it on import, before any Qt call of ours.
"""

from __future__ import annotations

import ctypes
import logging
import sys

from PySide6.QtCore import QRectF

log = logging.getLogger(__name__)

_PROBE_CALLS = 64
_HEADROOM = 1 << 60
_applied = False


def void_calls_leak_none() -> bool:
    """Does a void Qt call lose a reference to None here? (Measured, not guessed from versions.)"""
    if sys.version_info >= (3, 12):
        return False
    probe = QRectF()
    before = sys.getrefcount(None)
    for _ in range(_PROBE_CALLS):
        probe.setTop(1.0)
    return sys.getrefcount(None) < before - _PROBE_CALLS // 2


def apply() -> bool:
    """Make ``None`` effectively immortal if void calls leak it; returns whether it was needed."""
    global _applied
    if _applied:
        return True
    if not void_calls_leak_none():
        return False
    # ob_refcnt is the first field of every object in a release build of CPython 3.11.
    refcount = ctypes.c_ssize_t.from_address(id(None))
    refcount.value += _HEADROOM
    _applied = True
    log.info("PySide6 loses references to None on void calls; None made immortal as on Python 3.12")
    return True
