"""File > Open recent: the last workflows opened or saved, library ones by id, files by path."""

from __future__ import annotations

import json
from collections.abc import Callable

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QMenu

KEY = "recent/workflows"
LIMIT = 10


class RecentWorkflows:
    def __init__(self, settings: QSettings) -> None:
        self.settings = settings

    def items(self) -> list[tuple[str, str]]:
        """(reference, label) pairs, most recent first."""
        raw = self.settings.value(KEY)
        try:
            data = json.loads(raw) if isinstance(raw, str) else []
        except ValueError:
            return []
        return [(str(r), str(label)) for r, label in data if isinstance(r, str)] if isinstance(data, list) else []

    def add(self, ref: str, label: str) -> None:
        kept = [(r, lab) for r, lab in self.items() if r != ref]
        self.settings.setValue(KEY, json.dumps([(ref, label), *kept][:LIMIT]))

    def remove(self, ref: str) -> None:
        self.settings.setValue(KEY, json.dumps([(r, lab) for r, lab in self.items() if r != ref]))

    def fill(self, menu: QMenu, open_ref: Callable[[str], object]) -> None:
        """Rebuild ``menu`` (called as it is about to show, so it is always current)."""
        menu.clear()
        items = self.items()
        if not items:
            menu.addAction("(nothing opened yet)").setEnabled(False)
            return
        for index, (ref, label) in enumerate(items, start=1):
            action = menu.addAction(f"&{index % 10}  {label}")
            action.setToolTip(ref)
            action.triggered.connect(lambda _checked=False, r=ref: open_ref(r))
        menu.addSeparator()
        menu.addAction("Clear the list", lambda: self.settings.setValue(KEY, "[]"))
