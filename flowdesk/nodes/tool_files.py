"""The built-in file tools: read and write text inside the folder the user named (``--files-root``).

A path is checked twice. First by name: resolved (``..`` and links followed) it must stay inside
the folder. Then by the open itself: each folder on the way is opened relative to the one before
with ``O_NOFOLLOW``, so a folder swapped for a link between the check and the open fails the open
instead of leading outside; and only regular files are read or replaced — a FIFO, a device or a
socket is refused with a sentence before anything could block on it.
"""

from __future__ import annotations

import errno
import os
import secrets
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flowdesk.nodes.context import NodeFailure
from flowdesk.nodes.tool_context import ToolContext, quote

MAX_FILE_BYTES = 10 * 1024 * 1024
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_HANDLES = {os.open, os.stat, os.rename, os.unlink} <= os.supports_dir_fd and bool(_NOFOLLOW and _DIRECTORY)
"""Whether folders can be opened as handles and files opened relative to them (not on Windows)."""
_KINDS = {
    stat.S_IFIFO: "a FIFO (named pipe)",
    stat.S_IFSOCK: "a socket",
    stat.S_IFCHR: "a device",
    stat.S_IFBLK: "a device",
    stat.S_IFDIR: "a folder",
    stat.S_IFLNK: "a link",
}


def _kind(mode: int) -> str | None:
    """Why a file of this mode is refused (None for a regular file)."""
    return None if stat.S_ISREG(mode) else _KINDS.get(stat.S_IFMT(mode), "not a regular file")


def file_read(path: str, *, context: ToolContext) -> str:
    """Reads a UTF-8 text file inside the workflow's files folder (at most 10 MB)."""
    root, parts = _inside_root(path, context, "file_read")
    try:
        with _parent(root, parts, path, "file_read") as parent:
            _refuse_special(parent, parts[-1], path, "file_read", missing_ok=False)
            fd = _open_at(parent, parts[-1], os.O_RDONLY | _NOFOLLOW | _NONBLOCK | _CLOEXEC)
            try:
                data = _read_regular(fd, path)
            finally:
                os.close(fd)
    except OSError as exc:
        raise NodeFailure(f"file_read: cannot read {quote(path)}: {_reason(exc)}") from exc
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise NodeFailure(f"file_read: {quote(path)} is not UTF-8 text") from exc


