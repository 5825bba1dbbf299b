"""Help > Keyboard shortcuts and Help > About flowdesk.

The shortcut list is read from the window's own menus when it is opened, so it cannot drift from
what the keys really do; the canvas gestures that are not menu actions are listed beside them.
"""

from __future__ import annotations

import platform
from typing import TYPE_CHECKING

import PySide6
from PySide6.QtCore import qVersion
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLineEdit,
    QMenu,
    QMessageBox,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from flowdesk import __version__

if TYPE_CHECKING:
    from flowdesk.ui.main_window import MainWindow

CANVAS_GESTURES = (
    ("Quick-add a node under the mouse", "Tab"),
    ("Pan", "Middle drag, or Space + drag"),
    ("Zoom at the cursor", "Wheel"),
    ("Nudge the selection by 10 / 50", "Arrows / Shift+Arrows"),
    ("Delete the selected nodes and wires", "Delete, Backspace"),
    ("Add to or take from the selection", "Ctrl+click"),
    ("Select the nodes a box touches", "Drag on empty canvas"),
    ("Connect two ports", "Drag from one port to the other"),
    ("Quick-add a node wired to a port", "Drop a wire on empty canvas"),
)


def menu_shortcuts(menu: QMenu, path: str = "") -> list[tuple[str, str, str]]:
    """(menu path, action, shortcut) of every action with a shortcut in ``menu`` and its submenus."""
    found: list[tuple[str, str, str]] = []
    where = f"{path} > {menu.title()}" if path else menu.title()
    for action in menu.actions():
        sub = action.menu()
        if isinstance(sub, QMenu):
            found.extend(menu_shortcuts(sub, where))
        elif not action.shortcut().isEmpty():
            text = action.text().replace("&", "").rstrip("…").strip()
            keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
            found.append((where.replace("&", ""), text, keys))
    return found


class ShortcutsDialog(QDialog):
    """Every shortcut of the window, grouped by menu, with a filter box."""

    def __init__(self, window: QWidget, menus: list[QMenu]) -> None:
        super().__init__(window)
        self.setWindowTitle("Keyboard shortcuts")
        self.resize(560, 560)
        self.filter = QLineEdit(placeholderText="Filter, e.g. 'run' or 'Ctrl'…")
        self.filter.setClearButtonEnabled(True)
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["Action", "Keys"])
        self.tree.setColumnWidth(0, 320)
        groups: dict[str, list[tuple[str, str]]] = {}
        for menu in menus:
            for where, text, keys in menu_shortcuts(menu):
                groups.setdefault(where, []).append((text, keys))
        groups["Canvas"] = list(CANVAS_GESTURES)
        for where, rows in groups.items():
            group = QTreeWidgetItem([where])
            self.tree.addTopLevelItem(group)
            for text, keys in rows:
                group.addChild(QTreeWidgetItem([text, keys]))
            group.setExpanded(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        for widget in (self.filter, self.tree, buttons):
            layout.addWidget(widget)
        self.filter.textChanged.connect(self._filter)

    def _filter(self, text: str) -> None:
        needle = text.strip().lower()
        for i in range(self.tree.topLevelItemCount()):
            group = self.tree.topLevelItem(i)
            shown = 0
            for j in range(group.childCount()):
                row = group.child(j)
                hit = not needle or needle in row.text(0).lower() or needle in row.text(1).lower()
                row.setHidden(not hit)
                shown += hit
            group.setHidden(shown == 0)

    def rows(self) -> list[tuple[str, str, str]]:
        """(group, action, keys) of the rows shown now."""
        shown = []
        for i in range(self.tree.topLevelItemCount()):
            group = self.tree.topLevelItem(i)
            for j in range(group.childCount()):
                row = group.child(j)
                if not row.isHidden() and not group.isHidden():
                    shown.append((group.text(0), row.text(0), row.text(1)))
        return shown


class HelpMenu:
    """The Help menu, added last so it sits at the right end of the menu bar."""

    def __init__(self, window: MainWindow) -> None:
        self.window = window
        self.menu = window.menuBar().addMenu("&Help")
        self.shortcuts_action = QAction("&Keyboard shortcuts", window)
        self.shortcuts_action.setShortcut(QKeySequence("Ctrl+/"))
        self.shortcuts_action.triggered.connect(self.show_shortcuts)
        self.about_action = QAction("&About flowdesk", window)
        self.about_action.triggered.connect(self.show_about)
        self.menu.addActions([self.shortcuts_action, self.about_action])

    def show_shortcuts(self) -> ShortcutsDialog:
        menus = [a.menu() for a in self.window.menuBar().actions() if isinstance(a.menu(), QMenu)]
        dialog = ShortcutsDialog(self.window, menus)
        dialog.open()
        return dialog

    def about_text(self) -> str:
        store = self.window.store
        return (
            f"<b>flowdesk {__version__}</b><br>Design, run and inspect workflows.<br><br>"
            f"Library: <code>{store.path}</code><br>"
            f"Log of internal errors: <code>{store.path.parent / 'flowdesk.log'}</code><br><br>"
            f"Python {platform.python_version()} · Qt {qVersion()} · PySide6 {PySide6.__version__}"
        )

    def show_about(self) -> None:
        box = QMessageBox(QMessageBox.Icon.Information, "About flowdesk", self.about_text(), parent=self.window)
        box.open()
