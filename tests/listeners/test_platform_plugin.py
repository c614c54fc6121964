"""Adding a platform is one folder: a fake "tiktok" (listener, config model, native search syntax, Airflow
pool and interval) is registered from this file only, and config, planning, the Airflow glue and `vigie run`
take it like a built-in one. Nothing else is edited; the registry is restored afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Literal

import pytest
from click.testing import CliRunner

from listeners import build_listener
from listeners.base import Page, Query
from listeners.native import Style, dedupe, dnf, render_atom, searchable
from listeners.plan import native_queries
from vigie.core.config import ConfigError, ConfigModel, EveryMinutes, config_from_dict
from vigie.core.models import Author, Post, post_id
from vigie.core.platform import PLATFORMS, Platform, Pool, register
from vigie.core.query import TopicQuery
from vigie.pipeline.ingest_units import (
    every_minutes, ingest_units, platforms, pool_name, pools_document, units_by_platform,
)

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=timezone.utc)


class TiktokSource(ConfigModel):
    type: Literal["tiktok"]
    every_minutes: EveryMinutes = None
    region: str = "FR"


# TikTok's (imagined) search: no OR, no NOT, keywords joined by "+", hashtags kept.
TIKTOK_STYLE = Style(wildcard=False, near=False, hashtags=True, mentions=False, lang=False, author_field=None,
                     not_prefix="-", and_sep="+")


def tiktok_native(query: TopicQuery) -> list[str]:
    root = searchable(query, ("tiktok",))
    if root is None:
        return []
    return dedupe("+".join(p for p in (render_atom(a, TIKTOK_STYLE) for a in alt) if p) for alt in dnf(root))


# What the fake API holds, by native search: a search it was not asked for would return nothing.
VIDEOS = {
    "brivolle+panne": [("v1", "Ma Brivolle en panne depuis hier, aucune réponse du SAV"), ("v2", "brivolle panne encore")],
    "#brivolle": [("v3", "#brivolle le four qui fume")],
}


class TiktokListener:
    source = "tiktok"

    def __init__(self, name: str, region: str):
        self.name, self.region = name, region

    @classmethod
    def from_config(cls, name: str, cfg: Any) -> "TiktokListener":
        return cls(name, cfg.region)

    def plan(self, topics: list[Any]) -> list[Query]:
        return native_queries(topics, "tiktok", key_prefix="search:")

    def fetch(self, query: Query, cursor: dict[str, Any] | None, now: datetime) -> Iterator[Page]:
        seen = set((cursor or {}).get("seen", []))
        fresh = [(vid, text) for vid, text in VIDEOS.get(query.text, []) if vid not in seen]
        posts = [Post(id=post_id("tiktok", vid), source="tiktok", text=text, created_at=now - timedelta(minutes=5),
                      author=Author(id=f"u-{vid}", handle=f"user{vid}", followers=100), topic_ids=list(query.topic_ids))
                 for vid, text in fresh]
        yield Page(posts=posts, cursor={"seen": sorted(seen | {vid for vid, _ in fresh})})


TIKTOK = Platform(
    name="tiktok",
    config=TiktokSource,
    listener=TiktokListener,
    native=tiktok_native,
    pool=Pool("vigie_tiktok", 3, "TikTok Research API: 1000 requests / day"),
    every_minutes=15,
    lookback_hours=48,
)

TOPICS = [{"id": "brivolle", "name": "Brivolle", "query": '(brivolle panne) OR "#brivolle"'}]


@pytest.fixture
def tiktok() -> Iterator[Platform]:
    register(TIKTOK)
    try:
        yield TIKTOK
    finally:
        PLATFORMS.unregister("tiktok")


def test_config_accepts_a_registered_platform_and_lists_it_when_the_type_is_wrong(tiktok: Platform) -> None:
    config = config_from_dict({"topics": TOPICS, "sources": {"tk": {"type": "tiktok", "region": "BE"}}})
    assert isinstance(config.sources["tk"], TiktokSource) and config.sources["tk"].region == "BE"
    assert config.coverage.lookback("tiktok") == timedelta(hours=48)
    with pytest.raises(ConfigError) as err:
        config_from_dict({"topics": TOPICS, "sources": {"tk": {"type": "tiktok", "regoin": "BE"}}})
    assert "sources.tk.regoin: unknown key" in str(err.value)  # the user's key path, not the union's
    with pytest.raises(ConfigError) as err:
        config_from_dict({"topics": TOPICS, "sources": {"tk": {"type": "tictoc"}}})
    assert "sources.tk.type: expected one of" in str(err.value) and "'tiktok'" in str(err.value)


def test_a_platform_unregistered_is_refused_again(tiktok: Platform) -> None:
    config_from_dict({"topics": TOPICS, "sources": {"tk": {"type": "tiktok"}}})
    PLATFORMS.unregister("tiktok")
    with pytest.raises(ConfigError, match="found 'tiktok'"):
        config_from_dict({"topics": TOPICS, "sources": {"tk": {"type": "tiktok"}}})


def test_planning_uses_the_platforms_native_syntax(tiktok: Platform) -> None:
    config = config_from_dict({"topics": TOPICS, "sources": {"tk": {"type": "tiktok"}}})
    listener = build_listener("tk", config.sources["tk"])
    assert isinstance(listener, TiktokListener) and listener.region == "FR"
    planned = listener.plan(config.topics)
    assert [(q.key, q.text, q.topic_ids) for q in planned] == [
        ("search:brivolle+panne", "brivolle+panne", ["brivolle"]), ("search:#brivolle", "#brivolle", ["brivolle"])]


def test_airflow_pools_and_intervals_include_it(tiktok: Platform, tmp_path: Path) -> None:
    assert "tiktok" in platforms() and pool_name("tiktok") == "vigie_tiktok"
    assert pools_document()["vigie_tiktok"] == {"slots": 3, "description": "TikTok Research API: 1000 requests / day",
                                                   "include_deferred": False}
    config = config_from_dict({"topics": TOPICS, "sources": {"tk": {"type": "tiktok"}},
                               "store": {"type": "sqlite", "path": str(tmp_path / "v.db")}})
    assert every_minutes(config.sources["tk"]) == 15
    units = ingest_units(config)
    assert units == [{"source": "tk", "platform": "tiktok", "topic": "brivolle"}]
    assert units_by_platform(units)["tiktok"] == units


def test_vigie_run_fetches_analyses_and_stores_its_posts(tiktok: Platform, tmp_path: Path) -> None:
    from vigie.app.cli.main import cli
    from vigie.app.cli.run import EXIT_OK

    cfg = tmp_path / "vigie.yml"
    cfg.write_text(
        "topics:\n  - id: brivolle\n    name: Brivolle\n    query: '(brivolle panne) OR \"#brivolle\"'\n"
        f"sources:\n  tk:\n    type: tiktok\nstore:\n  type: sqlite\n  path: {tmp_path / 'v.db'}\n"
        "channels:\n  - type: console\n    min_level: crisis\n",
        encoding="utf-8",
    )
    first = CliRunner().invoke(cli, ["run", "--config", str(cfg), "--now", NOW.isoformat()])
    assert first.exit_code == EXIT_OK, first.output
    assert "tk: ok 3 fetched, 3 new" in first.output
    again = CliRunner().invoke(cli, ["run", "--config", str(cfg), "--now", NOW.isoformat()])
    assert "tk: ok 0 fetched" in again.output  # its cursors were stored and resumed
