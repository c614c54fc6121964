"""X listener against a real HTTP server serving the recent-search payloads (tweepy runs unpatched)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from fakes.clock import FakeClock

from listeners.base import Query, SourceError
from listeners.http import RateLimitStop, RetryPolicy
from listeners.x import XListener
from vigie.sim.standins.x import TOKEN, FakeX, tweet
from vigie.sim.standins.server import FixtureServer, Reply, drain

NOW = datetime(2026, 3, 2, 12, tzinfo=timezone.utc)
Q = Query(key="brivolle", text="brivolle", topic_ids=["brivolle"])


@pytest.fixture
def x_env(monkeypatch):
    monkeypatch.setenv("X_TEST_TOKEN", TOKEN)  # the environment, not Vigie's code


def make(server, clock=None, **kw):
    clock = clock or FakeClock()
    policy = kw.pop("policy", RetryPolicy(retries=2, base_s=0.01, timeout_s=0.5, max_wait_s=120))
    return XListener(token_env="X_TEST_TOKEN", base_url=server.url, page_size=kw.pop("page_size", 4), policy=policy, sleep=clock.sleep, clock=clock.time, **kw)


def test_pages_normalise_and_cursor(x_env):
    long_text = "Très long message " * 30
    tweets = [tweet(i) for i in range(10)] + [tweet(10, text="short…", note_tweet={"text": long_text}, referenced_tweets=[{"type": "replied_to", "id": "1000003"}])]
    with FixtureServer(FakeX(tweets)) as server:
        listener = make(server)
        pages = list(listener.fetch(Q, None, NOW))
        assert [len(p.posts) for p in pages] == [4, 4, 3]
        assert [r.arg("next_token") for r in server.paths("/2/tweets")] == [None, "4", "8"]
        first = pages[0].posts[0]
        assert first.id == "x:1000010" and first.text == long_text  # note_tweet = full text
        assert first.parent_id == "x:1000003" and first.thread_id == "x:1000010"
        assert first.author.handle == "user1" and first.author.followers == 2000 and first.author.verified is False
        assert first.engagement.likes == 20 and first.engagement.views == 110 and first.lang == "fr"
        assert first.url == "https://x.com/user1/status/1000010" and first.topic_ids == ["brivolle"]
        assert pages[-1].cursor == {"floor": [1000010]}
        # Incremental: the next run asks only for newer tweets.
        server.app.tweets.append(tweet(11))
        again = list(listener.fetch(Q, pages[-1].cursor, NOW))
        assert [p.id for page in again for p in page.posts] == ["x:1000011"]
        assert server.paths("/2/tweets")[-1].arg("since_id") == "1000010"


def test_resume_after_interruption_mid_scan_loses_nothing(x_env):
    tweets = [tweet(i) for i in range(10)]
    with FixtureServer(FakeX(tweets)) as server:
        store: dict = {}
        cursor = drain(make(server), Q, None, NOW, store, crash_after_pages=1)
        assert len(store) == 4 and "resume" in cursor  # a scan in progress, not "newest seen"
        server.app.tweets.append(tweet(20))  # arrives while we were down
        cursor = drain(make(server), Q, cursor, NOW, store)
        assert server.paths("/2/tweets")[-2].arg("until_id") == "1000006"  # resumed below the stored page
        cursor = drain(make(server), Q, cursor, NOW, store)
        assert sorted(store) == sorted(f"x:{1_000_000 + i}" for i in [*range(10), 20])
        assert cursor == {"floor": [1000020]}


def test_duplicates_across_pages_are_dropped(x_env):
    # The same tweet served on two pages (e.g. the result set shifted between requests).
    class Shifting(FakeX):
        def __call__(self, req):
            reply = super().__call__(req)
            if req.arg("next_token") == "4":
                reply.body["data"].insert(0, tweet(6))
            return reply

    with FixtureServer(Shifting([tweet(i) for i in range(8)])) as server:
        ids = [p.id for page in make(server).fetch(Q, None, NOW) for p in page.posts]
        assert len(ids) == len(set(ids)) == 8


def test_429_waits_for_reset_then_continues(x_env):
    clock = FakeClock()
    with FixtureServer(FakeX([tweet(i) for i in range(3)])) as server:
        server.fail("/2/tweets", Reply(429, {"title": "Too Many Requests"}, {"x-rate-limit-remaining": "0", "x-rate-limit-reset": str(int(clock.now) + 42)}))
        pages = list(make(server, clock).fetch(Q, None, NOW))
        assert clock.sleeps == [42.0]
        assert pages[0].info["rate_limit_waits"] == 1 and pages[0].info["waited_s"] == 42.0
        assert len(pages[0].posts) == 3


def test_429_beyond_max_wait_stops_source_cursor_kept(x_env):
    clock = FakeClock()
    with FixtureServer(FakeX([tweet(i) for i in range(3)])) as server:
        server.fail("/2/tweets", Reply(429, {}, {"x-rate-limit-reset": str(int(clock.now) + 3600)}))
        with pytest.raises(RateLimitStop, match="3600 s"):
            list(make(server, clock).fetch(Q, {"floor": [5]}, NOW))
        assert clock.sleeps == []


def test_5xx_then_success_and_timeout_are_retried(x_env):
    clock = FakeClock()
    with FixtureServer(FakeX([tweet(i) for i in range(3)])) as server:
        server.fail("/2/tweets", Reply(503, {"title": "Service Unavailable"}), Reply(200, delay_s=1.0))
        pages = list(make(server, clock).fetch(Q, None, NOW))
        assert len(pages[0].posts) == 3 and pages[0].info["retries"] == 2
        assert len(clock.sleeps) == 2 and all(0 <= s <= 0.02 for s in clock.sleeps)  # jittered back-off
        assert any("timeout" in e for e in pages[0].info["errors"])


def test_persistent_5xx_gives_up_with_source_error(x_env):
    with FixtureServer(FakeX([tweet(1)])) as server:
        server.fail("/2/tweets", *[Reply(500, "oops", content_type="text/plain")] * 3)
        with pytest.raises(SourceError, match="gave up after 3 attempts"):
            list(make(server).fetch(Q, None, NOW))


def test_malformed_records_quarantined_rest_kept(x_env):
    bad = [{"id": "1000100", "created_at": "2026-03-02T10:00:00Z"}, tweet(7, created_at="yesterday"), tweet(8, public_metrics={"like_count": "lots"})]
    with FixtureServer(FakeX([tweet(1), tweet(2), *bad])) as server:
        page = next(make(server, page_size=10).fetch(Q, None, NOW))
        assert sorted(p.id for p in page.posts) == ["x:1000001", "x:1000002"]
        reasons = sorted(r.reason for r in page.rejected)
        assert len(reasons) == 3 and "missing field 'text'" in reasons
        assert all(r.record["tweet"]["id"] for r in page.rejected)  # the raw record is kept whole
        assert page.cursor == {"floor": [1000100]}


def test_auth_failures_name_the_variable(x_env, monkeypatch):
    with FixtureServer(FakeX([tweet(1)])) as server:
        monkeypatch.setenv("X_TEST_TOKEN", "revoked")
        with pytest.raises(SourceError, match="X_TEST_TOKEN") as err:
            list(make(server).fetch(Q, None, NOW))
        assert "revoked" not in str(err.value)
        monkeypatch.delenv("X_TEST_TOKEN")
        with pytest.raises(SourceError, match="X_TEST_TOKEN is not set"):
            list(make(server).fetch(Q, None, NOW))


def test_since_id_older_than_search_window_searches_whole_window(x_env):
    class SevenDays(FakeX):
        def __call__(self, req):
            if req.arg("since_id") and int(req.arg("since_id")) < 1000000:
                return Reply(400, {"errors": [{"parameters": {"since_id": [req.arg("since_id")]}, "message": "Invalid 'since_id':'5'. 'since_id' must be a tweet id created after 2026-02-23T12:00Z."}], "title": "Invalid Request", "detail": "One or more parameters to your request was invalid.", "type": "https://api.twitter.com/2/problems/invalid-request"})
            return super().__call__(req)

    with FixtureServer(SevenDays([tweet(i) for i in range(3)])) as server:
        pages = list(make(server).fetch(Q, {"floor": [5]}, NOW))
        assert sum(len(p.posts) for p in pages) == 3 and "outside the 7-day search window" in pages[0].info["errors"][0]
        assert pages[-1].cursor == {"floor": [1000002]}
