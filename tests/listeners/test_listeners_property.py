"""Property: whatever interleaving of 429s, 5xx, garbled bodies, crashes mid-run and new arrivals,
repeated runs of a listener store every post exactly once (X, Reddit and Bluesky are descending scans,
Mastodon goes forward with min_id)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable

import pytest
from fakes.clock import FakeClock
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from listeners import build_listener
from listeners.base import Query, SourceError
from listeners.bluesky import BlueskyListener
from listeners.http import RetryPolicy
from listeners.mastodon import MastodonListener
from listeners.reddit import RedditListener
from listeners.x import XListener, XSource
from vigie.sim.standins.x import TOKEN, FakeX, tweet
from vigie.sim.standins.server import FixtureServer, Reply, drain
from vigie.sim.standins.bluesky import FakeBluesky, bsky_post
from vigie.sim.standins.mastodon import FakeMastodon, status
from vigie.sim.standins.reddit import FakeReddit, link

NOW = datetime(2026, 3, 2, 12, tzinfo=timezone.utc)
Q = Query(key="search:brivolle", text="brivolle", topic_ids=["t"])  # "search:" selects Reddit's search listing


@dataclass
class Platform:
    fake: Callable[[list[Any]], Any]
    item: Callable[[int], Any]
    items: Callable[[Any], list[Any]]  # the fake's mutable list of records
    listener: Callable[..., Any]
    path: str
    post_id: Callable[[int], str]
    faults: tuple[str, ...] = ("429", "500", "bad-json")
    start: dict[str, Any] | None = None
    query: Query = field(default_factory=lambda: Q)


def _bsky(n: int) -> dict[str, Any]:
    return bsky_post(n, indexedAt=f"2026-03-02T10:{n // 60:02d}:{n % 60:02d}.000Z")


PLATFORMS = {
    "x": Platform(FakeX, tweet, lambda f: f.tweets,
                  lambda url, ps, **kw: XListener(token_env="PROP_X", base_url=url, page_size=ps, **kw), "/2/", lambda n: f"x:{1_000_000 + n}"),
    "mastodon": Platform(FakeMastodon, status, lambda f: f.statuses,
                         lambda url, ps, **kw: MastodonListener(url, hashtags=["brivolle"], page_size=ps, **kw), "/api/v1", lambda n: f"mastodon:{110_000 + n}",
                         start={"min_id": "0"}, query=Query(key="tag:brivolle", text="brivolle", topic_ids=["t"])),
    # prawcore retries 5xx itself with real sleeps: its 500 path is covered in test_listeners_reddit.
    "reddit": Platform(FakeReddit, link, lambda f: f.things,
                       lambda url, ps, **kw: RedditListener(client_id_env="PROP_RI", client_secret_env="PROP_RS", oauth_url=url, reddit_url=url, page_size=ps, **kw),
                       "/r/", lambda n: f"reddit:{link(n)['data']['name']}", faults=("429", "bad-json")),
    "bluesky": Platform(FakeBluesky, _bsky, lambda f: f.posts,
                        lambda url, ps, **kw: BlueskyListener(handle_env="PROP_BH", app_password_env="PROP_BP", base_url=url, page_size=ps, with_profiles=False, **kw),
                        "/xrpc/app.bsky.feed.searchPosts", lambda n: f"bluesky:{_bsky(n)['uri']}"),
}
FAULTS = {
    "429": Reply(429, {"error": "Too Many Requests"}, {"Retry-After": "5"}),
    "500": Reply(500, {"error": "Internal"}),
    "bad-json": Reply(200, "{not json"),
}

run_plan = st.tuples(
    st.lists(st.integers(0, 2), max_size=3),  # faults served at the start of the run (index into platform faults)
    st.one_of(st.none(), st.integers(0, 3)),  # crash after this many pages
    st.integers(0, 3),  # posts arriving before the run
)


@pytest.fixture
def creds(monkeypatch):
    for k, v in {"PROP_X": TOKEN, "PROP_RI": "id", "PROP_RS": "secret", "PROP_BH": "ana", "PROP_BP": "app-pass-ok"}.items():
        monkeypatch.setenv(k, v)


@pytest.mark.parametrize("name", sorted(PLATFORMS))
def test_no_loss_no_duplicate(creds, name):
    platform = PLATFORMS[name]

    @settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(initial=st.integers(0, 8), page_size=st.integers(1, 4), runs=st.lists(run_plan, min_size=1, max_size=4))
    def check(initial, page_size, runs):
        fake = platform.fake([platform.item(i) for i in range(initial)])
        stored: dict = {}
        n = initial
        with FixtureServer(fake) as server:
            cursor = platform.start
            for faults, crash, arrivals in runs:
                platform.items(fake).extend(platform.item(i) for i in range(n, n + arrivals))
                n += arrivals
                server.fail(platform.path, *(FAULTS[platform.faults[f % len(platform.faults)]] for f in faults))
                clock = FakeClock()
                listener = platform.listener(server.url, page_size, max_pages=3, sleep=clock.sleep, clock=clock.time,
                                             policy=RetryPolicy(retries=1, base_s=0.0, rate_limit_retries=1, timeout_s=2))
                try:
                    cursor = drain(listener, platform.query, cursor, NOW, stored, crash_after_pages=crash)
                except SourceError:
                    pass  # the run stops; the cursor saved so far is kept
            server.faults.clear()
            quiet = platform.listener(server.url, page_size, max_pages=3)  # one client: building one costs ~50 ms
            for _ in range(n + 2):  # quiet runs until caught up
                before = cursor
                cursor = drain(quiet, platform.query, cursor, NOW, stored)
                if cursor == before and "resume" not in (cursor or {}):
                    break
        assert sorted(stored) == sorted(platform.post_id(i) for i in range(n))

    check()


def test_build_listener_dispatches_on_type():
    listener = build_listener("tw", XSource(type="x", token_env="PROP_X", base_url="http://127.0.0.1:9", max_wait_s=5))
    assert isinstance(listener, XListener) and listener.policy.max_wait_s == 5 and listener.source == "x"


def test_build_listener_every_type_and_unknown():
    from listeners.bluesky import BlueskyListener, BlueskySource
    from listeners.feeds import FeedsListener, FeedsSource
    from listeners.mastodon import MastodonSource
    from listeners.reddit import RedditSource

    built = [
        build_listener("r", RedditSource(type="reddit", subreddits=["a"])),
        build_listener("f", FeedsSource(type="feeds", urls=["http://127.0.0.1:9/f.xml"], timeout_s=3)),
        build_listener("m", MastodonSource(type="mastodon", instance="mastodon.test")),
        build_listener("b", BlueskySource(type="bluesky")),
    ]
    assert [type(b) for b in built] == [RedditListener, FeedsListener, MastodonListener, BlueskyListener]
    assert built[1].policy.timeout_s == 3 and built[2].instance == "https://mastodon.test"

    class Odd:
        type = "myspace"

    with pytest.raises(SourceError, match="unknown source type 'myspace'"):
        build_listener("odd", Odd())
