"""A small HTTP proxy on 127.0.0.1 to osmem-server, for tests that drive the real CLI from a config file (`vigie run`,
`vigie es setup`) where no client object can be injected: it rewrites the versioned media types osmem refuses, as
vigie.sim.osmem.OsmemNode does in process. It can also answer the first N `_bulk` calls with documented overload
errors (whole request 429, or per-item 429/503), lose a bulk reply, and emulate ILM (osmem has none)."""

from __future__ import annotations

import http.client
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from vigie.sim.osmem import COMPAT, plain_content_type


class CompatProxy:
    """HTTP proxy to osmem rewriting compatible-with media types; optional bulk fault injection."""

    def __init__(self, upstream: str):
        self.upstream = urlsplit(upstream)
        # consumed one per _bulk call: "request-429", "item-429", "item-503", or "drop-reply" (the bulk
        # reaches osmem and is applied, then the connection closes before any answer: a reply lost)
        self.bulk_faults: list[str] = []
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        # ILM emulation (osmem has no ILM): answer `_ilm/*` as Elasticsearch does, keep the policies, and
        # strip `index.lifecycle` settings (kept in `lifecycle_settings`) before osmem sees them.
        self.emulate_ilm = False
        self.ilm_policies: dict[str, Any] = {}
        self.lifecycle_settings: dict[str, Any] = {}
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
                proxy.requests.append((self.command, self.path, dict(headers)))
                for k in list(headers):
                    if k.lower() in ("accept", "content-type") and COMPAT in headers[k]:
                        headers[k] = plain_content_type(headers[k])
                if "/_bulk" in self.path and proxy.bulk_faults:
                    fault = proxy.bulk_faults.pop(0)
                    if fault == "drop-reply":
                        return self._drop_reply(body, headers)
                    return self._fault(fault, body)
                if proxy.emulate_ilm and self.path.startswith("/_ilm/"):
                    return self._ilm(body)
                if proxy.emulate_ilm and self.path.startswith("/_component_template/") and body:
                    doc = json.loads(body)
                    index_settings = doc.get("template", {}).get("settings", {}).get("index", {})
                    if "lifecycle" in index_settings:
                        proxy.lifecycle_settings[self.path.rsplit("/", 1)[-1]] = index_settings.pop("lifecycle")
                        body = json.dumps(doc).encode()
                conn = http.client.HTTPConnection(proxy.upstream.hostname, proxy.upstream.port, timeout=30)
                conn.request(self.command, self.path, body=body or None, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                self.send_response(resp.status)
                for k, v in resp.getheaders():
                    if k.lower() not in ("content-length", "connection", "transfer-encoding"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                conn.close()

            def _drop_reply(self, body: bytes, headers: dict[str, str]) -> None:
                conn = http.client.HTTPConnection(proxy.upstream.hostname, proxy.upstream.port, timeout=30)
                conn.request(self.command, self.path, body=body or None, headers=headers)
                conn.getresponse().read()  # applied upstream...
                conn.close()
                self.close_connection = True  # ...and the client never hears of it

            def _ilm(self, body: bytes) -> None:
                if self.path.startswith("/_ilm/status"):
                    return self._json(200, {"operation_mode": "RUNNING"})
                name = self.path.split("?")[0].rsplit("/", 1)[-1]
                if self.command == "PUT":
                    proxy.ilm_policies[name] = json.loads(body)["policy"]
                    return self._json(200, {"acknowledged": True})
                if name in proxy.ilm_policies:
                    return self._json(200, {name: {"version": 1, "policy": proxy.ilm_policies[name]}})
                return self._json(404, {"error": {"type": "resource_not_found_exception",
                                                  "reason": f"Lifecycle policy not found: {name}"}, "status": 404})

            def _fault(self, fault: str, body: bytes) -> None:
                """Overload answers as Elasticsearch documents them (es_rejected_execution_exception)."""
                if fault == "request-429":
                    payload: dict[str, Any] = {
                        "error": {"type": "es_rejected_execution_exception",
                                  "reason": "rejected execution of coordinating operation"},
                        "status": 429,
                    }
                    return self._json(429, payload)
                status = 429 if fault == "item-429" else 503
                lines = [json.loads(x) for x in body.splitlines() if x.strip()]
                items = []
                for action in lines[::2]:
                    op, meta = next(iter(action.items()))
                    err_type = "es_rejected_execution_exception" if status == 429 else "unavailable_shards_exception"
                    items.append({op: {"_index": meta.get("_index"), "_id": meta.get("_id"), "status": status,
                                       "error": {"type": err_type, "reason": "overloaded, try again"}}})
                self._json(200, {"took": 1, "errors": True, "items": items})

            def _json(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("X-Elastic-Product", "Elasticsearch")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
