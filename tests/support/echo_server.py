"""A loopback HTTP server that echoes the request's Authorization header back, as a hostile or careless
server might: in a 401 body and in a successful reply, as it came and base64- and URL-encoded."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote


class _Echo(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.server.hits.append(self.path)  # type: ignore[attr-defined]
        auth = self.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ")
        echoed = {
            "auth": auth,
            "b64": base64.b64encode(auth.encode()).decode(),
            "basic": base64.b64encode(f"user:{token}".encode()).decode(),
            "url": quote(token, safe=""),
        }
        status = 401 if self.path.startswith("/private") else 200
        body = (f"invalid key: {auth} " + json.dumps(echoed)) if status == 401 else json.dumps(echoed)
        data = body.encode()
        self.send_response(status)
        self.send_header("content-type", "application/json" if status == 200 else "text/plain")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *_args: object) -> None:
        pass


@contextmanager
def echo_server() -> Iterator[tuple[str, list[str]]]:
    """(base URL, the paths requested so far)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    server.hits = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", server.hits  # type: ignore[attr-defined]
    finally:
        server.shutdown()
        server.server_close()
