"""`vigie run --config` with all five platforms pointed at one fixture server by configuration: every
source ingests, a second run stores nothing twice, and one source's auth failure leaves the others."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from vigie.app.cli.main import cli
from vigie.core.config import load_config
from vigie.store import open_store
from vigie.sim.standins.x import TOKEN, FakeX, tweet
from vigie.sim.standins.server import FixtureServer, Reply, Req
from vigie.sim.standins.feeds import FakeFeedSite
from vigie.sim.standins.bluesky import FakeBluesky, bsky_post
from vigie.sim.standins.mastodon import FakeMastodon, status
from vigie.sim.standins.reddit import FakeReddit, comment, link

NOW = "2026-03-02T12:00:00Z"


class Platforms:
    """One server, five APIs, routed by path as the real hosts would be."""

    def __init__(self):
        self.x = FakeX([tweet(i) for i in range(5)])
        self.reddit = FakeReddit([link(i) for i in range(4)] + [comment(i) for i in range(2)])
        self.site = FakeFeedSite()
        self.mastodon = FakeMastodon([status(i) for i in range(3)])
        self.bluesky = FakeBluesky([bsky_post(i) for i in range(4)])

    def __call__(self, req: Req) -> Reply:
        if req.path.startswith("/2/"):
            return self.x(req)
        if req.path.startswith(("/r/", "/api/v1/access_token")):
            return self.reddit(req)
        if req.path.startswith("/api/v1/timelines"):
            return self.mastodon(req)
        if req.path.startswith("/xrpc/"):
            return self.bluesky(req)
        return self.site(req)


CONFIG = """
topics:
  - id: brivolle
    name: Brivolle
    query: brivolle
sources:
  x: {{type: x, token_env: E2E_X_TOKEN, base_url: "{url}", max_wait_s: 0}}
  reddit: {{type: reddit, client_id_env: E2E_R_ID, client_secret_env: E2E_R_SECRET, oauth_url: "{url}", reddit_url: "{url}", subreddits: [brivolle]}}
  feeds: {{type: feeds, urls: ["{url}/feed.xml"], discourse: ["{url}"]}}
  mastodon: {{type: mastodon, instance: "{url}", hashtags: [brivolle]}}
  bluesky: {{type: bluesky, handle_env: E2E_B_HANDLE, app_password_env: E2E_B_PASS, base_url: "{url}"}}
store: {{type: sqlite, path: "{db}"}}
channels: [{{type: console, min_level: crisis}}]
"""


@pytest.fixture
def env(monkeypatch):
    for k, v in {"E2E_X_TOKEN": TOKEN, "E2E_R_ID": "id", "E2E_R_SECRET": "secret", "E2E_B_HANDLE": "ana.bsky.social", "E2E_B_PASS": "app-pass-ok"}.items():
        monkeypatch.setenv(k, v)


def counts(config_path: Path) -> Counter:
    store = open_store(load_config(config_path).store)
    try:
        return Counter(p.source for p in store.posts(None))
    finally:
        store.close()


def test_vigie_run_ingests_all_five_platforms(env, tmp_path, monkeypatch):
    with FixtureServer(Platforms()) as server:
        path = tmp_path / "vigie.yml"
        path.write_text(CONFIG.format(url=server.url, db=tmp_path / "vigie.db"))
        result = CliRunner().invoke(cli, ["run", "--config", str(path), "--now", NOW])
        assert result.exit_code == 0, result.output
        # feeds: 2 RSS entries + 7 Discourse posts (latest; search finds the same posts again)
        expected = {"x": 5, "reddit": 6, "feeds": 9, "mastodon": 3, "bluesky": 4}
        assert counts(path) == expected
        for name in expected:
            assert f"{name}: ok" in result.output
        again = CliRunner().invoke(cli, ["run", "--config", str(path), "--now", NOW])
        assert again.exit_code == 0 and "0 new" in again.output and counts(path) == expected
        assert "x: ok 0 fetched" in again.output  # since_id: nothing fetched twice

        monkeypatch.setenv("E2E_X_TOKEN", "revoked")
        server.app.bluesky.posts.append(bsky_post(40))
        third = CliRunner().invoke(cli, ["run", "--config", str(path), "--now", NOW])
        assert "x: failed" in third.output and "E2E_X_TOKEN" in third.output and "revoked" not in third.output
        assert counts(path)["bluesky"] == 5  # the other sources still ran
