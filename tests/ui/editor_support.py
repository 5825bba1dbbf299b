"""Helpers for tests of the editing actions in a real main window (its fixtures are in conftest.py)."""

from __future__ import annotations

from canvas_support import Canvas, assert_scene_matches
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from flowdesk.paths import examples_dir
from flowdesk.ui.main_window import MainWindow


def open_example(window: MainWindow, name: str) -> None:
    assert window.open_workflow(str(examples_dir() / f"{name}.json"))
    window.view.set_zoom(1.0)
    window.view.centerOn(0.0, 0.0)
    window.view.setFocus()
    QApplication.processEvents()


def press(window: MainWindow, key: Qt.Key, modifiers: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier) -> None:
    """A key press on the canvas, as the person would type it (shortcuts included)."""
    window.view.setFocus()
    QTest.keyClick(window.view, key, modifiers)
    QApplication.processEvents()


CTRL = Qt.KeyboardModifier.ControlModifier


def mouse_to(window: MainWindow, scene_pos: QPointF) -> QPoint:
    """Move the mouse over the canvas to ``scene_pos``; returns the viewport pixel."""
    pixel = window.view.to_viewport(scene_pos).toPoint()
    QTest.mouseMove(window.view.viewport(), pixel)
    QApplication.processEvents()
    return pixel


def mouse_away(window: MainWindow) -> None:
    """Take the mouse off the canvas (as opening a menu does)."""
    QTest.mouseMove(window.palette, QPoint(5, 5))
    leave = window.editing.watcher
    assert leave is not None
    leave.mouse = None  # offscreen Qt sends no Leave for a synthetic move; this is what Leave does
    QApplication.processEvents()


def status(window: MainWindow) -> str:
    return window.statusBar().currentMessage()


def assert_window_scene_matches(window: MainWindow) -> None:
    """The window's canvas shows exactly its document (see ``canvas_support.assert_scene_matches``)."""
    assert window.document is not None and window.stack is not None
    assert window.scene is not None and window.view is not None
    assert_scene_matches(Canvas(window.document, window.stack, window.scene, window.view))
