"""Named credentials: their public half from the settings file, their key from the OS keyring or the environment.

Why two places: a key is a secret, so it goes to the OS keyring (Keychain, Secret Service, Windows
Credential Locker) through the ``keyring`` package and never into a file flowdesk writes. Machines
without a keyring (servers, CI, containers) use environment variables instead:
``FLOWDESK_CREDENTIAL_<NAME>`` for any credential, and ``OPENAI_API_KEY`` / ``ANTHROPIC_API_KEY`` for
a provider's own public API. The provider-wide variables are never sent to another base URL, so an
OpenRouter or self-hosted credential cannot leak an OpenAI key to a third party.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flowdesk.engine.redaction import Redactor
from flowdesk.nodes.context import NodeFailure
from flowdesk.providers.catalog import PROVIDERS
from flowdesk.providers.secrets import env_var_for
from flowdesk.providers.settings import CredentialInfo, LLMSettings, host_allowed, url_host

log = logging.getLogger(__name__)

KEYRING_SERVICE = "flowdesk"
DEFAULT_BASE_URLS = {name: spec.default_base_url for name, spec in PROVIDERS.items() if spec.default_base_url}
PROVIDER_KEY_ENV = {name: spec.key_env for name, spec in PROVIDERS.items() if spec.key_env}


class CredentialError(Exception):
    """A credential cannot be used; the message names it and says how to fix it (never the key)."""


class KeyringUnavailableError(CredentialError):
    """There is no usable OS keyring on this machine (or it refused)."""


class KeyStore:
    """Key values in the OS keyring, one entry per credential name under the service ``flowdesk``.

    ``backend`` defaults to whatever ``keyring`` picked for this machine; tests hand in their own.
    ``keyring`` is imported when a key is first asked for (it takes ~50 ms, which the app's start-up
    and every run of the offline model need not pay).
    """

    def __init__(self, service: str = KEYRING_SERVICE, backend: Any = None) -> None:
        self._service = service
        self._backend = backend

    def _ring(self) -> Any:
        import keyring

        return self._backend if self._backend is not None else keyring.get_keyring()

    def get(self, name: str) -> str | None:
        """The stored key, or None; KeyringUnavailableError when no keyring can be asked."""
        import keyring.errors

        try:
            return self._ring().get_password(self._service, name)
        except keyring.errors.KeyringError as exc:
            raise KeyringUnavailableError(_keyring_problem(exc)) from None

    def set(self, name: str, key: str) -> None:
        import keyring.errors

        try:
            self._ring().set_password(self._service, name, key)
        except keyring.errors.KeyringError as exc:
            raise KeyringUnavailableError(
                f"cannot store the key of credential '{name}': {_keyring_problem(exc)}; "
                f"set {env_var_for(name)} in the environment instead"
            ) from None

    def delete(self, name: str) -> bool:
        """Remove the stored key; False if there was none."""
        import keyring.errors

        try:
            self._ring().delete_password(self._service, name)
        except keyring.errors.PasswordDeleteError:
            return False
        except keyring.errors.KeyringError as exc:
            raise KeyringUnavailableError(_keyring_problem(exc)) from None
        return True


def _keyring_problem(exc: BaseException) -> str:
    """One line about a keyring failure (its class; the library's long advice is cut to the first sentence)."""
    first = str(exc).split(". ")[0].strip()
    return f"the OS keyring is not available ({type(exc).__name__}: {first})" if first else type(exc).__name__


@dataclass(frozen=True)
class ResolvedCredential:
    """What a provider needs to make a call. ``key`` is excluded from repr so it never lands in a log."""

    name: str
    provider: str
    base_url: str
    key: str = field(repr=False)
    source: str = ""
    """Where the key came from: 'keyring', an environment variable's name, or 'none needed'."""
    info: CredentialInfo | None = None
    """The settings entry (extra headers, query parameters, stream_options); None for an environment-only one."""
    redactor: Redactor | None = field(default=None, repr=False, compare=False)
    """Knows this key (and every other handed out), for whatever the server sends back."""


class Credentials:
    """Looks up named credentials for providers (and, as a SecretStore, bare keys for the http node)."""

    def __init__(
        self, settings: LLMSettings, keys: KeyStore | None = None, environ: Mapping[str, str] | None = None
    ) -> None:
        self.settings = settings
        self._keys = keys if keys is not None else KeyStore()
        self._environ = os.environ if environ is None else environ
        self.redactor = Redactor()
        """Every key this object hands out is added before it leaves; the engine scrubs node results with it."""

    def resolve(self, name: str | None, provider: str) -> ResolvedCredential:
        """The credential ``name`` for ``provider``; None means the provider's default (a credential named
        like the provider, else its public API with the provider's environment variable)."""
        label = name or provider
        info = self.settings.credential(label)
        if info is not None and info.provider != provider:
            raise CredentialError(
                f"credential '{label}' is for provider '{info.provider}', but the node uses '{provider}'"
            )
        if info is None and name is not None and not self._environ.get(env_var_for(name)):
            raise CredentialError(
                f"there is no credential '{name}': add it in Settings or with "
                f"`flowdesk credentials add {name} --provider {provider}`, or set {env_var_for(name)}"
            )
        base_url = (info.effective_base_url() if info else None) or DEFAULT_BASE_URLS.get(provider)
        if base_url is None:
            raise CredentialError(
                f"credential '{label}' has no base URL; provider '{provider}' has no public API to default to"
            )
        spec = PROVIDERS[provider]
        if (info is not None and not info.needs_key) or (info is None and not spec.needs_key):
            return ResolvedCredential(label, provider, base_url, "", "none needed", info, self.redactor)
        public = info is None or info.base_url is None
        key, source, problem = self._find_key(label, provider if public else None, stored=info is not None)
        if key is None:
            raise CredentialError(self._missing_message(label, provider, public, problem))
        self.redactor.add(key)
        return ResolvedCredential(label, provider, base_url, key, source, info, self.redactor)

    def _find_key(self, name: str, provider: str | None, *, stored: bool) -> tuple[str | None, str, str]:
        """(key, where it came from, why the keyring could not say): keyring, then the environment."""
        problem = ""
        if stored:
            try:
                key = self._keys.get(name)
            except KeyringUnavailableError as exc:
                key, problem = None, str(exc)
            if key:
                return key, "keyring", ""
        variables = [env_var_for(name)]
        if provider is not None and provider in PROVIDER_KEY_ENV:
            variables.append(PROVIDER_KEY_ENV[provider])
        for variable in variables:
            value = self._environ.get(variable)
            if value:
                return value, variable, problem
        return None, "", problem

    def _missing_message(self, name: str, provider: str, public: bool, problem: str) -> str:
        shared = PROVIDER_KEY_ENV.get(provider) if public else None
        variables = env_var_for(name) + (f" or {shared}" if shared else "")
        message = (
            f"credential '{name}' has no key: store one with `flowdesk credentials add {name} --provider {provider}` "
            f"or in Settings (it goes to the OS keyring), or set {variables} in the environment"
        )
        return f"{message} ({problem})" if problem else message

    def key_source(self, name: str) -> str:
        """Where ``name``'s key would come from, for listings: never the key itself."""
        info = self.settings.credential(name)
        if info is not None and not info.needs_key:
            return "none needed"
        provider = info.provider if info is not None and info.base_url is None else None
        key, source, problem = self._find_key(name, provider, stored=info is not None)
        if key is None:
            return "missing" + (f" ({problem})" if problem else "")
        return source if source == "keyring" else f"environment ${source}"

    def get(self, name: str, url: str | None = None) -> str:
        """The key of credential ``name`` (the http node's Bearer token) for a request to ``url``.

        KeyError if there is none; NodeFailure, before anything is sent, when ``url``'s host is not
        one the credential may go to (a workflow, imported ones too, cannot send a key anywhere).
        """
        info = self.settings.credential(name)
        if url is not None:
            self.check_host(name, info, url)
        key, _, _ = self._find_key(name, None, stored=info is not None)
        if not key:
            raise KeyError(name)
        self.redactor.add(key)
        return key

    def allowed_hosts(self, name: str) -> tuple[str, ...]:
        """Where credential ``name`` may be sent (for messages, listings and imports)."""
        info = self.settings.credential(name)
        if info is not None:
            return info.allowed_hosts()
        spec = PROVIDERS.get(name)  # an unsaved credential named like a provider: its public API
        return (url_host(spec.default_base_url),) if spec is not None and spec.default_base_url else ()

    def check_host(self, name: str, info: CredentialInfo | None, url: str) -> None:
        allowed = info.allowed_hosts() if info is not None else self.allowed_hosts(name)
        if host_allowed(url, allowed):
            return
        where = ", ".join(allowed) if allowed else "no host yet"
        host = url_host(url)
        fix = (
            f"`flowdesk credentials hosts {name} --add {host}`"
            if info is not None
            else f"`flowdesk credentials add {name} --provider http --host {host}`"
        )
        raise NodeFailure(
            f"credential '{name}' may not be sent to {host or url[:80]!r} (it may go to: {where}); "
            f"if that host is meant to get it, add it in Settings or with {fix}"
        )
