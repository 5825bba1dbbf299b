"""File > Back up library…: a consistent copy of the whole library, taken while the app goes on.

The copy is SQLite's online backup through the app's own connection (``flowdesk.store.backup``),
the same as `flowdesk backup FILE`; the file is chosen in the app's file dialog that reads no
file and hides the library's own.
"""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMainWindow, QMenu, QMessageBox

from flowdesk.store.backup import backup_library
from flowdesk.store.database import LibraryError
from flowdesk.store.store import Store
from flowdesk.ui.file_dialogs import save_file_name


class LibraryBackup:
    """The menu action and what it does; ``install`` puts it in a menu before the menu's last separator."""

    def __init__(self, window: QMainWindow, store: Store) -> None:
        self.window = window
        self.store = store
        self.action = QAction("&Back up library…", window)
        self.action.setStatusTip("Write a copy of every workflow version and run to a file")
        self.action.triggered.connect(self.back_up)

    @classmethod
    def install(cls, window: QMainWindow, store: Store, menu: QMenu) -> LibraryBackup:
        backup = cls(window, store)
        separators = [a for a in menu.actions() if a.isSeparator()]
        if separators:
            menu.insertAction(separators[-1], backup.action)
        else:
            menu.addAction(backup.action)
        return backup

    def suggested_name(self) -> str:
        library = self.store.path
        return str(library.with_name(f"{library.stem}-backup-{time.strftime('%Y-%m-%d')}{library.suffix}"))

    def back_up(self) -> Path | None:
        """Ask where, then write the copy; the status bar says where it went (None when cancelled or refused)."""
        chosen = save_file_name(
            self.window, "Back up the library", self.suggested_name(), "Library backups (*.db)", self.store.path
        )
        if not chosen:
            return None
        try:  # the dialog has asked whether to replace a file that is there
            written = backup_library(self.store.db, chosen, replace=True)
        except LibraryError as exc:
            QMessageBox.warning(self.window, "Cannot back up the library", str(exc))
            return None
        self.window.statusBar().showMessage(f"Backed up the library to {written}", 8000)
        return written
