"""The app opens any stored workflow: one whose ids collide (stored before import checked) opens, saying so."""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox
from pytestqt.qtbot import QtBot

from flowdesk.model.fileformat import read_workflow
from flowdesk.paths import examples_dir
from flowdesk.ui.main_window import MainWindow


def test_a_stored_workflow_with_a_duplicate_node_id_opens_and_says_what_was_renamed(
    qtbot: QtBot, window: MainWindow
) -> None:
    wf = read_workflow(examples_dir() / "ask_llm.json")
    twice = wf.nodes[0]
    window.store.workflows.save(wf.model_copy(update={"nodes": (*wf.nodes, twice)}))
    said: list[str] = []

    def answer() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, answer)
            return
        said.append(box.text())
        box.accept()

    QTimer.singleShot(0, answer)
    assert window.open_workflow(wf.id)
    qtbot.waitUntil(lambda: bool(said), timeout=5000)
    assert f"'{twice.id}' -> '{twice.id}_2'" in said[0], said
    assert window.document is not None
    ids = [n.id for n in window.document.workflow.nodes]
    assert len(ids) == len(set(ids)) == len(wf.nodes) + 1
