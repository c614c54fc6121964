"""Reddit listener: praw/prawcore pointed at a real HTTP server (oauth_url / reddit_url) serving the
token endpoint and Listing payloads from Reddit's API docs."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from fakes.clock import FakeClock

from listeners.base import SourceError
from listeners.http import RetryPolicy
from listeners.reddit import RedditListener
from vigie.sim.standins.server import FixtureServer, Reply, drain
from vigie.sim.standins.reddit import BASE, FakeReddit, _b36, comment, link

NOW = datetime(2026, 3, 2, 12, tzinfo=timezone.utc)
POLICY = RetryPolicy(retries=2, base_s=0.01, timeout_s=2, max_wait_s=120)


@pytest.fixture
def reddit_env(monkeypatch):
    monkeypatch.setenv("R_TEST_ID", "id")
    monkeypatch.setenv("R_TEST_SECRET", "secret")


def reddit(server, clock=None, **kw):
    clock = clock or FakeClock()
    return RedditListener(client_id_env="R_TEST_ID", client_secret_env="R_TEST_SECRET", subreddits=["brivolle"], oauth_url=server.url,
                          reddit_url=server.url, page_size=3, policy=POLICY, sleep=clock.sleep, clock=clock.time, **kw)


class T:
    id = "brivolle"
    query = "brivolle"


def test_reddit_search_new_comments_resume(reddit_env):
    things = [link(i) for i in range(7)] + [comment(i) for i in range(2)]
    with FixtureServer(FakeReddit(things)) as server:
        listener = reddit(server)
        search_q, new_q, comments_q = listener.plan([T()])
        assert (search_q.key, new_q.key, comments_q.key) == ("search:brivolle", "new:brivolle", "comments:brivolle")
        store: dict = {}
        cursor = drain(listener, search_q, None, NOW, store, crash_after_pages=1)
        assert len(store) == 3 and cursor["resume"] == f"t3_{_b36(1004)}"
        server.app.things.append(link(30))
        cursor = drain(reddit(server), search_q, cursor, NOW, store)
        cursor = drain(reddit(server), search_q, cursor, NOW, store)
        assert len([k for k in store if k.startswith("reddit:t3_")]) == 8 and cursor["floor"][0] == BASE + 30
        assert server.paths("/r/all/search")[0].arg("sort") == "new"
        drain(listener, comments_q, None, NOW, store)
        c = store[f"reddit:t1_{_b36(5001)}"]
        assert c.text == "Moi aussi 1" and c.parent_id == "reddit:t3_abc" and c.url.startswith("https://www.reddit.com/r/brivolle/")
        s = store[f"reddit:t3_{_b36(1006)}"]
        assert s.text == "Brivolle souci 6\n\nProduit cassé" and s.engagement.likes == 6 and s.engagement.replies == 2


def test_reddit_429_malformed_and_auth(reddit_env, monkeypatch):
    clock = FakeClock()
    with FixtureServer(FakeReddit([link(1), {"kind": "t3", "data": {"id": "zz", "created_utc": BASE + 2}}])) as server:
        server.fail("/r/all/search", Reply(429, {"message": "Too Many Requests", "error": 429}, {"Retry-After": "9"}))
        listener = reddit(server, clock)
        page = next(listener.fetch(listener.plan([T()])[0], None, NOW))
        assert clock.sleeps == [9.0] and [p.id for p in page.posts] == [f"reddit:t3_{_b36(1001)}"]
        assert page.rejected[0].reason == "missing field 'name'"
        monkeypatch.setenv("R_TEST_SECRET", "wrong")
        with pytest.raises(SourceError, match="R_TEST_SECRET") as err:
            next(reddit(server).fetch(listener.plan([T()])[0], None, NOW))
        assert "wrong" not in str(err.value)


@pytest.mark.parametrize("fault", [Reply(503, {"message": "busy"}), Reply(200, delay_s=0.8)], ids=["503", "timeout"])
def test_reddit_5xx_or_timeout_then_success(reddit_env, fault):
    # prawcore retries these itself, with its own back-off of up to 2 s (the client's mechanism, kept).
    with FixtureServer(FakeReddit([link(i) for i in range(2)])) as server:
        server.fail("/r/all/search", fault)
        listener = RedditListener(client_id_env="R_TEST_ID", client_secret_env="R_TEST_SECRET", oauth_url=server.url, reddit_url=server.url,
                                  policy=RetryPolicy(retries=1, base_s=0.0, timeout_s=0.4), sleep=lambda s: None)
        page = next(listener.fetch(listener.plan([T()])[0], None, NOW))
        assert len(page.posts) == 2 and len(server.paths("/r/all/search")) == 2


def test_reddit_resume_after_deleted_item_rescans(reddit_env):
    # `after` names an item Reddit no longer lists (deleted): the listing comes back empty.
    with FixtureServer(FakeReddit([link(i) for i in range(5)])) as server:
        store: dict = {}
        cursor = {"floor": [BASE + 1, 1001], "top": [BASE + 9, 9999], "resume": "t3_gone"}
        cursor = drain(reddit(server), reddit(server).plan([T()])[0], cursor, NOW, store)
        assert sorted(store) == sorted(f"reddit:t3_{_b36(1000 + i)}" for i in (2, 3, 4)) and cursor == {"floor": [BASE + 9, 9999]}
        assert [r.arg("after") for r in server.paths("/r/all/search")][:2] == ["t3_gone", None]


def test_reddit_quota_headers_reach_the_page_and_a_spent_window_stops_the_source(reddit_env):
    # X-Ratelimit-Remaining falls 2 -> 1 -> 0 (reset in 100 s, longer than the 60 s this source may wait).
    clock = FakeClock()
    fake = FakeReddit([link(i) for i in range(9)], quota=3, reset_s=100)
    fake.used = 0
    with FixtureServer(fake) as server:
        listener = RedditListener(client_id_env="R_TEST_ID", client_secret_env="R_TEST_SECRET", oauth_url=server.url,
                                  reddit_url=server.url, page_size=2, max_pages=10, sleep=clock.sleep, clock=clock.time,
                                  policy=RetryPolicy(retries=0, timeout_s=2, max_wait_s=60))
        pages = listener.fetch(listener.plan([T()])[0], None, NOW)
        seen = [next(pages).info for _ in range(3)]
        assert [i["quota_remaining"] for i in seen] == [2, 1, 0]
        # The reset is announced as seconds to wait; the page reports it as a time (epoch seconds).
        assert all(clock.time() + 95 <= i["quota_reset_at"] <= clock.time() + 100 for i in seen)
        with pytest.raises(SourceError, match="more than the maximum wait") as err:
            next(pages)
        assert err.value.kind == "rate_limit"
        # Stopped on the announced 0: no request spent on a certain 429, no sleep (ours or prawcore's).
        assert len(server.paths("/r/all/search")) == 3 and clock.sleeps == []
