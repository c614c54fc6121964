"""A fake of X API v2 recent search (`GET /2/tweets/search/recent`), written from the public API
reference: since_id / until_id / next_token / max_results, `data` newest first, `includes.users` for
the `author_id` expansion, `meta` with newest_id / oldest_id / result_count / next_token."""

from __future__ import annotations

from typing import Any

from vigie.sim.standins.server import Reply, Req

TOKEN = "test-bearer-token"


def tweet(n: int, text: str | None = None, **extra: Any) -> dict[str, Any]:
    data = {
        "id": str(1_000_000 + n),
        "text": text or f"Brivolle tweet number {n}",
        "created_at": f"2026-03-02T10:{n // 60 % 60:02d}:{n % 60:02d}.000Z",
        "author_id": str(500 + n % 3),
        "lang": "fr",
        "conversation_id": str(1_000_000 + n),
        "public_metrics": {"retweet_count": n, "reply_count": 1, "like_count": 2 * n, "quote_count": 0, "impression_count": 100 + n},
    }
    data.update(extra)
    return data


USERS = {
    str(500 + i): {"id": str(500 + i), "name": f"User {i}", "username": f"user{i}", "verified": i == 0, "public_metrics": {"followers_count": 1000 * (i + 1)}}
    for i in range(3)
}


class FakeX:
    def __init__(self, tweets: list[dict[str, Any]]):
        self.tweets = tweets

    def __call__(self, req: Req) -> Reply:
        if req.path != "/2/tweets/search/recent":
            return Reply(404, {"title": "Not Found Error"})
        if req.headers.get("authorization") != f"Bearer {TOKEN}":
            return Reply(401, {"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"})
        since = int(req.arg("since_id") or 0)
        until = int(req.arg("until_id") or 10**19)
        size = int(req.arg("max_results") or 10)
        offset = int(req.arg("next_token") or 0)
        rows = sorted((t for t in self.tweets if since < int(t["id"]) < until), key=lambda t: -int(t["id"]))
        page = rows[offset : offset + size]
        meta: dict[str, Any] = {"result_count": len(page)}
        if page:
            meta.update(newest_id=page[0]["id"], oldest_id=page[-1]["id"])
        if offset + size < len(rows):
            meta["next_token"] = str(offset + size)
        body: dict[str, Any] = {"meta": meta}
        if page:
            body["data"] = page
            body["includes"] = {"users": [USERS[a] for a in sorted({t.get("author_id") for t in page if t.get("author_id") in USERS})]}
        headers = {"x-rate-limit-limit": "450", "x-rate-limit-remaining": "449", "x-rate-limit-reset": "1800000900"}
        return Reply(200, body, headers)
