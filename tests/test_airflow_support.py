"""The Airflow glue in vigie.pipeline (airflow, ingest_units, maintenance, replay): the decisions behind the DAGs,
tested without Airflow."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace

import pytest

from vigie.core.config import ConfigError, config_from_dict
from vigie.pipeline import airflow as af
from vigie.pipeline.ingest_units import (
    ingest_units, is_due, platforms, pools, pools_document, total_inserted, unit_label, units_by_platform,
)
from vigie.pipeline.maintenance import (
    apply_retention, es_setup_if_configured, kibana_import_if_configured, quarantine_counts,
)
from vigie.pipeline.replay import REPLAY_SOURCE, replay_config, replay_span, sandbox_path
from vigie.store.sqlite import SqliteStore

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=timezone.utc)


def _config(tmp_path: Path, **extra):
    feed = tmp_path / "posts.jsonl"
    feed.write_text("", encoding="utf-8")
    data = {
        "topics": [
            {"id": "acme", "name": "Acme", "query": "acme"},
            {"id": "globex", "name": "Globex", "query": "globex", "sources": ["x"]},
            {"id": "initech", "name": "Initech", "query": "initech", "sources": ["replay", "rss"]},
        ],
        "sources": {
            "replay": {"type": "replay", "path": str(feed)},
            "x": {"type": "x", "every_minutes": 2},
            "rss": {"type": "feeds", "urls": ["http://127.0.0.1:1/feed"], "every_minutes": 10},
        },
        "store": {"type": "sqlite", "path": str(tmp_path / "vigie.db")},
    }
    data.update(extra)
    return config_from_dict(data, tmp_path / "vigie.yml")


def test_units_are_source_by_topic_respecting_topic_sources(tmp_path):
    units = ingest_units(_config(tmp_path))
    assert [unit_label(u) for u in units] == [
        "replay/acme", "replay/initech", "x/acme", "x/globex", "rss/acme", "rss/initech",
    ]
    assert {u["platform"] for u in units} == {"replay", "x", "feeds"}


def test_units_restricted_by_params_and_unknown_names_are_errors(tmp_path):
    config = _config(tmp_path)
    assert [unit_label(u) for u in ingest_units(config, sources=["x"], topics=["globex"])] == ["x/globex"]
    with pytest.raises(ConfigError, match="unknown source 'twitter'.*configured: replay, rss, x"):
        ingest_units(config, sources=["twitter"])
    with pytest.raises(ConfigError, match="unknown topic 'acm'"):
        ingest_units(config, topics=["acm"])


def test_adding_a_topic_adds_units_without_code(tmp_path):
    config = _config(tmp_path)
    before = len(ingest_units(config))
    config.topics.append(config.topics[0].model_copy(update={"id": "umbrella", "name": "Umbrella"}))
    assert len(ingest_units(config)) == before + len(config.sources)


def test_due_sources_follow_their_interval(tmp_path):
    config = _config(tmp_path)  # x every 2 (default tick 2), replay default 5, rss every 10
    due = lambda at: sorted({u["source"] for u in ingest_units(config, at=at, tick_minutes=2)})  # noqa: E731
    assert due(T0) == ["replay", "rss", "x"]  # 12:00 is a multiple of 2, 5 and 10
    assert due(T0 + timedelta(minutes=2)) == ["x"]
    assert due(T0 + timedelta(minutes=6)) == ["replay", "x"]  # 12:05 elapsed during (12:04, 12:06]
    # Over an hour every source runs exactly 60/interval times: none is starved or doubled.
    ticks = [T0 + timedelta(minutes=2 * i) for i in range(1, 31)]
    runs = {name: sum(name in due(t) for t in ticks) for name in config.sources}
    assert runs == {"x": 30, "replay": 12, "rss": 6}


def test_is_due_with_interval_shorter_than_tick():
    assert is_due(1, T0 + timedelta(minutes=3), 5)


def test_units_by_platform_lists_every_platform(tmp_path):
    split = units_by_platform(ingest_units(_config(tmp_path)))
    assert list(split) == list(platforms())
    assert [u["topic"] for u in split["x"]] == ["acme", "globex"]
    assert split["reddit"] == []


def test_every_platform_has_a_pool_and_a_default_interval():
    assert set(pools()) == set(platforms())
    doc = pools_document()
    assert doc["vigie_x"]["slots"] == 1 and all(v["slots"] >= 1 for v in doc.values())


def test_pools_json_in_dags_matches_the_code():
    shipped = json.loads((Path(__file__).parent.parent / "dags" / "pools.json").read_text(encoding="utf-8"))
    assert shipped == pools_document()


def test_config_path_from_variable_then_env(tmp_path):
    assert af.resolve_config_path("/etc/vigie.yml", {"VIGIE_CONFIG": "/other.yml"}) == Path("/etc/vigie.yml")
    assert af.resolve_config_path(None, {"VIGIE_CONFIG": "/other.yml"}) == Path("/other.yml")
    assert af.resolve_config_path("  ", {"VIGIE_CONFIG": "/other.yml"}) == Path("/other.yml")
    with pytest.raises(ConfigError, match="airflow variables set vigie_config"):
        af.resolve_config_path(None, {})


def test_run_clock_precedence():
    later = T0 + timedelta(minutes=7)
    run = SimpleNamespace(run_after=later, run_type="manual")
    assert af.run_clock({"data_interval_end": T0, "logical_date": later, "dag_run": run}) == T0
    assert af.run_clock({"data_interval_end": None, "logical_date": None, "dag_run": run}) == later
    assert af.run_clock({"data_interval_end": T0}, override="2026-03-01T00:00:00Z") == datetime(2026, 3, 1, tzinfo=timezone.utc)
    events = {"asset": [SimpleNamespace(extra={"now": "2026-03-02T11:55:00Z"}), SimpleNamespace(extra={"now": "2026-03-02T11:50:00Z"})]}
    assert af.run_clock({"triggering_asset_events": events, "dag_run": run}) == T0 - timedelta(minutes=5)
    assert af.is_manual({"dag_run": run}) and not af.is_manual({"dag_run": SimpleNamespace(run_type="scheduled")})


def test_run_clock_gives_plain_datetimes_not_pendulum():
    import pendulum  # what Airflow puts in the task context

    t = af.run_clock({"data_interval_end": pendulum.datetime(2026, 3, 2, 13, 0, tz="Europe/Paris")})
    assert type(t) is datetime and t == T0 and t.tzinfo is timezone.utc
    day = t.replace(hour=0, minute=0) - timedelta(days=1)
    assert type(t - day) is timedelta


def test_tick_from_env():
    assert af.every_minutes_from_env("T", 2, {}) == 2
    assert af.every_minutes_from_env("T", 2, {"T": "10"}) == 10
    for bad in ("7", "0", "two"):
        with pytest.raises(ConfigError, match="divides 60"):
            af.every_minutes_from_env("T", 2, {"T": bad})
    assert af.minute_cron(1) == "* * * * *" and af.minute_cron(5) == "*/5 * * * *"


def test_default_args_retry_with_backoff_and_timeout():
    args = af.default_args(retries=4, timeout_minutes=7)
    assert args["owner"] == "vigie" and args["retries"] == 4
    assert args["retry_exponential_backoff"] > 1 and args["max_retry_delay"] >= args["retry_delay"]
    assert args["execution_timeout"] == timedelta(minutes=7)


def test_total_inserted_ignores_failed_units():
    assert total_inserted([{"inserted": 2}, None, {"inserted": 3}]) == 5
    assert total_inserted(None) == 0


def test_quarantine_counts_group_by_source_and_reason(tmp_path):
    store = SqliteStore(tmp_path / "q.db")
    try:
        store.quarantine("replay", "{bad", "invalid JSON: Expecting value (column 1)", {"line": 1})
        store.quarantine("replay", "{worse", "invalid JSON: Expecting value (column 2)", {"line": 2})
        store.quarantine("replay", "[]", "expected a JSON object, found list", {"line": 3})
        store.quarantine("x", {"id": 1}, "missing required field 'text'", {})
        assert quarantine_counts(store) == {
            "replay": {"expected a JSON object, found list": 1, "invalid JSON": 2},
            "x": {"missing required field 'text'": 1},
        }
    finally:
        store.close()


def test_retention_purges_old_posts_from_sqlite(tmp_path):
    from test_store_contract import make_alert, make_post

    config = _config(tmp_path)
    store = SqliteStore(config.store.path)
    try:
        store.upsert_posts([make_post("old", T0 - timedelta(days=91)), make_post("kept", T0 - timedelta(days=89))])
        store.save_alert(make_alert("acme", T0 - timedelta(days=91)))
        line = apply_retention(store, config, T0)
        assert line == "retention: removed 1 post(s) created before 2025-12-02T12:00:00Z"
        assert [p.id for p in store.posts(None)] == ["x:kept"]
        assert len(store.alert_history()) == 1  # alerts are kept
        assert apply_retention(store, config, T0).startswith("retention: removed 0 post(s)")
    finally:
        store.close()


def test_retention_on_elasticsearch_with_ilm_is_left_to_the_policy(tmp_path, es_proxy, es_prefix):
    from test_store_contract import make_post

    from vigie.store.elasticsearch import ElasticsearchStore

    es_proxy.emulate_ilm = True  # the proxy answers _ilm/* as Elasticsearch does (osmem has no ILM)
    config = _config(tmp_path, store={"type": "elasticsearch", "url": es_proxy.url, "prefix": es_prefix,
                                      "retention_days": 30})
    store = ElasticsearchStore.from_config(config.store)
    try:
        store.upsert_posts([make_post("old", T0 - timedelta(days=60))])
        assert "ILM policy (30 days" in apply_retention(store, config, T0)
        assert store.count_posts() == 1  # ILM drops whole indices after rollover; no delete_by_query
        assert not [path for _, path, _ in es_proxy.requests if "_delete_by_query" in path]
    finally:
        store.close()


def test_retention_on_elasticsearch_without_ilm_purges(tmp_path, es_osmem, es_prefix):
    from es_fixtures import osmem_client
    from test_store_contract import make_post

    from vigie.store.elasticsearch import ElasticsearchStore

    config = _config(tmp_path, store={"type": "elasticsearch", "prefix": es_prefix, "retention_days": 30})
    store = ElasticsearchStore(osmem_client(es_osmem.url), prefix=es_prefix)
    try:
        store.upsert_posts([make_post("old", T0 - timedelta(days=31)), make_post("kept", T0 - timedelta(days=29))])
        line = apply_retention(store, config, T0)
        assert line == "retention: removed 1 post(s) created before 2026-01-31T12:00:00Z"
        assert [p.id for p in store.posts(None)] == ["x:kept"]
    finally:
        store.close()


def test_es_setup_and_kibana_skip_on_sqlite(tmp_path):
    config = _config(tmp_path)
    assert es_setup_if_configured(config) == ["store is sqlite: nothing to set up"]
    assert "not configured" in kibana_import_if_configured(config, {})[0]


def _write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows) + "not json\n", encoding="utf-8")
    return path


def test_replay_config_keeps_topics_drops_live_sources(tmp_path):
    config = _config(tmp_path)
    file = _write_jsonl(tmp_path / "crisis.jsonl", [])
    one = replay_config(config, file, "initech", tmp_path / "sandbox.db")
    assert list(one.sources) == [REPLAY_SOURCE] and one.sources[REPLAY_SOURCE].path == file.resolve()
    assert [t.id for t in one.topics] == ["initech"] and one.topics[0].sources == []
    assert str(one.store.path).endswith("sandbox.db")
    assert [t.id for t in config.topics] == ["acme", "globex", "initech"]  # the original is untouched
    assert config.store.path == tmp_path / "vigie.db"
    every = replay_config(config, file)
    assert len(every.topics) == 3 and every.store == config.store
    with pytest.raises(ConfigError, match="replay file not found"):
        replay_config(config, tmp_path / "missing.jsonl")
    with pytest.raises(ConfigError, match="unknown topic 'nope'"):
        replay_config(config, file, "nope")


def test_replay_span_from_file_or_params(tmp_path):
    file = _write_jsonl(tmp_path / "c.jsonl", [
        {"id": "2", "text": "b", "created_at": "2026-03-02T10:30:00Z"},
        {"id": "1", "text": "a", "created_at": "2026-03-02T09:00:00Z"},
        {"id": "3", "text": "c"},
    ])
    lo, hi = replay_span(file)
    assert lo == datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc) and hi == datetime(2026, 3, 2, 10, 31, tzinfo=timezone.utc)
    assert replay_span(file, "2026-03-02T10:00:00Z")[0] == datetime(2026, 3, 2, 10, 0, tzinfo=timezone.utc)
    with pytest.raises(ConfigError, match="window is empty"):
        replay_span(file, "2026-03-02T11:00:00Z", "2026-03-02T10:00:00Z")
    empty = _write_jsonl(tmp_path / "e.jsonl", [])
    with pytest.raises(ConfigError, match="no post with a valid created_at"):
        replay_span(empty)


def test_sandbox_path_is_stable_per_file(tmp_path):
    assert sandbox_path(tmp_path / "vigie.yml", "/data/crisis.jsonl") == tmp_path / "out" / "replay-crisis.db"

