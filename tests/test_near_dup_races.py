"""Copy clusters when parallel tasks race (issue 18): two processes that analyse the first copies of a text at
the same moment, each blind to the other's entries, start two clusters; the first to read the other's entries
(`vigie.pipeline.near_dups.settle`) merges them, the earlier-ranked cluster keeping its id, and stores a merge
record that the other process, and every later load, applies. The end state is what one process would have
assigned: on SQLite with two real processes racing through the pipeline, and on Elasticsearch (osmem)."""

from __future__ import annotations

import multiprocessing
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from nlp.dedup import NearDuplicateIndex
from vigie.core.models import Author, Post, utc
from vigie.pipeline import near_dups

T0 = datetime(2026, 3, 2, 8, tzinfo=timezone.utc)
RAID = "Brivolle vend des bouilloires dangereuses qui prennent feu, boycott immédiat, partagez partout"


def post(source: str, n: int, author: str, minutes: float) -> Post:
    return Post(id=f"{source}:{n}", source=source, text=RAID, created_at=T0 + timedelta(minutes=minutes),
                author=Author(id=author))


def _race(store_a, store_b) -> tuple[NearDuplicateIndex, NearDuplicateIndex, list[str], list[str]]:
    """Task A (source "a") and task B (source "b") analyse a page each at the same moment: both read the
    store, then each assigns its copies without the other's, then both write, then both settle (A first)."""
    a, b = NearDuplicateIndex(), NearDuplicateIndex()
    near_dups.sync(store_a, a)
    near_dups.sync(store_b, b)
    # B's first copy is the earlier post: B's cluster must win, whichever process sees the race.
    out_a = a.assign([post("a", 1, "ua1", 2), post("a", 2, "ua2", 3)])
    out_b = b.assign([post("b", 1, "ub1", 1)])
    assert out_a == ["a:1", "a:1"] and out_b == [None]  # blind to each other: two clusters
    near_dups.save(store_a, a)
    near_dups.save(store_b, b)
    near_dups.settle(store_a, a)  # A reads B's entry while its own page is unsynced: the race is found
    near_dups.settle(store_b, b)  # B reads A's entries and A's merge record
    return a, b, a.labelled_late(), b.labelled_late()


def _check(store, a, b, late_a, late_b) -> None:
    ids = ["a:1", "a:2", "b:1"]
    assert [a.cluster_of(i) for i in ids] == ["b:1"] * 3  # merged, named after the earliest first post
    assert [b.cluster_of(i) for i in ids] == ["b:1"] * 3
    assert sorted(late_a) == ids  # A relabels the stored posts that carry "a:1" (or nothing, for b:1)
    assert sorted(late_b) == ids
    fresh = NearDuplicateIndex()  # a later process (or the next `vigie run`) loads the merged cluster
    near_dups.sync(store, fresh)
    assert [fresh.cluster_of(i) for i in ids] == ["b:1"] * 3
    assert fresh.assign([post("a", 3, "ua3", 10)]) == ["b:1"]  # the next copy joins it
    merges = [e for e in store.near_dups(T0 - timedelta(days=1))[0] if e.is_merge]
    assert [(e.merged, e.cluster_id) for e in merges] == [("a:1", "b:1")]  # one record, written once


def test_a_race_on_sqlite_is_merged_by_the_first_process_that_sees_it(tmp_path):
    from vigie.store.sqlite import SqliteStore

    store_a, store_b = SqliteStore(tmp_path / "v.db"), SqliteStore(tmp_path / "v.db")
    try:
        _check(store_a, *_race(store_a, store_b))
    finally:
        store_a.close()
        store_b.close()


def test_a_race_on_elasticsearch_is_merged_the_same_way(es_osmem, es_prefix):
    from es_fixtures import osmem_client

    from vigie.store.elasticsearch import ElasticsearchStore

    store_a = ElasticsearchStore(osmem_client(es_osmem.url), prefix=es_prefix)
    store_b = ElasticsearchStore(osmem_client(es_osmem.url), prefix=es_prefix)
    try:
        _check(store_a, *_race(store_a, store_b))
    finally:
        store_a.close()
        store_b.close()


