"""A flowdesk process for the store's reliability tests, and the workflows they share.

Run as ``python store_child.py MODE LIBRARY [ARGS]``; the parent test talks to it by lines:

* the child prints ``ready`` once imported, then waits for a line on stdin before touching the
  library (so the parent can start it early and time what follows from that line);
* it prints what it has durably done (``saved VERSION``, ``started RUN_ID``, ``finished STATUS``)
  right after the library call that did it returned, so the parent knows what must survive.

Modes:

* ``crash-run LIBRARY TRIAL EXECLOG``: save the crash workflow as a new version, then run it
  (idempotency key ``trial-TRIAL``) with RunService; every node execution appends a line to EXECLOG.
* ``crash-save LIBRARY TRIAL``: save new versions of the crash workflow in a loop until killed.
* ``map-run LIBRARY TRIAL EXECLOG``: save the map workflow and its item workflow, run the map over 12 items.
* ``loop-run LIBRARY EXECLOG``: save the loop workflow and run it; the parent kills it mid-loop.
* ``run-many LIBRARY WORKFLOW_ID RUNS EXECLOG``: run a saved workflow RUNS times, one after another.
* ``save-many LIBRARY WORKFLOW_ID SAVES``: save SAVES versions of a workflow, reading the list between.
* ``open LIBRARY``: open the library (creating it if new) and close it again.

The node kinds are the engine tests' probes (tests/support/wfbuild.py); the list they report
their calls to is a file here, so executions are seen across processes and kills.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/, for support (run as a script too)

from support.wfbuild import catalog_with, counting_loop, node, workflow

from flowdesk.engine.services import EngineServices
from flowdesk.model.workflow import RunInput, Workflow
from flowdesk.nodes.registry import Registry
from flowdesk.store.running import RunService
from flowdesk.store.store import Store, open_store

CRASH_ID = "wf_crash"
CHAINS = 4
CHAIN_LENGTH = 6
RUN_TIMEOUT_S = 30.0


class ExecLog(list[tuple[str, int, int]]):
    """The probes' call list, appended to a file too: one line per node execution, tagged."""

    def __init__(self, path: str | Path, tag: str) -> None:
        super().__init__()
        self.path = Path(path)
        self.tag = tag

    def append(self, item: tuple[str, int, int]) -> None:
        super().append(item)
        node_id, iteration, attempt = item
        line = f"{self.tag} {node_id} {iteration} {attempt}\n".encode()
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line)  # one small O_APPEND write: whole, and kept by the OS if we are killed next
        finally:
            os.close(fd)


def read_exec_log(path: Path) -> list[tuple[str, str]]:
    """(tag, node id) per execution recorded in an ExecLog file."""
    if not path.exists():
        return []
    return [(parts[0], parts[1]) for parts in (line.split() for line in path.read_text().splitlines())]


def catalog(exec_log: str | Path, tag: str) -> Registry:
    return catalog_with(ExecLog(exec_log, tag))


