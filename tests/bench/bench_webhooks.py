"""Benchmark: webhook posts that start runs, beside submitting the same runs directly (on demand, not by pytest).

Issue 18 asks that 200 webhook posts at once give 200 recorded runs, none lost or doubled. Here the
hooks router is served in process (httpx's ASGI transport: the HTTP parsing is FastAPI's, the socket
is not) over a real library; each post's run is started through the store's RunService and awaited,
as a submit of `flowdesk serve` would queue it. "direct" submits the same 200 runs without HTTP, the
secret check or the body mapping: the ratio is what the webhook path adds. A second round posts every
body again with the same Idempotency-Key: no run may be added.

    /work/venv/bin/python tests/bench/bench_webhooks.py [--posts 200] [--repeat 3]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
from fastapi import FastAPI
from triggers.conftest import EngineSubmit, echo_workflow

from flowdesk.store.store import Store, open_store
from flowdesk.triggers.manage import add_trigger, webhook_config
from flowdesk.triggers.secrets import WebhookSecrets
from flowdesk.triggers.webhooks import hooks_router


def _library(folder: Path) -> tuple[Store, str, str, WebhookSecrets]:
    store = open_store(folder / "library.db")
    store.workflows.save(echo_workflow())
    store.workflows.set_status("wf_echo", "active")
    secrets = WebhookSecrets(folder / "webhook-secrets.json")
    added = add_trigger(store.db, "wf_echo", "webhook", webhook_config(), secrets=secrets)
    return store, added.trigger.id, added.secret or "", secrets


async def _posts(store: Store, hook: str, secret: str, secrets: WebhookSecrets, posts: int) -> dict[str, Any]:
    app = FastAPI()
    submit = EngineSubmit(store)
    app.include_router(hooks_router(store, submit, secrets=secrets))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:

        async def post(i: int) -> httpx.Response:
            headers = {"X-Flowdesk-Secret": secret, "Idempotency-Key": f"bench-{i}"}
            return await client.post(f"/hooks/{hook}", json={"text": f"post {i}", "count": i}, headers=headers)

        start = time.perf_counter()
        replies = await asyncio.gather(*(post(i) for i in range(posts)))
        took = time.perf_counter() - start
        again = await asyncio.gather(*(post(i) for i in range(posts)))
    ids = {r.json()["run_id"] for r in replies if r.status_code == 202}
    same = sum(1 for a, b in zip(replies, again, strict=True) if a.json().get("run_id") == b.json().get("run_id"))
    return {"took": took, "accepted": len(ids), "redelivered_same": same}


async def _direct(store: Store, posts: int) -> float:
    submit = EngineSubmit(store)
    start = time.perf_counter()
    await asyncio.gather(*(submit("wf_echo", {"text": f"direct {i}", "count": i}, version=1) for i in range(posts)))
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--posts", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    hooked, direct, checks = [], [], []
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory() as folder:
            store, hook, secret, secrets = _library(Path(folder))
            result = asyncio.run(_posts(store, hook, secret, secrets, args.posts))
            recorded = len(store.runs.list("wf_echo", limit=None))
            hooked.append(result["took"])
            checks.append((result["accepted"], result["redelivered_same"], recorded))
            store.close()
        with tempfile.TemporaryDirectory() as folder:
            store, *_ = _library(Path(folder))
            direct.append(asyncio.run(_direct(store, args.posts)))
            store.close()
    h, d = statistics.median(hooked), statistics.median(direct)
    print(f"{'path':<10} {'runs':>5} {'total s':>8} {'ms/run':>7} {'ratio':>6}")
    print(f"{'direct':<10} {args.posts:>5} {d:>8.2f} {d / args.posts * 1000:>7.2f} {1.0:>6.2f}")
    print(f"{'webhook':<10} {args.posts:>5} {h:>8.2f} {h / args.posts * 1000:>7.2f} {h / d:>6.2f}")
    for accepted, same, recorded in checks:
        print(f"accepted {accepted}, redelivery gave the same run {same}/{args.posts}, runs recorded {recorded}")


if __name__ == "__main__":
    main()
