"""Tab bars of tabbed docks that Qt left on screen after it stopped using them: hidden.

Why: QMainWindow makes a new tab bar when a dock joins a tabbed group (the window tabs Log,
Timeline and Problems together, and restoring a saved layout regroups them) and leaves the old one
visible until its deferred deletion: the first frames (and a screenshot taken then) show it as an
empty-looking tab bar under the dock area. A bar in use sits against the dock it shows (Qt lays it
out and shows it again at every layout pass), so a visible bar away from its dock is a leftover.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QRect, Qt, QTimer
from PySide6.QtWidgets import QDockWidget, QMainWindow, QTabBar, QTabWidget
from shiboken6 import getCppPointer, isValid

NEAR = 8
"""Pixels between a bar and its dock's edge (the dock separator and frame) still counted as touching."""


def stray_tab_bars(window: QMainWindow) -> list[QTabBar]:
    """The window's visible dock tab bars that no shown dock sits against."""
    direct = Qt.FindChildOption.FindDirectChildrenOnly
    docks = {getCppPointer(dock)[0]: dock for dock in window.findChildren(QDockWidget, options=direct)}
    stray = []
    for bar in window.findChildren(QTabBar, options=direct):
        if not bar.isVisible():
            continue
        dock = docks.get(bar.tabData(bar.currentIndex()))
        if (
            dock is None
            or not dock.isVisible()
            or dock.isFloating()
            or not _touches(bar.geometry(), dock.geometry(), window.tabPosition(window.dockWidgetArea(dock)))
        ):
            stray.append(bar)
    return stray


def _touches(bar: QRect, dock: QRect, side: QTabWidget.TabPosition) -> bool:
    """Whether ``bar`` sits against ``dock`` on the side the window puts the tabs of that dock's area."""
    across = bar.left() < dock.right() and dock.left() < bar.right()
    beside = bar.top() < dock.bottom() and dock.top() < bar.bottom()
    if side == QTabWidget.TabPosition.South:
        return across and abs(bar.top() - dock.bottom()) <= NEAR
    if side == QTabWidget.TabPosition.North:
        return across and abs(dock.top() - bar.bottom()) <= NEAR
    if side == QTabWidget.TabPosition.West:
        return beside and abs(dock.left() - bar.right()) <= NEAR
    return beside and abs(bar.left() - dock.right()) <= NEAR


class StrayTabBarSweeper(QObject):
    """Hides leftover tab bars after each show, resize and layout pass of ``window`` (once the pass is done)."""

    def __init__(self, window: QMainWindow) -> None:
        super().__init__(window)
        self.window = window
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.sweep)
        window.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.window and event.type() in (
            QEvent.Type.Show, QEvent.Type.Resize, QEvent.Type.LayoutRequest
        ):  # fmt: skip
            self._timer.start(0)
        return False

    def sweep(self) -> None:
        if not isValid(self.window):
            return
        for bar in stray_tab_bars(self.window):
            bar.hide()
