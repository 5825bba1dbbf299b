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
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Row, delete, func, insert, or_, select, true, union, update

from flowdesk.model.fileformat import WorkflowFileError, dumps_workflow, loads_workflow, read_workflow, write_workflow
from flowdesk.model.workflow import Workflow
from flowdesk.store.database import Database
from flowdesk.store.files import is_library_file
from flowdesk.store.tables import BlobRow, RunRow, StepRow, WorkflowRow, WorkflowVersionRow
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


WORKFLOW = WorkflowRow.__table__  # type: ignore[attr-defined]
VERSION = WorkflowVersionRow.__table__  # type: ignore[attr-defined]
_RUN = RunRow.__table__  # type: ignore[attr-defined]
BLOB = BlobRow.__table__  # type: ignore[attr-defined]


def _last_run(column: str) -> Any:
    """The workflow's latest top-level run's ``column``, as a scalar subquery."""
    return (
        select(_RUN.c[column])
        .where(_RUN.c.workflow_id == WORKFLOW.c.id, _RUN.c.kind != "child")
        .order_by(_RUN.c.created_at.desc())
        .limit(1)
        .scalar_subquery()
    )


_INFO = select(
    *(WORKFLOW.c[f.name] for f in fields(WorkflowInfo) if f.name in WORKFLOW.c),
    _last_run("status").label("last_run_status"),
    _last_run("created_at").label("last_run_at"),
)


def _info(row: Row[Any]) -> WorkflowInfo:
    values = dict(row._mapping)
    values["tags"] = tuple(json.loads(values["tags"]))
    return WorkflowInfo(**values)


