"""The workflow file: reading, writing, and the clipboard fragment (docs/architecture.md §2).

Reading takes untrusted bytes to a :class:`Workflow` in stages (size, UTF-8, JSON, a safety walk
of the parsed tree, format header, migrations, pydantic) so that every way a file can be wrong ends
as one :class:`WorkflowFileError` saying where, never a traceback. A sound file of the current
format takes a fast path first (``_fastread``: parsed and validated in Rust); anything it does not
accept is read the careful way, which words the error. Writing is deterministic (sorted
nodes, edges and free-form keys) so a saved file diffs cleanly in git, and atomic so a crash never
leaves half a file behind.
"""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import stat
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from flowdesk.model._fastread import read_fast
from flowdesk.model._jsoncheck import MAX_DEPTH, JsonProblem, parse_json_text
from flowdesk.model._pydantic_errors import describe_validation_error
from flowdesk.model.migrations import DEFAULT_MIGRATIONS, MigrationChain, MigrationError
from flowdesk.model.workflow import FORMAT, FORMAT_VERSION, Edge, Node, Workflow

__all__ = [
    "FRAGMENT_FORMAT",
    "FRAGMENT_FORMAT_VERSION",
    "MAX_DEPTH",
    "MAX_FILE_BYTES",
    "Fragment",
    "WorkflowFileError",
    "dumps_fragment",
    "dumps_workflow",
    "loads_fragment",
    "loads_workflow",
    "read_workflow",
    "write_workflow",
]

_log = logging.getLogger(__name__)

MAX_FILE_BYTES = 32 * 1024 * 1024
"""Larger files are refused before parsing: a workflow is kilobytes, a 1 GB file is a mistake or an attack."""
FRAGMENT_FORMAT = "flowdesk.fragment"
FRAGMENT_FORMAT_VERSION = 1
_MIB = 1024 * 1024
_NODE_OR_EDGE = re.compile(r"^(nodes|edges)\[\d+\]")
_M = TypeVar("_M", bound=BaseModel)


