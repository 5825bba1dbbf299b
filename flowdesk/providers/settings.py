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
from typing import Literal

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

CONFIG_ENV = "FLOWDESK_CONFIG"
SETTINGS_NAME = "settings.json"
PROVIDERS = ("openai", "anthropic")
"""The real providers a credential can be for (the offline one needs none)."""

CREDENTIAL_NAME = r"^[A-Za-z][A-Za-z0-9_.-]{0,63}$"
MODEL_REF = r"^[a-z][a-z0-9_-]*:\S.*$"


class SettingsError(Exception):
    """The settings file cannot be read or written; the message names the file and the place."""


class CredentialInfo(BaseModel):
    """A named credential's public half: which provider it is for and where that provider answers."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str = Field(pattern=CREDENTIAL_NAME, description="What nodes call it, e.g. 'openai' or 'local-ollama'.")
    provider: Literal["openai", "anthropic"]
    base_url: str | None = Field(None, max_length=2000, description="None for the provider's public API.")
    needs_key: bool = Field(True, description="False for a local server that takes no key (Ollama, llama.cpp).")

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip().rstrip("/")
        if not re.match(r"^https?://[^\s/]+", value):
            raise ValueError(f"base URL must start with http:// or https://, got {value[:80]!r}")
        return value


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