def test_a_copy_older_than_its_cluster_names_it_whatever_the_order_of_arrival():
    """One process analysing source a then source b (the same moment) names the cluster as a process
    analysing b then a, or as two racing processes after their merge: after its earliest post."""
    first_a, first_b = NearDuplicateIndex(), NearDuplicateIndex()
    page_a, page_b = [post("a", 1, "ua1", 2), post("a", 2, "ua2", 3)], [post("b", 1, "ub1", 1)]
    assert first_a.assign(page_a) == ["a:1", "a:1"]
    assert first_a.assign(page_b) == ["b:1"]
    assert sorted(first_a.labelled_late()) == ["a:1", "a:2"]  # stored as "a:1": relabelled
    first_b.assign(page_b)
    first_b.assign(page_a)
    assert [first_a.cluster_of(p.id) for p in page_a + page_b] == [first_b.cluster_of(p.id) for p in page_a + page_b]


# -- two real processes racing through the pipeline on one SQLite file ------------------------------------

def _config(folder: Path, db: Path):
    from vigie.core.config import load_config
    from vigie.store import file_store_config

    config = load_config(folder / "vigie.yml")
    config.store = file_store_config(db)
    config.nlp.workers = 1
    config.nlp.sentiment = "lexicon"  # the clusters do not depend on it; the lexicon loads fastest
    return config


def _task(folder: str, db: str, source: str, times: list, barrier, results) -> None:
    """One Airflow-style ingest task (top-level: the spawned process imports this module to find it)."""
    from vigie.pipeline.steps import Runtime, ingest_source

    try:
        rt = Runtime.from_config(_config(Path(folder), Path(db)), notifiers=[])
        try:
            for t in times:
                barrier.wait(timeout=60)  # both tasks start each bucket together: they race
                report = ingest_source(rt, source, t)
                assert all("outage" in e for e in report.errors), report.errors
        finally:
            rt.close()
        results.put((source, "ok"))
    except BaseException as exc:  # the parent asserts on it
        results.put((source, f"error: {exc!r}"))


CAMPAIGNS = ["Brivolle a vendu des bouilloires qui prennent feu, boycott immédiat de la marque, partagez",
             "Brivolle refuse de rembourser les clients brûlés par la Kettla, honte à eux, faites tourner",
             "Brivolle cache un rappel produit sur le blender Tourbillon, ils mettent les enfants en danger",
             "Brivolle supprime les avis négatifs sur son site, ne leur faites plus jamais confiance",
             "Brivolle licencie le service client et sous-traite tout, plus personne ne répond au téléphone"]


@pytest.fixture(scope="module")
def race_replay(tmp_path_factory):
    """Five buckets; in each, the first copies of a new campaign text appear on X and on Mastodon within a
    minute (the two ingest tasks analyse them at the same moment), among a hundred ordinary posts per source
    (pages long enough for the tasks' analyses to overlap)."""
    import json
    import random

    rng = random.Random(18)
    words = ("livraison colis bouilloire blender recette cuisine service client retour avis prix promo soupe "
             "matin soir semaine magasin carton notice garantie couleur bruit moteur lame bol").split()
    folder = tmp_path_factory.mktemp("race")
    lines, n = [], 0
    for k, campaign in enumerate(CAMPAIGNS):
        bucket = T0 + timedelta(minutes=5 * k)
        for platform in ("x", "mastodon"):
            for i in range(100):
                n += 1
                text = "Brivolle " + " ".join(rng.choice(words) for _ in range(9)) + f" {n}"
                lines.append({"id": str(n), "source": platform, "text": text, "lang": "fr",
                              "created_at": (bucket + timedelta(seconds=rng.uniform(0, 290))).isoformat(),
                              "author": {"id": f"u{n}", "followers": 10}})
        for j, (platform, second) in enumerate([("x", 70), ("mastodon", 65), ("x", 140), ("mastodon", 200)]):
            n += 1
            lines.append({"id": str(n), "source": platform, "text": campaign, "lang": "fr",
                          "created_at": (bucket + timedelta(seconds=second)).isoformat(),
                          "author": {"id": f"raid{k}-{j}", "followers": 5}})
    lines.sort(key=lambda d: d["created_at"])
    (folder / "posts.jsonl").write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in lines),
                                        encoding="utf-8")
    (folder / "vigie.yml").write_text(f"""topics:
  - {{id: brivolle, name: Brivolle, query: 'brivolle', languages: [fr, en]}}
sources:
  replay: {{type: replay, path: posts.jsonl, skip_platforms: [x]}}
  x: {{type: replay, path: posts.jsonl, platforms: [x]}}
store: {{type: sqlite, path: {folder / "unused.db"}}}
nlp: {{languages: [fr, en]}}
""", encoding="utf-8")
    return folder, T0 + timedelta(minutes=5), T0 + timedelta(minutes=5 * len(CAMPAIGNS) + 5)


