"""A local port that takes connections and never says a word: a hung server, or not the server expected."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def silent_port() -> Iterator[int]:
    """A port that takes connections and never says a word (a scheduler hung, or not a scheduler)."""
    server = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def take() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                accepted.append(server.accept()[0])

    taker = threading.Thread(target=take, daemon=True)
    taker.start()
    try:
        yield server.getsockname()[1]
    finally:
        stop.set()
        taker.join()
        for conn in accepted:
            conn.close()
        server.close()