class WorkflowFileError(Exception):
    """A workflow file (or clipboard text) that cannot be read, located as precisely as possible.

    ``str(err)`` is one line meant for a person (the CLI prints it as is): the source, then the
    JSON line and column, or the field path with the node or edge id, then what is wrong.
    """

    def __init__(
        self,
        message: str,
        source: str = "<string>",
        *,
        line: int | None = None,
        column: int | None = None,
        path: str | None = None,
        node_id: str | None = None,
        edge_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.source = source
        self.line = line
        self.column = column
        self.path = path
        self.node_id = node_id
        self.edge_id = edge_id

    def __str__(self) -> str:
        source, message = _one_line(self.source), _one_line(self.message)
        if self.line is not None:
            where = f"{self.line}:{self.column}:" if self.column is not None else f"{self.line}:"
            return f"{source}:{where} {message}"
        if self.path:
            return f"{source}: {self._labelled_path()}: {message}"
        return f"{source}: {message}"

    def _labelled_path(self) -> str:
        """The path with the id of the node or edge it runs through, which a person can find."""
        path = _one_line(self.path or "")
        match = _NODE_OR_EDGE.match(path)
        if match is None:
            return path
        item_id = self.node_id if match.group(1) == "nodes" else self.edge_id
        if item_id is None:
            return path
        label = f" ({match.group(1)[:-1]} {_short_repr(item_id)})"
        return f"{path[: match.end()]}{label}{path[match.end() :]}"


@dataclass(frozen=True)
class Fragment:
    """Nodes and edges copied to the clipboard; edges may refer to nodes outside the selection."""

    nodes: tuple[Node, ...] = ()
    edges: tuple[Edge, ...] = ()


class _FragmentDocument(BaseModel):
    """The fragment as pydantic sees it, so its errors are located exactly like a workflow's."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    format: str
    format_version: int
    nodes: tuple[Node, ...] = ()
    edges: tuple[Edge, ...] = ()


# ---------------------------------------------------------------- reading


def loads_workflow(
    data: str | bytes, source: str = "<string>", *, migrations: MigrationChain | None = None
) -> Workflow:
    """The workflow in ``data`` (the text of a file); raises :class:`WorkflowFileError` if bad.

    An older ``format_version`` is upgraded through ``migrations`` (the default chain unless given),
    whose ``current`` must be the version the models describe.
    """
    chain = DEFAULT_MIGRATIONS if migrations is None else migrations
    if chain.current != FORMAT_VERSION:
        raise ValueError(f"the migration chain must end at format_version {FORMAT_VERSION}, not {chain.current}")
    fast = read_fast(data, MAX_FILE_BYTES)  # a sound current file, parsed in Rust (see _fastread)
    if fast is not None:
        return fast
    document = _parse(data, source, "file")
    version = _check_header(document, source, FORMAT, "workflow file")
    if version != chain.current:
        try:
            document = chain.upgrade(document, source)
        except MigrationError as exc:
            raise WorkflowFileError(exc.message, source) from exc
    return _validate(Workflow, document, source)


def read_workflow(path: str | os.PathLike[str], *, migrations: MigrationChain | None = None) -> Workflow:
    """The workflow in the file at ``path``; any problem, the file system's included, is a WorkflowFileError."""
    source = os.fspath(path)
    data = _read_bounded(Path(source), source)
    _log.debug("read %s (%d bytes)", source, len(data))
    return loads_workflow(data, source, migrations=migrations)


def loads_fragment(data: str | bytes, source: str = "<clipboard>") -> Fragment:
    """The nodes and edges in clipboard text written by :func:`dumps_fragment`."""
    document = _parse(data, source, "text")
    version = _check_header(document, source, FRAGMENT_FORMAT, "copied selection")
    if version != FRAGMENT_FORMAT_VERSION:
        newer = version > FRAGMENT_FORMAT_VERSION
        raise WorkflowFileError(
            f"copied from {'a newer' if newer else 'an older'} flowdesk (fragment format_version {version};"
            f" this flowdesk pastes {FRAGMENT_FORMAT_VERSION}) — copy it again from this flowdesk",
            source,
        )
    fragment = _validate(_FragmentDocument, document, source)
    return Fragment(nodes=fragment.nodes, edges=fragment.edges)


def _parse(data: str | bytes, source: str, noun: str) -> Any:
    """Bytes or text to a JSON value checked safe for pydantic, or a located WorkflowFileError."""
    try:
        return parse_json_text(data, max_bytes=MAX_FILE_BYTES, noun=noun)
    except JsonProblem as problem:
        raise WorkflowFileError(
            problem.message,
            source,
            line=problem.line,
            column=problem.column,
            path=problem.path,
            node_id=_item_id(problem.root, problem.parts, "nodes"),
            edge_id=_item_id(problem.root, problem.parts, "edges"),
        ) from None


def _check_header(document: Any, source: str, expected: str, what: str) -> int:
    """The ``format_version`` of a document whose ``format`` is ``expected``; refuses anything else."""
    if not isinstance(document, dict):
        raise WorkflowFileError(
            f"not a flowdesk {what}: the top level is {_json_type(document)}, expected a JSON object", source
        )
    if "format" not in document:
        raise WorkflowFileError(f'not a flowdesk {what} (it has no "format" field)', source)
    found = document["format"]
    if found != expected:
        known = {FORMAT: "a workflow file", FRAGMENT_FORMAT: "a copied selection"}
        if isinstance(found, str) and found in known:
            raise WorkflowFileError(f"not a flowdesk {what}: it is {known[found]} (format {found!r})", source)
        raise WorkflowFileError(
            f"not a flowdesk {what} (format is {_short_repr(found)}, expected {expected!r})", source
        )
    if "format_version" not in document:
        raise WorkflowFileError("required field is missing", source, path="format_version")
    version = document["format_version"]
    if isinstance(version, bool) or not isinstance(version, int):
        raise WorkflowFileError(
            f"must be a whole number, got {_short_repr(version)} ({_json_type(version)})", source, path="format_version"
        )
    return version


def _validate(model: type[_M], document: dict[str, Any], source: str) -> _M:
    """``document`` as ``model``; the first pydantic error becomes a located WorkflowFileError."""
    try:
        return model.model_validate(document)
    except ValidationError as exc:
        problem = describe_validation_error(exc, document, model)
        raise WorkflowFileError(
            problem.message,
            source,
            path=problem.path,
            node_id=_item_id(document, problem.parts, "nodes"),
            edge_id=_item_id(document, problem.parts, "edges"),
        ) from None


def _read_bounded(path: Path, source: str) -> bytes:
    """The file's bytes, refusing folders and oversized files before reading them."""
    try:
        info = path.stat()
        if stat.S_ISDIR(info.st_mode):
            raise WorkflowFileError("is a folder, not a workflow file", source)
        if info.st_size > MAX_FILE_BYTES:
            raise WorkflowFileError(_too_large(info.st_size), source)
        with path.open("rb") as fh:
            data = fh.read(MAX_FILE_BYTES + 1)  # bounded: the file may have grown, or be a pipe
    except OSError as exc:
        raise WorkflowFileError(_os_problem(exc), source) from exc
    if len(data) > MAX_FILE_BYTES:
        raise WorkflowFileError(_too_large(None), source)
    return data


def _too_large(size: int | None) -> str:
    """Same wording as the in-memory check, so the CLI says the same whichever caught it."""
    if size is None:
        return f"file is too large (more than the limit of {MAX_FILE_BYTES // _MIB} MiB)"
    return f"file is too large ({size / _MIB:.1f} MiB; the limit is {MAX_FILE_BYTES // _MIB} MiB)"


def _os_problem(exc: OSError, writing: bool = False) -> str:
    """What the file system said, in words (no errno numbers, no Python class names)."""
    if isinstance(exc, FileNotFoundError):
        return "cannot write the file: its folder does not exist" if writing else "no such file"
    if isinstance(exc, IsADirectoryError):
        return "is a folder, not a workflow file"
    if isinstance(exc, NotADirectoryError):
        return "no such file (a part of the path is not a folder)"
    if isinstance(exc, PermissionError):
        return "permission denied"
    reason = exc.strerror or str(exc) or type(exc).__name__
    return f"cannot {'write' if writing else 'read'} the file: {reason[0].lower()}{reason[1:]}"


def _item_id(root: Any, path: Sequence[str | int] | None, kind: str) -> str | None:
    """The id written in the raw ``nodes[i]`` / ``edges[i]`` a path runs through, if it has one."""
    if not path or len(path) < 2 or path[0] != kind or not isinstance(path[1], int):
        return None
    if not isinstance(root, dict):
        return None
    items = root.get(kind)
    if not isinstance(items, list) or not 0 <= path[1] < len(items):
        return None
    item = items[path[1]]
    found = item.get("id") if isinstance(item, dict) else None
    return found if isinstance(found, str) else None


# ---------------------------------------------------------------- writing


def dumps_workflow(wf: Workflow) -> str:
    """The file text of ``wf``: the same workflow always gives the same bytes.

    Nodes and edges are sorted by id and every free-form JSON object (config, pinned outputs,
    defaults) by key, so reordering on the canvas or in a dict never shows up as a diff; model
    fields keep their declaration order and ``inputs`` keep theirs, which is meaningful (it is the
    order the run form shows). Raises ValueError for a NaN or infinite number, which JSON cannot hold.
    """
    document = _canonical(wf, wf.model_dump(mode="json"))
    document["nodes"] = _sorted_by_id(wf.nodes, document["nodes"])
    document["edges"] = _sorted_by_id(wf.edges, document["edges"])
    return _to_text(document)


def dumps_fragment(nodes: Iterable[Node], edges: Iterable[Edge]) -> str:
    """Clipboard text for a selection, with the same determinism as :func:`dumps_workflow`."""
    node_list, edge_list = tuple(nodes), tuple(edges)
    document = {
        "format": FRAGMENT_FORMAT,
        "format_version": FRAGMENT_FORMAT_VERSION,
        "nodes": _sorted_by_id(node_list, [_canonical(n, n.model_dump(mode="json")) for n in node_list]),
        "edges": _sorted_by_id(edge_list, [_canonical(e, e.model_dump(mode="json")) for e in edge_list]),
    }
    return _to_text(document)


def write_workflow(wf: Workflow, path: str | os.PathLike[str]) -> None:
    """Save ``wf`` atomically: readers see the old file or the new one, never a half-written one.

    A workflow whose file would exceed MAX_FILE_BYTES is refused: saving it would leave a file
    that no flowdesk can open again, which is worse than an error now while it is still in memory.
    For the same reason a value JSON or UTF-8 cannot hold (NaN, a lone surrogate in a config
    string, which the models accept in memory) raises ValueError before anything is written.
    """
    source = os.fspath(path)
    data = dumps_workflow(wf).encode("utf-8")
    if len(data) > MAX_FILE_BYTES:
        raise WorkflowFileError(
            f"cannot save: the workflow is too large ({len(data) / _MIB:.1f} MiB;"
            f" the limit is {MAX_FILE_BYTES // _MIB} MiB) — unpin large outputs to shrink it",
            source,
        )
    try:
        _atomic_write(Path(source), data)
    except OSError as exc:
        raise WorkflowFileError(_os_problem(exc, writing=True), source) from exc
    _log.debug("wrote %s (%d bytes)", source, len(data))


def _to_text(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def _sorted_by_id(models: Sequence[Node | Edge], dumped: list[Any]) -> list[Any]:
    """``dumped`` reordered by the ids of the models it was dumped from (stable for equal ids)."""
    order = sorted(range(len(models)), key=lambda i: models[i].id)
    return [dumped[i] for i in order]


OMITTED_WHILE_OFF = ("remote",)
"""Node options newer than the file format's version, written only when on: a file saved again by
this flowdesk keeps its bytes, and a flowdesk from before the option (which refuses unknown
fields) still reads every file that does not use it."""


def _canonical(value: Any, dumped: Any) -> Any:
    """``dumped`` (the JSON dump of ``value``) with model fields in declaration order and every
    free-form object's keys sorted, recursively. Walking the model, not the dump, is what tells a
    model's dict (fixed order) from a free-form one (sorted)."""
    if isinstance(value, BaseModel):
        out = {name: _canonical(getattr(value, name), dumped[name]) for name in type(value).model_fields}
        if isinstance(value, Node) and not value.remote:
            del out["remote"]  # OMITTED_WHILE_OFF
        return out
    if isinstance(value, (tuple, list)) and any(isinstance(v, BaseModel) for v in value):
        return [_canonical(v, d) for v, d in zip(value, dumped, strict=True)]
    if isinstance(value, dict) and any(isinstance(v, BaseModel) for v in value.values()):
        return {k: _canonical(value[k], dumped[k]) for k in sorted(dumped)}
    return _sort_keys(dumped)


def _sort_keys(value: Any) -> Any:
    """A JSON value with every object's keys sorted; iterative, so a deep value cannot overflow."""
    if not isinstance(value, (dict, list)):
        return value
    root: list[Any] = [None]
    stack: list[tuple[Any, Any, Any]] = [(value, root, 0)]
    while stack:
        src, parent, slot = stack.pop()
        if isinstance(src, dict):
            out: Any = {k: None for k in sorted(src)}
            stack.extend((src[k], out, k) for k in out)
        elif isinstance(src, list):
            out = [None] * len(src)
            stack.extend((item, out, i) for i, item in enumerate(src))
        else:
            out = src
        parent[slot] = out
    return root[0]


def _atomic_write(target: Path, data: bytes) -> None:
    """Write a temp file beside ``target``, fsync it, then rename it over ``target``."""
    target = Path(os.path.realpath(target))  # through a symlink, replace the file, not the link
    tmp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    done = False
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.chmod(tmp, stat.S_IMODE(target.stat().st_mode))  # keep the permissions of the file replaced
        except FileNotFoundError:
            pass
        os.replace(tmp, target)
        done = True
    finally:
        if not done:
            tmp.unlink(missing_ok=True)
    _fsync_folder(target.parent)


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable where the OS allows it (POSIX; Windows cannot open folders)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        _log.debug("fsync of folder %s not supported", folder)
    finally:
        os.close(fd)


# ---------------------------------------------------------------- small helpers


def _json_type(value: Any) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    if value is None:
        return "null"
    return "not JSON"


def _short_repr(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 3]}..."


def _one_line(text: str) -> str:
    return " ".join(text.splitlines())
