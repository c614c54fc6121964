"""A real HTTP server on 127.0.0.1 standing in for a platform's API, for the listener tests and the
benchmarks (bench/listeners.py): a platform "app" (the other modules of this package) answers requests, and
queued faults (429 with reset headers, 5xx, slow replies that time out, malformed bodies) are served first.

Nothing in Vigie is patched: listeners are pointed at `server.url` by configuration. Never used in production.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Req:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default


@dataclass
class Reply:
    status: int = 200
    body: Any = None  # dict/list → JSON; str/bytes as is
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    content_type: str = "application/json; charset=utf-8"


App = Callable[[Req], Reply]


class FixtureServer:
    def __init__(self, app: App):
        self.app = app
        self.faults: list[tuple[str, Reply]] = []
        # Paths whose 200 replies are cut to half their bytes, Content-Length consistent: what a proxy or
        # a crashing upstream serves ("a 200 with a truncated body"), for every request until removed.
        self.truncated: set[str] = set()
        self.requests: list[Req] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body leave in one write: separate small writes meet Nagle + delayed ACK and
            # cost ~40 ms per request on loopback.
            wbufsize = 1 << 16

            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def _serve(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                req = Req(self.command, parts.path, parse_qs(parts.query), {k.lower(): v for k, v in self.headers.items()}, self.rfile.read(length) if length else b"")
                with server._lock:
                    server.requests.append(req)
                    reply = server._take_fault(req.path)
                if reply is None:
                    reply = server.app(req)
                if reply.delay_s:
                    time.sleep(reply.delay_s)
                body = reply.body
                if isinstance(body, (dict, list)):
                    data = json.dumps(body).encode()
                elif isinstance(body, str):
                    data = body.encode()
                else:
                    data = body or b""
                if reply.status == 200 and any(req.path.startswith(p) for p in server.truncated):
                    data = data[: len(data) // 2]
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", reply.content_type)
                    self.send_header("Content-Length", str(len(data)))
                    for k, v in reply.headers.items():
                        self.send_header(k, v)
                    if req.headers.get("connection", "").lower() == "close":
                        # Say so, as real servers do (prawcore asks it for the token request); otherwise the
                        # client may reuse a socket we are closing and see "Remote end closed connection".
                        self.send_header("Connection", "close")
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout test)

            do_GET = do_POST = _serve

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    def _take_fault(self, path: str) -> Reply | None:
        for i, (prefix, reply) in enumerate(self.faults):
            if path.startswith(prefix):
                del self.faults[i]
                return reply
        return None

    def fail(self, path_prefix: str, *replies: Reply) -> None:
        """Serve these replies, in order, to the next requests whose path starts with `path_prefix`."""
        with self._lock:
            self.faults.extend((path_prefix, r) for r in replies)

    def paths(self, prefix: str = "/") -> list[Req]:
        return [r for r in self.requests if r.path.startswith(prefix)]

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> "FixtureServer":
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def drain(listener: Any, query: Any, cursor: dict[str, Any] | None, now: Any, store: dict[str, Any], crash_after_pages: int | None = None) -> dict[str, Any] | None:
    """What the pipeline does: store each page's posts, then save its cursor. `crash_after_pages` stops
    the run while the next page is being processed (its posts not stored, its cursor not saved)."""
    saved = cursor
    for n, page in enumerate(listener.fetch(query, cursor, now)):
        if crash_after_pages is not None and n >= crash_after_pages:
            return saved
        for post in page.posts:
            store[post.id] = post
        saved = page.cursor
    return saved
