"""A stand-in of a forum site: an RSS feed with ETag conditional GET, and Discourse's `posts.json` (before
paging) and `search.json` (page paging), written from their public references; `discourse_post(n)` makes posts."""

from __future__ import annotations

from typing import Any

from vigie.sim.standins.server import Reply, Req


RSS = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Forum Brivolle</title><link>https://forum.test/</link>
{items}</channel></rss>"""


ITEM = """<item><title>{title}</title><link>https://forum.test/p/{n}</link><guid>post-{n}</guid>
<description>&lt;p&gt;Avis n°{n} sur Brivolle&lt;/p&gt;</description><pubDate>Mon, 02 Mar 2026 10:{n:02d}:00 GMT</pubDate></item>"""


class FakeFeedSite:
    def __init__(self):
        self.titles = {1: "Premier avis", 2: "Second avis"}
        self.etag = '"v1"'
        self.latest: list[dict[str, Any]] = [discourse_post(i) for i in range(1, 8)]
        self.page_size = 3  # Discourse serves 20 (posts.json) / 50 (search); small pages exercise paging

    def rss(self) -> str:
        return RSS.format(items="".join(ITEM.format(n=n, title=t) for n, t in self.titles.items()))

    def __call__(self, req: Req) -> Reply:
        if req.path == "/feed.xml":
            if req.headers.get("if-none-match") == self.etag:
                return Reply(304, b"", {"ETag": self.etag})
            return Reply(200, self.rss(), {"ETag": self.etag, "Last-Modified": "Mon, 02 Mar 2026 10:00:00 GMT"}, content_type="application/rss+xml")
        if req.path == "/posts.json":
            before = int(req.arg("before") or 10**9)
            rows = sorted((p for p in self.latest if p["id"] < before), key=lambda p: -p["id"])[: self.page_size]
            return Reply(200, {"latest_posts": rows})
        if req.path == "/search.json":
            page = int(req.arg("page") or 1)
            rows = sorted(self.latest, key=lambda p: -p["id"])[(page - 1) * 3 : page * 3]
            return Reply(200, {"posts": rows, "topics": [{"id": 40, "slug": "brivolle-sav"}], "grouped_search_result": {"more_full_page_results": page * 3 < len(self.latest)}})
        return Reply(404, "not found", content_type="text/plain")


def discourse_post(n: int, **extra: Any) -> dict[str, Any]:
    data = {
        "id": 900 + n, "username": "bob", "name": "Bob", "user_id": 12, "created_at": f"2026-03-02T09:{n:02d}:00.000Z",
        "cooked": f"<p>Le SAV Brivolle, réponse {n}</p>", "raw": f"Le SAV Brivolle, réponse {n}", "post_number": n,
        "topic_id": 40, "topic_slug": "brivolle-sav", "topic_title": "SAV Brivolle", "reply_to_post_number": n - 1 if n > 1 else None,
        "reply_count": 0, "quote_count": 0, "reads": 10, "actions_summary": [{"id": 2, "count": n}],
    }
    data.update(extra)
    return data
