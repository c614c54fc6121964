"""A local stand-in for Slack, PagerDuty, Teams and webhook receivers, on 127.0.0.1.

Used by the tests (real HTTP, real JSON on the wire) and by `vigie notify receiver` so the demo can send
to a local Slack-compatible endpoint and show what it received. It answers like the providers
do on their happy path and can be scripted to answer errors (429 with Retry-After, 5xx, 4xx, malformed
JSON, slow responses):

    POST /services/...            Slack incoming webhook   → 200 "ok"
    POST /api/chat.postMessage    Slack Web API            → {"ok": true, "channel": "C0VIGIE", "ts": "..."}
    POST /api/chat.update         Slack Web API            → {"ok": true, "channel": ..., "ts": ...}
    POST /v2/enqueue              PagerDuty Events API v2  → 202 {"status": "success", "dedup_key": ...}
    POST /teams/...               Teams Workflows webhook  → 202 (empty body)
    POST anything else            generic webhook          → 200 {"ok": true}
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    status: int | None = None  # what the stand-in answered: only a 2xx means the provider took the message

    @property
    def json(self) -> Any:
        ctype = self.headers.get("content-type", "")
        text = self.body.decode("utf-8")
        if "application/x-www-form-urlencoded" in ctype:
            return {k: v[0] for k, v in parse_qs(text).items()}
        return json.loads(text)


@dataclass
class Reply:
    status: int = 200
    body: Any = "ok"  # str/bytes sent as is, a callable gets the request and returns the body, anything else as JSON
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering (client timeouts)
    # Answer only once this event is set (or after `delay` as a cap, when both are given): a test holds a
    # request in flight for exactly as long as it needs, whatever the machine's load.
    hold: threading.Event | None = None


class LocalReceiver:
    """Threaded HTTP server recording every request. Use as a context manager."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, on_request: Callable[[Received], None] | None = None):
        self.requests: list[Received] = []
        self._scripts: list[tuple[str, Reply]] = []
        self._lock = threading.Lock()
        self._ts = 1_700_000_000.000100
        self.on_request = on_request
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server API)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                got = Received("POST", self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                reply = receiver._handle(got)
                if callable(reply.body):  # an answer made from the request (endpoints that echo what they got)
                    reply = Reply(reply.status, reply.body(got), reply.headers, reply.delay, reply.hold)
                if reply.hold is not None:
                    reply.hold.wait(reply.delay or None)
                elif reply.delay:
                    time.sleep(reply.delay)
                data = reply.body if isinstance(reply.body, bytes) else (
                    reply.body.encode() if isinstance(reply.body, str) else json.dumps(reply.body).encode())
                try:
                    self.send_response(reply.status)
                    ctype = "text/plain" if isinstance(reply.body, (str, bytes)) else "application/json"
                    self.send_header("Content-Type", reply.headers.get("Content-Type", ctype))
                    for k, v in reply.headers.items():
                        if k != "Content-Type":
                            self.send_header(k, v)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout test)
                    pass

            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> "LocalReceiver":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> "LocalReceiver":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def script(self, path_prefix: str, *replies: Reply) -> None:
        """The next requests whose path starts with `path_prefix` get these replies, in order."""
        with self._lock:
            self._scripts.extend((path_prefix, r) for r in replies)

    def to(self, path_prefix: str) -> list[Received]:
        return [r for r in self.requests if r.path.startswith(path_prefix)]

    def accepted(self, path_prefix: str) -> list[Received]:
        """The requests the stand-in took (answered 2xx): what a provider would have delivered."""
        return [r for r in self.to(path_prefix) if r.status is not None and 200 <= r.status < 300]

    def _handle(self, got: Received) -> Reply:
        with self._lock:
            self.requests.append(got)
            scripted = next(((i, r) for i, (p, r) in enumerate(self._scripts) if got.path.startswith(p)), None)
            if scripted is not None:
                del self._scripts[scripted[0]]
        if self.on_request is not None:
            self.on_request(got)
        reply = scripted[1] if scripted is not None else self._default(got)
        got.status = reply.status
        return reply

    def _default(self, got: Received) -> Reply:
        path = got.path
        if path.startswith("/api/chat."):
            try:
                body = got.json
            except ValueError:
                return Reply(200, {"ok": False, "error": "invalid_json"})
            if path.startswith("/api/chat.postMessage"):
                with self._lock:
                    self._ts += 0.0001
                    ts = f"{self._ts:.6f}"
                return Reply(200, {"ok": True, "channel": "C0VIGIE", "ts": ts, "message": {"ts": ts}})
            return Reply(200, {"ok": True, "channel": body.get("channel"), "ts": body.get("ts")})
        if path.startswith("/v2/enqueue"):
            try:
                key = got.json.get("dedup_key")
            except (ValueError, AttributeError):
                return Reply(400, {"status": "invalid event", "message": "Event object is invalid"})
            return Reply(202, {"status": "success", "message": "Event processed", "dedup_key": key})
        if path.startswith("/teams"):
            return Reply(202, "")
        if path.startswith("/services"):
            return Reply(200, "ok")
        return Reply(200, {"ok": True})
