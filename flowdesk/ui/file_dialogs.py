"""The app's file dialogs: they never open a file they list, and never offer the library's own files.

Qt's file dialog, its file model and the platform's native dialogs find a file's icon and type by
reading its first bytes (MIME sniffing) when the name alone does not tell. Opened in the folder
that holds ``library.db``, that read and close of ``library.db``, ``-wal`` and ``-shm`` dropped
every lock SQLite held on them in this process (POSIX drops all of a process's locks on a file
when any of its descriptors is closed); the next ``flowdesk list`` then deleted the ``-wal`` under
the running app (see ``flowdesk.store.files``). So every dialog here is Qt's own (not native:
a native one runs its sniffing inside this process too), with icons and type names taken from
the name alone, and the library's files hidden; one typed in by hand is refused.

Every file dialog of the app goes through this module (a test checks that no other calls
``QFileDialog`` itself).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QFileInfo, QModelIndex, QPersistentModelIndex, QSortFilterProxyModel
from PySide6.QtGui import QAbstractFileIconProvider, QIcon
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QFileSystemModel,
    QMessageBox,
    QStyle,
    QWidget,
)

from flowdesk.store.files import is_library_file, library_names

_Index = QModelIndex | QPersistentModelIndex


class NameOnlyIcons(QAbstractFileIconProvider):
    """Icons and type names from what ``stat`` says and the file's name: no file is ever opened."""

    def __init__(self) -> None:
        super().__init__()
        style = QApplication.style()
        self._folder = style.standardIcon(QStyle.StandardPixmap.SP_DirIcon)
        self._file = style.standardIcon(QStyle.StandardPixmap.SP_FileIcon)

    def icon(self, what: object) -> QIcon:  # type: ignore[override]
        if isinstance(what, QFileInfo):
            return self._folder if what.isDir() else self._file
        return self._folder if what == QAbstractFileIconProvider.IconType.Folder else self._file

    def type(self, info: QFileInfo) -> str:
        if info.isDir():
            return "Folder"
        suffix = info.suffix()
        return f"{suffix.upper()} file" if suffix else "File"


class HideLibraryFiles(QSortFilterProxyModel):
    """The file model without the library's files (``library.db``, its ``-wal``, ``-shm``, owners folder)."""

    def __init__(self, library: Path | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._folder = str(library.parent) if library is not None else None
        self._names = library_names(library) if library is not None else set()

    def filterAcceptsRow(self, row: int, parent: _Index) -> bool:
        model = self.sourceModel()
        if self._folder is None or not isinstance(model, QFileSystemModel):
            return True
        index = model.index(row, 0, parent)
        return not (model.fileName(index) in self._names and str(Path(model.filePath(index)).parent) == self._folder)


def make_dialog(parent: QWidget | None, caption: str, directory: str, library: Path | None) -> QFileDialog:
    """A file dialog that reads no file it lists and does not list the library's files."""
    dialog = QFileDialog(parent, caption, directory)
    dialog.setOption(QFileDialog.Option.DontUseNativeDialog, True)
    dialog.setIconProvider(NameOnlyIcons())  # before the model lists anything
    dialog.setProxyModel(HideLibraryFiles(library, dialog))
    return dialog


def _chosen(dialog: QFileDialog, library: Path | None) -> str:
    if not dialog.exec():
        return ""
    files = dialog.selectedFiles()
    name = files[0] if files else ""
    if name and library is not None and is_library_file(library, name):
        QMessageBox.warning(
            dialog.parentWidget(),
            "That is the library",
            f"{name} is one of the library's own files; flowdesk keeps its hands off it while the library is open."
            " Choose another file.",
        )
        return ""
    return name


def open_file_name(parent: QWidget | None, caption: str, directory: str, name_filter: str, library: Path | None) -> str:
    """The file chosen to open, or "" when cancelled."""
    dialog = make_dialog(parent, caption, directory, library)
    dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
    dialog.setNameFilter(name_filter)
    return _chosen(dialog, library)


def save_file_name(parent: QWidget | None, caption: str, path: str, name_filter: str, library: Path | None) -> str:
    """The file to write (``path`` is the name or path offered), or "" when cancelled."""
    dialog = make_dialog(parent, caption, str(Path(path).parent) if Path(path).is_absolute() else "", library)
    dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
    dialog.setFileMode(QFileDialog.FileMode.AnyFile)
    dialog.setNameFilter(name_filter)
    dialog.selectFile(Path(path).name)
    return _chosen(dialog, library)


def existing_directory(parent: QWidget | None, caption: str, directory: str, library: Path | None = None) -> str:
    """The folder chosen, or "" when cancelled."""
    dialog = make_dialog(parent, caption, directory, library)
    dialog.setFileMode(QFileDialog.FileMode.Directory)
    dialog.setOption(QFileDialog.Option.ShowDirsOnly, True)
    return _chosen(dialog, library)
