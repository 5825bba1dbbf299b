"""The Run menu and the Run toolbar of the window, built over the workbench's slots.

Kept apart from the workbench (which owns what the actions do) so the menu's wording, shortcuts and
icons are read in one place.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QApplication, QMenu, QStyle

if TYPE_CHECKING:
    from flowdesk.ui.runs.workbench import RunWorkbench


def build_run_menu(bench: RunWorkbench, menu: QMenu) -> None:
    """Fill ``menu`` and keep each action on ``bench`` (``run_action`` …), which enables them by state."""

    def action(text: str, slot: Any, shortcut: Any = None, tip: str = "") -> QAction:
        act = QAction(text, bench.window)
        if shortcut is not None:
            act.setShortcut(QKeySequence(shortcut))
        act.setToolTip(tip or text)
        act.triggered.connect(slot)
        menu.addAction(act)
        return act

    bench.run_action = action("&Run", bench.run_workflow, "F5", "Run the workflow (saves it first)")
    bench.stop_action = action("&Stop", bench.stop, "Shift+F5", "Cancel the shown run")
    bench.pause_action = action("&Pause", bench.pause, "F6", "Start no new node until you continue")
    bench.continue_action = action("&Continue", bench.continue_run, "F8", "Continue a paused run")
    bench.step_action = action("S&tep", bench.step, "F10", "Run the next node, then pause again")
    menu.addSeparator()
    bench.rerun_action = action(
        "Re-run from selected node", lambda: bench.rerun_from(bench.selected_node()), "Ctrl+Shift+F5",
        "Save, then run the workflow as it is now from the selected node (unchanged results of the shown run "
        "are reused)",
    )  # fmt: skip
    bench.resume_action = action(
        "Resume interrupted run", bench.resume_shown, None, "Continue the shown run; finished nodes do not run again"
    )
    bench.breakpoint_action = action("Toggle &breakpoint", bench.toggle_breakpoint, "F9")
    menu.addSeparator()
    bench.result_action = action(
        "Show r&esult", lambda: bench.show_result(bench.shown), "Ctrl+R", "The shown run's outputs in full"
    )


def run_toolbar_actions(bench: RunWorkbench) -> list[QAction]:
    """The toolbar's actions, each with the usual media icon beside its text."""
    style = QApplication.style()
    icons = {
        bench.run_action: QStyle.StandardPixmap.SP_MediaPlay,
        bench.stop_action: QStyle.StandardPixmap.SP_MediaStop,
        bench.pause_action: QStyle.StandardPixmap.SP_MediaPause,
        bench.continue_action: QStyle.StandardPixmap.SP_MediaSeekForward,
        bench.step_action: QStyle.StandardPixmap.SP_MediaSkipForward,
    }
    for action, icon in icons.items():
        action.setIcon(style.standardIcon(icon))
    return list(icons)