def padding(seed: str, size: int) -> str:
    """Deterministic filler text, different per seed."""
    block = hashlib.sha256(seed.encode()).hexdigest()
    return (block * (size // len(block) + 1))[:size]


def crash_workflow(description: str, pad: int = 0) -> Workflow:
    """start -> a -> 4 parallel chains of 6 sleeping nodes -> merge -> z -> output: 28 commit points."""
    nodes = [node("start", "start"), node("a", "t.sleep", seconds=0.03)]
    edges = ["start.inputs -> a.input"]
    for k in range(CHAINS):
        for j in range(CHAIN_LENGTH):
            nodes.append(node(f"c{k}_{j}", "t.sleep", seconds=0.02 + 0.01 * ((k + j) % 3)))
            edges.append(f"{'a' if j == 0 else f'c{k}_{j - 1}'}.output -> c{k}_{j}.input")
        edges.append(f"c{k}_{CHAIN_LENGTH - 1}.output -> m.in_{k + 1}")
    nodes += [
        node("m", "merge", inputs=CHAINS),
        node("z", "t.sleep", seconds=0.02, label=padding(description, pad)),
        node("out", "output", name="result"),
    ]
    edges += ["m.output -> z.input", "z.output -> out.value"]
    wf = workflow(nodes, edges, inputs=[RunInput(name="x", type="integer")], concurrency=8)
    return wf.model_copy(update={"id": CRASH_ID, "name": "crash test", "description": description})


LOOP_ID = "wf_loop"


def loop_workflow(slow_s: float = 0.2) -> Workflow:
    """Five passes of a counting loop (capped at five), each with a sleep to be killed in."""
    wf = counting_loop(stop_below=100, max_iterations=5, slow_s=slow_s)
    return wf.model_copy(update={"id": LOOP_ID, "name": "loop crash test"})


MAP_ID = "wf_map"
ITEM_ID = "wf_item"
MAP_ITEMS = 12


def item_workflow() -> Workflow:
    """One map item: start -> a sleeping probe -> output, so an item is killable and its runs are counted."""
    wf = workflow(
        [node("start", "start"), node("work", "t.sleep", seconds=0.1), node("out", "output", name="done")],
        ["start.inputs -> work.input", "work.output -> out.value"],
        inputs=[RunInput(name="n", type="integer")],
    )
    return wf.model_copy(update={"id": ITEM_ID, "name": "map item"})


def map_workflow() -> Workflow:
    """A map over 12 numbers, three items at a time, each item a run of ``item_workflow``."""
    wf = workflow(
        [node("start", "start"), node("xs", "transform", expression="inputs.input.xs"),
         node("m", "map", workflow=ITEM_ID, item_input="n", concurrency=3), node("out", "output", name="results")],
        ["start.inputs -> xs.input", "xs.output -> m.items", "m.results -> out.value"],
        inputs=[RunInput(name="xs", type="array")],
    )  # fmt: skip
    return wf.model_copy(update={"id": MAP_ID, "name": "map crash test"})


def expected_map_outputs() -> dict[str, Any]:
    return {"results": [{"done": {"n": n}} for n in range(MAP_ITEMS)]}


def run_version(trial: int) -> Workflow:
    return crash_workflow(f"trial {trial} run")


def save_version(trial: int, i: int) -> Workflow:
    """A bigger document (about 60 KB), so a save spans many pages and takes a while."""
    return crash_workflow(f"trial {trial} save {i}", pad=60_000)


def expected_document(description: str) -> Workflow:
    """The document a crash child saved with this description (every version is one of these)."""
    found = re.fullmatch(r"trial (\d+) (run|save (\d+))", description)
    if found is None:
        raise AssertionError(f"a version with an unexpected description: {description[:80]!r}")
    trial = int(found.group(1))
    return run_version(trial) if found.group(2) == "run" else save_version(trial, int(found.group(3)))


def expected_outputs(x: int) -> dict[str, Any]:
    return {"result": [{"x": x}] * CHAINS}


def many_workflow(workflow_id: str, n_nodes: int) -> Workflow:
    """Quick nodes in 4 parallel chains: many commits, each small."""
    per_chain = n_nodes // 4
    nodes = [node("start", "start")]
    edges = []
    for k in range(4):
        for j in range(per_chain):
            nodes.append(node(f"n{k}_{j}", "t.noop"))
            edges.append(f"{'start.inputs' if j == 0 else f'n{k}_{j - 1}.output'} -> n{k}_{j}.input")
    wf = workflow(nodes, edges, inputs=[RunInput(name="x", type="integer")], concurrency=4)
    return wf.model_copy(update={"id": workflow_id, "name": workflow_id})


# ---------------------------------------------------------------- the child's modes
def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


async def _run(store: Store, registry: Registry, wf: Workflow, version: int, x: int, key: str | None) -> str:
    service = RunService(store, registry, EngineServices())
    started = service.start(wf, {"x": x}, workflow_version=version, idempotency_key=key)
    say(f"started {started.run_id}")
    assert started.handle is not None
    result = await asyncio.wait_for(started.handle.wait(), RUN_TIMEOUT_S)
    return result.status


def crash_run(library: str, trial: int, exec_log: str) -> None:
    store = open_store(Path(library))
    saved = store.workflows.save(run_version(trial), summary=f"trial {trial}")
    say(f"saved {saved.version}")
    wf = store.workflows.load(CRASH_ID, saved.version)
    status = asyncio.run(_run(store, catalog(exec_log, f"child{trial}"), wf, saved.version, trial, f"trial-{trial}"))
    say(f"finished {status}")
    store.close()


def loop_run(library: str, exec_log: str) -> None:
    store = open_store(Path(library))
    saved = store.workflows.save(loop_workflow())
    wf = store.workflows.load(LOOP_ID, saved.version)

    async def run() -> str:
        started = RunService(store, catalog(exec_log, "child"), EngineServices()).start(
            wf, workflow_version=saved.version
        )
        say(f"started {started.run_id}")
        assert started.handle is not None
        return (await asyncio.wait_for(started.handle.wait(), RUN_TIMEOUT_S)).status

    say(f"finished {asyncio.run(run())}")
    store.close()


def map_run(library: str, trial: int, exec_log: str) -> None:
    store = open_store(Path(library))
    store.workflows.save(item_workflow())
    saved = store.workflows.save(map_workflow())
    wf = store.workflows.load(MAP_ID, saved.version)

    async def run() -> str:
        service = RunService(store, catalog(exec_log, f"child{trial}"), EngineServices())
        started = service.start(wf, {"xs": list(range(MAP_ITEMS))}, idempotency_key=f"map-{trial}")
        say(f"started {started.run_id}")
        assert started.handle is not None
        return (await asyncio.wait_for(started.handle.wait(), RUN_TIMEOUT_S)).status

    say(f"finished {asyncio.run(run())}")
    store.close()


def crash_save(library: str, trial: int) -> None:
    store = open_store(Path(library))
    for i in range(10_000):
        saved = store.workflows.save(save_version(trial, i), summary=f"trial {trial} save {i}")
        say(f"saved {saved.version}")
    store.close()


def run_many(library: str, workflow_id: str, runs: int, exec_log: str) -> None:
    store = open_store(Path(library))
    registry = catalog(exec_log, workflow_id)
    for i in range(runs):
        wf = store.workflows.load(workflow_id)
        version = store.workflows.get(workflow_id).current_version
        status = asyncio.run(_run(store, registry, wf, version, i, None))
        say(f"finished {status}")
    store.close()


def save_many(library: str, workflow_id: str, saves: int) -> None:
    store = open_store(Path(library))
    base = many_workflow(workflow_id, 8)
    for i in range(saves):
        saved = store.workflows.save(base.model_copy(update={"description": f"save {i}"}), summary=f"save {i}")
        say(f"saved {saved.version}")
        store.workflows.list()
        store.runs.list(limit=20)
    store.close()


def open_only(library: str) -> None:
    store = open_store(Path(library))
    say(f"opened {len(store.workflows.list())}")
    store.close()


def main(argv: list[str]) -> None:
    mode, library, *rest = argv
    say("ready")
    if not sys.stdin.readline():
        return  # the parent gave up on us
    if mode == "crash-run":
        crash_run(library, int(rest[0]), rest[1])
    elif mode == "map-run":
        map_run(library, int(rest[0]), rest[1])
    elif mode == "loop-run":
        loop_run(library, rest[0])
    elif mode == "crash-save":
        crash_save(library, int(rest[0]))
    elif mode == "run-many":
        run_many(library, rest[0], int(rest[1]), rest[2])
    elif mode == "save-many":
        save_many(library, rest[0], int(rest[1]))
    elif mode == "open":
        open_only(library)
    else:
        raise SystemExit(f"unknown mode {mode!r}")


if __name__ == "__main__":
    main(sys.argv[1:])


# ---------------------------------------------------------------- the parent's side
class Child:
    """A running ``store_child.py``: its stdout lines as they come, its stderr kept for failure messages."""

    def __init__(self, *args: str | int | Path) -> None:
        self.args = [str(a) for a in args]
        self.proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), *self.args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._stderr: list[str] = []
        self._readers = [
            threading.Thread(target=self._read_stdout, daemon=True),
            threading.Thread(target=self._read_stderr, daemon=True),
        ]
        for reader in self._readers:
            reader.start()

    def _read_stdout(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def _read_stderr(self) -> None:
        assert self.proc.stderr is not None
        self._stderr.extend(self.proc.stderr)

    @property
    def stderr(self) -> str:
        return "".join(self._stderr)

    def expect(self, prefix: str, timeout: float = 30.0) -> str:
        """Wait for the next line starting with ``prefix`` (earlier lines are kept in ``lines``)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(
                    f"{self.args}: no {prefix!r} line within {timeout} s; stderr:\n{self.stderr}"
                ) from None
            if line is None:
                self._queue.put(None)
                raise AssertionError(f"{self.args}: ended before a {prefix!r} line; stderr:\n{self.stderr}")
            self.lines.append(line)
            if line.startswith(prefix):
                return line

    def go(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write("go\n")
        self.proc.stdin.flush()

    def kill(self) -> None:
        os.kill(self.proc.pid, signal.SIGKILL)

    def finish(self, timeout: float = 60.0) -> int:
        """Wait for the process to end and for all its output; returns its exit code."""
        try:
            code = self.proc.wait(timeout)
        except Exception:
            self.proc.kill()
            raise
        for reader in self._readers:
            reader.join(timeout)
        while True:
            try:
                line = self._queue.get(timeout=timeout)
            except queue.Empty:
                raise AssertionError(f"{self.args}: its output did not end within {timeout} s") from None
            if line is None:
                self._queue.put(None)  # the end stays marked: finish() may be called again
                break
            self.lines.append(line)
        if self.proc.stdin is not None:
            try:
                self.proc.stdin.close()
            except OSError:
                pass  # the pipe of a killed child
        return code

    def said(self, prefix: str) -> list[str]:
        """The rest of each line that started with ``prefix``."""
        return [line[len(prefix) :].strip() for line in self.lines if line.startswith(prefix)]
