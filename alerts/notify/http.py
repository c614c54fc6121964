"""JSON over HTTP POST for the channels without a provider SDK (PagerDuty, Teams, generic webhook).

Turns every outcome into success or a classified `SendError` (429/5xx/network: retryable; other 4xx:
not). Stdlib `urllib` on purpose: urllib3 logs every request URL at DEBUG level, and a Teams Workflows
URL carries its signature (a secret). For the same reason the URL never appears in an error message.
"""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from alerts.notify.base import SendError, classify_http

USER_AGENT = "vigie-notify/0.1"
MAX_BODY = 64_000  # a provider's answer is short; do not read an endless error page


@dataclass
class HttpResponse:
    status: int
    headers: dict[str, str]
    text: str

    def json(self) -> Any:
        return json.loads(self.text)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # A redirect would re-send the alert (and its signature) somewhere else: treat 3xx as a refusal.
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def post_json(url: str, body: Any, *, headers: dict[str, str] | None = None, timeout: float = 10,
              what: str = "endpoint", data: bytes | None = None) -> HttpResponse:
    """POST `body` as JSON (or the exact bytes `data`, when a signature covers them)."""
    payload = data if data is not None else json.dumps(body, ensure_ascii=False).encode("utf-8")
    all_headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": USER_AGENT, **(headers or {})}
    request = urllib.request.Request(url, data=payload, headers=all_headers, method="POST")
    try:
        with _opener.open(request, timeout=timeout) as resp:
            result = HttpResponse(resp.status, dict(resp.headers.items()), resp.read(MAX_BODY).decode("utf-8", "replace"))
    except urllib.error.HTTPError as exc:
        result = HttpResponse(exc.code, dict(exc.headers.items()) if exc.headers else {},
                              exc.read(MAX_BODY).decode("utf-8", "replace") if exc.fp else "")
    except (TimeoutError, socket.timeout):
        raise SendError(f"{what}: no answer within {timeout:g}s", retryable=True) from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        # The reason of a URLError is e.g. "[Errno 111] Connection refused": no URL in it.
        raise SendError(f"{what} unreachable ({type(reason).__name__}: {reason})", retryable=True) from None
    error = classify_http(result.status, result.text, result.headers.get("Retry-After") or result.headers.get("retry-after"))
    if error:
        error.args = (f"{what}: {error.args[0]}",)
        raise error
    return result
