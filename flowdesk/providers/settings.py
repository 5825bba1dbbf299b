"""The user's LLM settings: default model, named credentials (without their keys) and price overrides.

They live in one JSON file in the user's config folder (platformdirs), or wherever ``FLOWDESK_CONFIG``
points, so tests and scripts can keep their own. The file holds only what is safe to read aloud:
a credential's name, provider and base URL. Key values never come near it (see credentials.py).
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from flowdesk.model.executor import LOCAL, check_executor
from flowdesk.providers.catalog import PROVIDERS as PROVIDER_SPECS

CONFIG_ENV = "FLOWDESK_CONFIG"
SETTINGS_NAME = "settings.json"
PROVIDERS = tuple(PROVIDER_SPECS)
"""The providers a credential can be for (the offline one needs none)."""
HOST = re.compile(r"^(\[[0-9a-f:.]+\]|[a-z0-9]([a-z0-9.-]{0,252}[a-z0-9])?)(:[0-9]{1,5})?$")
HEADER_NAME = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}$")

CREDENTIAL_NAME = r"^[A-Za-z][A-Za-z0-9_.-]{0,63}$"
MODEL_REF = r"^[a-z][a-z0-9_-]*:\S.*$"


class SettingsError(Exception):
    """The settings file cannot be read or written; the message names the file and the place."""


class CredentialInfo(BaseModel):
    """A named credential's public half: which provider it is for and where that provider answers."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str = Field(pattern=CREDENTIAL_NAME, description="What nodes call it, e.g. 'openai' or 'local-ollama'.")
    provider: str = Field(description="One of the providers in flowdesk.providers.catalog.")
    base_url: str | None = Field(None, max_length=2000, description="None for the provider's public API.")
    needs_key: bool = Field(True, description="False for a local server that takes no key (Ollama, llama.cpp).")
    hosts: tuple[str, ...] = Field(
        (), max_length=50, description="Hosts (host or host:port) the key may go to besides the base URL's."
    )
    headers: dict[str, str] = Field(
        default_factory=dict, description="Extra request headers; '{key}' in a value stands for the key."
    )
    query: dict[str, str] = Field(default_factory=dict, description="Extra query parameters on every call.")
    stream_options: bool = Field(True, description="Send stream_options.include_usage (some servers reject it).")
    api_version: str | None = Field(None, max_length=40, description="Azure OpenAI's api-version.")

    @model_validator(mode="before")
    @classmethod
    def _key_by_provider(cls, data: Any) -> Any:
        """Unless said otherwise, a credential needs a key when its provider does (a local Ollama does not)."""
        if isinstance(data, dict) and "needs_key" not in data:
            spec = PROVIDER_SPECS.get(str(data.get("provider")))
            if spec is not None and not spec.needs_key:
                return {**data, "needs_key": False}
        return data

    @field_validator("provider")
    @classmethod
    def _known_provider(cls, value: str) -> str:
        if value not in PROVIDER_SPECS:
            raise ValueError(f"unknown provider {value!r}; known: {', '.join(PROVIDER_SPECS)}")
        return value

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip().rstrip("/")
        if not re.match(r"^https?://[^\s/?#]+", value):
            raise ValueError(f"base URL must start with http:// or https://, got {value[:80]!r}")
        return value

    @field_validator("hosts")
    @classmethod
    def _hosts(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        cleaned = []
        for given in value:
            host = given.strip().lower()
            if not HOST.match(host):
                raise ValueError(f"{host[:80]!r} is not a host name (write it as host or host:port, no scheme)")
            cleaned.append(host)
        return tuple(dict.fromkeys(cleaned))

    @field_validator("headers")
    @classmethod
    def _header_names(cls, value: dict[str, str]) -> dict[str, str]:
        for name, text in value.items():
            if not HEADER_NAME.match(name) or "\n" in text or "\r" in text:
                raise ValueError(f"header {name[:60]!r} is not a valid HTTP header")
        return value

    def effective_base_url(self) -> str | None:
        """The base URL calls go to: the configured one, else the provider's public API (None if it has none)."""
        return self.base_url or PROVIDER_SPECS[self.provider].default_base_url

    def allowed_hosts(self) -> tuple[str, ...]:
        """Where the key may be sent: the base URL's host, then the hosts the user added."""
        base = self.effective_base_url()
        own = (url_host(base),) if base else ()
        return tuple(dict.fromkeys(own + self.hosts))


def url_host(url: str) -> str:
    """``host`` or ``host:port`` (lower case) of a URL; the port only when the URL names one."""
    host, port = _host_port(url)
    return f"{host}:{port}" if port is not None else host


def _host_port(url: str) -> tuple[str, int | None]:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    try:
        return host, parts.port
    except ValueError:
        return host, None


def host_allowed(url: str, allowed: tuple[str, ...]) -> bool:
    """Is ``url``'s host one of ``allowed``? An entry without a port allows any port of that host."""
    host, port = _host_port(url)
    for entry in allowed:
        entry_host, entry_port = _host_port(f"//{entry}")
        if entry_host == host and (entry_port is None or entry_port == port):
            return True
    return False


class PriceOverride(BaseModel):
    """A user's own price for a model, in US dollars per million tokens."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    input_per_mtok: float = Field(ge=0, le=100_000)
    output_per_mtok: float = Field(ge=0, le=100_000)


class LLMSettings(BaseModel):
    """Everything in the settings file; unknown fields are refused so a typo is not silently dropped."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    default_model: str = Field("offline:echo", pattern=MODEL_REF, description="provider:model for new LLM nodes.")
    credentials: tuple[CredentialInfo, ...] = ()
    prices: dict[str, PriceOverride] = Field(default_factory=dict, description="Model name -> price override.")
    trace_otlp_url: str | None = Field(
        None, max_length=2000, description="An OTLP/HTTP collector that gets every run's trace as it ends; None: off."
    )
    default_executor: str | None = Field(
        None,
        max_length=300,
        description="Where the app runs map items and sub-workflow calls of a workflow that does not say: "
        "dask://HOST:PORT (a Dask cluster); None: this computer.",
    )

    @field_validator("default_executor")
    @classmethod
    def _executor(cls, value: str | None) -> str | None:
        checked = check_executor(value)
        return None if checked == LOCAL else checked

    @field_validator("trace_otlp_url")
    @classmethod
    def _collector_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"the traces collector must be an http:// or https:// URL, not {value!r}")
        return value.strip()

    def credential(self, name: str) -> CredentialInfo | None:
        return next((c for c in self.credentials if c.name == name), None)

    def with_credential(self, info: CredentialInfo) -> LLMSettings:
        """A copy with ``info`` added, or replacing the credential of the same name in place."""
        kept = [c for c in self.credentials if c.name != info.name]
        position = next((i for i, c in enumerate(self.credentials) if c.name == info.name), len(kept))
        kept.insert(position, info)
        return self.model_copy(update={"credentials": tuple(kept)})

    def without_credential(self, name: str) -> LLMSettings:
        return self.model_copy(update={"credentials": tuple(c for c in self.credentials if c.name != name)})


