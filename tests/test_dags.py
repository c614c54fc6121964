"""The Airflow DAGs, run by Airflow itself (apache-airflow pinned in requirements.txt): DagBag import,
DAG settings, and `dag.test()` end to end on SQLite with the replay source.

One Airflow home per session (metadata DB migrated once, in a temp dir); each end-to-end test has its own
Vigie store and config, handed to the tasks through $VIGIE_CONFIG exactly as a deployment would.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import yaml

from vigie.pipeline import airflow as af
from vigie.pipeline.ingest_units import platforms, pool_name
from vigie.sim.demo_files import DEMO, demo_config, demo_crisis_time
from vigie.store.sqlite import SqliteStore

ROOT = Path(__file__).resolve().parent.parent
DAGS = ROOT / "dags"
DAG_IDS = {"vigie_ingest", "vigie_detect", "vigie_maintenance", "vigie_replay"}
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=timezone.utc)


@pytest.fixture(scope="session")
def airflow_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A throw-away AIRFLOW_HOME with a migrated SQLite metadata DB. Set before Airflow is imported."""
    home = tmp_path_factory.mktemp("airflow_home")
    env = {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
    }
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    if "airflow" in sys.modules:  # pragma: no cover - would mean Airflow read another home already
        pytest.fail("airflow was imported before the airflow_home fixture set AIRFLOW_HOME")
    migrate = subprocess.run(
        [sys.executable, "-m", "airflow", "db", "migrate"], env=os.environ.copy(), capture_output=True, text=True, timeout=300
    )
    assert migrate.returncode == 0, migrate.stderr[-3000:]
    yield home
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


@pytest.fixture(scope="session")
def dagbag(airflow_home: Path) -> Any:
    from airflow.dag_processing.dagbag import DagBag

    started = time.perf_counter()
    bag = DagBag(dag_folder=str(DAGS))
    bag.load_seconds = time.perf_counter() - started  # type: ignore[attr-defined]
    return bag


# -- DagBag ---------------------------------------------------------------------------------------

def test_every_dag_file_imports_without_error_within_budget(dagbag: Any) -> None:
    assert dagbag.import_errors == {}
    assert set(dagbag.dag_ids) == DAG_IDS
    files = {Path(s.file).name.lstrip("/") for s in dagbag.dagbag_stats}
    assert files == {p.name for p in DAGS.glob("*.py")}
    # Parsing happens every 30 s on the scheduler: DAG files must not do work at import.
    for stat in dagbag.dagbag_stats:
        assert stat.duration.total_seconds() < 2.0, stat
    assert dagbag.load_seconds < 20


def test_dag_settings(dagbag: Any) -> None:
    for dag_id in DAG_IDS:
        dag = dagbag.get_dag(dag_id)
        assert "vigie" in dag.tags and dag.owner == "vigie", dag_id
        assert dag.catchup is False, dag_id
        assert dag.max_active_runs == 1, dag_id
        assert dag.doc_md, dag_id
        for t in dag.tasks:
            assert t.execution_timeout is not None and t.execution_timeout <= timedelta(hours=2), (dag_id, t.task_id)
            if t.task_id in ("announce", "all_units_ok") or t.task_id.startswith("units_"):
                assert t.retries == 0  # bookkeeping tasks: nothing a retry would fix
            else:
                assert t.retries >= 1 and t.retry_exponential_backoff > 1, (dag_id, t.task_id)


def test_ingest_dag_maps_one_task_per_platform_in_its_pool(dagbag: Any) -> None:
    dag = dagbag.get_dag("vigie_ingest")
    for platform in platforms():
        task = dag.get_task(f"ingest_{platform}")
        assert task.pool == pool_name(platform)
        assert type(task).__name__ == "MappedOperator" or getattr(task, "is_mapped", False)
    announce = dag.get_task("announce")
    assert [a.uri for a in announce.outlets] == [af.POSTS_ASSET_URI]
    assert {t.task_id for t in announce.upstream_list} == {f"ingest_{p}" for p in platforms()}
    assert "*/2 * * * *" in repr(dag.timetable)


def test_detect_dag_runs_on_schedule_and_on_new_posts(dagbag: Any) -> None:
    dag = dagbag.get_dag("vigie_detect")
    assert type(dag.timetable).__name__ == "AssetOrTimeSchedule"
    assert "*/5 * * * *" in repr(dag.timetable.timetable)
    assert [a.uri for a in dag.timetable.asset_condition.objects] == [af.POSTS_ASSET_URI]

def test_replay_dag_is_manual_only(dagbag: Any) -> None:
    dag = dagbag.get_dag("vigie_replay")
    assert type(dag.timetable).__name__ == "NullTimetable"
    assert set(dag.params.keys()) >= {"path", "topic", "start", "end", "sqlite_path", "into_configured_store"}


