"""RSS/Atom (feedparser over requests, conditional GET) and Discourse JSON against a real HTTP server."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from fakes.clock import FakeClock

from listeners.base import SourceError
from listeners.feeds import FeedsListener
from listeners.http import RetryPolicy
from vigie.sim.standins.server import FixtureServer, Reply, drain
from vigie.sim.standins.feeds import FakeFeedSite

NOW = datetime(2026, 3, 2, 12, tzinfo=timezone.utc)
POLICY = RetryPolicy(retries=2, base_s=0.01, timeout_s=0.5, max_wait_s=120)


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
