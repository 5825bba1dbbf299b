"""Copy and paste of canvas selections as workflow JSON fragments on the system clipboard.

The clipboard holds the same deterministic JSON that ``flowdesk.model.fileformat`` writes for a
fragment, as plain text (so a selection pastes into a text editor, a chat or an issue) and under
:data:`FRAGMENT_MIME` (so another flowdesk window knows it without guessing). Pasting reads either;
text that is not a fragment is refused with the reader's own one-line reason. A whole workflow
file's text pastes too: its nodes and wires come in as a fragment.

No secret can reach the clipboard: a node's config names its credential (``"credential":
"openai"``), it never holds the value, which lives in the environment or the OS keyring and is
looked up only by the engine while a node runs.
"""

from __future__ import annotations

import atexit
from collections.abc import Iterable
from dataclasses import dataclass

from PySide6.QtCore import QMimeData, QRectF
from PySide6.QtGui import QClipboard, QGuiApplication

from flowdesk.model.document import WorkflowDocument
from flowdesk.model.fileformat import (
    FRAGMENT_FORMAT,
    Fragment,
    WorkflowFileError,
    dumps_fragment,
    loads_fragment,
    loads_workflow,
)
from flowdesk.model.workflow import FORMAT, Edge, Node

FRAGMENT_MIME = "application/x-flowdesk-fragment+json"
"""The clipboard format of a copied selection (the same text is also offered as text/plain)."""
PASTE_STEP = 40.0
"""How far each repeated paste (or duplicate) lands from the one before, right and down."""


def selection_fragment(doc: WorkflowDocument, node_ids: Iterable[str]) -> tuple[list[Node], list[Edge]]:
    """The chosen nodes (document order) and the wires that run between two of them."""
    chosen = set(node_ids)
    nodes = [n for n in doc.nodes if n.id in chosen]
    edges = [e for e in doc.edges if e.source in chosen and e.target in chosen]
    return nodes, edges


def fragment_text(doc: WorkflowDocument, node_ids: Iterable[str]) -> str:
    """The clipboard JSON of the chosen nodes and the wires between them."""
    return dumps_fragment(*selection_fragment(doc, node_ids))


def put_on_clipboard(text: str, clipboard: QClipboard | None = None) -> None:
    """Offer ``text`` (a fragment's JSON) as the flowdesk format and as plain text.

    See :func:`_release_at_exit` for why the data object must not outlive Python.
    """
    data = QMimeData()
    data.setData(FRAGMENT_MIME, text.encode("utf-8"))
    data.setText(text)
    (clipboard or QGuiApplication.clipboard()).setMimeData(data)


@atexit.register
def _release_at_exit() -> None:
    """Hand the clipboard a copy Qt made itself before Python shuts down.

    The QMimeData given to the clipboard was created from Python (PySide6 6.12), so its destructor
    calls back into Python; the clipboard destroys it only when the process exits, after Python
    has gone, and the process crashes on its way out. Re-offering the text now (Qt's own object,
    plain text, which Paste reads too) deletes ours while Python is still alive; what the person
    copied stays on the clipboard.
    """
    app = QGuiApplication.instance()
    if app is None:
        return
    clipboard = QGuiApplication.clipboard()
    data = clipboard.mimeData()
    if data is not None and data.hasFormat(FRAGMENT_MIME):
        clipboard.setText(data.text())


def clipboard_text(clipboard: QClipboard | None = None) -> str:
    """The flowdesk fragment on the clipboard if there is one, else its plain text ('' if none)."""
    data = (clipboard or QGuiApplication.clipboard()).mimeData()
    if data is None:
        return ""
    if data.hasFormat(FRAGMENT_MIME):
        return bytes(data.data(FRAGMENT_MIME).data()).decode("utf-8", errors="replace")
    return data.text() if data.hasText() else ""


def read_fragment(text: str) -> Fragment:
    """The nodes and wires in ``text``; raises WorkflowFileError with the reason it cannot be pasted."""
    if not text.strip():
        raise WorkflowFileError("the clipboard holds no text", "<clipboard>")
    try:
        return loads_fragment(text)
    except WorkflowFileError as fragment_error:
        if f'"{FORMAT}"' not in text or f'"{FRAGMENT_FORMAT}"' in text:
            raise
        try:  # the text of a whole workflow file: take its nodes and wires
            workflow = loads_workflow(text, "<clipboard>")
        except WorkflowFileError:
            raise fragment_error from None
        return Fragment(nodes=workflow.nodes, edges=workflow.edges)


def fragment_bounds(nodes: Iterable[Node]) -> QRectF:
    """The rectangle spanned by the nodes' top-left corners (their cards' sizes are not known yet)."""
    xs, ys = zip(*((n.position.x, n.position.y) for n in nodes), strict=True)
    return QRectF(min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys))


@dataclass
class PasteCascade:
    """Repeated pastes of the same text land one step further each time, not on top of each other."""

    text: str = ""
    count: int = 0

    def next_offset(self, text: str) -> float:
        self.count = self.count + 1 if text == self.text else 1
        self.text = text
        return PASTE_STEP * self.count

    def reset(self) -> None:
        self.text, self.count = "", 0
