"""Fault isolation through the real `vigie run`: every platform's client library (tweepy, praw, feedparser,
requests for Discourse and Mastodon, atproto) meets a 200 whose body is cut in half. That source (or
only that query) is reported failed with kind `parse`, every other source still ingests, detection still
runs, and the exit code says "partial failure". Also: the exit codes of a clean and of a hopeless run."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_listeners_e2e import CONFIG as E2E_CONFIG
from test_listeners_e2e import NOW, Platforms, counts

from vigie.app.cli.main import cli
from vigie.app.cli.run import EXIT_FAILED, EXIT_OK, EXIT_PARTIAL
from vigie.core.config import config_from_dict, load_config
from vigie.pipeline.steps import DETECTION_CURSOR, Runtime, run_cycle
from vigie.store import open_store
from vigie.sim.standins.server import FixtureServer, Reply
from vigie.sim.standins.mastodon import FakeMastodon, status

# The platforms of test_listeners_e2e, without retries (a truncation is permanent here: retries only cost time).
CONFIG = re.sub(r"(\n  (?:x|reddit|feeds|mastodon|bluesky): \{\{.*)\}\}", r"\1, retries: 0}}", E2E_CONFIG)
assert CONFIG.count("retries: 0") == 5

FULL = {"x": 5, "reddit": 6, "feeds": 9, "mastodon": 3, "bluesky": 4}

# (what is truncated, the path, the source that fails, what that source still stores)
CASES = [
    ("X recent search (tweepy)", "/2/tweets/search/recent", "x", 0),
    ("Reddit listing (praw/prawcore)", "/r/", "reddit", 0),
    ("Reddit OAuth token (prawcore)", "/api/v1/access_token", "reddit", 0),
    ("RSS feed (feedparser)", "/feed.xml", "feeds", 7),  # the Discourse queries of the same source go on
    ("Discourse posts.json (requests)", "/posts.json", "feeds", 9),  # search.json finds the same 7 posts
    ("Mastodon timeline (requests)", "/api/v1/timelines/tag/", "mastodon", 0),
    ("Bluesky searchPosts (atproto)", "/xrpc/app.bsky.feed.searchPosts", "bluesky", 0),
    ("Bluesky createSession (atproto)", "/xrpc/com.atproto.server.createSession", "bluesky", 0),
]


@pytest.fixture
def env(monkeypatch):
    from vigie.sim.standins.x import TOKEN

    for k, v in {"E2E_X_TOKEN": TOKEN, "E2E_R_ID": "id", "E2E_R_SECRET": "secret", "E2E_B_HANDLE": "ana.bsky.social",
                 "E2E_B_PASS": "app-pass-ok"}.items():
        monkeypatch.setenv(k, v)


def write_config(tmp_path: Path, url: str) -> Path:
    path = tmp_path / "vigie.yml"
    path.write_text(CONFIG.format(url=url, db=tmp_path / "vigie.db"))
    return path


def detection_cursor(config_path: Path) -> str | None:
    store = open_store(load_config(config_path).store)
    try:
        cursor = store.get_cursor(DETECTION_CURSOR, "brivolle")
        return cursor.value["at"] if cursor else None
    finally:
        store.close()


@pytest.mark.parametrize("what,path,failing,kept", CASES, ids=[c[0] for c in CASES])
def test_a_truncated_body_fails_its_source_only_with_kind_parse(env, tmp_path, what, path, failing, kept):
    with FixtureServer(Platforms()) as server:
        server.truncated.add(path)
        config = write_config(tmp_path, server.url)
        result = CliRunner().invoke(cli, ["run", "--config", str(config), "--now", NOW])
    assert result.exit_code == EXIT_PARTIAL, result.output
    assert f"{failing}: failed" in result.output
    assert re.search(r"\[parse\]", result.output), result.output
    assert "Traceback" not in result.output
    expected = {**FULL, failing: kept}
    assert {k: v for k, v in counts(config).items() if v} == {k: v for k, v in expected.items() if v}
    for other in FULL:
        if other != failing:
            assert f"{other}: ok" in result.output
    # Detection ran on what was stored, at the run's clock.
    assert "alert event(s)" in result.output and detection_cursor(config) == "2026-03-02T12:00:00Z"


def test_atproto_model_error_on_a_cut_login_body_is_a_parse_error(env, tmp_path):
    # Cut short *and* without its JSON content type (a proxy's doing), the session reply makes atproto
    # raise its own ModelError, which no other client library knows: caught at the source boundary.
    with FixtureServer(Platforms()) as server:
        server.fail("/xrpc/com.atproto.server.createSession",
                    Reply(200, '{"did": "did:plc:abc123", "handle": "ana.bsk', content_type="application/octet-stream"))
        config = write_config(tmp_path, server.url)
        result = CliRunner().invoke(cli, ["run", "--config", str(config), "--now", NOW])
    assert result.exit_code == EXIT_PARTIAL, result.output
    assert "bluesky: failed" in result.output and "[parse]" in result.output
    assert counts(config) == {k: v for k, v in FULL.items() if k != "bluesky"}
    assert detection_cursor(config) == "2026-03-02T12:00:00Z"


def test_exit_codes_ok_and_total_failure(env, tmp_path, monkeypatch):
    with FixtureServer(Platforms()) as server:
        config = write_config(tmp_path, server.url)
        ok = CliRunner().invoke(cli, ["run", "--config", str(config), "--now", NOW])
        assert ok.exit_code == EXIT_OK, ok.output
        # Every platform broken at once: every source fails. Detection still runs on what is stored, but the
        # run failed as a whole (cron and Airflow must alert).
        for prefix in ("/2/", "/r/", "/api/", "/feed.xml", "/posts.json", "/search.json", "/xrpc/"):
            server.truncated.add(prefix)
        down = CliRunner().invoke(cli, ["run", "--config", str(config), "--now", "2026-03-02T12:30:00Z"])
    assert down.exit_code == EXIT_FAILED, down.output
    assert down.output.count(": failed") == 5 and "4)" in down.output
    assert detection_cursor(config) == "2026-03-02T12:30:00Z"


def test_a_live_post_dated_in_the_future_is_quarantined_not_stored(tmp_path, monkeypatch):
    """Through a real platform payload: a Mastodon status dated 9999 (a platform bug)."""
    statuses = [status(1), status(2, created_at="9999-12-31T00:00:00.000Z"), status(3)]
    with FixtureServer(FakeMastodon(statuses)) as server:
        config = config_from_dict({
            "topics": [{"id": "acme", "name": "Acme", "query": "brivolle"}],
            "sources": {"masto": {"type": "mastodon", "instance": server.url, "hashtags": ["brivolle"]}},
            "store": {"type": "sqlite", "path": str(tmp_path / "v.db")},
            "channels": [{"type": "console", "min_level": "crisis"}],
        })
        rt = Runtime.from_config(config)
        try:
            report = run_cycle(rt, datetime(2026, 3, 2, 12, tzinfo=timezone.utc))
            assert report.outcome == "ok"
            [source] = report.sources
            assert source.inserted == 2 and source.future == 1 and source.quarantined == 1
            assert rt.store.get_post("mastodon:110002") is None
            [q] = rt.store.quarantined("masto")
            assert "9999-12-31" in q.reason and q.context["post_id"] == "mastodon:110002"
            assert rt.store.get_cursor(DETECTION_CURSOR, "acme").value["at"] == "2026-03-02T12:00:00Z"
        finally:
            rt.close()
