"""Copy clusters when parallel tasks race (issue 18): two processes that analyse the first copies of a text at
the same moment, each blind to the other's entries, start two clusters; the first to read the other's entries
(`vigie.pipeline.near_dups.settle`) merges them, the earlier-ranked cluster keeping its id, and stores a merge
record that the other process, and every later load, applies. The end state is what one process would have
assigned: on SQLite with two real processes racing through the pipeline, and on Elasticsearch (osmem)."""

from __future__ import annotations

import multiprocessing
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


@pytest.fixture(scope="module")
def raid(tmp_path_factory):
    from vigie.sim.scenario import OutageSpec, config_yaml, generate, write

    folder = tmp_path_factory.mktemp("raid")
    # The outage (hours after the window) only makes the config split X into its own source, as the demo does.
    scenario = generate(5, days=1, shapes=("bot_raid",), outages=(OutageSpec("x", 600, 10),))
    write(scenario, folder, malformed=0)
    (folder / "vigie.yml").write_text(config_yaml(scenario, db_path=str(folder / "unused.db")), encoding="utf-8")
    onset = utc(scenario.truth["events"][0]["onset"])
    return folder, onset - timedelta(minutes=10), onset + timedelta(minutes=30)


def test_two_processes_racing_on_one_sqlite_file_assign_what_one_process_assigns(raid, tmp_path):
    from vigie.pipeline.loop import bucket_times
    from vigie.pipeline.steps import Runtime, ingest_all
    from vigie.store import open_file_store

    folder, start, end = raid
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
        merged = [e for e in store.near_dups(start - timedelta(days=1))[0] if e.is_merge]
    finally:
        store.close()
    clustered = [c for c in one.values() if c]
    platforms = {p.split(":")[0] for p, c in one.items() if c}
    assert len(clustered) >= 20 and "x" in platforms and platforms - {"x"}  # copies in both tasks' sources
    assert parallel == one
    print("MERGES", len(merged), sum(1 for c in parallel.values() if c))
    assert merged  # the race happened (two clusters were started for one text) and was merged
