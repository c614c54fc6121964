"""Fault isolation and clock sanity in the pipeline, with real stores: an Elasticsearch bulk whose reply is
lost fails that page only; a clock in the future is refused (`vigie run --now`, detection) and a post
dated in the future is quarantined, never stored; a replay line dated 9999 is quarantined and the file
goes on; an exception no listener anticipated stops its query only, with its kind."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from listeners.base import Page, Query, SourceError
from listeners.guard import GuardedListener, classify
from vigie.app.cli.main import cli
from vigie.app.cli.run import EXIT_OK, EXIT_PARTIAL, EXIT_USAGE
from vigie.core.clock import ClockError
from vigie.core.config import config_from_dict, load_config
from vigie.pipeline.steps import DETECTION_CURSOR, Runtime, detect_and_alert, ingest_source, run_cycle
from vigie.store import open_store

END = datetime(2026, 3, 2, 12, 0, tzinfo=timezone.utc)


def write_replay(path: Path, n: int, start: datetime, prefix: str = "p", extra: dict[int, dict] | None = None) -> Path:
    lines = []
    for i in range(n):
        rec = {"id": f"{prefix}{i}", "text": f"Acme commande {i} jamais livrée", "created_at": (start + timedelta(minutes=i)).isoformat(),
               "author": {"id": f"a{i}", "followers": 10}}
        rec.update((extra or {}).get(i, {}))
        lines.append(json.dumps(rec))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def config_file(tmp_path: Path, store_yaml: str, sources: dict[str, Path]) -> Path:
    src = "".join(f"  {name}:\n    type: replay\n    path: {p}\n" for name, p in sources.items())
    path = tmp_path / "vigie.yml"
    path.write_text(
        "topics:\n  - id: acme\n    name: Acme\n    query: acme\n"
        f"sources:\n{src}store:\n{store_yaml}channels:\n  - type: console\n    min_level: crisis\n",
        encoding="utf-8",
    )
    return path


def detection_at(store) -> str | None:
    cursor = store.get_cursor(DETECTION_CURSOR, "acme")
    return cursor.value["at"] if cursor else None


# -- a store error stops its page, not the cycle -------------------------------------------------

def test_elasticsearch_bulk_reply_lost_fails_that_page_only(tmp_path, es_proxy, es_prefix):
    from es_fixtures import osmem_client

    from vigie.store.elasticsearch import ElasticsearchStore

    first = write_replay(tmp_path / "first.jsonl", 30, END - timedelta(hours=2), "f")
    second = write_replay(tmp_path / "second.jsonl", 20, END - timedelta(hours=1), "s")
    cfg = config_file(tmp_path, f"  type: elasticsearch\n  url: {es_proxy.url}\n  prefix: {es_prefix}\n",
                      {"first": first, "second": second})
    es_proxy.bulk_faults.append("drop-reply")  # the first source's only page: applied, but its reply lost
    result = CliRunner().invoke(cli, ["run", "--config", str(cfg), "--now", END.isoformat()])
    assert result.exit_code == EXIT_PARTIAL, result.output
    assert "first: failed" in result.output and "[store]" in result.output and "cursor did not move" in result.output
    assert "second: ok 20 fetched, 20 new" in result.output
    store = ElasticsearchStore(osmem_client(es_proxy.upstream.geturl()), prefix=es_prefix)
    try:
        assert store.get_cursor("first", "*") is None  # the page is not known to be stored: fetched again
        assert store.get_cursor("second", "*") is not None
        assert detection_at(store) == "2026-03-02T12:00:00Z"  # detection ran on what is stored
    finally:
        store.close()
    again = CliRunner().invoke(cli, ["run", "--config", str(cfg), "--now", END.isoformat()])
    assert again.exit_code == EXIT_OK, again.output
    # The lost reply's bulk had been applied: the re-fetched page updates nothing and duplicates nothing.
    assert "first: ok 30 fetched, 0 new, 0 updated" in again.output
    store = ElasticsearchStore(osmem_client(es_proxy.upstream.geturl()), prefix=es_prefix)
    try:
        assert store.count_posts() == 50 and store.get_cursor("first", "*") is not None
    finally:
        store.close()


def test_an_exception_no_listener_anticipated_stops_its_query_with_its_kind():
    class Surprising:
        source = "odd"

        def plan(self, topics):
            return [Query("a", "a", []), Query("b", "b", [])]

        def fetch(self, query, cursor, now):
            yield Page(posts=[], cursor={"n": 1})
            if query.key == "a":
                raise AttributeError("'NoneType' object has no attribute 'get'")  # a payload the code did not expect

    guarded = GuardedListener(Surprising(), "odd")
    with pytest.raises(SourceError) as err:
        list(guarded.fetch(Query("a", "a", []), None, END))
    assert err.value.kind == "schema" and "unexpected AttributeError" in str(err.value)
    assert len(list(guarded.fetch(Query("b", "b", []), None, END))) == 1
    import requests

    assert classify(requests.exceptions.JSONDecodeError("Expecting value", "", 0)) == "parse"
    assert classify(requests.ConnectionError("reset")) == "network"
    assert classify(RuntimeError("?")) == "internal"


# -- clock sanity -------------------------------------------------------------------------------------

def test_run_refuses_a_now_beyond_the_skew_and_leaves_the_detection_cursor(tmp_path):
    real_now = datetime.now(timezone.utc)
    replay = write_replay(tmp_path / "posts.jsonl", 10, real_now - timedelta(hours=1))
    cfg = config_file(tmp_path, f"  type: sqlite\n  path: {tmp_path / 'v.db'}\n", {"replay": replay})
    typo = CliRunner().invoke(cli, ["run", "--config", str(cfg), "--now", "9999-12-31T00:00:00Z"])
    assert typo.exit_code == EXIT_USAGE
    assert "--now" in typo.output and "clock.max_skew_minutes" in typo.output
    assert not (tmp_path / "v.db").exists()  # refused before anything was opened
    soon = (real_now + timedelta(minutes=5)).isoformat()  # within the default skew of 10 minutes
    ok = CliRunner().invoke(cli, ["run", "--config", str(cfg), "--now", soon])
    assert ok.exit_code == EXIT_OK, ok.output
    store = open_store(load_config(cfg).store)
    try:
        before = detection_at(store)
        assert before is not None and before <= soon
        # The pipeline itself refuses too (the Airflow detect task takes `now` from a param).
        rt = Runtime.from_config(load_config(cfg), store=store)
        with pytest.raises(ClockError, match="ahead of the real clock"):
            detect_and_alert(rt, datetime(9999, 12, 31, tzinfo=timezone.utc))
        with pytest.raises(ClockError):
            run_cycle(rt, real_now + timedelta(hours=1))
        assert detection_at(store) == before
    finally:
        store.close()


def test_posts_dated_beyond_the_skew_are_quarantined_and_a_replay_line_dated_9999_does_not_block(tmp_path):
    start = END - timedelta(hours=1)
    replay = write_replay(tmp_path / "posts.jsonl", 12, start,
                          extra={3: {"created_at": "9999-12-31T23:59:59Z"}, 7: {"created_at": "9999-01-01T00:00:00Z"}})
    config = config_from_dict({
        "topics": [{"id": "acme", "name": "Acme", "query": "acme"}],
        "sources": {"replay": {"type": "replay", "path": str(replay)}},
        "store": {"type": "sqlite", "path": str(tmp_path / "v.db")},
        "channels": [{"type": "console", "min_level": "crisis"}],
    })
    rt = Runtime.from_config(config)
    try:
        report = ingest_source(rt, "replay", END)
        assert report.ok and report.inserted == 10 and report.quarantined == 2
        reasons = [q.reason for q in rt.store.quarantined("replay")]
        assert len(reasons) == 2 and all("in the future" in r and "clock.max_skew_minutes" in r for r in reasons)
        assert [q.context["line"] for q in rt.store.quarantined("replay")] == [4, 8]
        # The file went on to its end: the cursor is past the last line, and a later line is read.
        cursor = rt.store.get_cursor("replay", "*").value
        assert cursor["line"] == 13
        with replay.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps({"id": "late", "text": "Acme encore", "created_at": (END + timedelta(minutes=1)).isoformat()}) + "\n")
        assert ingest_source(rt, "replay", END + timedelta(minutes=5)).inserted == 1
        assert rt.store.count_posts() == 11
    finally:
        rt.close()


# -- strict configuration at start-up ------------------------------------------------------------

def test_run_refuses_a_pager_whose_secret_is_unset_unless_optional(tmp_path, monkeypatch):
    from vigie.app.cli.run import EXIT_CONFIG

    monkeypatch.delenv("VIGIE_TEST_PD_KEY", raising=False)
    replay = write_replay(tmp_path / "posts.jsonl", 5, END - timedelta(hours=1))
    cfg = config_file(tmp_path, f"  type: sqlite\n  path: {tmp_path / 'v.db'}\n", {"replay": replay})
    text = cfg.read_text(encoding="utf-8") + "  - type: pagerduty\n    routing_key_env: VIGIE_TEST_PD_KEY\n"
    cfg.write_text(text, encoding="utf-8")
    refused = CliRunner().invoke(cli, ["run", "--config", str(cfg), "--now", END.isoformat()])
    assert refused.exit_code == EXIT_CONFIG
    assert "VIGIE_TEST_PD_KEY is not set" in refused.output and "optional: true" in refused.output
    assert not (tmp_path / "v.db").exists()  # refused before the store was even opened
    cfg.write_text(text + "    optional: true\n", encoding="utf-8")
    ran = CliRunner().invoke(cli, ["run", "--config", str(cfg), "--now", END.isoformat()])
    assert ran.exit_code == EXIT_OK, ran.output
    assert "replay: ok 5 fetched, 5 new" in ran.output
