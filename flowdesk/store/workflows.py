"""The workflow library: save (one version per real change), load, list, rename, archive, delete,
history and restore, import and export of workflow files.

History is append-only: restoring an old version saves it again as the newest one, so nothing a
user saved is ever overwritten. A workflow is found by its id or its slug (a readable, unique,
stable handle for the command line: renaming does not change it).
"""

from __future__ import annotations

import json
import re
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from flowdesk.model.fileformat import WorkflowFileError, dumps_workflow, loads_workflow, read_workflow, write_workflow
from flowdesk.model.workflow import Workflow
from flowdesk.store.database import Database
from flowdesk.store.files import is_library_file
from flowdesk.store.values import BlobBatch, load_texts, text_hash

STATUSES = ("draft", "active", "archived")


class NotFoundError(LookupError):
    """No workflow, version or run by that name; the message says which."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "not found"


@dataclass(frozen=True)
class WorkflowInfo:
    id: str
    slug: str
    name: str
    description: str
    tags: tuple[str, ...]
    status: str
    current_version: int
    created_at: float
    updated_at: float
    last_run_status: str | None = None
    last_run_at: float | None = None


@dataclass(frozen=True)
class VersionInfo:
    version: int
    created_at: float
    author: str
    summary: str
    current: bool


@dataclass(frozen=True)
class SaveResult:
    workflow_id: str
    version: int
    created: bool
    """False when the document was unchanged and no version was made."""


def slugify(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:60].strip("-") or "workflow"


def content_hash(wf: Workflow) -> str:
    """What the document says, apart from its version number: equal hashes mean an unchanged save."""
    return text_hash(dumps_workflow(wf.model_copy(update={"version": 1})))


_INFO_COLUMNS = (
    "w.id, w.slug, w.name, w.description, w.tags, w.status, w.current_version, w.created_at, w.updated_at, "
    "(SELECT status FROM run r WHERE r.workflow_id = w.id AND r.kind != 'child' ORDER BY created_at DESC LIMIT 1), "
    "(SELECT created_at FROM run r WHERE r.workflow_id = w.id AND r.kind != 'child' ORDER BY created_at DESC LIMIT 1)"
)


def _info(row: Any) -> WorkflowInfo:
    return WorkflowInfo(
        id=row[0], slug=row[1], name=row[2], description=row[3], tags=tuple(json.loads(row[4])), status=row[5],
        current_version=row[6], created_at=row[7], updated_at=row[8], last_run_status=row[9], last_run_at=row[10],
    )  # fmt: skip


class WorkflowLibrary:
    def __init__(self, db: Database) -> None:
        self.db = db

    # ------------------------------------------------------------ finding
    def _find(self, conn: Connection, ref: str) -> WorkflowInfo:
        row = conn.exec_driver_sql(
            f"SELECT {_INFO_COLUMNS} FROM workflow w WHERE w.id = ? OR w.slug = ?", (ref, ref)
        ).first()
        if row is None:
            raise NotFoundError(f"there is no workflow '{ref}' in the library (see `flowdesk list`)")
        return _info(row)

    def get(self, ref: str) -> WorkflowInfo:
        with self.db.read() as conn:
            return self._find(conn, ref)

    def exists(self, ref: str) -> bool:
        with self.db.read() as conn:
            found = conn.exec_driver_sql("SELECT 1 FROM workflow WHERE id = ? OR slug = ?", (ref, ref)).first()
        return found is not None

    def list(
        self, search: str = "", *, include_archived: bool = False, status: str | None = None
    ) -> list[WorkflowInfo]:
        """Newest change first; ``search`` matches name, slug, description and tags (any case)."""
        clauses, params = [], []
        if status:
            clauses.append("w.status = ?")
            params.append(status)
        elif not include_archived:
            clauses.append("w.status != 'archived'")
        if search:
            clauses.append("(w.name LIKE ? OR w.slug LIKE ? OR w.description LIKE ? OR w.tags LIKE ?)")
            params.extend([f"%{search}%"] * 4)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        with self.db.read() as conn:
            rows = conn.exec_driver_sql(
                f"SELECT {_INFO_COLUMNS} FROM workflow w {where} ORDER BY w.updated_at DESC", tuple(params)
            ).all()
        return [_info(r) for r in rows]

    # ------------------------------------------------------------ documents
    def load(self, ref: str, version: int | None = None) -> Workflow:
        """The workflow as saved (its current version unless ``version`` is given)."""
        with self.db.read() as conn:
            info = self._find(conn, ref)
            number = version or info.current_version
            row = conn.exec_driver_sql(
                "SELECT document_hash FROM workflow_version WHERE workflow_id = ? AND version = ?", (info.id, number)
            ).first()
            if row is None:
                raise NotFoundError(
                    f"workflow '{info.slug}' has no version {number} (it has 1 to {info.current_version})"
                )
            text = load_texts(conn, [row[0]])[row[0]]
        return loads_workflow(text, source=f"library:{info.slug}@{number}")

    def save(
        self, wf: Workflow, *, summary: str = "", author: str = "", tags: tuple[str, ...] | None = None
    ) -> SaveResult:
        """Save the document as a new version of its workflow (made on first save); unchanged saves make none."""
        digest = content_hash(wf)
        now = time.time()
        with self.db.write() as conn:
            row = conn.exec_driver_sql("SELECT current_version FROM workflow WHERE id = ?", (wf.id,)).first()
            if row is None:
                slug = self._free_slug(conn, slugify(wf.name))
                conn.exec_driver_sql(
                    "INSERT INTO workflow (id, slug, name, description, tags, status, current_version, created_at,"
                    " updated_at) VALUES (?, ?, ?, ?, ?, 'draft', 0, ?, ?)",
                    (wf.id, slug, wf.name, wf.description, json.dumps(list(tags or ())), now, now),
                )
                current = 0
            else:
                current = row[0]
                last = conn.exec_driver_sql(
                    "SELECT content_hash FROM workflow_version WHERE workflow_id = ? AND version = ?", (wf.id, current)
                ).first()
                if last is not None and last[0] == digest:
                    self._set_tags(conn, wf.id, tags)
                    return SaveResult(wf.id, current, created=False)
            version = current + 1
            blobs = BlobBatch()
            document = blobs.text(dumps_workflow(wf.model_copy(update={"version": version})))
            blobs.flush(self.db.raw())
            conn.exec_driver_sql(
                "INSERT INTO workflow_version (workflow_id, version, created_at, author, summary, document_hash,"
                " content_hash) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (wf.id, version, now, author, summary, document, digest),
            )
            conn.exec_driver_sql(
                "UPDATE workflow SET name = ?, description = ?, current_version = ?, updated_at = ? WHERE id = ?",
                (wf.name, wf.description, version, now, wf.id),
            )
            self._set_tags(conn, wf.id, tags)
        return SaveResult(wf.id, version, created=True)

    def _set_tags(self, conn: Connection, workflow_id: str, tags: tuple[str, ...] | None) -> None:
        if tags is not None:
            conn.exec_driver_sql("UPDATE workflow SET tags = ? WHERE id = ?", (json.dumps(list(tags)), workflow_id))

    def _free_slug(self, conn: Connection, base: str) -> str:
        taken = {r[0] for r in conn.exec_driver_sql("SELECT slug FROM workflow WHERE slug LIKE ?", (f"{base}%",))}
        slug, n = base, 1
        while slug in taken:
            n += 1
            slug = f"{base}-{n}"
        return slug

    # ------------------------------------------------------------ changes
    def rename(self, ref: str, name: str) -> SaveResult:
        wf = self.load(ref)
        return self.save(wf.model_copy(update={"name": name}), summary=f"renamed to {name!r}")

    def set_status(self, ref: str, status: str) -> None:
        if status not in STATUSES:
            raise ValueError(f"status must be one of {', '.join(STATUSES)}, not {status!r}")
        with self.db.write() as conn:
            info = self._find(conn, ref)
            conn.exec_driver_sql(
                "UPDATE workflow SET status = ?, updated_at = ? WHERE id = ?", (status, time.time(), info.id)
            )

    def duplicate(self, ref: str, name: str | None = None) -> SaveResult:
        wf = self.load(ref)
        copy = wf.model_copy(update={"id": f"wf_{uuid.uuid4().hex[:12]}", "name": name or f"{wf.name} (copy)"})
        return self.save(copy, summary=f"duplicated from {ref}")

    def delete(self, ref: str, *, with_runs: bool = False) -> int:
        """Delete a workflow and its versions; its runs stay, inspectable, unless ``with_runs``; returns runs gone."""
        with self.db.write() as conn:
            info = self._find(conn, ref)
            deleted = 0
            if with_runs:
                deleted = conn.exec_driver_sql("DELETE FROM run WHERE workflow_id = ?", (info.id,)).rowcount
            conn.exec_driver_sql("DELETE FROM workflow WHERE id = ?", (info.id,))
            drop_unused_blobs(conn)
        return deleted

    def history(self, ref: str) -> list[VersionInfo]:
        """Every saved version, newest first."""
        with self.db.read() as conn:
            info = self._find(conn, ref)
            rows = conn.exec_driver_sql(
                "SELECT version, created_at, author, summary FROM workflow_version WHERE workflow_id = ?"
                " ORDER BY version DESC",
                (info.id,),
            ).all()
        return [VersionInfo(r[0], r[1], r[2], r[3], r[0] == info.current_version) for r in rows]

    def restore(self, ref: str, version: int) -> SaveResult:
        """Make an old version current again, as a new version (history is never rewritten)."""
        wf = self.load(ref, version)
        return self.save(wf, summary=f"restored version {version}")

    # ------------------------------------------------------------ files
    def import_file(self, path: str | Path, *, as_new: bool = False) -> SaveResult:
        """Read and validate a workflow file, then save it (a new version if its id is already here)."""
        refuse_library_file(self.db.path, path)
        wf = read_workflow(path)
        if as_new and self.exists(wf.id):
            wf = wf.model_copy(update={"id": f"wf_{uuid.uuid4().hex[:12]}"})
        return self.save(wf, summary=f"imported from {Path(path).name}")

    def import_references(self, workflow: Workflow, folder: str | Path) -> list[str]:
        """Import the workflow files ``workflow`` names by file (a map's or sub-workflow's ``workflow``
        setting, e.g. 'summarise_document.json') that sit in ``folder`` and are not in the library yet,
        and theirs in turn; returns the names of the files imported.

        A workflow opened from a file and saved here then still finds the workflows it calls.
        """
        imported: list[str] = []
        pending = [workflow]
        while pending:
            for node in pending.pop().nodes:
                ref = node.config.get("workflow")
                if not isinstance(ref, str) or not ref.endswith(".json") or ref in imported:
                    continue
                path = Path(folder) / ref
                if self.exists(Path(ref).stem) or not path.is_file():
                    continue
                saved = self.import_file(path)
                imported.append(ref)
                pending.append(self.load(saved.workflow_id))
        return imported

    def export(self, ref: str, path: str | Path | None = None, *, version: int | None = None) -> str:
        """The workflow file text; also written (atomically) to ``path`` when given."""
        wf = self.load(ref, version)
        if path is not None:
            write_workflow(wf, path)
        return dumps_workflow(wf)


def refuse_library_file(library: Path, path: str | Path) -> None:
    """Reading the library (or its -wal, -shm) as a workflow file would drop this process's locks on it."""
    if is_library_file(library, path):
        raise WorkflowFileError(f"{path} is the library's own file, not a workflow file; it was not read", str(path))


def drop_unused_blobs(conn: Connection) -> None:
    """Remove values nothing refers to any more (after a delete); rare, so a full scan is fine."""
    conn.exec_driver_sql(
        "DELETE FROM blob WHERE hash NOT IN ("
        " SELECT document_hash FROM workflow_version"
        " UNION SELECT document_hash FROM run WHERE document_hash IS NOT NULL"
        " UNION SELECT value FROM run, json_each(run.inputs) UNION SELECT value FROM run, json_each(run.outputs)"
        " UNION SELECT value FROM step, json_each(step.inputs) UNION SELECT value FROM step, json_each(step.outputs))"
    )