def test_two_processes_racing_on_one_sqlite_file_assign_what_one_process_assigns(race_replay, tmp_path):
    from vigie.pipeline.loop import bucket_times
    from vigie.pipeline.steps import Runtime, ingest_all
    from vigie.store import open_file_store

    folder, start, end = race_replay
    config = _config(folder, tmp_path / "one.db")
    times = list(bucket_times(start, end, timedelta(minutes=config.detection.bucket_minutes)))
    sources = list(config.sources)
    assert len(sources) == 2

    ctx = multiprocessing.get_context("spawn")
    db = tmp_path / "parallel.db"
    open_file_store(db).close()  # the schema exists before the race (what `vigie init` does)
    barrier, results = ctx.Barrier(len(sources)), ctx.Queue()
    tasks = [ctx.Process(target=_task, args=(str(folder), str(db), s, times, barrier, results)) for s in sources]
    for task in tasks:
        task.start()
    rt = Runtime.from_config(config, notifiers=[])  # meanwhile, the reference: one process
    try:
        for t in times:
            ingest_all(rt, t)
        one = {p.id: p.analysis.near_dup_cluster for p in rt.store.iter_posts(None)}
    finally:
        rt.close()
        rt.analyzer.close()
    outcomes = dict(results.get(timeout=120) for _ in tasks)
    for task in tasks:
        task.join(timeout=30)
    assert outcomes == {s: "ok" for s in sources}
    store = open_file_store(db)
    try:
        parallel = {p.id: p.analysis.near_dup_cluster for p in store.iter_posts(None)}
    finally:
        store.close()
    clustered = [c for c in one.values() if c]
    assert sorted(Counter(clustered).values()) == [4] * len(CAMPAIGNS)  # each campaign, one cluster...
    assert all(c.startswith("mastodon:") for c in clustered)  # ...named after its earliest copy
    # Without `settle` (checked by disabling it) the tasks' last race stays split: two clusters of 2.
    assert parallel == one


def test_the_detection_bench_per_bucket_ingestion_clusters_as_one_long_process(tmp_path):
    """bench/detection.py --ingest per-bucket (vigie/sim/per_bucket.py): a fresh analyser per bucket that
    knows clusters only through the store gives the clusters one long process gives, relabelling included."""
    from vigie.sim.evaluation import scenario_config
    from vigie.sim.per_bucket import fill_store_per_bucket
    from vigie.sim.scenario import generate
    from vigie.store import open_file_store

    scenario = generate(7, days=1, shapes=("bot_raid",))
    onset = utc(scenario.truth["events"][0]["onset"])
    scenario.posts = [r for r in scenario.posts
                      if onset - timedelta(minutes=30) <= utc(r["created_at"]) < onset + timedelta(minutes=60)]
    out = {}
    for fresh in (True, False):
        store = open_file_store(tmp_path / f"{fresh}.db")
        try:
            config = scenario_config(scenario, {})
            config.nlp.sentiment = "lexicon"  # the clusters do not depend on it; the lexicon loads fastest
            relabelled = fill_store_per_bucket(scenario, store, config, fresh=fresh)
            out[fresh] = {p.id: p.analysis.near_dup_cluster for p in store.iter_posts(None)}
        finally:
            store.close()
        assert relabelled > 0  # the first copies of the raid, stored before their cluster qualified
    clustered = [c for c in out[True].values() if c]
    assert len(clustered) >= 20 and max(Counter(clustered).values()) >= 10  # the raid is one cluster
    assert out[True] == out[False]
