"""Mastodon (plain requests) and Bluesky (atproto client) against real HTTP servers on 127.0.0.1,
serving payloads written from the Mastodon API docs and the app.bsky lexicons."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from fakes.clock import FakeClock

from listeners.base import Query, SourceError
from listeners.bluesky import BlueskyListener
from listeners.http import RetryPolicy
from listeners.mastodon import MastodonListener
from vigie.sim.standins.server import FixtureServer, Reply, drain
from vigie.sim.standins.bluesky import DID, FakeBluesky, bsky_post
from vigie.sim.standins.mastodon import FakeMastodon, status

NOW = datetime(2026, 3, 2, 12, tzinfo=timezone.utc)
POLICY = RetryPolicy(retries=2, base_s=0.01, timeout_s=0.5, max_wait_s=120)


# -- Mastodon -----------------------------------------------------------------------------------


def mastodon(server, clock=None, page_size=3):
    clock = clock or FakeClock()
    return MastodonListener(server.url, hashtags=["Brivolle"], page_size=page_size, policy=POLICY, sleep=clock.sleep, clock=clock.time)


def test_mastodon_min_id_pages_resume_and_normalise():
    with FixtureServer(FakeMastodon([status(i) for i in range(3)])) as server:
        listener = mastodon(server)
        [q] = listener.plan([])
        store: dict = {}
        cursor = drain(listener, q, None, NOW, store)
        assert cursor == {"min_id": "110002"} and len(store) == 3
        post = store["mastodon:110002"]
        assert post.text == "Brivolle & moi, épisode 2\nligne 2" and post.author.handle == "ana@mastodon.test"
        assert post.author.followers == 321 and post.engagement.likes == 2 and post.lang == "fr"
        server.app.statuses += [status(i) for i in range(3, 11)]
        cursor = drain(listener, q, cursor, NOW, store, crash_after_pages=1)  # dies during page 2
        assert cursor == {"min_id": "110005"}
        server.fail("/api/v1", Reply(503, {"error": "busy"}))
        cursor = drain(listener, q, cursor, NOW, store)
        assert sorted(store) == [f"mastodon:{110_000 + i}" for i in range(11)] and cursor == {"min_id": "110010"}
        assert [r.arg("min_id") for r in server.paths("/api/v1")][-3:] == ["110005", "110005", "110008"]  # 503 retried


def test_mastodon_429_iso_reset_malformed_and_auth(monkeypatch):
    clock = FakeClock()
    bad = {"id": "110050", "created_at": "2026-03-02T10:00:00Z"}  # no account, no content
    with FixtureServer(FakeMastodon([status(1), bad])) as server:
        reset = datetime.fromtimestamp(clock.now + 30, tz=timezone.utc).isoformat()
        server.fail("/api/v1", Reply(429, {"error": "Too many requests"}, {"X-RateLimit-Reset": reset}))
        listener = mastodon(server, clock)
        page = next(listener.fetch(listener.plan([])[0], {"min_id": "1"}, NOW))
        assert clock.sleeps == [30.0] and page.info["waited_s"] == 30.0
        assert [p.id for p in page.posts] == ["mastodon:110001"] and len(page.rejected) == 1
        assert page.cursor == {"min_id": "110050"}
        server.fail("/api/v1", Reply(401, {"error": "This API requires an authenticated user"}))
        with pytest.raises(SourceError, match="token_env"):
            next(mastodon(server).fetch(listener.plan([])[0], None, NOW))
    monkeypatch.delenv("MASTO_TEST_TOKEN", raising=False)
    with pytest.raises(SourceError, match="MASTO_TEST_TOKEN"):
        MastodonListener("http://127.0.0.1:9", token_env="MASTO_TEST_TOKEN").http()


# -- Bluesky ------------------------------------------------------------------------------------


def bluesky(server, clock=None, page_size=3):
    clock = clock or FakeClock()
    return BlueskyListener(handle_env="BSKY_TEST_HANDLE", app_password_env="BSKY_TEST_PASS", base_url=server.url, page_size=page_size, policy=POLICY, sleep=clock.sleep, clock=clock.time)


@pytest.fixture
def bsky_env(monkeypatch):
    monkeypatch.setenv("BSKY_TEST_HANDLE", "ana.bsky.social")
    monkeypatch.setenv("BSKY_TEST_PASS", "app-pass-ok")


Q = Query(key="brivolle", text="brivolle", topic_ids=["brivolle"])


def test_bluesky_search_pages_profiles_resume(bsky_env):
    reply = {"parent": {"uri": f"at://{DID}/app.bsky.feed.post/3k0001", "cid": "x"}, "root": {"uri": f"at://{DID}/app.bsky.feed.post/3k0000", "cid": "y"}}
    posts = [bsky_post(i) for i in range(7)]
    posts[5]["record"]["reply"] = reply
    with FixtureServer(FakeBluesky(posts)) as server:
        store: dict = {}
        cursor = drain(bluesky(server), Q, None, NOW, store, crash_after_pages=1)
        assert len(store) == 3 and cursor["resume"] == "3"
        server.app.posts.append(bsky_post(30))
        server.fail("/xrpc/app.bsky.feed.searchPosts", Reply(502, {"error": "UpstreamFailure"}), Reply(500, "not json", content_type="text/plain"))
        cursor = drain(bluesky(server), Q, cursor, NOW, store)
        cursor = drain(bluesky(server), Q, cursor, NOW, store)
        assert len(store) == 8 and cursor == {"floor": ["2026-03-02T10:00:30.500000Z", f"at://{DID}/app.bsky.feed.post/3k0030"]}
        post = store[f"bluesky:at://{DID}/app.bsky.feed.post/3k0005"]
        assert post.url == "https://bsky.app/profile/ana.bsky.social/post/3k0005" and post.author.followers == 4321
        assert post.author.verified is True and post.parent_id.endswith("3k0001") and post.thread_id.endswith("3k0000")
        assert post.lang == "fr" and post.engagement.likes == 5


def test_bluesky_429_malformed_auth(bsky_env, monkeypatch):
    clock = FakeClock()
    bad = bsky_post(9, record={"$type": "app.bsky.feed.post"})  # no text
    with FixtureServer(FakeBluesky([bsky_post(1), bad])) as server:
        server.fail("/xrpc/app.bsky.feed.searchPosts", Reply(429, {"error": "RateLimitExceeded"}, {"ratelimit-remaining": "0", "ratelimit-reset": str(int(clock.now) + 12)}))
        page = next(bluesky(server, clock).fetch(Q, None, NOW))
        assert clock.sleeps == [12.0] and [p.text for p in page.posts] == ["Brivolle post 1"]
        assert page.rejected[0].reason == "missing field 'record.text'"
        monkeypatch.setenv("BSKY_TEST_PASS", "wrong")
        with pytest.raises(SourceError, match="BSKY_TEST_PASS") as err:
            next(bluesky(server).fetch(Q, None, NOW))
        assert "wrong" not in str(err.value)


def test_mastodon_timeout_then_success():
    clock = FakeClock()
    with FixtureServer(FakeMastodon([status(1)])) as server:
        server.fail("/api/v1", Reply(200, [], delay_s=0.8))
        page = next(mastodon(server, clock).fetch(Query("tag:brivolle", "brivolle", ["t"]), None, NOW))
        assert [p.id for p in page.posts] == ["mastodon:110001"] and page.info["retries"] == 1
        assert "timeout" in page.info["errors"][0]


def test_bluesky_timeout_then_success(bsky_env):
    with FixtureServer(FakeBluesky([bsky_post(1)])) as server:
        server.fail("/xrpc/app.bsky.feed.searchPosts", Reply(200, {"posts": []}, delay_s=0.8))
        page = next(bluesky(server).fetch(Q, None, NOW))
        assert len(page.posts) == 1 and page.info["errors"] == ["Bluesky: timeout"]


def test_bluesky_expired_cursor_restarts_scan(bsky_env):
    class Expiring(FakeBluesky):
        def __call__(self, req):
            if req.path.endswith("searchPosts") and req.arg("cursor") == "stale":
                return Reply(400, {"error": "InvalidRequest", "message": "invalid cursor"})
            return super().__call__(req)

    with FixtureServer(Expiring([bsky_post(i) for i in range(4)])) as server:
        store: dict = {}
        cursor = drain(bluesky(server), Q, {"floor": ["2026-03-02T10:00:00.500000Z", "x"], "top": None, "resume": "stale"}, NOW, store)
        assert len(store) == 3 and cursor["floor"][1].endswith("3k0003")  # everything above the floor, no error
