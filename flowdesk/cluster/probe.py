"""Settings > Execution's "Test connection": is a Dask cluster there, and can it run our flowdesk?

One call, one sentence: reachable with N workers and their flowdesk version, or why not (the dask
extra missing, no scheduler at the address, no workers, workers without flowdesk, another flowdesk
version). It only asks; it registers nothing on the workers, so testing never disturbs a cluster
that runs someone's work. :func:`check_cluster_blocking` runs it in a thread of its own (a Dask
client on a loop of its own), which is how the app keeps its window responsive.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import threading
from collections import Counter
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import flowdesk
from flowdesk.model.executor import LOCAL, check_executor

log = logging.getLogger(__name__)

DASK_EXTRA = "the dask extra is not installed: pip install 'flowdesk[dask]'"


@dataclass(frozen=True)
class ClusterCheck:
    """What a connection test found; ``sentence`` is what the person reads."""

    ok: bool
    sentence: str
    workers: int = 0


async def check_cluster(executor: str, *, timeout_s: float = 5.0, expected: str | None = None) -> ClusterCheck:
    """Connect to the scheduler at ``executor``, ask every worker its flowdesk version, disconnect.

    ``expected`` is the version the workers must run (this flowdesk's by default)."""
    expected = expected or flowdesk.__version__
    try:
        checked = check_executor(executor)
    except ValueError as exc:
        return ClusterCheck(False, _sentence(str(exc)))
    if checked in (None, LOCAL):
        return ClusterCheck(False, "Type a Dask scheduler's address (dask://HOST:PORT) to test it.")
    address = ("tcp://" + checked.split("://", 1)[1]) if checked.startswith("dask://") else checked
    try:
        from distributed import Client
    except ImportError:
        return ClusterCheck(False, _sentence(DASK_EXTRA) + ".")
    refused = await _refused(address, timeout_s)
    if refused is not None:
        return ClusterCheck(False, f"Cannot reach a Dask scheduler at {address} ({refused}).")
    try:
        client = await asyncio.wait_for(_connect(Client, address, timeout_s), 2 * timeout_s)
    except TimeoutError:  # Dask's own timeout covers reaching the port, not the scheduler answering
        return ClusterCheck(
            False,
            f"Cannot reach a Dask scheduler at {address} (something takes connections there but did not answer "
            f"as a Dask scheduler within {2 * timeout_s:g} s).",
        )
    if isinstance(client, str):
        return ClusterCheck(False, f"Cannot reach a Dask scheduler at {address} ({client}).")
    try:
        return await _ask_workers(client, address, timeout_s, expected)
    finally:
        await client.close()


async def _connect(client_class: Any, address: str, timeout_s: float) -> Any:
    """A connected asynchronous Dask client, or why Dask could not connect (a sentence's part)."""
    client = client_class(address, asynchronous=True, timeout=timeout_s)
    try:
        return await client
    except (OSError, TimeoutError) as exc:
        return _short(exc)
    except asyncio.CancelledError:  # given up on (no answer): closed here, not left to the collector to warn of
        with contextlib.suppress(Exception):
            await asyncio.wait_for(client.close(), 1.0)
        raise


async def _refused(address: str, timeout_s: float) -> str | None:
    """Why nothing can answer at a ``tcp://`` address, found before Dask tries (nothing listens on the port,
    no such host, no answer at all), else None: Dask's client keeps retrying a refused port until its
    timeout runs out, and then says only that it timed out. Each of the host's addresses is tried (a
    name such as localhost has an IPv6 and an IPv4 one); the port is refused only if every one refuses."""
    parts = urlsplit(address)
    try:
        host, port = parts.hostname, parts.port
    except ValueError:  # a port out of range: Dask's own attempt says so
        return None
    if parts.scheme != "tcp" or host is None or port is None:
        return None
    loop = asyncio.get_running_loop()
    try:
        places = await asyncio.wait_for(loop.getaddrinfo(host, port, type=socket.SOCK_STREAM), timeout_s)
    except socket.gaierror as exc:
        if exc.errno == socket.EAI_NONAME:
            return f"no host is called {host}"
        return f"the host name {host} cannot be looked up ({exc.strerror})"
    except (OSError, TimeoutError):
        return None  # Dask's own attempt says how
    for *_kind, place in places:
        try:
            _reader, writer = await asyncio.wait_for(asyncio.open_connection(place[0], place[1]), timeout_s)
        except ConnectionRefusedError:
            continue
        except TimeoutError:
            return f"nothing answered at {host}:{port} within {timeout_s:g} s"
        except OSError:
            return None  # unreachable in some other way: Dask's own attempt says how
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
        return None  # something listens: Dask finds out whether it is a scheduler
    return f"nothing listens on port {port} of {host}: the connection was refused"


async def _ask_workers(client: Any, address: str, timeout_s: float, expected: str) -> ClusterCheck:
    from flowdesk.cluster.worker_task import flowdesk_version

    try:
        await client.wait_for_workers(1, timeout=timeout_s)
    except (TimeoutError, OSError):
        return ClusterCheck(
            False, f"The scheduler at {address} answers but has no workers (start some: dask worker {address})."
        )
    try:
        versions: dict[str, str] = await asyncio.wait_for(client.run(flowdesk_version), 2 * timeout_s)
    except TimeoutError:
        return ClusterCheck(False, f"The workers at {address} did not answer within {2 * timeout_s:g} s.")
    except Exception as exc:  # a worker that cannot load the function has no flowdesk: say so
        log.debug("asking the workers their flowdesk failed", exc_info=True)
        return ClusterCheck(
            False, f"The workers at {address} cannot run flowdesk ({_short(exc)}): install flowdesk {expected} on each."
        )
    count = len(versions)
    wrong = Counter(v for v in versions.values() if v != expected)
    if wrong:
        named = ", ".join(f"{n} with {v}" for v, n in sorted(wrong.items()))
        return ClusterCheck(
            False,
            f"The workers at {address} run another flowdesk ({named} of {count}); this app is {expected}: "
            "install the same version on each.",
            count,
        )
    plural = "worker" if count == 1 else "workers"
    return ClusterCheck(True, f"Reachable: {count} {plural} at {address}, all with flowdesk {expected}.", count)


def check_cluster_blocking(executor: str, *, timeout_s: float = 5.0, expected: str | None = None) -> ClusterCheck:
    """:func:`check_cluster` on an event loop of its own (call it from a worker thread)."""
    return asyncio.run(check_cluster(executor, timeout_s=timeout_s, expected=expected))


async def check_cluster_in_thread(executor: str, *, timeout_s: float = 5.0) -> ClusterCheck:
    """:func:`check_cluster_blocking` in a thread of its own, awaited from the caller's loop.

    A plain thread, not the loop's default executor: under qasync (the app) that is a pool of
    QThreads, which the window's tests saw crash the process later, when Qt deleted them."""
    loop = asyncio.get_running_loop()
    answer: asyncio.Future[ClusterCheck] = loop.create_future()

    def deliver(found: ClusterCheck) -> None:
        if not answer.done():  # the caller may have given up (the dialog closed)
            answer.set_result(found)

    def work() -> None:
        try:
            found = check_cluster_blocking(executor, timeout_s=timeout_s)
        except Exception as exc:  # whatever the check raised is still an answer for the person who asked
            log.debug("cluster connection test failed", exc_info=True)
            found = ClusterCheck(False, f"The test failed: {type(exc).__name__}: {_short(exc)}")
        if not loop.is_closed():
            loop.call_soon_threadsafe(deliver, found)

    threading.Thread(target=work, name="flowdesk-cluster-test", daemon=True).start()
    return await answer


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 160 else text[:157] + "…"


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]
