"""The real app's window in a process of its own, saving until it is killed (see test_app_kill9.py).

Run as ``python app_child.py LIBRARY``: opens the library and the main window offscreen, with the
Import dialog open on the library's folder (what once cost the app its locks), then saves new
workflows one after another, printing ``saved ID`` right after each save returned. It prints
``ready`` once started and waits for a line on stdin before it opens the library.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

from flowdesk.nodes.registry import builtin_registry
from flowdesk.store.store import open_store
from flowdesk.ui.file_dialogs import make_dialog
from flowdesk.ui.main_window import MainWindow


def main(library: Path) -> None:
    app = QApplication([])
    print("ready", flush=True)
    sys.stdin.readline()  # the parent starts the next child early and says when it may begin
    store = open_store(library)
    window = MainWindow(
        store, builtin_registry(), QSettings(str(library.parent / "app.ini"), QSettings.Format.IniFormat)
    )
    window.show()
    dialog = make_dialog(window, "Import a workflow", str(library.parent), library)
    dialog.show()
    app.processEvents()
    while True:
        window.new_workflow()
        assert window.save()
        assert window.document is not None
        print(f"saved {window.document.workflow.id}", flush=True)
        app.processEvents()


if __name__ == "__main__":
    main(Path(sys.argv[1]))
