"""The registry of node kinds: the built-ins plus those plugins publish.

A plugin is an installed distribution with an entry point in the ``flowdesk.nodes`` group whose
object is a :class:`KindSpec`, an iterable of them, or a zero-argument callable returning either.
A broken plugin never stops flowdesk: its error is logged and kept in ``plugin_errors`` so the app
and ``flowdesk kinds`` can show it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points

from flowdesk.model.kinds import KindSpec

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "flowdesk.nodes"


@dataclass(frozen=True)
class PluginError:
    entry_point: str
    message: str


class DuplicateKindError(ValueError):
    """A second kind was registered under a name already taken."""


class Registry:
    """Kinds by name, in registration order (which is the palette's order within a category)."""

    def __init__(self, kinds: Iterable[KindSpec] = ()) -> None:
        self._kinds: dict[str, KindSpec] = {}
        self.plugin_errors: list[PluginError] = []
        for spec in kinds:
            self.register(spec)

    def register(self, spec: KindSpec, *, replace: bool = False) -> None:
        if not replace and spec.name in self._kinds:
            raise DuplicateKindError(f"node kind {spec.name!r} is already registered")
        self._kinds[spec.name] = spec

    def get(self, name: str) -> KindSpec | None:
        return self._kinds.get(name)

    def __contains__(self, name: object) -> bool:
        return name in self._kinds

    def __iter__(self) -> Iterator[KindSpec]:
        return iter(self._kinds.values())

    def __len__(self) -> int:
        return len(self._kinds)

    def categories(self) -> dict[str, list[KindSpec]]:
        grouped: dict[str, list[KindSpec]] = {}
        for spec in self._kinds.values():
            grouped.setdefault(spec.category, []).append(spec)
        return grouped

    def load_plugins(self, eps: Iterable[EntryPoint] | None = None) -> None:
        """Register the kinds of every ``flowdesk.nodes`` entry point; record, never raise, failures."""
        for ep in entry_points(group=ENTRY_POINT_GROUP) if eps is None else eps:
            try:
                specs = list(_specs_of(ep.load()))
                for spec in specs:
                    self.register(spec)
            except Exception as exc:  # noqa: BLE001 - a plugin can fail in any way; it must not take flowdesk down
                message = f"{type(exc).__name__}: {exc}"
                log.warning("node plugin %s could not be loaded: %s", ep.value, message)
                self.plugin_errors.append(PluginError(f"{ep.name} = {ep.value}", message))


def _specs_of(obj: object) -> Iterable[KindSpec]:
    if isinstance(obj, KindSpec):
        return [obj]
    if callable(obj) and not isinstance(obj, type):
        return _specs_of(obj())
    if isinstance(obj, Iterable) and not isinstance(obj, (str, bytes)):
        items = list(obj)
        bad = [i for i in items if not isinstance(i, KindSpec)]
        if bad:
            raise TypeError(f"expected KindSpec objects, got {type(bad[0]).__name__}")
        return items
    raise TypeError(f"expected a KindSpec, a list of them or a function returning them, got {type(obj).__name__}")


def builtin_registry() -> Registry:
    """A registry of the built-in kinds only (no plugins): what tests and the file format rely on."""
    from flowdesk.nodes.kinds import BUILTIN_KINDS

    return Registry(BUILTIN_KINDS)


def default_registry() -> Registry:
    """Built-in kinds plus installed plugins: what the app and the CLI use."""
    registry = builtin_registry()
    registry.load_plugins()
    return registry
