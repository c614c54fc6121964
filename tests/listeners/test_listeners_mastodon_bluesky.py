"""Mastodon (plain requests) and Bluesky (atproto client) against real HTTP servers on 127.0.0.1,
serving payloads written from the Mastodon API docs and the app.bsky lexicons."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest
from fixture_server import FakeClock, FixtureServer, Reply, Req, drain

from listeners.base import Query, SourceError
from listeners.bluesky import BlueskyListener
from listeners.http import RetryPolicy
from listeners.mastodon import MastodonListener

NOW = datetime(2026, 3, 2, 12, tzinfo=timezone.utc)
POLICY = RetryPolicy(retries=2, base_s=0.01, timeout_s=0.5, max_wait_s=120)


# -- Mastodon -----------------------------------------------------------------------------------

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

DID = "did:plc:abc123"


def _jwt(kind: str) -> str:
    """A JWT-shaped token (atproto decodes the expiry of its session tokens; the signature is not checked)."""
    import base64
    import json

    enc = lambda d: base64.urlsafe_b64encode(json.dumps(d).encode()).rstrip(b"=").decode()  # noqa: E731
    return f"{enc({'alg': 'HS256', 'typ': 'JWT'})}.{enc({'sub': DID, 'scope': kind, 'iat': 1800000000, 'exp': 4102444800})}.c2ln"


ACCESS, REFRESH = _jwt("com.atproto.appPass"), _jwt("com.atproto.refresh")


def bsky_post(n: int, **extra: Any) -> dict[str, Any]:
    data = {
        "uri": f"at://{DID}/app.bsky.feed.post/3k{n:04d}",
        "cid": f"bafy{n}",
        "author": {"did": DID, "handle": "ana.bsky.social", "displayName": "Ana"},
        "record": {"$type": "app.bsky.feed.post", "text": f"Brivolle post {n}", "createdAt": f"2026-03-02T10:00:{n % 60:02d}.000Z", "langs": ["fr"]},
        "replyCount": 1, "repostCount": 2, "likeCount": n, "quoteCount": 0,
        "indexedAt": f"2026-03-02T10:00:{n % 60:02d}.500Z",
    }
    data.update(extra)
    return data


class FakeBluesky:
    def __init__(self, posts):
        self.posts = posts

    def __call__(self, req: Req) -> Reply:
        if req.path == "/xrpc/com.atproto.server.createSession":
            if b"app-pass-ok" not in req.body:
                return Reply(401, {"error": "AuthenticationRequired", "message": "Invalid identifier or password"})
            return Reply(200, {"did": DID, "handle": "ana.bsky.social", "accessJwt": ACCESS, "refreshJwt": REFRESH})
        if req.headers.get("authorization") != f"Bearer {ACCESS}":
            return Reply(401, {"error": "AuthenticationRequired"})
        if req.path == "/xrpc/app.bsky.actor.getProfiles":
            return Reply(200, {"profiles": [{"did": d, "handle": "ana.bsky.social", "followersCount": 4321, "verification": {"verifiedStatus": "valid"}} for d in req.query.get("actors", [])]})
        if req.path == "/xrpc/app.bsky.feed.searchPosts":
            size, offset = int(req.arg("limit")), int(req.arg("cursor") or 0)
            rows = sorted(self.posts, key=lambda p: p.get("indexedAt", ""), reverse=True)
            body: dict[str, Any] = {"posts": rows[offset : offset + size], "hitsTotal": len(rows)}
            if offset + size < len(rows):
                body["cursor"] = str(offset + size)
            return Reply(200, body, {"ratelimit-remaining": "2999", "ratelimit-reset": "1800000300"})
        return Reply(404, {"error": "MethodNotImplemented"})


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
