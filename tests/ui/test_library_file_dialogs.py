"""The app's file dialogs, opened on the folder that holds the library, leave the library shared.

Qt's file dialog sniffed the content of ``library.db``, ``-wal`` and ``-shm`` to pick their icons;
that open and close dropped every SQLite lock the app held (see ``flowdesk.store.files``), and the
next `flowdesk list` beside the app deleted the ``-wal`` under it. Here the real main window opens
its Import dialog (Ctrl+I) on the library's folder, lets it list and draw the folder, closes it,
and then the app and another process both write: each sees the other's work, the ``-wal`` stays.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QFileDialog, QLineEdit, QListView, QMessageBox
from pytestqt.qtbot import QtBot

import flowdesk.ui
from flowdesk.model.workflow import Workflow
from flowdesk.nodes.registry import builtin_registry
from flowdesk.paths import examples_dir
from flowdesk.store.store import Store, open_store
from flowdesk.ui.main_window import MainWindow


@pytest.fixture
def library(tmp_path: Path) -> Path:
    folder = tmp_path / "work"
    folder.mkdir()
    return folder / "library.db"


@pytest.fixture
def app_window(qtbot: QtBot, library: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[MainWindow]:
    monkeypatch.chdir(library.parent)  # `flowdesk --db ./library.db`: the dialogs open in its folder
    store = open_store(library)
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    win = MainWindow(store, builtin_registry(), settings)
    win.show()
    qtbot.waitExposed(win)
    yield win
    if win.stack is not None:
        win.stack.setClean()
    win.close()
    win.deleteLater()
    store.close()


def _flowdesk(library: Path, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "flowdesk", "--db", str(library), *args], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _wal(library: Path) -> Path:
    return library.with_name(library.name + "-wal")


def _in_dialog(act: Callable[[QFileDialog], None]) -> None:
    """Run ``act`` on the file dialog once it is open (it is modal: the test waits inside its loop)."""

    def look() -> None:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, QFileDialog):
            QTimer.singleShot(20, look)
            return
        act(dialog)

    QTimer.singleShot(0, look)


def _listed(dialog: QFileDialog) -> set[str]:
    """The names the dialog shows, after it has listed the folder and drawn every row (icons included)."""
    QTest.qWait(1500)
    view = dialog.findChild(QListView, "listView")
    assert view is not None
    model, root = view.model(), view.rootIndex()
    return {model.index(row, 0, root).data() for row in range(model.rowCount(root))}


def test_the_import_dialog_on_the_librarys_folder_leaves_the_library_shared(
    qtbot: QtBot, app_window: MainWindow, library: Path
) -> None:
    store: Store = app_window.store
    store.workflows.save(Workflow(id="wf_before", name="saved before"))
    shutil.copy(examples_dir() / "ask_llm.json", library.parent / "cli.json")
    seen: list[set[str]] = []

    def look_then_cancel(dialog: QFileDialog) -> None:
        try:
            dialog.setDirectory(str(library.parent))  # where it opens by itself depends on where it was last
            dialog.setNameFilter("All files (*)")
            seen.append(_listed(dialog))
        finally:
            dialog.reject()

    _in_dialog(look_then_cancel)
    QTest.keyClick(app_window, Qt.Key.Key_I, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: bool(seen), timeout=10_000)
    assert "cli.json" in seen[0]

    assert "imported" in _flowdesk(library, "import", str(library.parent / "cli.json"))  # another process writes
    assert _wal(library).exists(), "another process deleted the -wal while the app had the library open"
    app_window.new_workflow()
    assert app_window.document is not None
    assert app_window.save()  # the app writes
    listed = _flowdesk(library, "list")
    assert "saved before" in listed and "Untitled workflow" in listed, "the app's writes are invisible to others"
    assert "ask_llm" in {w.id for w in store.workflows.list()}, "the other process's write is invisible to the app"
    assert _wal(library).exists()
    assert not {"library.db", "library.db-wal", "library.db-shm"} & seen[0], "the library's files are offered"


def test_a_library_file_typed_into_the_dialog_is_refused_and_the_library_stays_shared(
    qtbot: QtBot, app_window: MainWindow, library: Path
) -> None:
    app_window.store.workflows.save(Workflow(id="wf_before", name="saved before"))
    warned: list[str] = []

    def answer_warning() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, answer_warning)
            return
        warned.append(box.text())
        box.accept()

    def type_the_wal(dialog: QFileDialog) -> None:
        name = dialog.findChild(QLineEdit, "fileNameEdit")
        assert name is not None
        name.setText(str(_wal(library)))  # pasted: typing would open the completer over the buttons
        buttons = dialog.findChild(QDialogButtonBox)
        assert buttons is not None
        QTimer.singleShot(0, answer_warning)
        QTest.mouseClick(buttons.button(QDialogButtonBox.StandardButton.Open), Qt.MouseButton.LeftButton)
        if dialog.isVisible():
            dialog.reject()

    _in_dialog(type_the_wal)
    QTest.keyClick(app_window, Qt.Key.Key_I, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: bool(warned), timeout=10_000)
    assert "library's own files" in warned[0], warned
    _flowdesk(library, "list")
    assert _wal(library).exists(), "another process deleted the -wal while the app had the library open"


def test_every_file_dialog_of_the_app_is_the_one_that_reads_no_file() -> None:
    """A new dialog made with QFileDialog directly would bring the sniffing back."""
    ui = Path(flowdesk.ui.__file__).parent
    users = sorted(str(p.relative_to(ui)) for p in ui.rglob("*.py") if "QFileDialog" in p.read_text(encoding="utf-8"))
    assert users == ["file_dialogs.py"], users
