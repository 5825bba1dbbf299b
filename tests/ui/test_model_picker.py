"""The inspector's model field lists the configured credentials' models (17.4): from the cache at once,
from the servers in the background on refresh; free text still allowed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot
from support.fake_llm_server import FakeLLMServer

from flowdesk.nodes.kinds.llm import LLMConfig
from flowdesk.providers.model_list import Listing, ModelCache
from flowdesk.providers.settings import CredentialInfo, LLMSettings, save_settings
from flowdesk.ui.config_form import ConfigForm


@pytest.fixture
def fake_llm() -> Iterator[FakeLLMServer]:
    server = FakeLLMServer().start()
    yield server
    server.stop()


def test_refresh_lists_the_servers_models_without_blocking_and_picking_one_sets_it(
    qtbot: QtBot, fake_llm: FakeLLMServer
) -> None:
    fake_llm.models = ["qwen3", "llama3.2"]
    save_settings(LLMSettings(credentials=(CredentialInfo(name="local", provider="ollama", base_url=fake_llm.url),)))
    sent: list[tuple[str, object]] = []
    form = ConfigForm(LLMConfig, {"model": "offline:echo"})
    qtbot.addWidget(form)
    form.changed.connect(lambda name, value: sent.append((name, value)))
    picker = form.fields["model"].editor
    # at once: the cache (empty) and the offline models; the servers are being asked in the background
    assert picker.models() == ["offline:echo", "offline:lorem"] and not picker.refresh_button.isEnabled()
    qtbot.waitUntil(lambda: "ollama:qwen3" in picker.models(), timeout=10_000)  # a never-listed credential
    assert picker.text() == "offline:echo" and sent == []  # filling the list changed nothing
    fake_llm.models = ["qwen3", "llama3.2", "gemma3"]
    qtbot.mouseClick(picker.refresh_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "ollama:gemma3" in picker.models(), timeout=10_000)
    picker.combo.setCurrentIndex(picker.models().index("ollama:qwen3"))
    assert sent == [("model", "ollama:qwen3")]
    line = picker.combo.lineEdit()
    line.selectAll()
    qtbot.keyClicks(line, "openai:my-fine-tune")  # free text still allowed
    assert sent[-1] == ("model", "openai:my-fine-tune")


def test_offline_the_cached_models_are_listed_and_the_failure_is_said(qtbot: QtBot) -> None:
    settings = LLMSettings(
        credentials=(CredentialInfo(name="local", provider="ollama", base_url="http://127.0.0.1:9"),)
    )
    save_settings(settings)
    cache = ModelCache.load()
    cache.listings["local"] = Listing("local", "ollama", ("ollama:qwen3",), 1.0)
    cache.save()
    form = ConfigForm(LLMConfig, {"model": "ollama:qwen3"})
    qtbot.addWidget(form)
    picker = form.fields["model"].editor
    assert "ollama:qwen3" in picker.models() and picker.refresh_button.isEnabled()  # at once, no fetch needed
    qtbot.mouseClick(picker.refresh_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(picker.refresh_button.isEnabled, timeout=10_000)
    assert "ollama:qwen3" in picker.models()  # still there
    assert picker.problems and picker.problems[0].startswith("local: ")
    assert "Last time" in picker.refresh_button.toolTip()
