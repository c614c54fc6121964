"""A server on 127.0.0.1 answering like Kibana's saved objects import API (`POST /api/saved_objects/_import`): it
checks the multipart request as Kibana does (kbn-xsrf header, multipart/form-data body with a `file` part) and
answers with the canned status and body it was given. Used by tests/test_kibana.py and tests/test_dags.py."""

from __future__ import annotations

import json
import threading
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class FakeKibana:
    """Checks the multipart import request as Kibana does, answers with canned Kibana bodies."""

    def __init__(self, status: int = 200, answer: dict | str | None = None):
        self.status, self.answer = status, answer
        self.seen: list[dict] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                headers = {k.lower(): v for k, v in self.headers.items()}
                url = urlsplit(self.path)
                fake.seen.append({"path": url.path, "query": parse_qs(url.query), "headers": headers})
                problem = None
                if "kbn-xsrf" not in headers:
                    status, payload = 400, {"statusCode": 400, "error": "Bad Request",
                                            "message": "Request must contain a kbn-xsrf header."}
                    problem = True
                elif not headers.get("content-type", "").startswith("multipart/form-data; boundary="):
                    status, payload = 415, {"statusCode": 415, "error": "Unsupported Media Type",
                                            "message": "Unsupported Media Type"}
                    problem = True
                if not problem:
                    msg = BytesParser(policy=HTTP).parsebytes(
                        f"Content-Type: {headers['content-type']}\r\n\r\n".encode() + body)
                    parts = {p.get_param("name", header="content-disposition"): p for p in msg.iter_parts()}
                    part = parts["file"]
                    fake.seen[-1]["filename"] = part.get_filename()
                    fake.seen[-1]["content"] = part.get_payload(decode=True).decode("utf-8")
                    status, payload = fake.status, fake.answer
                data = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/html" if isinstance(payload, str) else "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()