class WorkflowLibrary:
    def __init__(self, db: Database) -> None:
        self.db = db

    # ------------------------------------------------------------ finding
    def _find(self, conn: Connection, ref: str) -> WorkflowInfo:
        row = conn.execute(_INFO.where(or_(WORKFLOW.c.id == ref, WORKFLOW.c.slug == ref))).first()
        if row is None:
            raise NotFoundError(f"there is no workflow '{ref}' in the library (see `flowdesk list`)")
        return _info(row)

    def get(self, ref: str) -> WorkflowInfo:
        with self.db.read() as conn:
            return self._find(conn, ref)

    def exists(self, ref: str) -> bool:
        with self.db.read() as conn:
            found = conn.execute(select(WORKFLOW.c.id).where(or_(WORKFLOW.c.id == ref, WORKFLOW.c.slug == ref))).first()
        return found is not None

    def list(
        self, search: str = "", *, include_archived: bool = False, status: str | None = None
    ) -> list[WorkflowInfo]:
        """Newest change first; ``search`` matches name, slug, description and tags (any case)."""
        query = _INFO.order_by(WORKFLOW.c.updated_at.desc())
        if status:
            query = query.where(WORKFLOW.c.status == status)
        elif not include_archived:
            query = query.where(WORKFLOW.c.status != "archived")
        if search:
            pattern = f"%{search}%"
            query = query.where(or_(*(WORKFLOW.c[c].like(pattern) for c in ("name", "slug", "description", "tags"))))
        with self.db.read() as conn:
            rows = conn.execute(query).all()
        return [_info(r) for r in rows]

    # ------------------------------------------------------------ documents
    def load(self, ref: str, version: int | None = None) -> Workflow:
        """The workflow as saved (its current version unless ``version`` is given)."""
        with self.db.read() as conn:
            info = self._find(conn, ref)
            number = version or info.current_version
            document = conn.execute(
                select(VERSION.c.document_hash).where(VERSION.c.workflow_id == info.id, VERSION.c.version == number)
            ).scalar()
            if document is None:
                raise NotFoundError(
                    f"workflow '{info.slug}' has no version {number} (it has 1 to {info.current_version})"
                )
            text = load_texts(conn, [document])[document]
        return loads_workflow(text, source=f"library:{info.slug}@{number}")

    def save(
        self, wf: Workflow, *, summary: str = "", author: str = "", tags: tuple[str, ...] | None = None
    ) -> SaveResult:
        """Save the document as a new version of its workflow (made on first save); unchanged saves make none."""
        digest = content_hash(wf)
        now = time.time()
        with self.db.write() as conn:
            current = conn.execute(select(WORKFLOW.c.current_version).where(WORKFLOW.c.id == wf.id)).scalar()
            if current is None:
                slug = self._free_slug(conn, slugify(wf.name))
                conn.execute(
                    insert(WORKFLOW).values(
                        id=wf.id, slug=slug, name=wf.name, description=wf.description,
                        tags=json.dumps(list(tags or ())), status="draft", current_version=0, created_at=now,
                        updated_at=now,
                    )
                )  # fmt: skip
                current = 0
            else:
                last = conn.execute(
                    select(VERSION.c.content_hash).where(VERSION.c.workflow_id == wf.id, VERSION.c.version == current)
                ).scalar()
                if last == digest:
                    self._set_tags(conn, wf.id, tags)
                    return SaveResult(wf.id, current, created=False)
            version = current + 1
            blobs = BlobBatch()
            document = blobs.text(dumps_workflow(wf.model_copy(update={"version": version})))
            blobs.flush(self.db.raw())
            conn.execute(
                insert(VERSION).values(
                    workflow_id=wf.id, version=version, created_at=now, author=author, summary=summary,
                    document_hash=document, content_hash=digest,
                )
            )  # fmt: skip
            conn.execute(
                update(WORKFLOW)
                .where(WORKFLOW.c.id == wf.id)
                .values(name=wf.name, description=wf.description, current_version=version, updated_at=now)
            )
            self._set_tags(conn, wf.id, tags)
        return SaveResult(wf.id, version, created=True)

    def _set_tags(self, conn: Connection, workflow_id: str, tags: tuple[str, ...] | None) -> None:
        if tags is not None:
            conn.execute(update(WORKFLOW).where(WORKFLOW.c.id == workflow_id).values(tags=json.dumps(list(tags))))

    def _free_slug(self, conn: Connection, base: str) -> str:
        taken = set(conn.execute(select(WORKFLOW.c.slug).where(WORKFLOW.c.slug.like(f"{base}%"))).scalars())
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
            conn.execute(update(WORKFLOW).where(WORKFLOW.c.id == info.id).values(status=status, updated_at=time.time()))

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
                deleted = conn.execute(delete(_RUN).where(_RUN.c.workflow_id == info.id)).rowcount
            conn.execute(delete(WORKFLOW).where(WORKFLOW.c.id == info.id))
            drop_unused_blobs(conn)
        return deleted

    def history(self, ref: str) -> list[VersionInfo]:
        """Every saved version, newest first."""
        with self.db.read() as conn:
            info = self._find(conn, ref)
            rows = conn.execute(
                select(VERSION.c.version, VERSION.c.created_at, VERSION.c.author, VERSION.c.summary)
                .where(VERSION.c.workflow_id == info.id)
                .order_by(VERSION.c.version.desc())
            ).all()
        return [VersionInfo(**r._mapping, current=r.version == info.current_version) for r in rows]

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
        for name, path in self.references_to_import(workflow, folder):
            self.import_file(path)
            imported.append(name)
        return imported

    def references_to_import(self, workflow: Workflow, folder: str | Path) -> list[tuple[str, Path]]:
        """The files ``import_references`` would import (name as the node gives it, path), read not stored:
        an import checks them before it stores anything."""
        found: list[tuple[str, Path]] = []
        pending = [workflow]
        while pending:
            for node in pending.pop().nodes:
                ref = node.config.get("workflow")
                if not isinstance(ref, str) or not ref.endswith(".json") or any(ref == name for name, _ in found):
                    continue
                path = Path(folder) / ref
                if self.exists(Path(ref).stem) or not path.is_file():
                    continue
                refuse_library_file(self.db.path, path)
                found.append((ref, path))
                pending.append(read_workflow(path))
        return found

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
    step = StepRow.__table__  # type: ignore[attr-defined]

    def hashes_in(table: Any, column: str) -> Any:  # the values of a {name: hash} JSON column
        each = func.json_each(table.c[column]).table_valued("value")
        return select(each.c.value).select_from(table).join(each, true())

    used = union(
        select(VERSION.c.document_hash),
        select(_RUN.c.document_hash).where(_RUN.c.document_hash.is_not(None)),
        *(hashes_in(table, column) for table in (_RUN, step) for column in ("inputs", "outputs")),
    )
    conn.execute(delete(BLOB).where(BLOB.c.hash.not_in(used)))
