"""Credential values from the environment (the OS keyring joins in with the credentials work).

A credential named ``openai`` is read from ``FLOWDESK_CREDENTIAL_OPENAI``. Values are only ever
handed to the node that asked; they are never logged or stored.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

from flowdesk.engine.redaction import Redactor

PREFIX = "FLOWDESK_CREDENTIAL_"


def env_var_for(name: str) -> str:
    return PREFIX + re.sub(r"[^A-Za-z0-9]", "_", name).upper()


class EnvironmentSecrets:
    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self._environ = os.environ if environ is None else environ
        self.redactor = Redactor()

    def get(self, name: str, url: str | None = None) -> str:
        """The value; ``url`` is not checked here (:class:`Credentials` scopes keys to hosts)."""
        value = self._environ.get(env_var_for(name))
        if not value:
            raise KeyError(name)
        self.redactor.add(value)
        return value
