"""Starting the desktop app: one event loop for Qt and asyncio (qasync), the library, the window."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QApplication, QMessageBox

from flowdesk.engine.services import EngineServices
from flowdesk.nodes.registry import default_registry
from flowdesk.nodes.tools import default_tools
from flowdesk.providers.settings import LLMSettings, SettingsError, load_settings
from flowdesk.providers.setup import llm_services
from flowdesk.store.database import LibraryError
from flowdesk.store.store import open_store
from flowdesk.ui.collector import GuiCollector
from flowdesk.ui.error_guard import ErrorGuard

if TYPE_CHECKING:
    from flowdesk.engine.http import HttpxTransport

log = logging.getLogger(__name__)


class LazyHttpTransport:
    """The http node's transport, made on its first request: httpx and its client (connection pool,
    TLS set-up) take a few tenths of a second, which the window should not wait for."""

    def __init__(self) -> None:
        self._transport: HttpxTransport | None = None

    async def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str],
        params: Mapping[str, str],
        content: bytes | None,
        timeout_s: float | None,
    ) -> tuple[int, dict[str, str], bytes]:
        if self._transport is None:
            from flowdesk.engine.http import HttpxTransport

            self._transport = HttpxTransport()
        return await self._transport.request(
            method, url, headers=headers, params=params, content=content, timeout_s=timeout_s
        )

    async def aclose(self) -> None:
        if self._transport is not None:
            await self._transport.aclose()


def run_app(
    argv: Sequence[str], *, db: str | None = None, profile: str | None = None, open_ref: str | None = None
) -> int:
    """Open the main window and run until it closes; returns the exit code."""
    import qasync

    from flowdesk.ui.main_window import MainWindow
    from flowdesk.ui.startup_probe import StartupProbe

    probe = StartupProbe.from_env()  # FLOWDESK_STARTUP_PROBE: time the start-up (tests/bench/bench_startup.py)
    probe.mark("imports")
    app = QApplication.instance() or QApplication([sys.argv[0], *argv])
    app.setApplicationName("flowdesk")
    app.setOrganizationName("flowdesk")
    GuiCollector.install(app)  # cyclic garbage (and the Qt objects in it) is freed on this thread only
    try:
        store = open_store(db, profile)
    except LibraryError as exc:
        QMessageBox.critical(None, "flowdesk cannot open its library", str(exc))
        return 2
    probe.mark("store")
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    http = LazyHttpTransport()
    try:
        llm = llm_services(load_settings())
    except SettingsError as exc:
        QMessageBox.warning(None, "flowdesk settings cannot be read", f"{exc}\n\nOnly the offline model is available.")
        llm = llm_services(LLMSettings())
    services = EngineServices(providers=llm.providers, secrets=llm.credentials, tools=default_tools(), http=http)
    probe.mark("services")
    window = MainWindow(store, default_registry(), services=services, llm=llm)
    probe.mark("window")
    guard = ErrorGuard(store.path.parent / "flowdesk.log", window.report_internal_error).install(loop)
    probe.watch(window)
    window.show()
    recovered = window.session.offer_recovery()
    if open_ref and not recovered:
        window.open_workflow(open_ref)
    elif not recovered and not window.session.reopen_last():  # where the person left off
        window.session.show_welcome_if_new()
    probe.mark("shown")
    closed = asyncio.Event()
    app.aboutToQuit.connect(closed.set)
    try:
        with loop:
            loop.run_until_complete(closed.wait())
            loop.run_until_complete(http.aclose())
            loop.run_until_complete(window.runs.llm_close())
    finally:
        guard.uninstall()
        store.close()
    return 0
