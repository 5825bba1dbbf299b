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

    def _entries(self) -> list[tuple[str, str, str]]:
        """(reference, label, workflow id) triples, most recent first (lists of older versions: id '')."""
        raw = self.settings.value(KEY)
        try:
            data = json.loads(raw) if isinstance(raw, str) else []
        except ValueError:
            return []
        if not isinstance(data, list):
            return []
        return [
            (str(e[0]), str(e[1]), str(e[2]) if len(e) > 2 else "")
            for e in data
            if isinstance(e, list) and len(e) >= 2 and isinstance(e[0], str)
        ]

    def items(self) -> list[tuple[str, str]]:
        """(reference, label) pairs, most recent first."""
        return [(ref, label) for ref, label, _ in self._entries()]

    def add(self, ref: str, label: str, workflow_id: str = "") -> None:
        """Put ``ref`` first; an earlier entry of the same workflow (its file, before it was saved into
        the library) goes, so each workflow is listed once."""
        kept = [e for e in self._entries() if e[0] != ref and not (workflow_id and workflow_id in (e[0], e[2]))]
        self.settings.setValue(KEY, json.dumps([(ref, label, workflow_id), *kept][:LIMIT]))

    def remove(self, ref: str) -> None:
        self.settings.setValue(KEY, json.dumps([e for e in self._entries() if e[0] != ref]))

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
