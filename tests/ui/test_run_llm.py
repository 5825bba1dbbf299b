"""The prompt -> LLM example run in the window through each real provider, against the loopback fake.

The reply streams into the log as it arrives, and tokens and cost show per step (Run data) and per
run (Runs panel, status bar); the credential's key shows nowhere.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from pytestqt.qtbot import QtBot
from support.fake_llm_server import DEFAULT_TEXT, FakeLLMServer
from test_run_window import click_run_in_dialog, press_run, wait_finished

from flowdesk.engine.services import EngineServices
from flowdesk.model.fileformat import read_workflow
from flowdesk.nodes.registry import builtin_registry
from flowdesk.nodes.tools import builtin_tools
from flowdesk.paths import examples_dir
from flowdesk.providers.credentials import KeyStore
from flowdesk.providers.settings import CredentialInfo, LLMSettings
from flowdesk.providers.setup import llm_services
from flowdesk.store.store import Store
from flowdesk.ui.main_window import MainWindow

KEY = "sk-WINDOWCANARY-81d0c2"
MODELS = {"openai": "gpt-4o-mini", "anthropic": "claude-3-5-haiku-20241022"}


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_ask_llm_streams_into_the_log_with_tokens_and_cost(
    qtbot: QtBot,
    qloop: asyncio.AbstractEventLoop,
    run_store: Store,
    tmp_path: Path,
    fake_llm: FakeLLMServer,
    answer_dialog: Callable[..., None],
    provider: str,
) -> None:
    base = fake_llm.url + ("/v1" if provider == "openai" else "")
    settings = LLMSettings(credentials=(CredentialInfo(name="fake", provider=provider, base_url=base),))
    KeyStore().set("fake", KEY)
    llm = llm_services(settings)
    services = EngineServices(providers=llm.providers, secrets=llm.credentials, tools=builtin_tools())
    qsettings = QSettings(str(tmp_path / "window.ini"), QSettings.Format.IniFormat)
    win = MainWindow(run_store, builtin_registry(), qsettings, services=services, llm=llm)
    win.show()
    try:
        workflow = read_workflow(examples_dir() / "ask_llm.json")
        nodes = tuple(
            n.model_copy(update={"config": {**n.config, "model": f"{provider}:{MODELS[provider]}", "credential": "fake"}})
            if n.kind == "llm" else n
            for n in workflow.nodes
        )  # fmt: skip
        win.load(workflow.model_copy(update={"nodes": nodes}), "library")
        answer_dialog(click_run_in_dialog)
        press_run(qtbot, win)
        assert wait_finished(qtbot, win) == "succeeded"
        model = win.runs.log_panel.model
        assert model is not None
        streams = [line for line in model.lines if line.kind == "llm_stream"]
        assert [line.text for line in streams] == ["› " + DEFAULT_TEXT]  # the deltas grew one line
        llm_node = next(n.id for n in nodes if n.kind == "llm")
        win.scene.select([llm_node])
        facts = {
            win.runs.record.facts.itemAt(i, win.runs.record.facts.ItemRole.LabelRole).widget().text(): (
                win.runs.record.facts.itemAt(i, win.runs.record.facts.ItemRole.FieldRole).widget().text()
            )
            for i in range(win.runs.record.facts.rowCount())
        }
        assert facts["Tokens"] == "11 in, 7 out"
        assert facts["Cost"].startswith("$")
        row = win.runs.runs_panel.tree.topLevelItem(0)
        assert row.text(3) == "18" and row.text(4).startswith("$")
        assert "18 tokens" in win.runs.run_status.text()
        shown = "\n".join(win.runs.log_panel.shown_lines()) + win.statusBar().currentMessage()
        assert KEY not in shown
        assert fake_llm.requests and fake_llm.requests[0].headers  # it really went over HTTP
    finally:
        win.runs.controller.cancel_all_blocking(5.0)
        win.stack.setClean()
        win.close()
        closing = asyncio.ensure_future(llm.aclose())
        qtbot.waitUntil(closing.done)
