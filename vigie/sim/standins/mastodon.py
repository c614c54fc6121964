"""A stand-in of Mastodon's hashtag timeline (`GET /api/v1/timelines/tag/:hashtag`, min_id + limit paging),
written from the public API reference, and `status(n)` to make the statuses it serves."""

from __future__ import annotations

from typing import Any

from vigie.sim.standins.server import Reply, Req


def status(n: int, **extra: Any) -> dict[str, Any]:
    data = {
        "id": str(110_000 + n),
        "created_at": f"2026-03-02T10:00:{n % 60:02d}.000Z",
        "content": f"<p>Brivolle &amp; moi, épisode {n}<br>ligne 2</p>",
        "spoiler_text": "",
        "language": "fr",
        "url": f"https://mastodon.test/@ana/{110_000 + n}",
        "in_reply_to_id": None,
        "reblog": None,
        "replies_count": 1,
        "reblogs_count": 2,
        "favourites_count": n,
        "account": {"id": "7", "username": "ana", "acct": "ana@mastodon.test", "display_name": "Ana", "followers_count": 321},
    }
    data.update(extra)
    return data


class FakeMastodon:
    """GET /api/v1/timelines/tag/:hashtag with min_id (page just newer than it) and limit."""

    def __init__(self, statuses):
        self.statuses = statuses

    def __call__(self, req: Req) -> Reply:
        if not req.path.startswith("/api/v1/timelines/tag/"):
            return Reply(404, {"error": "Record not found"})
        limit = int(req.arg("limit") or 20)
        rows = sorted(self.statuses, key=lambda s: int(s["id"]))
        if req.arg("min_id"):
            rows = [s for s in rows if int(s["id"]) > int(req.arg("min_id"))][:limit]
        else:
            rows = rows[-limit:]
        return Reply(200, list(reversed(rows)), {"X-RateLimit-Remaining": "299", "X-RateLimit-Reset": "2027-01-01T00:00:00.000Z"})
