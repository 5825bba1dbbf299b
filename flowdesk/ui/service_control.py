"""Run > Start service / Stop service / Inbox…, the status bar's service light, and runs of elsewhere.

The service is `flowdesk serve` on the app's library, started as a child process (QProcess) of
the app: the app stops it when it quits, so nothing outlives the app that the user did not start
themselves (a service started in a terminal is shown and left alone). The light polls the
service's ``/health`` every few seconds. The same timer looks for new runs of the open workflow
in the library (triggered or submitted elsewhere) and refreshes the Runs panel when one appears.
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QCoreApplication, QObject, QProcess, QTimer
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMainWindow, QMenu, QMessageBox, QToolButton

from flowdesk.store.store import Store
from flowdesk.ui.runs.runs_panel import RunsPanel

POLL_MS = 2000


class ServiceControl(QObject):
    def __init__(self, window: QMainWindow, store: Store, runs_panel: RunsPanel) -> None:
        super().__init__(window)
        self.window = window
        self.store = store
        self.runs_panel = runs_panel
        self.process: QProcess | None = None
        self.url: str | None = None
        self.port = 8765
        """The port a service started here listens on (`flowdesk serve`'s default)."""
        self.start_action = QAction("Start &service", window)
        self.start_action.setStatusTip("Run `flowdesk serve` on this library until the app quits")
        self.start_action.triggered.connect(self.start)
        self.stop_action = QAction("Stop s&ervice", window)
        self.stop_action.triggered.connect(self.stop)
        self.inbox_action = QAction("&Inbox…", window)
        self.inbox_action.setStatusTip("Failed and waiting runs across workflows")
        self.inbox_action.triggered.connect(self.show_inbox)
        self.light = QToolButton()  # reads as a label; a click offers the service's actions
        self.light.setObjectName("service-light")
        self.light.setAutoRaise(True)
        self.light.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.light.setStyleSheet("QToolButton::menu-indicator { image: none; width: 0px; }")
        light_menu = QMenu(self.light)
        light_menu.addActions([self.start_action, self.stop_action, self.inbox_action])
        self.light.setMenu(light_menu)
        window.statusBar().addPermanentWidget(self.light)
        self._runs_seen: tuple[str | None, str | None] = (None, None)
        self.timer = QTimer(self)
        self.timer.setInterval(POLL_MS)
        self.timer.timeout.connect(self.poll)
        self.timer.start()
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.stop)
        self.refresh()

    @classmethod
    def install(cls, window: QMainWindow, store: Store, menu: QMenu, runs_panel: RunsPanel) -> ServiceControl:
        control = cls(window, store, runs_panel)
        menu.addSeparator()
        menu.addActions([control.start_action, control.stop_action, control.inbox_action])
        return control

    # ------------------------------------------------------------ the child process
    def start(self) -> None:
        if self.process is not None or self.url is not None:
            return
        process = QProcess(self)
        process.setProgram(sys.executable)
        process.setArguments(["-m", "flowdesk", "serve", "--db", str(self.store.path), "--port", str(self.port)])
        process.finished.connect(self._ended)
        process.start()
        self.process = process
        self._show("starting…", "the service is starting")

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None and process.state() != QProcess.ProcessState.NotRunning:
            process.terminate()  # SIGTERM: uvicorn stops cleanly; runs still going resume at the next start
            if not process.waitForFinished(5000):
                process.kill()
                process.waitForFinished(2000)
            self.refresh()  # only then: at the app's quit the library may already be closed

    def _ended(self, code: int, _status: QProcess.ExitStatus) -> None:
        process = self.process
        if process is None:
            return
        self.process = None
        if code != 0:
            error = bytes(process.readAllStandardError().data()).decode(errors="replace").strip().splitlines()
            QMessageBox.warning(
                self.window, "Service", "The service stopped: " + (error[-1] if error else f"exit {code}")
            )
        self.poll()

    # ------------------------------------------------------------ polling
    def poll(self) -> None:
        """The timer's look (skipped while the window is closed: the library may be closed under it)."""
        if self.window.isVisible() or self.process is not None:
            self.refresh()

    def refresh(self) -> None:
        from flowdesk.service.discovery import read_state

        info = read_state(self.store.path)
        self.url = info.url if info is not None and _answers(info.url, info.owner) else None
        ours = self.process is not None
        if self.url is not None:
            self._show(
                f"● service {self.url}", "flowdesk serve runs on this library" + (" (started here)" if ours else "")
            )
        elif ours:
            self._show("starting…", "the service is starting")
        else:
            self._show("○ service off", "Click, or Run > Start service, to run the API and the run queue")
        self.start_action.setEnabled(self.url is None and not ours)
        self.stop_action.setEnabled(ours)
        self._look_for_new_runs()

    def _show(self, text: str, tip: str) -> None:
        self.light.setText(text)
        self.light.setToolTip(tip)

    def _look_for_new_runs(self) -> None:
        """A run of the open workflow started elsewhere (the service, a trigger, the CLI) shows up in the panel."""
        workflow_id = self.runs_panel.workflow_id
        if workflow_id is None:
            return
        newest = self.store.runs.list(workflow_id, limit=1)
        seen = (workflow_id, f"{newest[0].id}:{newest[0].status}" if newest else None)
        if seen != self._runs_seen:
            if self._runs_seen[0] == workflow_id:
                self.runs_panel.refresh()
            self._runs_seen = seen

    # ------------------------------------------------------------ inbox
    def show_inbox(self) -> None:
        from flowdesk.ui.inbox_dialog import InboxDialog

        InboxDialog(self.window, self.store, self).exec()


def _answers(url: str, owner: str) -> bool:
    from flowdesk.service.discovery import health

    answer = health(url, timeout=0.3)
    return answer is not None and answer.get("owner") == owner
