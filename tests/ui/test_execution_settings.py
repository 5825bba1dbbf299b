"""Settings > Execution driven as a person would: pick a Dask cluster, type its address, click Test
connection against a real LocalCluster, a closed port (refused at once) and a port that never answers
(the window keeps painting while it waits), and Save it to the settings file like the other settings."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import qasync
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot
from support.dask_process import ClusterProcess, cluster_process
from support.silent_port import silent_port

import flowdesk
from flowdesk.providers.settings import LLMSettings, load_settings
from flowdesk.ui import execution_settings
from flowdesk.ui.execution_settings import CLUSTER, THIS_COMPUTER
from flowdesk.ui.settings_dialog import SettingsDialog


@pytest.fixture(scope="module")
def cluster() -> Iterator[ClusterProcess]:
    with cluster_process() as running:  # out of this process: see dask_process.py
        yield running


def dialog_for(qtbot: QtBot, settings: LLMSettings | None = None) -> SettingsDialog:
    dialog = SettingsDialog(settings or load_settings())
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def click_test(dialog: SettingsDialog, address: str) -> tuple[str, int]:
    """Type ``address``, click Test connection on a qasync loop (as in the app) and wait for the answer;
    returns the sentence and how often a 20 ms Qt timer fired meanwhile (the UI thread was free)."""
    group = dialog.execution
    group.where.setCurrentText(CLUSTER)
    group.address.setText(address)
    loop = qasync.QEventLoop(QApplication.instance())
    asyncio.set_event_loop(loop)
    ticks = [0]
    timer = QTimer()
    timer.setInterval(20)
    timer.timeout.connect(lambda: ticks.__setitem__(0, ticks[0] + 1))

    async def click_and_wait() -> None:
        timer.start()
        group.test_button.click()
        assert not group.test_button.isEnabled() and group.test_result.text().startswith("Testing ")
        await group.task
        timer.stop()

    try:
        loop.run_until_complete(asyncio.wait_for(click_and_wait(), 30))
    finally:
        asyncio.set_event_loop(None)
        loop.close()
    return group.test_result.text(), ticks[0]


def test_test_connection_names_the_workers_and_their_flowdesk(qtbot: QtBot, cluster: ClusterProcess) -> None:
    dialog = dialog_for(qtbot)
    said, _ticks = click_test(dialog, cluster.scheduler_address.replace("tcp://", "dask://"))
    assert said == f"Reachable: 2 workers at {cluster.scheduler_address}, all with flowdesk {flowdesk.__version__}."
    assert dialog.execution.test_button.isEnabled()


def test_test_connection_on_a_closed_port_says_nothing_listens_there(qtbot: QtBot) -> None:
    dialog = dialog_for(qtbot)
    said, _ticks = click_test(dialog, "dask://127.0.0.1:9")
    assert said == (
        "Cannot reach a Dask scheduler at tcp://127.0.0.1:9 "
        "(nothing listens on port 9 of 127.0.0.1: the connection was refused)."
    )
    assert dialog.execution.test_button.isEnabled()


def test_test_connection_to_a_port_that_never_answers_waits_without_freezing(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(execution_settings, "TEST_TIMEOUT_S", 1.0)  # the dialog's 5 s, shortened for the test
    with silent_port() as port:
        dialog = dialog_for(qtbot)
        said, ticks = click_test(dialog, f"dask://127.0.0.1:{port}")
    assert said.startswith(f"Cannot reach a Dask scheduler at tcp://127.0.0.1:{port} (") and "\n" not in said
    assert "did not answer as a Dask scheduler within 2 s" in said  # it held the test forever before
    assert ticks >= 10  # waited seconds for an answer, and the window never froze
    assert dialog.execution.test_button.isEnabled()


def test_a_cluster_address_is_saved_in_the_settings_file_and_shown_again(qtbot: QtBot, private_settings: Path) -> None:
    dialog = dialog_for(qtbot)
    assert dialog.execution.where.currentText() == THIS_COMPUTER and not dialog.execution.address.isEnabled()
    dialog.execution.where.setCurrentText(CLUSTER)
    dialog.execution.address.setText("dask://sched.example.org:8786")
    dialog.save()
    assert json.loads(private_settings.read_text())["default_executor"] == "dask://sched.example.org:8786"
    again = dialog_for(qtbot)
    assert again.execution.where.currentText() == CLUSTER
    assert again.execution.address.text() == "dask://sched.example.org:8786"
    again.execution.where.setCurrentText(THIS_COMPUTER)
    again.save()
    assert load_settings().default_executor is None


def test_a_long_scheduler_address_is_shown_whole_at_the_dialogs_size(qtbot: QtBot) -> None:
    dialog = dialog_for(qtbot)
    address = "dask://scheduler.example.internal:8786"
    dialog.execution.where.setCurrentText(CLUSTER)
    dialog.execution.address.setText(address)
    qtbot.waitExposed(dialog)
    field = dialog.execution.address
    assert field.width() > field.fontMetrics().horizontalAdvance(address) + 8, "the address is cut off"
    assert dialog.height() <= 670, "the dialog still fits a 700-pixel-high screen"


def test_a_bad_address_is_named_and_nothing_is_saved(qtbot: QtBot, private_settings: Path) -> None:
    dialog = dialog_for(qtbot)
    dialog.execution.where.setCurrentText(CLUSTER)
    dialog.execution.address.setText("sched:8786")
    dialog.save()
    assert dialog.status.text().startswith("Execution: an executor is 'local' or dask://HOST:PORT")
    assert not private_settings.exists() and dialog.isVisible()
