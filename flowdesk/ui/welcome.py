"""The first view of a new library: what flowdesk is, the templates, and a one-click example run.

A person who has never used flowdesk should see a workflow run within a minute: "Run an example"
opens the prompt -> LLM example (offline model, no key needed) and starts it at once.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from flowdesk.paths import examples_dir
from flowdesk.store.templates import Template, list_templates

FIRST_EXAMPLE = "ask_llm.json"
WELCOME = "<h2>Welcome to flowdesk</h2>"
BACK_NAME_CHARS = 32
"""A longer workflow name is cut short on the way-back button (its tooltip is not)."""


def templates() -> list[Template]:
    """The shipped examples and the user's own templates, by name."""
    return list_templates()


CARD = QSize(232, 128)
"""One template card: room for its name, its size and three or four lines of description."""


def _card(template: Template) -> QWidget:
    """A card for ``template``; clicks go through to the list (which selects and opens it)."""
    card = QWidget()
    card.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
    yours = "" if template.builtin else " · your template"
    title = QLabel(f"<b>{template.name}</b><br><small>{template.nodes} nodes{yours}</small>")
    text = QLabel(template.description)
    text.setWordWrap(True)
    text.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
    layout = QVBoxLayout(card)
    layout.setContentsMargins(8, 6, 8, 6)
    layout.addWidget(title)
    layout.addWidget(text, 1)
    return card


class WelcomeView(QWidget):
    template_chosen = Signal(str)
    """Open this template (a path) as a new workflow."""
    run_example = Signal(str)
    """Open this example and run it."""
    blank_chosen = Signal()
    back_chosen = Signal()
    """Back to the workflow that was open (File > New from template shown over it)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.heading = heading = QLabel(WELCOME)
        intro = QLabel(
            "Build a workflow by dragging nodes from the palette onto the canvas and wiring them; run it with F5 "
            "and watch each node work. Every run is recorded: select a node afterwards to see what it received "
            "and produced. The examples run offline, with no key and no network."
        )
        intro.setWordWrap(True)
        self.list = QListWidget()  # the templates as cards: name, size and what each one does
        self.list.setViewMode(QListView.ViewMode.IconMode)
        self.list.setResizeMode(QListView.ResizeMode.Adjust)
        self.list.setMovement(QListView.Movement.Static)
        self.list.setSpacing(6)
        self.list.setSelectionRectVisible(False)
        self.fill_templates()
        self.list.itemDoubleClicked.connect(lambda item: self.template_chosen.emit(item.data(Qt.ItemDataRole.UserRole)))
        self.run_button = QPushButton("▶  Run an example now")
        self.run_button.setDefault(True)
        self.run_button.setToolTip("Opens the 'Ask an LLM' example and runs it with the offline model")
        self.run_button.clicked.connect(lambda: self.run_example.emit(str(examples_dir() / FIRST_EXAMPLE)))
        self.open_button = QPushButton("Open the selected template")
        self.open_button.clicked.connect(self._open_selected)
        self.blank_button = QPushButton("Start a blank workflow")
        self.blank_button.clicked.connect(self.blank_chosen.emit)
        self.back_button = QPushButton()
        self.back_button.setToolTip("Close the templates and go back to it as it was (Esc)")
        self.back_button.clicked.connect(self.back_chosen.emit)
        self.back_button.hide()
        back = QShortcut(QKeySequence(Qt.Key.Key_Escape), self, context=Qt.ShortcutContext.WidgetWithChildrenShortcut)
        back.activated.connect(lambda: self.back_button.isVisible() and self.back_chosen.emit())
        buttons = QHBoxLayout()
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.open_button)
        buttons.addWidget(self.blank_button)
        buttons.addStretch(1)
        top = QHBoxLayout()
        top.addWidget(heading)
        top.addStretch(1)
        top.addWidget(self.back_button, 0, Qt.AlignmentFlag.AlignVCenter)
        column = QVBoxLayout()
        column.addLayout(top)
        column.addWidget(intro)
        column.addSpacing(8)
        column.addWidget(QLabel("<b>Templates</b> (double-click a card to open it)"))
        column.addWidget(self.list, 1)
        column.addLayout(buttons)
        holder = QWidget()
        holder.setLayout(column)
        holder.setMaximumWidth(760)
        outer = QHBoxLayout(self)
        outer.addStretch(1)
        outer.addWidget(holder, 4)
        outer.addStretch(1)

    def offer_back(self, name: str | None) -> None:
        """Show the way back to the open workflow ``name``; None when there is nothing to go back to."""
        shown = name if name is None or len(name) <= BACK_NAME_CHARS else name[: BACK_NAME_CHARS - 1] + "…"
        self.back_button.setText(f"← Back to '{shown}'" if shown else "")
        self.back_button.setVisible(name is not None)
        self.heading.setText(WELCOME if name is None else "<h2>New from a template</h2>")

    def fill_templates(self) -> None:
        """The cards, read afresh: a template saved since the view was made is there too."""
        self.list.clear()
        for template in templates():
            item = QListWidgetItem()
            item.setData(Qt.ItemDataRole.UserRole, str(template.path))
            item.setToolTip(template.description)
            item.setSizeHint(CARD)
            self.list.addItem(item)
            self.list.setItemWidget(item, _card(template))
            if template.builtin and template.path.name == FIRST_EXAMPLE:
                self.list.setCurrentItem(item)

    def _open_selected(self) -> None:
        item = self.list.currentItem()
        if item is not None:
            self.template_chosen.emit(item.data(Qt.ItemDataRole.UserRole))
