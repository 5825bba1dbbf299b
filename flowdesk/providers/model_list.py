"""The models each configured credential's server offers, fetched on demand and remembered on disk.

Why a cache: the inspector's model field and ``flowdesk models`` should list models without a
network round trip each time, and still list the last known ones when the server is unreachable
(a laptop offline, Ollama not started). The cache sits beside the settings file; it holds model
names only. A failed fetch keeps the cached list and says why.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from flowdesk.providers.catalog import PROVIDERS
from flowdesk.providers.settings import LLMSettings, settings_path

log = logging.getLogger(__name__)

OFFLINE_MODELS = ("offline:echo", "offline:lorem")
CACHE_NAME = "models-cache.json"


@dataclass(frozen=True)
class Listing:
    """One credential's models (``provider:model``), when they were fetched, and why the last fetch failed."""

    credential: str
    provider: str
    models: tuple[str, ...] = ()
    fetched_at: float | None = None
    error: str | None = None


@dataclass
class ModelCache:
    """Listings by credential name, read from and written to ``path``."""

    path: Path
    listings: dict[str, Listing] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path | None = None) -> ModelCache:
        """The cache file (a missing or unreadable one is an empty cache: it is only a cache)."""
        path = path or settings_path().parent / CACHE_NAME
        cache = cls(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            for name, entry in data.get("listings", {}).items():
                cache.listings[name] = Listing(
                    name, str(entry["provider"]), tuple(map(str, entry["models"])), float(entry["fetched_at"])
                )
        except FileNotFoundError:
            pass
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            log.info("the model cache %s cannot be read (%s); starting empty", path, exc)
        return cache

    def save(self) -> None:
        data = {
            "listings": {
                name: {"provider": item.provider, "models": list(item.models), "fetched_at": item.fetched_at}
                for name, item in sorted(self.listings.items())
                if item.fetched_at is not None
            }
        }
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            handle, temp = tempfile.mkstemp(prefix=".models-", suffix=".tmp", dir=self.path.parent)
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump(data, out, indent=1, sort_keys=True)
            os.replace(temp, self.path)
        except OSError as exc:
            log.info("the model cache %s cannot be written (%s)", self.path, exc)

    def all_models(self, settings: LLMSettings) -> list[tuple[str, str]]:
        """(``provider:model``, credential) for every configured credential's cached models, offline first."""
        found = [(model, "") for model in OFFLINE_MODELS]
        for info in settings.credentials:
            listing = self.listings.get(info.name)
            if listing is not None and listing.provider == info.provider:
                found += [(model, info.name) for model in listing.models]
        return found


def listable(settings: LLMSettings) -> list[str]:
    """The credentials whose server can list models."""
    return [c.name for c in settings.credentials if PROVIDERS[c.provider].makes_calls]


async def fetch(
    settings: LLMSettings, names: list[str], *, environ: Mapping[str, str] | None = None, timeout_s: float = 10.0
) -> list[Listing]:
    """Ask each credential's server for its models, all at once; a failure becomes the listing's error."""
    from flowdesk.providers.setup import list_models, llm_services

    services = llm_services(settings, environ=environ, shared_client=False)

    async def one(name: str) -> Listing:
        info = settings.credential(name)
        provider = info.provider if info is not None else name
        try:
            credential = services.credentials.resolve(name, provider)
            models = await asyncio.wait_for(list_models(services, credential), timeout_s)
        except Exception as exc:  # noqa: BLE001 - any failure is shown beside the cached list, never raised
            return Listing(name, provider, error=str(exc) or type(exc).__name__)
        return Listing(name, provider, tuple(f"{provider}:{m}" for m in models), time.time())

    return list(await asyncio.gather(*(one(name) for name in names)))


def merge(cache: ModelCache, fresh: list[Listing]) -> list[Listing]:
    """Put fresh listings in the cache; a failed one keeps the cached models and carries the error."""
    merged = []
    for answer in fresh:
        kept = answer
        if answer.error is not None and answer.credential in cache.listings:
            old = cache.listings[answer.credential]
            kept = Listing(answer.credential, answer.provider, old.models, old.fetched_at, answer.error)
        if answer.error is None:
            cache.listings[answer.credential] = answer
        merged.append(kept)
    cache.save()
    return merged
