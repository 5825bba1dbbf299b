"""The inspector: the selected node's name, settings and execution options, edited through commands.

Every edit becomes a command on the document's undo stack (typing bursts merge into one step),
so the canvas, the undo history and this panel never disagree. When the document changes under
the panel (an undo, a paste, another view), the panel shows the new values without sending them
back as edits.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from flowdesk.model.commands import Command, CommandRefused, Rename, SetConfig, SetNodeOptions
from flowdesk.model.document import Change, NodeChanged, NodeRemoved
from flowdesk.model.kinds import ERROR_PORT
from flowdesk.model.workflow import Node, PinnedOutput
from flowdesk.ui.config_form import ConfigForm
from flowdesk.ui.pinned_editor import PinnedEditor
from flowdesk.ui.theming import set_tone
from flowdesk.ui.undo import DocumentUndoStack
from flowdesk.ui.workflow_panel import WorkflowPanel

NO_TIMEOUT = "none"


class _Options(QGroupBox):
    """Retry, timeout, on-error, breakpoint and remote of one node."""

    def __init__(self, on_edit: Callable[..., None]) -> None:
        super().__init__("Execution")
        self._on_edit = on_edit
        self._loading = False
        self.attempts = QSpinBox(minimum=1, maximum=100)
        self.attempts.setToolTip("Attempts in all, the first included (1 = no retry).")
        self.delay = QDoubleSpinBox(minimum=0.0, maximum=3600.0, decimals=2, suffix=" s")
        self.delay.setToolTip("Wait before the second attempt; each further wait doubles (with jitter).")
        self.timeout = QDoubleSpinBox(minimum=0.0, maximum=7 * 86400.0, decimals=1, suffix=" s")
        self.timeout.setSpecialValueText(NO_TIMEOUT)
        self.timeout.setToolTip("Time limit of one attempt; 'none' for no limit.")
        self.on_error = QComboBox()
        self.on_error.addItem("fail the run", "fail")
        self.on_error.addItem("continue through the error port", "continue")
        self.breakpoint = QCheckBox("Pause the run before this node")
        self.remote = QCheckBox("Run on the cluster")
        self.remote.setToolTip(
            "With a cluster (flowdesk run --executor dask://HOST:PORT, or the workflow's executor setting) "
            "a worker does this node's work, with only the key it needs; without one it runs here."
        )
        for spin in (self.attempts, self.delay, self.timeout):
            spin.setKeyboardTracking(False)
            spin.valueChanged.connect(self._edited)
        self.on_error.currentIndexChanged.connect(self._edited)
        self.breakpoint.toggled.connect(self._edited)
        self.remote.toggled.connect(self._edited)
        form = QFormLayout(self)
        form.addRow("Attempts", self.attempts)
        form.addRow("Retry delay", self.delay)
        form.addRow("Timeout", self.timeout)
        form.addRow("On error", self.on_error)
        form.addRow("", self.breakpoint)
        form.addRow("", self.remote)

    def show_node(self, node: Node, *, can_be_remote: bool = False) -> None:
        """``can_be_remote``: the kind's work can go to a worker; the box shows then, or while it is on
        (an option validation refuses must stay visible, to be turned off)."""
        self._loading = True
        try:
            self.attempts.setValue(node.retry.max_attempts)
            self.delay.setValue(node.retry.initial_delay_s)
            self.timeout.setValue(node.timeout_s or 0.0)
            self.on_error.setCurrentIndex(max(0, self.on_error.findData(node.on_error)))
            self.breakpoint.setChecked(node.breakpoint)
            self.remote.setChecked(node.remote)
            self.remote.setVisible(can_be_remote or node.remote)
        finally:
            self._loading = False

    def _edited(self, *_: Any) -> None:
        if not self._loading:
            self._on_edit(
                attempts=self.attempts.value(),
                delay=self.delay.value(),
                timeout_s=self.timeout.value() or None,
                on_error=self.on_error.currentData(),
                breakpoint=self.breakpoint.isChecked(),
                remote=self.remote.isChecked(),
            )


class _Body(QWidget):
    """The inspector's scrolled content. Its height for a width is never below its minimum height: the
    layout's height-for-width (word-wrapped labels make it one) came out short for some forms, and the
    scroll area, which sizes its content by it, squeezed the spin boxes and combo boxes to 17 px."""

    def heightForWidth(self, width: int) -> int:
        return max(super().heightForWidth(width), self.minimumSizeHint().height())


class Inspector(QScrollArea):
    """Shows one node at a time (``show_node``); nothing selected shows a hint."""

    def __init__(
        self,
        stack: DocumentUndoStack,
        *,
        credential_names: Callable[[], list[str]] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.stack = stack
        self.document = stack.document
        self._credential_names = credential_names
        self.node_id: str | None = None
        self.form: ConfigForm | None = None
        self._editing = False
        """True while the form's own edit is being applied: it is not rebuilt then."""
        self._pending: tuple[str | None] | None = None
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)  # fields wrap to the dock's width
        body = _Body()
        self._layout = QVBoxLayout(body)
        self.title = QLabel()
        self.title.setWordWrap(True)
        self.hint = QLabel("Select a node to see and change its settings; with none selected, the workflow's.")
        self.hint.setWordWrap(True)
        self.workflow = WorkflowPanel(stack)
        self.name = QLineEdit(placeholderText="title on the canvas")
        self.name.textEdited.connect(self._renamed)
        self.options = _Options(self._options_edited)
        self.pinned = PinnedEditor(self._pin_edited)
        self._form_box = QGroupBox("Settings")
        self._form_layout = QVBoxLayout(self._form_box)
        self.message = QLabel()
        self.message.setWordWrap(True)
        set_tone(self.message, "error")
        naming = self._naming = QFormLayout()
        naming.addRow("Name", self.name)
        for widget in (self.title, self.hint, self.workflow):
            self._layout.addWidget(widget)
        self._layout.addLayout(naming)
        for widget in (self._form_box, self.options, self.pinned, self.message):
            self._layout.addWidget(widget)
        self._layout.addStretch(1)
        self.setWidget(body)
        self._unsubscribe = self.document.subscribe(self._document_changed)
        stack.refused.connect(self._refused)
        self.show_node(None)

    # ------------------------------------------------------------ showing
    def show_node(self, node_id: str | None) -> None:
        """Show ``node_id`` (None: the workflow's panel). Asked while the form handles its own edit, the
        form is rebuilt just after that edit, never from inside it (its keystroke would be lost)."""
        if self._editing:
            self._pending = (node_id,)
            QTimer.singleShot(0, self._show_pending)
            return
        if node_id is not None and not self.document.has_node(node_id):
            node_id = None
        if node_id != self.node_id:
            self.verticalScrollBar().setValue(0)  # each node's settings start from their top
        self.node_id = node_id
        self.message.clear()
        editing = node_id is not None
        self.hint.setVisible(not editing)
        self.workflow.setVisible(not editing)
        for widget in (self.title, self.name, self._form_box, self.options, self.pinned):
            widget.setVisible(editing)
        self._naming.setRowVisible(0, editing)
        if self.form is not None:  # cut off at once: a form left for Qt to delete must not write anywhere
            self.form.changed.disconnect(self._config_edited)
            self.form.hide()
            self.form.setParent(None)
            self.form.deleteLater()
            self.form = None
        if node_id is None:
            return
        node = self.document.node(node_id)
        spec = self.document.catalog.get(node.kind)
        kind_name = spec.display_name if spec else f"{node.kind} (not installed)"
        self.title.setText(f"<b>{node.title}</b><br><small>{kind_name} · id <code>{node.id}</code></small>")
        self.name.setText(node.name)
        self.options.show_node(node, can_be_remote=self._can_be_remote(node))
        self._show_pin(node)
        if spec is not None and spec.config_model is not None:
            self.form = ConfigForm(spec.config_model, node.config, credential_names=self._credential_names)
            self.form.changed.connect(self._config_edited)
            self._form_layout.addWidget(self.form)
            self._form_box.setVisible(bool(spec.config_model.model_fields))
        else:
            self._form_box.setVisible(False)
            if spec is None:
                self.message.setText("This node's kind is not installed: it is kept as it is and cannot be edited.")

    def _show_pending(self) -> None:
        if self._pending is not None and not self._editing:
            (node_id,) = self._pending
            self._pending = None
            self.show_node(node_id)

    def _document_changed(self, change: Change) -> None:
        if self.node_id is None:
            return
        if isinstance(change, NodeRemoved) and change.node.id == self.node_id:
            self.show_node(None)
        elif isinstance(change, NodeChanged) and change.new.id == self.node_id:
            node = change.new
            if self.name.text() != node.name:
                self.name.setText(node.name)
            self.options.show_node(node, can_be_remote=self._can_be_remote(node))
            self._show_pin(node)
            if self.form is not None and change.old.config != node.config:
                self.form.set_values(node.config)

    # ------------------------------------------------------------ editing
    def _renamed(self, text: str) -> None:
        if self.node_id is not None:
            node_id = self.node_id
            self._push(lambda: Rename(self.document, node_id, text))

    def _config_edited(self, field: str, value: Any) -> None:
        if self.node_id is not None and self.sender() is self.form:
            node_id = self.node_id
            self._editing = True
            try:
                self._push(lambda: SetConfig(self.document, node_id, {field: value}))
            finally:
                self._editing = False

    def _show_pin(self, node: Node) -> None:
        outputs = [p.name for p in self.document.ports(node.id).outputs if p.name != ERROR_PORT]
        self.pinned.setVisible(bool(outputs) or node.pinned is not None)
        self.pinned.show_node(node, outputs)

    def _pin_edited(self, pinned: PinnedOutput | None) -> str | None:
        """Pin or unpin the shown node (one undo step); the refusal reason, if any."""
        if self.node_id is None:
            return "no node is shown"
        return self.stack.push_command(SetNodeOptions(self.document, self.node_id, pinned=pinned))

    def _options_edited(self, *, attempts: int, delay: float, timeout_s: float | None, **options: Any) -> None:
        if self.node_id is None:
            return
        node = self.document.node(self.node_id)
        retry = node.retry.model_copy(update={"max_attempts": attempts, "initial_delay_s": delay})
        node_id = self.node_id
        self._push(lambda: SetNodeOptions(self.document, node_id, retry=retry, timeout_s=timeout_s, **options))

    def _can_be_remote(self, node: Node) -> bool:
        spec = self.document.catalog.get(node.kind)
        return spec is not None and spec.remote

    def _push(self, build: Callable[[], Command]) -> None:
        """Build and push a command; a refusal (when building or doing it) is shown, nothing changes."""
        try:
            command = build()
        except CommandRefused as exc:
            self.message.setText(str(exc))
            return
        self.message.clear()
        self.stack.push_command(command)

    def _refused(self, message: str) -> None:
        if self.node_id is not None:
            self.message.setText(message)

    def dispose(self) -> None:
        self._unsubscribe()
        self.workflow.dispose()
