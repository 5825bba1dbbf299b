"""Work around PySide6 6.12.0 on CPython 3.11 losing references to ``None``, ``True`` and ``False``.

Found while painting the canvas: with PySide6/shiboken6 6.12.0 (abi3 wheels) on Python 3.11, each
call of a Qt method that returns nothing (``QPainter.setPen``, ``QRectF.setTop``, ...) hands
Python a ``None`` it never took a reference to. Found later in a long session: each successful
``signal.disconnect(...)`` does the same with ``True`` (the window cuts about 25 links per closed
document, so some hundreds of opens used to end in "Fatal Python error: bool_dealloc"). From Python
3.12 these singletons are immortal (PEP 683) and this is harmless; on 3.11 their counts fall by one
per call, and once one reaches zero the interpreter aborts.

The fix does what 3.12 does: it gives the leaked singletons a reference count so large that no
number of lost references can bring it to zero. It is applied only where the leak is measured, so a
fixed PySide6 or a newer Python is left alone, and applying it twice changes nothing. ``flowdesk.ui``
applies it on import, before any Qt call of ours.
"""

from __future__ import annotations

import ctypes
import logging
import sys

from PySide6.QtCore import QObject, QRectF

log = logging.getLogger(__name__)

_PROBE_CALLS = 64
_HEADROOM = 1 << 60


def void_calls_leak_none() -> bool:
    """Does a void Qt call lose a reference to None here? (Measured, not guessed from versions.)"""
    if sys.version_info >= (3, 12):
        return False
    probe = QRectF()
    before = sys.getrefcount(None)
    for _ in range(_PROBE_CALLS):
        probe.setTop(1.0)
    return sys.getrefcount(None) < before - _PROBE_CALLS // 2


def _ignore(_name: str) -> None:
    """A slot to connect and disconnect while probing."""


def disconnects_leak_true() -> bool:
    """Does ``signal.disconnect`` lose a reference to True here? (Measured, as above.)"""
    if sys.version_info >= (3, 12):
        return False
    probe = QObject()
    before = sys.getrefcount(True)
    for _ in range(_PROBE_CALLS):
        probe.objectNameChanged.connect(_ignore)
        probe.objectNameChanged.disconnect(_ignore)
    return sys.getrefcount(True) < before - _PROBE_CALLS // 2


def _make_immortal(singleton: object) -> bool:
    """Raise ``singleton``'s count out of reach of any leak; False if an earlier call already did."""
    if sys.getrefcount(singleton) > _HEADROOM // 2:
        return False
    # ob_refcnt is the first field of every object in a release build of CPython 3.11.
    refcount = ctypes.c_ssize_t.from_address(id(singleton))
    refcount.value += _HEADROOM
    return True


def apply() -> bool:
    """Make the singletons PySide6 leaks effectively immortal; returns whether any leak was found."""
    leaks = False
    if void_calls_leak_none():
        leaks = True
        if _make_immortal(None):
            log.info("PySide6 loses references to None on void calls; None made immortal as on Python 3.12")
    if disconnects_leak_true():
        leaks = True
        # False goes with True: both are returned by the same bool conversions
        if _make_immortal(True) | _make_immortal(False):
            log.info("PySide6 loses references to True on disconnect; bools made immortal as on Python 3.12")
    return leaks
