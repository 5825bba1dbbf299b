"""A workflow's lifecycle beyond its versions: publishing the version that runs by default, and tags.

Publishing is separate from saving: the editor saves new versions (drafts) freely, and triggers and
the API keep running the published one until another is published. A workflow never published
runs its newest version.
"""

from __future__ import annotations

import json
import time

from sqlalchemy import or_, select, update
from sqlalchemy.dialects.sqlite import insert

from flowdesk.model.workflow import Workflow
from flowdesk.store.automation_tables import PublicationRow
from flowdesk.store.database import Database
from flowdesk.store.store import Store
from flowdesk.store.workflows import WORKFLOW, NotFoundError, WorkflowLibrary

PUBLICATION = PublicationRow.__table__  # type: ignore[attr-defined]
TAG_LIMIT = 40


class PublishRefused(ValueError):
    """The version cannot run as it is: publishing it would make every trigger of the workflow fail."""


def publish(db: Database, workflow_ref: str, version: int | None = None) -> int:
    """Make ``version`` (default: the newest) the one that runs by default; a draft becomes active.

    Returns the version published. A version with errors (what `flowdesk validate` calls one) is
    refused with the first of them. An archived workflow stays archived (publishing does not bring
    it back to the lists; `flowdesk status SLUG active` does)."""
    library = WorkflowLibrary(db)
    info = library.get(workflow_ref)
    number = version or info.current_version
    if not 1 <= number <= info.current_version:
        raise NotFoundError(f"workflow '{info.slug}' has no version {number} (it has 1 to {info.current_version})")
    errors = _errors(library.load(info.id, number))
    if errors:
        raise PublishRefused(
            f"version {number} of '{info.slug}' cannot run: {len(errors)} error(s), the first {errors[0]}; "
            f"nothing was published"
        )
    with db.write() as conn:
        stmt = insert(PUBLICATION).values(workflow_id=info.id, version=number, published_at=time.time())
        conn.execute(
            stmt.on_conflict_do_update(
                index_elements=["workflow_id"],
                set_={"version": stmt.excluded.version, "published_at": stmt.excluded.published_at},
            )
        )
        if info.status == "draft":
            conn.execute(update(WORKFLOW).where(WORKFLOW.c.id == info.id).values(status="active"))
    return number


def _errors(workflow: Workflow) -> list[str]:
    from flowdesk.model.validation import validate
    from flowdesk.nodes.registry import default_registry

    problems = validate(workflow, default_registry(), for_run=True)
    return [f"{p.node_id or p.edge_id or 'workflow'}: {p.message}" for p in problems if p.severity == "error"]


def published_version(db: Database, workflow_id: str) -> int | None:
    with db.read() as conn:
        return conn.execute(select(PUBLICATION.c.version).where(PUBLICATION.c.workflow_id == workflow_id)).scalar()


def run_version(store: Store | Database, workflow_ref: str) -> int:
    """The version triggers and the API run when none is asked for: the published one, else the newest.

    Takes the Store (as the service holds it) or its Database (as the rest of this module does). One
    small query: it is on the path of every triggered run and webhook call."""
    db = store.db if isinstance(store, Store) else store
    query = (
        select(WORKFLOW.c.current_version, PUBLICATION.c.version)
        .select_from(WORKFLOW.outerjoin(PUBLICATION, PUBLICATION.c.workflow_id == WORKFLOW.c.id))
        .where(or_(WORKFLOW.c.id == workflow_ref, WORKFLOW.c.slug == workflow_ref))
    )
    with db.read() as conn:
        row = conn.execute(query).first()
    if row is None:
        raise NotFoundError(f"there is no workflow '{workflow_ref}' in the library (see `flowdesk list`)")
    return int(row[1] or row[0])


def change_tags(
    db: Database, workflow_ref: str, *, add: tuple[str, ...] = (), remove: tuple[str, ...] = ()
) -> tuple[str, ...]:
    """Add and remove tags (kept in order, each once); returns the tags now set."""
    for tag in add:
        if not tag.strip() or len(tag) > TAG_LIMIT or "," in tag:
            raise ValueError(f"a tag is 1 to {TAG_LIMIT} characters without a comma, not {tag!r}")
    info = WorkflowLibrary(db).get(workflow_ref)
    tags = [t for t in info.tags if t not in remove]
    for tag in (t.strip() for t in add):
        if tag not in tags:
            tags.append(tag)
    with db.write() as conn:
        conn.execute(update(WORKFLOW).where(WORKFLOW.c.id == info.id).values(tags=json.dumps(tags)))
    return tuple(tags)
