"""Posts/s normalised per source, from the local stand-ins of the platforms' APIs (vigie/sim/standins; CPU cost
of our code plus the client libraries and loopback HTTP; not the platforms' speed).

    .venv/bin/python bench/listeners.py [N]
"""

from __future__ import annotations

import os
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from listeners.base import Query  # noqa: E402
from listeners.bluesky import BlueskyListener  # noqa: E402
from listeners.feeds import FeedsListener  # noqa: E402
from listeners.mastodon import MastodonListener  # noqa: E402
from listeners.reddit import RedditListener  # noqa: E402
from listeners.x import XListener  # noqa: E402
from vigie.sim.standins import bluesky as bluesky_t  # noqa: E402
from vigie.sim.standins import feeds as feeds_t  # noqa: E402
from vigie.sim.standins import mastodon as mastodon_t  # noqa: E402
from vigie.sim.standins import reddit as reddit_t  # noqa: E402
from vigie.sim.standins.server import FixtureServer, drain  # noqa: E402
from vigie.sim.standins.x import TOKEN, FakeX, tweet  # noqa: E402

NOW = datetime(2026, 3, 2, 12, tzinfo=timezone.utc)
Q = Query(key="q", text="brivolle", topic_ids=["t"])


class Topic:
    id = "t"
    query = "brivolle"


def run(name: str, app, make, query, n: int, cursor: dict | None = None) -> None:
    with FixtureServer(app) as server:
        listener = make(server)
        q = query(listener)
        start = time.perf_counter()
        store: dict = {}
        drain(listener, q, cursor, NOW, store)
        elapsed = time.perf_counter() - start
    print(f"{name:10s} {len(store):6d} posts  {elapsed:6.2f} s  {len(store) / elapsed:8.0f} posts/s")


def main(n: int) -> None:
    os.environ.update({"BENCH_X": TOKEN, "BENCH_BH": "a", "BENCH_BP": "app-pass-ok", "BENCH_RI": "id", "BENCH_RS": "secret"})
    pages = n // 40 + 2
    run("x", FakeX([tweet(i) for i in range(n)]),
        lambda s: XListener(token_env="BENCH_X", base_url=s.url, page_size=100, max_pages=n // 100 + 2), lambda l: Q, n)
    run("mastodon", mastodon_t.FakeMastodon([mastodon_t.status(i) for i in range(n)]),
        lambda s: MastodonListener(s.url, hashtags=["brivolle"], max_pages=pages), lambda l: l.plan([])[0], n,
        cursor={"min_id": "0"})  # a first run takes only the newest page; start from the beginning instead
    run("bluesky", bluesky_t.FakeBluesky([bluesky_t.bsky_post(i, indexedAt=f"2026-03-02T10:{i // 3600 % 60:02d}:{i // 60 % 60:02d}.{i % 60:03d}Z") for i in range(n)]),
        lambda s: BlueskyListener(handle_env="BENCH_BH", app_password_env="BENCH_BP", base_url=s.url, max_pages=n // 100 + 2), lambda l: Q, n)
    run("reddit", reddit_t.FakeReddit([reddit_t.link(i) for i in range(n)]),
        lambda s: RedditListener(client_id_env="BENCH_RI", client_secret_env="BENCH_RS", oauth_url=s.url, reddit_url=s.url, max_pages=n // 100 + 2),
        lambda l: l.plan([Topic()])[0], n)
    site = feeds_t.FakeFeedSite()
    site.titles = {i: f"Avis {i}" for i in range(n)}
    run("rss", site, lambda s: FeedsListener(urls=[f"{s.url}/feed.xml"]), lambda l: l.plan([Topic()])[0], n)
    site = feeds_t.FakeFeedSite()
    site.latest = [feeds_t.discourse_post(i, created_at=f"2026-03-02T09:{i // 60 % 60:02d}:{i % 60:02d}.000Z") for i in range(1, n + 1)]
    site.page_size = 20
    run("discourse", site, lambda s: FeedsListener(discourse=[s.url], max_pages=n // 20 + 2), lambda l: l.plan([Topic()])[0], n)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)
