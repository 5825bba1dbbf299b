"""Upgrading workflow files written by an older flowdesk, one format version at a time.

A file records the ``format_version`` it was written in (docs/architecture.md §2). When the format changes,
the change gets a step here that turns a version-N document into a version-N+1 document, so any
older file reaches the current version by running the steps in order, and no step ever has to know
about more than one change. Steps work on the raw JSON dict, before the pydantic models see it,
because the models only describe the current version.

This module is a leaf (it imports nothing of the file format) so that the reader can use it
without an import cycle; the reader turns :class:`MigrationError` into its ``WorkflowFileError``.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from flowdesk.model.workflow import FORMAT_VERSION

_log = logging.getLogger(__name__)

Migration = Callable[[dict[str, Any]], dict[str, Any]]
"""Upgrades a document from one format version to the next; returns the new document."""


class MigrationError(ValueError):
    """A document cannot be brought to the current format version; ``message`` says why."""

    def __init__(self, message: str, source: str = "<string>", version: int | None = None) -> None:
        super().__init__(f"{source}: {message}")
        self.message = message
        self.source = source
        self.version = version


def newer_version_message(version: int, current: int) -> str:
    """The one sentence a person reads when a file comes from a newer flowdesk than this one."""
    return (
        f"written by a newer flowdesk (format_version {version}; this flowdesk reads up to {current})"
        " — upgrade flowdesk to open it"
    )


class MigrationChain:
    """The steps from each older format version to the next, up to ``current``.

    Register a step with ``@chain.register(from_version)``. ``upgrade`` copies the document once
    and then runs the steps, so the caller's dict is never changed even if a step edits its
    argument in place; still, write steps that build a new dict, it keeps them easy to test.
    """

    def __init__(self, current: int) -> None:
        if isinstance(current, bool) or not isinstance(current, int) or current < 0:
            raise ValueError(f"current must be a non-negative integer, got {current!r}")
        self._current = current
        self._steps: dict[int, Migration] = {}

    @property
    def current(self) -> int:
        """The format version this chain upgrades to (the one the models describe)."""
        return self._current

    @property
    def steps(self) -> Mapping[int, Migration]:
        """Registered steps by the version they upgrade from (read-only view)."""
        return MappingProxyType(self._steps)

    def register(self, from_version: int) -> Callable[[Migration], Migration]:
        """Decorator: ``fn`` upgrades a ``from_version`` document to ``from_version + 1``."""
        if isinstance(from_version, bool) or not isinstance(from_version, int) or from_version < 0:
            raise ValueError(f"from_version must be a non-negative integer, got {from_version!r}")
        if from_version >= self._current:
            raise ValueError(f"a step from version {from_version} would go past the current version {self._current}")
        if from_version in self._steps:
            raise ValueError(f"a step from version {from_version} is already registered")

        def decorator(fn: Migration) -> Migration:
            self._steps[from_version] = fn
            return fn

        return decorator

    def upgrade(self, data: Mapping[str, Any], source: str = "<string>") -> dict[str, Any]:
        """``data`` brought to ``current``; raises :class:`MigrationError` when that is impossible.

        A document already at ``current`` is returned as a shallow copy without running anything;
        one that is newer is refused, because guessing at a future format could lose data on save.
        """
        version = data.get("format_version")
        if isinstance(version, bool) or not isinstance(version, int):
            raise MigrationError(f"format_version must be an integer, got {version!r}", source)
        if version > self._current:
            raise MigrationError(newer_version_message(version, self._current), source, version)
        if version == self._current:
            return dict(data)
        missing = [v for v in range(version, self._current) if v not in self._steps]
        if missing:
            raise MigrationError(
                f"format_version {version} is too old for this flowdesk: there is no upgrade from "
                f"format_version {missing[0]} to {missing[0] + 1}",
                source,
                version,
            )
        document = copy.deepcopy(dict(data))
        for step_from in range(version, self._current):
            document = self._run_step(step_from, document, source)
        _log.info("%s: upgraded from format_version %d to %d", source, version, self._current)
        return document

    def _run_step(self, step_from: int, document: dict[str, Any], source: str) -> dict[str, Any]:
        """One step, with whatever it raises on a malformed old document turned into a clear error."""
        try:
            result = self._steps[step_from](document)
        except Exception as exc:  # a step is code run on untrusted data: any failure means "cannot upgrade"
            _log.debug("migration from format_version %d failed", step_from, exc_info=True)
            raise MigrationError(
                f"could not upgrade from format_version {step_from} to {step_from + 1}: {exc}", source, step_from
            ) from exc
        if not isinstance(result, dict):
            raise TypeError(f"migration step from version {step_from} returned {type(result).__name__}, not a dict")
        result["format_version"] = step_from + 1
        return result


DEFAULT_MIGRATIONS = MigrationChain(current=FORMAT_VERSION)
"""The chain the reader uses. The format is at its first version, so it has no steps yet."""