def _read_regular(fd: int, path: str) -> bytes:
    """The file's bytes, after checking (on the open handle) that it is a regular file within the limit."""
    info = os.fstat(fd)
    refused = _kind(info.st_mode)
    if refused:
        raise NodeFailure(f"file_read: {quote(path)} is {refused}, not a regular file; only files can be read")
    if info.st_size > MAX_FILE_BYTES:
        raise NodeFailure(f"file_read: {quote(path)} is {info.st_size} bytes; the limit is 10 MB")
    chunks, size = [], 0
    while size <= MAX_FILE_BYTES:
        chunk = os.read(fd, min(1 << 20, MAX_FILE_BYTES + 1 - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    if size > MAX_FILE_BYTES:  # the file grew after fstat
        raise NodeFailure(f"file_read: {quote(path)} is over 10 MB")
    return b"".join(chunks)


def file_write(path: str, content: str, *, context: ToolContext) -> str:
    """Writes text to a file inside the workflow's files folder, atomically; returns the path written.

    The text goes to a temporary file beside the target first and is then moved over it, so a
    crash mid-write leaves the old file or the new one, never half of one.
    """
    root, parts = _inside_root(path, context, "file_write")
    name = parts[-1]
    try:
        with _parent(root, parts, path, "file_write") as parent:
            _refuse_special(parent, name, path, "file_write", missing_ok=True)
            _write_beside(parent, name, content)
    except FileNotFoundError as exc:
        raise NodeFailure(f"file_write: the folder of {quote(path)} does not exist") from exc
    except OSError as exc:
        raise NodeFailure(f"file_write: cannot write {quote(path)}: {_reason(exc)}") from exc
    context.log(f"wrote {len(content)} characters to {path}")
    return "/".join(parts)


def _write_beside(parent: int, name: str, content: str) -> None:
    temp = f".{name}.{secrets.token_hex(4)}.tmp"
    fd = _open_at(parent, temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC, 0o666)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        if isinstance(parent, int):
            os.replace(temp, name, src_dir_fd=parent, dst_dir_fd=parent)
        else:
            os.replace(os.path.join(parent, temp), os.path.join(parent, name))
    except BaseException:
        try:
            if isinstance(parent, int):
                os.unlink(temp, dir_fd=parent)
            else:
                os.unlink(os.path.join(parent, temp))
        except OSError:
            pass
        raise


def _refuse_special(parent: int, name: str, path: str, tool: str, *, missing_ok: bool) -> None:
    """Refuse a FIFO, device, socket, folder or link by its entry, before opening it (a FIFO would block)."""
    try:
        info = (
            os.stat(name, dir_fd=parent, follow_symlinks=False)
            if isinstance(parent, int)
            else os.lstat(os.path.join(parent, name))
        )
    except FileNotFoundError:
        if missing_ok:
            return
        raise
    refused = _kind(info.st_mode)
    if refused == "a link":
        raise NodeFailure(
            f"{tool}: {quote(path)} changed while it was being opened (it became a link); nothing was done"
        )
    if refused:
        raise NodeFailure(f"{tool}: {quote(path)} is {refused}, not a regular file; only files can be read or written")


@contextmanager
def _parent(root: Path, parts: list[str], path: str, tool: str) -> Iterator[int | str]:
    """A handle on the folder that holds the target, reached from ``root`` one folder at a time
    without following links: a folder replaced by a link since the name check stops here. Where the
    system has no directory handles (Windows) it is the folder's path, checked by name only."""
    if not _HANDLES:
        yield os.path.join(root, *parts[:-1])
        return
    fd = os.open(root, os.O_RDONLY | _DIRECTORY | _CLOEXEC)
    try:
        for part in parts[:-1]:
            try:
                child = os.open(part, os.O_RDONLY | _DIRECTORY | _NOFOLLOW | _CLOEXEC, dir_fd=fd)
            except OSError as exc:
                if exc.errno != errno.ELOOP:
                    raise
                raise NodeFailure(
                    f"{tool}: {quote(path)} changed while it was being opened (a folder on the way became a link); "
                    "nothing was done"
                ) from exc
            os.close(fd)
            fd = child
        yield fd
    finally:
        os.close(fd)


def _open_at(parent: int | str, name: str, flags: int, mode: int = 0o777) -> int:
    if isinstance(parent, int):
        return os.open(name, flags, mode, dir_fd=parent)
    return os.open(os.path.join(parent, name), flags, mode)


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


def _inside_root(path: str, context: ToolContext, tool: str) -> tuple[Path, list[str]]:
    """The files folder and ``path``'s parts inside it (``..`` and links resolved); NodeFailure if the
    path leads outside it or names the folder itself."""
    if context.files_root is None:
        raise NodeFailure(f"{tool}: file access is off for this run (no files folder is set)")
    if not path or "\x00" in path:
        raise NodeFailure(f"{tool}: {quote(path)} is not a usable path")
    try:
        root = context.files_root.resolve()
        target = (root / path).resolve()  # an absolute path replaces root here and is then checked
    except (OSError, RuntimeError) as exc:  # a link loop, or a link removed while it was followed
        raise NodeFailure(f"{tool}: cannot follow {quote(path)}: {exc}") from exc
    if target != root and root not in target.parents:
        raise NodeFailure(
            f"{tool}: {quote(path)} is outside the files folder {str(root)!r}; only paths inside it are allowed"
        )
    if target == root or target.is_dir():
        raise NodeFailure(f"{tool}: {quote(path)} is a folder, not a file")
    return root, list(target.relative_to(root).parts)