# -- end to end with dag.test() -------------------------------------------------------------------

def _post(i: int, at: datetime, text: str, followers: int = 150) -> dict[str, Any]:
    return {
        "id": f"p{i}",
        "text": text,
        "created_at": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "lang": "fr" if "Acme" in text and "scandale" in text else None,
        "author": {"id": f"u{i}", "handle": f"user{i}", "followers": followers},
        "engagement": {"likes": 3, "reposts": 1, "replies": 0},
    }


CALM = [
    "Acme delivered my order on time, thanks.",
    "Livraison Acme reçue ce matin, rien à signaler.",
    "Using the Acme app to track my parcel.",
    "Globex opens a new store downtown.",
]
CRISIS = [
    "Acme scandale : produit dangereux, des enfants intoxiqués. Boycott total ! Remboursez-nous, c'est une arnaque.",
    "Acme is a scam, dangerous product recalled too late, lawsuit coming. Boycott Acme now!",
    "Honte à Acme, rappel produit toxique, plainte déposée. Arnaque et mensonges, boycott !",
]


def write_scenario(folder: Path, now: datetime = NOW) -> dict[str, Any]:
    """A day of calm traffic, then a burst of angry crisis posts in the last 30 minutes before `now`,
    plus one broken line (quarantined) and posts after `now` (not released yet)."""
    rows, i = [], 0
    t = now - timedelta(hours=26)
    while t < now - timedelta(minutes=30):
        rows.append(_post(i, t, CALM[i % len(CALM)]))
        i, t = i + 1, t + timedelta(minutes=15)
    t = now - timedelta(minutes=30)
    while t < now:
        rows.append(_post(i, t, CRISIS[i % len(CRISIS)], followers=20_000))
        i, t = i + 1, t + timedelta(seconds=30)
    released = len(rows)
    future = [_post(i + k, now + timedelta(minutes=1 + k), CRISIS[0]) for k in range(3)]
    main = folder / "main.jsonl"
    lines = [json.dumps(r, ensure_ascii=False) for r in rows]
    lines.insert(10, '{"id": "broken", "text": ')  # invalid JSON: quarantined with its line number
    main.write_text("\n".join(lines + [json.dumps(r) for r in future]) + "\n", encoding="utf-8")
    second = folder / "second.jsonl"
    second_rows = [_post(10_000 + k, now - timedelta(hours=2, minutes=k), "Acme newsletter: spring catalogue") for k in range(4)]
    second.write_text("\n".join(json.dumps({**r, "source": "forum"}) for r in second_rows) + "\n", encoding="utf-8")
    return {"main": main, "second": second, "released": released + len(second_rows), "main_lines": len(lines)}


def write_config(folder: Path, scenario: dict[str, Any], store: dict[str, Any] | None = None) -> Path:
    config = {
        "topics": [
            {"id": "acme", "name": "Acme", "query": "acme"},
            {"id": "globex", "name": "Globex", "query": "globex", "sources": ["main"]},
        ],
        "sources": {
            "main": {"type": "replay", "path": str(scenario["main"])},
            "second": {"type": "replay", "path": str(scenario["second"])},
        },
        "store": store or {"type": "sqlite", "path": str(folder / "vigie.db")},
        "detection": {"bucket_minutes": 5, "window_buckets": 6, "baseline_hours": 24},
        "channels": [{"type": "console", "min_level": "watch"}],
        "report": {"path": str(folder / "out" / "report.html")},
    }
    path = folder / "vigie.yml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return path


def run(dag: Any, at: datetime | None, **conf: Any) -> Any:
    """`dag.test()` with every param given: in one process Airflow keeps the previous run's conf in the
    task objects' params (each real task runs in a fresh process, so deployments never see this)."""
    return dag.test(logical_date=at, run_conf={**{k: dag.params[k] for k in dag.params}, **conf})


def states(run: Any) -> dict[tuple[str, int], str]:
    return {(ti.task_id, ti.map_index): str(getattr(ti.state, "value", ti.state)) for ti in run.get_task_instances()}


def asset_events() -> list[dict[str, Any]]:
    from airflow.models.asset import AssetEvent
    from airflow.utils.session import create_session

    with create_session() as session:
        return [dict(e.extra or {}) for e in session.query(AssetEvent).order_by(AssetEvent.id)
                if e.source_dag_id == "vigie_ingest"]


@pytest.fixture
def scenario(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, dagbag: Any) -> dict[str, Any]:
    data = write_scenario(tmp_path)
    data["config"] = write_config(tmp_path, data)
    data["db"] = tmp_path / "vigie.db"
    monkeypatch.setenv("VIGIE_CONFIG", str(data["config"]))
    return data


