"""RSS/Atom (feedparser over requests, conditional GET) and Discourse JSON against a real HTTP server."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest
from fixture_server import FakeClock, FixtureServer, Reply, Req, drain

from listeners.base import SourceError
from listeners.feeds import FeedsListener
from listeners.http import RetryPolicy

NOW = datetime(2026, 3, 2, 12, tzinfo=timezone.utc)
POLICY = RetryPolicy(retries=2, base_s=0.01, timeout_s=0.5, max_wait_s=120)

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


def feeds(server, clock=None):
    clock = clock or FakeClock()
    return FeedsListener(urls=[f"{server.url}/feed.xml"], discourse=[server.url], max_pages=10, policy=POLICY, sleep=clock.sleep, clock=clock.time)


class T:
    id = "brivolle"
    query = "brivolle"


def test_rss_conditional_get_edits_and_new_entries():
    with FixtureServer(FakeFeedSite()) as server:
        listener = feeds(server)
        feed_q = listener.plan([T()])[0]
        page = next(listener.fetch(feed_q, None, NOW))
        assert [p.text for p in page.posts] == ["Premier avis\n\nAvis n°1 sur Brivolle", "Second avis\n\nAvis n°2 sur Brivolle"]
        assert page.posts[0].created_at == datetime(2026, 3, 2, 10, 1, tzinfo=timezone.utc) and page.posts[0].author.followers is None
        assert page.cursor["etag"] == '"v1"'
        unchanged = next(listener.fetch(feed_q, page.cursor, NOW))
        assert unchanged.posts == [] and unchanged.info["not_modified"] is True
        assert server.paths("/feed.xml")[-1].headers["if-none-match"] == '"v1"'
        server.app.titles[3] = "Troisième"
        server.app.etag = '"v2"'
        fresh = next(listener.fetch(feed_q, page.cursor, NOW))
        assert [p.url for p in fresh.posts] == ["https://forum.test/p/3"]


def test_rss_malformed_feed_quarantined_and_refetched():
    with FixtureServer(FakeFeedSite()) as server:
        server.fail("/feed.xml", Reply(200, "<html><body>maintenance", content_type="text/html"))
        listener = feeds(server)
        page = next(listener.fetch(listener.plan([T()])[0], {"etag": '"old"'}, NOW))
        assert page.posts == [] and "not valid RSS/Atom" in page.rejected[0].reason
        assert page.cursor == {"etag": '"old"'}  # validators not advanced: fetched again next run


def test_discourse_latest_pages_resume_retry_and_quarantine():
    with FixtureServer(FakeFeedSite()) as server:
        server.app.latest.append({"id": 950, "topic_id": 40})  # no post_number, no text
        listener = feeds(server)
        latest_q = listener.plan([T()])[1]
        store: dict = {}
        cursor = drain(listener, latest_q, None, NOW, store, crash_after_pages=1)
        assert len(store) == 2 and cursor["resume"] == 906
        server.fail("/posts.json", Reply(502, "bad gateway", content_type="text/plain"))
        cursor = drain(feeds(server), latest_q, cursor, NOW, store)
        assert len(store) == 7 and cursor == {"floor": [950]}
        post = store["feeds:" + server.url.split("//")[1] + "/t/40/3"]
        assert post.url == f"{server.url}/t/brivolle-sav/40/3" and post.engagement.likes == 3
        assert post.parent_id.endswith("/t/40/2") and post.thread_id.endswith("/t/40/1") and post.author.handle == "bob"


def test_discourse_search_and_429():
    clock = FakeClock()
    with FixtureServer(FakeFeedSite()) as server:
        server.fail("/search.json", Reply(429, {"errors": ["slow down"]}, {"Retry-After": "7"}))
        listener = feeds(server, clock)
        search_q = listener.plan([T()])[2]
        pages = list(listener.fetch(search_q, None, NOW))
        assert clock.sleeps == [7.0] and sum(len(p.posts) for p in pages) == 7
        assert "order:latest" in server.paths("/search.json")[-1].arg("q")


def test_unreachable_feed_is_a_source_error():
    listener = FeedsListener(urls=["http://127.0.0.1:9/feed.xml"], policy=RetryPolicy(retries=1, base_s=0.0, timeout_s=0.2), sleep=lambda s: None)
    with pytest.raises(SourceError, match="gave up after 2 attempts"):
        list(listener.fetch(listener.plan([T()])[0], None, NOW))


def test_rss_timeout_then_success_and_forbidden():
    with FixtureServer(FakeFeedSite()) as server:
        server.fail("/feed.xml", Reply(200, "", delay_s=0.8))
        listener = feeds(server)
        page = next(listener.fetch(listener.plan([T()])[0], None, NOW))
        assert len(page.posts) == 2 and page.info["retries"] == 1
        server.fail("/feed.xml", Reply(403, "login required", content_type="text/plain"))
        with pytest.raises(SourceError, match="HTTP 403"):
            next(listener.fetch(listener.plan([T()])[0], None, NOW))


def test_discourse_garbled_body_retried():
    with FixtureServer(FakeFeedSite()) as server:
        server.fail("/posts.json", Reply(200, '{"latest_posts": [{"id": 1'))
        listener = feeds(server)
        pages = list(listener.fetch(listener.plan([T()])[1], None, NOW))
        assert sum(len(p.posts) for p in pages) == 7 and pages[0].info["errors"] == ["response is not valid JSON"]
