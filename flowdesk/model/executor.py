"""Where a run's child runs (map items, sub-workflow calls) go: this computer or a Dask cluster.

A workflow names its executor in its run settings, the app has a default in its settings file,
and ``flowdesk run --executor`` overrides both. They are plain strings so a file stays readable:
``local`` (this computer) or ``dask://HOST:PORT`` (a Dask scheduler; Dask's own ``tcp://`` and
``tls://`` are taken too). No value means "whoever runs it decides" (the app's setting, or the
CLI's flag). Checked here, in the model, so a bad address is refused where it is typed.
"""

from __future__ import annotations

from typing import Final

LOCAL: Final = "local"
"""This computer: child runs run in the process that runs the workflow."""
SCHEMES: Final = ("dask://", "tcp://", "tls://")


def check_executor(value: str | None) -> str | None:
    """``value`` stripped (empty: None), or ValueError saying what an executor looks like."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if text.lower() == LOCAL:
        return LOCAL
    if not text.startswith(SCHEMES):
        raise ValueError(f"an executor is 'local' or dask://HOST:PORT (a Dask scheduler's address), not {text[:80]!r}")
    host, _, port = text.split("://", 1)[1].rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536 or any(c.isspace() or c == "/" for c in host):
        raise ValueError(f"a Dask scheduler's address is dask://HOST:PORT with a port of 1-65535, not {text[:80]!r}")
    return text


def chosen_executor(*choices: str | None) -> str | None:
    """The first choice that says something (a flag, then the workflow's, then the app's setting), as
    the address to connect to; None (also for ``local``) runs child runs here."""
    for choice in choices:
        if choice is not None and choice.strip():
            checked = check_executor(choice)
            return None if checked == LOCAL else checked
    return None


def where_words(executor: str | None) -> str:
    """Where a run runs, for the status bar and messages."""
    return "this computer" if executor in (None, LOCAL) else f"the Dask cluster at {executor}"
