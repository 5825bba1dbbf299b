"""Run > Start service / Stop service, the status bar's light, runs of elsewhere in the Runs panel, the Inbox."""

from __future__ import annotations

import httpx
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QMenu
from pytestqt.qtbot import QtBot
from support.service_flows import slow_chain
from support.service_thread import free_port
from support.wfbuild import node, workflow

from flowdesk.service.token import service_token
from flowdesk.store.queue import QueueStore
from flowdesk.store.store import Store
from flowdesk.ui.inbox_dialog import InboxDialog
from flowdesk.ui.main_window import MainWindow


def failing() -> object:
    wf = workflow([node("start", "start"), node("boom", "transform", expression="inputs.input.missing.deeper")],
                  ["start.inputs -> boom.input"])  # fmt: skip
    return wf.model_copy(update={"id": "wf_fails", "name": "fails"})


def test_the_app_starts_and_stops_the_service_and_sees_its_runs(qtbot: QtBot, window: MainWindow, store: Store) -> None:
    store.workflows.save(slow_chain())
    store.workflows.save(failing())  # type: ignore[arg-type]
    window.load(store.workflows.load("wf_slow"), "library")
    control = window.service_control
    assert control.light.text() == "○ service off" and control.start_action.isEnabled()
    assert control.start_action in window.menu("Run").actions()

    control.port = free_port()  # not the default: another service may run on this machine
    control.start_action.trigger()
    qtbot.waitUntil(lambda: control.light.text().startswith("● service"), timeout=30_000)
    assert not control.start_action.isEnabled() and control.stop_action.isEnabled()
    headers = {"Authorization": f"Bearer {service_token(create=False)}"}
    with httpx.Client(base_url=control.url, headers=headers) as api:  # type: ignore[arg-type]
        run_id = api.post("/api/workflows/wf_slow/runs", json={"inputs": {"text": "x"}}).json()["run_id"]
        failed = api.post("/api/workflows/wf_fails/runs", json={}).json()["run_id"]
    panel = window.runs.runs_panel
    qtbot.waitUntil(lambda: run_id in panel._items, timeout=15_000)  # a run of elsewhere appears by itself
    qtbot.waitUntil(lambda: QueueStore(store.db).inbox() != [], timeout=15_000)

    dialog = InboxDialog(window, store, control)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.table.rowCount() == 1 and dialog.table.item(0, 0).text() == failed
    window.grab().save("/tmp/serve-window.png")
    dialog.grab().save("/tmp/serve-inbox.png")
    qtbot.mouseClick(dialog.retry_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(store.runs.list("wf_fails")) == 2, timeout=15_000)
    retried = store.runs.list("wf_fails")[0]
    assert retried.options["retry_of"] == failed

    control.stop_action.trigger()
    assert control.process is None
    assert control.light.text() == "○ service off" and control.start_action.isEnabled()


def test_clicking_the_service_light_offers_what_it_can_do(qtbot: QtBot, window: MainWindow) -> None:
    """The light says "service off"; a person who clicks it gets the service's actions there, not nothing."""
    control = window.service_control
    offered: list[tuple[str, bool]] = []

    def read_and_close() -> None:
        menu = QApplication.activePopupWidget()
        if menu is None:
            QTimer.singleShot(20, read_and_close)
            return
        assert isinstance(menu, QMenu)
        offered.extend((a.text().replace("&", ""), a.isEnabled()) for a in menu.actions() if not a.isSeparator())
        menu.close()

    QTimer.singleShot(0, read_and_close)
    qtbot.mouseClick(control.light, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(offered), timeout=5000)
    assert offered == [("Start service", True), ("Stop service", False), ("Inbox…", True)]
