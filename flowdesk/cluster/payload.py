"""What one cluster task carries: the child's workflows as file text, the settings, the keys it needs.

Keys travel inside the task's argument only, in memory: never in the task's name (what the
scheduler, its logs and its dashboard show), never in a repr, never in the library.
"""

from __future__ import annotations

import hashlib
import json
import pickle
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from flowdesk.engine.remote import ChildJob, NodeJob
from flowdesk.model.fileformat import dumps_workflow
from flowdesk.model.workflow import Node, Workflow
from flowdesk.providers.catalog import PROVIDERS
from flowdesk.providers.credentials import CredentialError, Credentials
from flowdesk.providers.secrets import env_var_for


class SealedKeys:
    """Credential keys for one task, by credential name; its repr and str never show a key.

    On the worker it stands in for the OS keyring (``get``), and its ``environ`` stands in for the
    environment variables a key may also come from.
    """

    __slots__ = ("_keys",)

    def __init__(self, keys: dict[str, str] | None = None) -> None:
        self._keys = dict(keys or {})

    def get(self, name: str) -> str | None:
        return self._keys.get(name)

    def names(self) -> list[str]:
        return sorted(self._keys)

    def environ(self) -> dict[str, str]:
        return {env_var_for(name): key for name, key in self._keys.items()}

    def __getstate__(self) -> dict[str, str]:
        return self._keys

    def __setstate__(self, state: dict[str, str]) -> None:
        self._keys = dict(state)

    def __repr__(self) -> str:
        return f"<SealedKeys: {len(self._keys)} key(s), not shown>"

    __str__ = __repr__


@dataclass(frozen=True)
class ChildPayload:
    """One child run for a worker. Workflows go as file text: the worker reads them as a file is read."""

    run_id: str
    parent_run_id: str
    parent_node_id: str
    depth: int
    workflow: str
    inputs: dict[str, Any]
    workflows: dict[str, str]
    settings: dict[str, Any]
    keys: SealedKeys = field(repr=False)
    files_root: str | None
    max_depth: int
    version: str
    settings_digest: str = ""
    """Names ``settings`` (a hash of them): a worker keeps one set of keyless providers per digest."""
    task_key: str = ""
    """The Dask task's key (set when submitted): the task watches it to stop when it is let go."""


@dataclass(frozen=True)
class NodePayload:
    """One attempt of a ``remote: true`` node for a worker, with the one key it may need."""

    job: NodeJob
    llm_settings: dict[str, Any]
    keys: SealedKeys = field(repr=False)
    files_root: str | None
    version: str
    settings_digest: str = ""
    task_key: str = ""


def credential_names(workflows: list[Workflow]) -> list[tuple[str | None, str]]:
    """(credential named or None, provider or 'http') for every node that will ask for a key."""
    return _credential_names(node for workflow in workflows for node in workflow.nodes)


def _credential_names(nodes: Iterable[Node]) -> list[tuple[str | None, str]]:
    wanted: list[tuple[str | None, str]] = []
    for node in nodes:
        named = node.config.get("credential")
        name = named if isinstance(named, str) and named else None
        if node.kind == "llm":
            provider = str(node.config.get("model", "offline:echo")).partition(":")[0]
            if provider in PROVIDERS and provider != "offline":
                wanted.append((name, provider))
        elif node.kind == "http" and name is not None:
            wanted.append((name, "http"))
    return sorted(set(wanted), key=lambda pair: (pair[0] or "", pair[1]))


def gather_keys(workflows: list[Workflow], credentials: Credentials) -> SealedKeys:
    """The keys those nodes will ask for, found here (keyring or environment). One that cannot be
    found is left out: the node on the worker then fails with the same sentence as here."""
    return _gather(credential_names(workflows), credentials)


def _gather(wanted: list[tuple[str | None, str]], credentials: Credentials) -> SealedKeys:
    keys: dict[str, str] = {}
    for name, provider in wanted:
        try:
            if provider == "http":
                assert name is not None
                keys[name] = credentials.get(name)
            else:
                resolved = credentials.resolve(name, provider)
                if resolved.key:
                    keys[resolved.name] = resolved.key
        except (CredentialError, KeyError):
            continue
    return SealedKeys(keys)


KEPT_CHILD_WORKFLOWS = 16
"""Child workflows whose text and keys a connection keeps made (a map sends the same one per item).
Bounded: in the app and the service one connection serves every run, each with workflows of its own."""


@dataclass
class PayloadMaker:
    """Builds payloads, reading each workflow's text and keys once (a map sends the same one per item)."""

    credentials: Credentials
    max_depth: int
    version: str
    _made: OrderedDict[int, tuple[Workflow, str, dict[str, str], SealedKeys]] = field(
        default_factory=OrderedDict, init=False
    )
    _settings: dict[str, Any] | None = field(default=None, init=False)
    _digest: str = field(default="", init=False)

    def payload(self, job: ChildJob) -> ChildPayload:
        _, text, texts, keys = self._made_for(job)
        return ChildPayload(
            run_id=job.run_id,
            parent_run_id=job.parent_run_id,
            parent_node_id=job.parent_node_id,
            depth=job.depth,
            workflow=text,
            inputs=job.inputs,
            workflows=texts,
            settings=self._settings_json(),
            keys=keys,
            files_root=job.files_root,
            max_depth=self.max_depth,
            version=self.version,
            settings_digest=self._digest,
        )

    def _made_for(self, job: ChildJob) -> tuple[Workflow, str, dict[str, str], SealedKeys]:
        made = self._made.get(id(job.workflow))
        if made is not None and made[0] is job.workflow:  # held here, so its id is not another's
            self._made.move_to_end(id(job.workflow))
            return made
        texts = {ref: dumps_workflow(wf) for ref, wf in job.workflows.items()}
        keys = gather_keys([job.workflow, *job.workflows.values()], self.credentials)
        made = (job.workflow, dumps_workflow(job.workflow), texts, keys)
        self._made[id(job.workflow)] = made
        if len(self._made) > KEPT_CHILD_WORKFLOWS:
            self._made.popitem(last=False)
        return made

    def node_payload(self, job: NodeJob) -> NodePayload:
        """The attempt with only the key its node asks for (none for a transform or a tool)."""
        keys = _gather(_credential_names([job.node]), self.credentials)
        return NodePayload(job, self._settings_json(), keys, job.files_root, self.version, self._digest)

    def _settings_json(self) -> dict[str, Any]:
        if self._settings is None:
            self._settings = self.credentials.settings.model_dump(mode="json")
            text = json.dumps(self._settings, sort_keys=True, separators=(",", ":"))
            self._digest = hashlib.sha256(text.encode()).hexdigest()
        return self._settings


def packed(outcome: dict[str, Any]) -> bytes:
    """A task's outcome as the bytes it returns to Dask.

    The worker measures every result it keeps (``dask.sizeof``) to account its memory: over a dict
    of a child's events (a dozen small dicts) that walk cost 0.17 ms per item, thirty times what
    pickling them costs, on the worker's event loop. Bytes are measured by their length.
    """
    return pickle.dumps(outcome, protocol=pickle.HIGHEST_PROTOCOL)


def unpacked(result: Any) -> dict[str, Any]:
    """The outcome a task returned (the coordinator's side of :func:`packed`)."""
    outcome: dict[str, Any] = pickle.loads(result)  # from our own workers, as every Dask result is
    return outcome
