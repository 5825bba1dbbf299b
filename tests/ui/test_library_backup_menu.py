"""File > Back up library…: the person picks a file in the app's dialog and gets a whole copy of the library."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QFileDialog, QLineEdit
from pytestqt.qtbot import QtBot

from flowdesk.model.workflow import Workflow
from flowdesk.store.store import open_store
from flowdesk.ui.main_window import MainWindow


def _save_in_dialog_as(path: Path) -> None:
    def answer() -> None:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, QFileDialog):
            QTimer.singleShot(20, answer)
            return
        name = dialog.findChild(QLineEdit, "fileNameEdit")
        buttons = dialog.findChild(QDialogButtonBox)
        assert name is not None and buttons is not None
        name.setText(str(path))
        QTest.mouseClick(buttons.button(QDialogButtonBox.StandardButton.Save), Qt.MouseButton.LeftButton)

    QTimer.singleShot(0, answer)


def test_back_up_library_in_the_file_menu_writes_a_whole_copy(qtbot: QtBot, window: MainWindow, tmp_path: Path) -> None:
    window.store.workflows.save(Workflow(id="wf_one", name="one"))
    window.store.workflows.save(Workflow(id="wf_two", name="two"))
    [action] = [a for a in window.menuBar().actions()[0].menu().actions() if a.text() == "&Back up library…"]
    target = tmp_path / "copy.db"
    _save_in_dialog_as(target)
    action.trigger()
    qtbot.waitUntil(target.exists, timeout=10_000)
    assert "Backed up the library to" in window.statusBar().currentMessage()
    copy = open_store(target)
    try:
        assert {w.id for w in copy.workflows.list()} == {"wf_one", "wf_two"}
    finally:
        copy.close()
