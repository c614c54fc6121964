"""`vigie run` end to end with `store: elasticsearch` (osmem behind the test proxy), and the same run on
SQLite: both adapters must store the same posts and give detection the same series and alerts."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from click.testing import CliRunner

from vigie.app.cli.main import cli
from vigie.store.elasticsearch import ElasticsearchStore
from vigie.store.sqlite import SqliteStore

END = datetime(2026, 3, 2, 12, 0, tzinfo=timezone.utc)
CALM = ["Acme livre vite, merci", "Commande Acme reçue, rien à dire", "Acme support answered quickly, thanks"]
ANGRY = [
    "Acme c'est une arnaque, remboursez-moi ! Service client nul",
    "Boycott Acme : produit dangereux, mon enfant s'est brûlé",
    "Acme scam, never again, terrible customer service",
]


def _replay(path) -> int:
    lines = []
    t = END - timedelta(hours=30)
    i = 0
    while t < END - timedelta(hours=2):  # a quiet baseline, one post every 20 minutes
        lines.append({"id": f"c{i}", "text": CALM[i % 3], "created_at": t.isoformat(), "source": "x",
                      "author": {"id": f"calm{i % 7}", "followers": 100}})
        t += timedelta(minutes=20)
        i += 1
    t = END - timedelta(hours=2)
    j = 0
    while t < END:  # then a negative surge with many authors
        lines.append({"id": f"a{j}", "text": ANGRY[j % 3], "created_at": t.isoformat(), "source": "x",
                      "author": {"id": f"angry{j}", "followers": 1000 + j}, "engagement": {"likes": j, "reposts": 2}})
        t += timedelta(minutes=1)
        j += 1
    path.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines), encoding="utf-8")
    return len(lines)


def _config(tmp_path, name: str, store_yaml: str) -> str:
    replay = tmp_path / "posts.jsonl"
    if not replay.exists():
        _replay(replay)
    path = tmp_path / f"{name}.yml"
    path.write_text(
        "topics:\n  - id: acme\n    name: Acme\n    query: acme\n"
        f"sources:\n  replay:\n    type: replay\n    path: {replay}\n"
        f"store:\n{store_yaml}"
        "channels:\n  - type: console\n    min_level: watch\n"
        "report:\n  kibana_url: https://kibana.example\n",
        encoding="utf-8",
    )
    return str(path)


def test_vigie_run_on_elasticsearch_matches_sqlite(tmp_path, es_proxy, es_prefix):
    n = _replay(tmp_path / "posts.jsonl")
    es_cfg = _config(tmp_path, "es", f"  type: elasticsearch\n  url: {es_proxy.url}\n  prefix: {es_prefix}\n")
    db = tmp_path / "vigie.db"
    sq_cfg = _config(tmp_path, "sqlite", f"  type: sqlite\n  path: {db}\n")
    now = END.isoformat()

    for cfg in (es_cfg, sq_cfg):
        result = CliRunner().invoke(cli, ["run", "--config", cfg, "--now", now])
        assert result.exit_code == 0, result.output
        assert f"{n} fetched, {n} new" in result.output

    again = CliRunner().invoke(cli, ["run", "--config", es_cfg, "--now", now])  # idempotent re-run
    assert again.exit_code == 0, again.output
    assert "0 new" in again.output

    from es_fixtures import osmem_client

    es = ElasticsearchStore(osmem_client(es_proxy.upstream.geturl()), prefix=es_prefix)
    sq = SqliteStore(db)
    try:
        assert es.count_posts() == sq.count_posts() == n
        assert es.count_posts("acme") == sq.count_posts("acme") > 0
        assert [p.id for p in es.posts("acme")] == [p.id for p in sq.posts("acme")]
        assert es.get_post("x:a5").analysis is not None
        start = END - timedelta(hours=30)
        assert es.series("acme", start, END, timedelta(minutes=5)) == sq.series("acme", start, END,
                                                                              timedelta(minutes=5))
        es_alerts, sq_alerts = es.alert_history("acme"), sq.alert_history("acme")
        assert es_alerts and es_alerts[-1].level.rank >= 2  # the surge raised at least a warning
        assert [(a.dedup_key, a.level, round(a.risk, 6)) for a in es_alerts] == \
               [(a.dedup_key, a.level, round(a.risk, 6)) for a in sq_alerts]
        for alert in es_alerts:
            assert alert.links["kibana"].startswith("https://kibana.example/app/dashboards#/view/vigie-crisis-room")
    finally:
        es.close()
        sq.close()
