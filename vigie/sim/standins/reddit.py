"""A stand-in of Reddit's OAuth token endpoint and listings (search / comments, `after` + limit paging), written
from the public API reference, and `link(n)` / `comment(n)` to make the things it serves."""

from __future__ import annotations

import time
from typing import Any

from vigie.sim.standins.server import Reply, Req


BASE = 1_772_440_000  # 2026-03-02


def link(n: int, **extra: Any) -> dict[str, Any]:
    b36 = _b36(1000 + n)
    data = {"id": b36, "name": f"t3_{b36}", "title": f"Brivolle souci {n}", "selftext": "Produit cassé", "author": "ana", "author_fullname": "t2_ana",
            "created_utc": float(BASE + n), "permalink": f"/r/brivolle/comments/{b36}/x/", "score": n, "num_comments": 2, "subreddit": "brivolle"}
    data.update(extra)
    return {"kind": "t3", "data": data}


def comment(n: int) -> dict[str, Any]:
    b36 = _b36(5000 + n)
    return {"kind": "t1", "data": {"id": b36, "name": f"t1_{b36}", "body": f"Moi aussi {n}", "author": "bob", "created_utc": float(BASE + n),
                                    "permalink": f"/r/brivolle/comments/abc/x/{b36}/", "link_id": "t3_abc", "parent_id": "t3_abc", "score": 1}}


def _b36(n: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while n:
        n, r = divmod(n, 36)
        out = digits[r] + out
    return out


class FakeReddit:
    """Listings under a rate-limit window as Reddit announces it: every listing answer carries
    `X-Ratelimit-Used`, `X-Ratelimit-Remaining` (a float, as Reddit sends it) and `X-Ratelimit-Reset`
    (whole seconds to the end of the window); a listing asked for with nothing left is a 429. The window
    (`quota` requests per `reset_s` seconds, real time) renews when it ends. A test lowers `quota` (or
    raises `used`) to watch the quota fall to 0."""

    def __init__(self, things, quota: int = 1000, reset_s: float = 300):
        self.things = things
        self.tokens = 0
        self.quota = quota
        self.used = 5
        self.reset_s = reset_s
        self.window_end = time.time() + reset_s

    def _limits(self) -> dict[str, str]:
        now = time.time()
        if now >= self.window_end:
            self.used, self.window_end = 0, now + self.reset_s
        return {"x-ratelimit-remaining": f"{max(0, self.quota - self.used):.1f}", "x-ratelimit-used": str(self.used),
                "x-ratelimit-reset": str(int(self.window_end - now))}

    def __call__(self, req: Req) -> Reply:
        if req.path == "/api/v1/access_token":
            if b"client_credentials" not in req.body or "basic" not in req.headers.get("authorization", "").lower():
                return Reply(400, {"error": "unsupported_grant_type"})
            if req.headers["authorization"] != "Basic aWQ6c2VjcmV0":  # id:secret
                return Reply(401, {"message": "Unauthorized", "error": 401})
            self.tokens += 1
            return Reply(200, {"access_token": "tok", "token_type": "bearer", "expires_in": 86400, "scope": "*"})
        if req.headers.get("authorization") != "bearer tok":
            return Reply(401, {"message": "Unauthorized", "error": 401})
        self._limits()  # a window that ended is renewed first
        if self.used >= self.quota:
            return Reply(429, {"message": "Too Many Requests", "error": 429}, self._limits())
        self.used += 1
        headers = self._limits()
        size, after = int(req.arg("limit")), req.arg("after")
        rows = sorted(self.things, key=lambda t: -t["data"]["created_utc"])
        if req.path.endswith("/comments"):
            rows = [t for t in rows if t["kind"] == "t1"]
        else:
            rows = [t for t in rows if t["kind"] == "t3"]
        start = next((i + 1 for i, t in enumerate(rows) if after and t["data"].get("name") == after), len(rows) if after else 0)  # unknown after: empty
        page = rows[start : start + size]
        nxt = page[-1]["data"].get("name") if start + size < len(rows) and page else None
        return Reply(200, {"kind": "Listing", "data": {"after": nxt, "before": None, "dist": len(page), "children": page}}, headers)
