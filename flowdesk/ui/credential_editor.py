"""Add or edit one credential: provider, base URL, key, where the key may go, and a gateway's extras.

The rows shown follow the provider's descriptor (``catalog.ProviderSpec.fields``): an Azure
credential asks for its api-version, an http-only key for its hosts, an OpenAI-compatible server
for the stream_options switch. The key field never shows a stored key: empty keeps it.
"""

from __future__ import annotations

from pydantic import ValidationError
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from flowdesk.providers.catalog import AZURE_API_VERSION, PROVIDERS
from flowdesk.providers.settings import CredentialInfo
from flowdesk.ui.theming import set_tone


def first_problem(exc: ValidationError) -> str:
    first = exc.errors()[0]
    field = ".".join(str(p) for p in first["loc"])
    return f"{field}: {str(first['msg']).removeprefix('Value error, ')}"


def _headers_text(headers: dict[str, str]) -> str:
    return "\n".join(f"{name}: {value}" for name, value in headers.items())


def _parse_pairs(text: str, separator: str, what: str) -> dict[str, str]:
    """``Name: value`` lines (headers) or ``a=b&c=d`` (query); ValueError naming the bad part."""
    pairs: dict[str, str] = {}
    parts = text.splitlines() if separator == ":" else text.split("&")
    for number, part in enumerate(parts, 1):
        if not part.strip():
            continue
        name, found, value = part.partition(separator)
        if not found or not name.strip():
            raise ValueError(f"{what} {number} ({part.strip()[:40]!r}) must look like name{separator}value")
        pairs[name.strip()] = value.strip()
    return pairs


class CredentialEditor(QDialog):
    """Add or edit one credential. The key field is empty when editing: empty keeps the stored key."""

    def __init__(self, info: CredentialInfo | None, taken: set[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Edit credential" if info else "Add credential")
        self._taken = taken
        self.result_info: CredentialInfo | None = None
        self.key = ""
        self._make_fields(info)
        self.problem = QLabel()
        set_tone(self.problem, "error")
        self.problem.setWordWrap(True)
        self.form = QFormLayout()
        for label, widget in (
            ("Name", self.name),
            ("Provider", self.provider),
            ("Base URL", self.base_url),
            ("Key", self.key_field),
            ("", self.no_key),
            ("May also go to", self.hosts),
            ("API version", self.api_version),
            ("Extra headers", self.headers),
            ("Extra query", self.query),
            ("", self.stream_options),
        ):
            self.form.addRow(label, widget)
        self.provider.currentTextChanged.connect(self._provider_changed)
        self.no_key.toggled.connect(lambda off: self.key_field.setEnabled(not off))
        self._provider_changed(self.provider.currentText(), initial=info is not None)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(self.form)
        layout.addWidget(self.problem)
        layout.addWidget(buttons)
        self.setMinimumWidth(560)

    def _make_fields(self, info: CredentialInfo | None) -> None:
        self.name = QLineEdit(info.name if info else "")
        self.name.setPlaceholderText("e.g. openai, anthropic, local-ollama")
        self.provider = QComboBox()
        for name, spec in PROVIDERS.items():
            self.provider.addItem(name)
            self.provider.setItemData(self.provider.count() - 1, spec.label, 3)  # tooltip role
        self.base_url = QLineEdit(info.base_url or "" if info else "")
        self.key_field = QLineEdit()
        self.key_field.setEchoMode(QLineEdit.EchoMode.Password)
        self.key_field.setPlaceholderText("leave empty to keep the stored key" if info else "API key")
        self.no_key = QCheckBox("The server takes no key (a local Ollama, llama.cpp, ...)")
        self.hosts = QLineEdit(", ".join(info.hosts) if info else "")
        self.hosts.setPlaceholderText("other hosts the key may go to, e.g. api.github.com, gw.example.com:8443")
        self.headers = QPlainTextEdit(_headers_text(info.headers) if info else "")
        self.headers.setPlaceholderText("one per line, e.g. X-Title: flowdesk  ({key} stands for the key)")
        self.headers.setFixedHeight(56)
        self.query = QLineEdit("&".join(f"{k}={v}" for k, v in info.query.items()) if info else "")
        self.query.setPlaceholderText("e.g. tenant=acme&route=fast")
        self.api_version = QLineEdit(info.api_version or "" if info else "")
        self.api_version.setPlaceholderText(f"{AZURE_API_VERSION} (the default)")
        self.stream_options = QCheckBox("Send stream_options (for token counts; a few servers reject it)")
        self.stream_options.setChecked(info.stream_options if info else True)
        if info is not None:
            self.provider.setCurrentText(info.provider)
            self.no_key.setChecked(not info.needs_key)

    def _provider_changed(self, provider: str, initial: bool = False) -> None:
        """Show the rows this provider uses; a new credential takes the provider's key default."""
        spec = PROVIDERS[provider]
        public = spec.default_base_url
        self.base_url.setPlaceholderText(f"{public} (the default)" if public else "required, e.g. https://…")
        if not initial:
            self.no_key.setChecked(not spec.needs_key)
        self.key_field.setEnabled(not self.no_key.isChecked())
        for widget, field in (
            (self.base_url, "base_url"),
            (self.api_version, "api_version"),
            (self.headers, "headers"),
            (self.query, "query"),
            (self.stream_options, "stream_options"),
        ):
            self.form.setRowVisible(widget, field in spec.fields)

    def _accept(self) -> None:
        name = self.name.text().strip()
        if name in self._taken:
            self.problem.setText(f"there is already a credential '{name}'")
            return
        provider = self.provider.currentText()
        try:
            info = CredentialInfo(
                name=name,
                provider=provider,
                base_url=self.base_url.text().strip() or None,
                needs_key=not self.no_key.isChecked(),
                hosts=tuple(h for h in self.hosts.text().replace(",", " ").split() if h),
                headers=_parse_pairs(self.headers.toPlainText(), ":", "header line"),
                query=_parse_pairs(self.query.text(), "=", "query part"),
                api_version=self.api_version.text().strip() or None,
                stream_options=self.stream_options.isChecked(),
            )
        except ValidationError as exc:
            self.problem.setText(first_problem(exc))
            return
        except ValueError as exc:
            self.problem.setText(str(exc))
            return
        if not info.allowed_hosts():
            self.problem.setText("say where the key may go: a base URL, or a host under 'May also go to'")
            return
        self.result_info = info
        self.key = self.key_field.text().strip()
        self.accept()