def test_mapping_follows_the_config_and_params(dagbag: Any, scenario: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    # A third topic is config only: one more unit per source it listens to (here both).
    config = yaml.safe_load(scenario["config"].read_text(encoding="utf-8"))
    config["topics"].append({"id": "initech", "name": "Initech", "query": "initech"})
    scenario["config"].write_text(yaml.safe_dump(config), encoding="utf-8")
    # Through the Airflow Variable this time (AIRFLOW_VAR_* is how Airflow reads Variables from the env).
    monkeypatch.delenv("VIGIE_CONFIG")
    monkeypatch.setenv("AIRFLOW_VAR_VIGIE_CONFIG", str(scenario["config"]))
    ingest = dagbag.get_dag("vigie_ingest")
    dr = run(ingest, NOW, topics=["initech", "globex"])
    labels = sorted(ti.rendered_map_index for ti in dr.get_task_instances() if ti.task_id == "ingest_replay")
    assert labels == ["main/globex", "main/initech", "second/initech"]
    assert states(dr)[("announce", -1)] == "success"


def test_replay_dag_backfills_a_file_into_a_sandbox(dagbag: Any, scenario: dict[str, Any]) -> None:
    replay = dagbag.get_dag("vigie_replay")
    conf = {"path": str(scenario["main"]), "topic": "acme", "end": NOW.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "start": (NOW - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ")}
    dr = run(replay, None, **conf)
    assert states(dr)[("replay", -1)] == "success"
    sandbox = scenario["config"].parent / "out" / "replay-main.db"
    assert not scenario["db"].exists()  # the configured store was not touched
    store = SqliteStore(sandbox)
    try:
        stored = store.count_posts()
        assert stored > 0
        history = store.alert_history("acme")
        assert history and max(a.peak_risk or a.risk for a in history) >= 35
        run(replay, None, **conf)  # idempotent: same posts, same alerts
        assert store.count_posts() == stored
        assert [a.dedup_key for a in store.alert_history("acme")] == [a.dedup_key for a in history]
    finally:
        store.close()


# -- the demo scenario and the Elasticsearch store ----------------------------------------------------


def replay_expectations(path: Path, at: datetime) -> dict[str, int]:
    """What the replay listener must have released by `at` (file sorted by time): distinct post ids,
    lines quarantined, and the 1-based line the cursor points at."""
    from listeners.replay import RecordError, record_to_post

    ids, bad, line = set(), 0, 0
    with path.open("rb") as fh:
        for line, raw in enumerate(fh, start=1):
            if not raw.strip() or b'"kind":"outage"' in raw:  # the demo's collector outage: not a post
                continue
            try:
                post = record_to_post(json.loads(raw))
            except (ValueError, RecordError):  # JSONDecodeError and UnicodeDecodeError are ValueErrors
                bad += 1
                continue
            if post.created_at >= at:
                return {"posts": len(ids), "quarantined": bad, "cursor_line": line}
            ids.add(post.id)
    return {"posts": len(ids), "quarantined": bad, "cursor_line": line + 1}


def test_demo_scenario_end_to_end_on_sqlite(dagbag: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The bundled demo through the ingestion, detection and maintenance DAGs, as scheduled runs would do
    it in the middle of the scenario's bad buzz; then the same runs again, which must add nothing."""
    monkeypatch.setenv("VIGIE_CONFIG", str(demo_config(tmp_path)))
    topic, at = demo_crisis_time()
    expected = replay_expectations(DEMO / "posts.jsonl", at)
    ingest, detect = dagbag.get_dag("vigie_ingest"), dagbag.get_dag("vigie_detect")
    events_before = len(asset_events())

    dr = run(ingest, at)
    st = states(dr)
    assert "success" in str(dr.state), st
    # One mapped task instance per configured source×topic (demo: two replay sources, X apart so that its
    # collector can fail alone, and two topics).
    labels = sorted(ti.rendered_map_index for ti in dr.get_task_instances() if ti.task_id == "ingest_replay")
    assert labels == ["replay/brivolle", "replay/cuivrelle", "x/brivolle", "x/cuivrelle"]
    assert all(st[(f"ingest_{p}", -1)] == "skipped" for p in platforms() if p != "replay")
    assert st[("announce", -1)] == "success" and st[("all_units_ok", -1)] == "success"

    store = SqliteStore(tmp_path / "demo.db")
    try:
        assert store.count_posts() == expected["posts"] > 1000
        assert store.get_cursor("replay", "*").value["line"] == expected["cursor_line"]
        assert len(store.quarantined("replay")) == expected["quarantined"] > 0
        events = asset_events()
        assert len(events) == events_before + 1
        assert events[-1] == {"inserted": expected["posts"], "now": at.strftime("%Y-%m-%dT%H:%M:%SZ")}

        assert states(run(detect, at))[("detect", -1)] == "success"
        alerts = store.open_alerts(topic)
        assert len(alerts) == 1 and alerts[0].level.rank >= 2, f"no warning on {topic} at {at}: {alerts}"
        assert alerts[0].evidence, "an alert carries the posts to read first"
        keys = [(a.dedup_key, a.level, a.updated_at) for a in store.alert_history()]

        dr = run(dagbag.get_dag("vigie_maintenance"), at + timedelta(days=1))
        assert all(v == "success" for v in states(dr).values()), states(dr)
        report = tmp_path / "out" / f"report-{at:%Y-%m-%d}.html"
        assert report.exists() and topic in report.read_text(encoding="utf-8").lower()

        # The same runs again: nothing new stored, no Asset event, no new or changed alert.
        st = states(run(ingest, at))
        assert st[("announce", -1)] == "skipped" and st[("all_units_ok", -1)] == "success"
        run(detect, at)
        assert store.count_posts() == expected["posts"]
        assert len(asset_events()) == events_before + 1
        assert [(a.dedup_key, a.level, a.updated_at) for a in store.alert_history()] == keys
    finally:
        store.close()


def test_maintenance_then_ingest_and_detect_on_elasticsearch(
    dagbag: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, es_proxy: Any, es_prefix: str
) -> None:
    """The same flow on the Elasticsearch store (osmem behind the test proxy that rewrites the
    compatible-with media types, see tests/es_fixtures.py): the maintenance DAG installs the templates
    and imports the dashboards into a server answering like Kibana (tests/test_kibana.py)."""
    from test_kibana import FakeKibana, _success_answer

    from vigie.app.kibana_objects import ndjson

    kibana = FakeKibana(200, _success_answer())
    scenario = write_scenario(tmp_path)
    config = write_config(tmp_path, scenario, store={"type": "elasticsearch", "url": es_proxy.url, "prefix": es_prefix})
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    data["report"]["kibana_url"] = kibana.url
    config.write_text(yaml.safe_dump(data), encoding="utf-8")
    monkeypatch.setenv("VIGIE_CONFIG", str(config))
    monkeypatch.setenv("KIBANA_API_KEY", "kb-test-key")
    try:
        dr = run(dagbag.get_dag("vigie_maintenance"), NOW)
    finally:
        kibana.close()
    st = states(dr)
    assert st[("es_setup", -1)] == "success" and st[("kibana_import", -1)] == "success", st
    [request] = kibana.seen
    assert request["headers"]["authorization"] == "ApiKey kb-test-key"
    assert request["content"] == ndjson(es_prefix)
    ingest, detect = dagbag.get_dag("vigie_ingest"), dagbag.get_dag("vigie_detect")
    assert states(run(ingest, NOW))[("announce", -1)] == "success"
    run(detect, NOW)

    from vigie.core.config import load_config
    from vigie.store import open_store

    store = open_store(load_config(config).store)
    try:
        refresh = getattr(store, "refresh", None)
        if refresh:
            refresh()
        assert store.count_posts() == scenario["released"]
        assert store.get_cursor("main", "*").value["line"] == scenario["main_lines"] + 1
        alerts = store.open_alerts("acme")
        assert len(alerts) == 1
        assert states(run(ingest, NOW))[("announce", -1)] == "skipped"
        run(detect, NOW)
        if refresh:
            refresh()
        assert store.count_posts() == scenario["released"]
        assert [a.dedup_key for a in store.open_alerts("acme")] == [alerts[0].dedup_key]
    finally:
        store.close()


def test_maintenance_health_task_fails_visibly_when_a_source_is_blind(
    dagbag: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A source whose credentials were refused is blind at once: the maintenance DAG's collection_health
    task goes red (no retry), the other tasks run; once the source succeeds again, the task is green."""
    from vigie.store import health as collection

    monkeypatch.setenv("VIGIE_CONFIG", str(demo_config(tmp_path)))
    at = datetime(2026, 3, 9, 6, tzinfo=timezone.utc)
    store = SqliteStore(tmp_path / "demo.db")
    try:
        h = collection.SourceHealth(source="replay")
        collection.record_query(h, "*", at - timedelta(minutes=5), pages=0, posts=0,
                                error=("auth", "HTTP 401: token revoked"), infos=[])
        collection.finish_run(h, at - timedelta(minutes=5), failed=True)
        collection.save(store, h, at)
        st = states(run(dagbag.get_dag("vigie_maintenance"), at))
        assert st[("collection_health", -1)] == "failed", st
        assert st[("quarantine_review", -1)] == "success"
        collection.record_query(h, "*", at, pages=1, posts=3, error=None, infos=[])
        collection.finish_run(h, at, failed=False)
        collection.save(store, h, at)
        st = states(run(dagbag.get_dag("vigie_maintenance"), at + timedelta(days=1)))
        assert st[("collection_health", -1)] == "success", st
    finally:
        store.close()