def settings_path(env: Mapping[str, str] | None = None) -> Path:
    """``FLOWDESK_CONFIG`` if set, else ``settings.json`` in the user's config folder."""
    env = os.environ if env is None else env
    chosen = env.get(CONFIG_ENV)
    if chosen:
        return Path(chosen).expanduser().absolute()
    return platformdirs.user_config_path("flowdesk", appauthor=False) / SETTINGS_NAME


def load_settings(path: Path | None = None) -> LLMSettings:
    """The settings in ``path`` (default: :func:`settings_path`); a missing file means the defaults."""
    path = path or settings_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return LLMSettings()
    except (OSError, UnicodeDecodeError) as exc:
        raise SettingsError(f"{path}: cannot read the settings: {exc}") from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SettingsError(f"{path}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}") from exc
    try:
        return LLMSettings.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise SettingsError(f"{path}: {where}: {first['msg']}") from exc


def save_settings(settings: LLMSettings, path: Path | None = None) -> Path:
    """Write the settings atomically (a crash leaves the old file or the new one, never half of one)."""
    path = path or settings_path()
    text = json.dumps(settings.model_dump(mode="json"), indent=2, sort_keys=True) + "\n"
    temp: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(prefix=".settings-", suffix=".tmp", dir=path.parent)
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, path)
    except OSError as exc:
        if temp is not None:
            Path(temp).unlink(missing_ok=True)
        raise SettingsError(f"{path}: cannot write the settings: {exc}") from exc
    return path
