"""Copy clusters live in the store (issue 18): the same posts get the same clusters whether one process
ingests a replay, or one process per bucket, or two processes taking turns on one SQLite file; reposts never
form or enlarge a cluster; a future-dated post cannot stop eviction; the stored state stays bounded."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from nlp.dedup import NearDuplicateIndex
from vigie.core.models import Author, Post, utc
from vigie.core.neardup import NearDupEntry

T0 = datetime(2026, 3, 2, 8, tzinfo=timezone.utc)
RAID = "Brivolle vend des bouilloires dangereuses qui prennent feu, boycott immédiat, partagez partout"
OTHER = "Une toute autre histoire de livraison ratée chez un voisin de palier hier soir"


def post(n: int, text: str, author: str, minutes: float = 0, relation: str = "original") -> Post:
    return Post(id=f"x:{n}", source="x", text=text, created_at=T0 + timedelta(minutes=minutes),
                author=Author(id=author), relation=relation, ref_id="x:1" if relation != "original" else None)


# -- the index's side ----------------------------------------------------------------------------------------

def test_a_repost_wave_forms_no_cluster_and_quotes_keep_their_own_text():
    index = NearDuplicateIndex()
    index.record()
    wave = [post(1, RAID, "a")] + [post(i, RAID, f"u{i}", i, relation="repost") for i in range(2, 40)]
    assert index.assign(wave) == [None] * len(wave)
    assert [e.post_id for e in index.take_entries()] == ["x:1"]  # reposts never enter the index
    quotes = [post(50, RAID + " vraiment honteux", "q1", 50, relation="quote"),
              post(51, RAID + " vraiment honteux", "q2", 51, relation="quote")]
    assert index.assign(quotes) == ["x:1", "x:1"]  # quotes are posts with their own words: copies of x:1
    assert index.labelled_late() == ["x:1"]


def test_a_future_dated_post_neither_stops_eviction_nor_blinds_the_index():
    clock_rule = NearDuplicateIndex()
    unguarded = NearDuplicateIndex()
    texts = [f"{RAID} numero {i} " + " ".join(f"mot{i}x{k}" for k in range(8)) for i in range(6 * 24)]
    future = post(0, OTHER, "z", minutes=60 * 24 * 365)  # a platform bug: dated next year
    clock_rule.latest = T0 + timedelta(days=7)  # what the clock rules accept (the pipeline sets it)
    for index in (clock_rule, unguarded):
        index.assign([future])
    for hour, text in enumerate(texts):  # six days, one distinct post an hour, and a copy of it by someone else
        batch = [post(1000 + 2 * hour, text, "a", 60 * hour), post(1001 + 2 * hour, text, "b", 60 * hour + 1)]
        out = clock_rule.assign(batch)
        assert out == [batch[0].id] * 2
        unguarded.assign(batch)
        assert clock_rule.members <= 2 * 25  # one window of posts (24 h), never more
    assert unguarded.members <= 2  # heap eviction: the future post cannot hold old posts in...
    assert clock_rule.newest == T0 + timedelta(minutes=60 * (6 * 24 - 1) + 1)  # ...and never moved this window


def test_the_index_rebuilt_from_its_entries_assigns_like_the_one_that_made_them():
    """What one process per bucket does: each batch starts from the stored entries of the window."""
    batches = [[post(1, RAID, "a", 0), post(2, OTHER, "z", 1)], [post(3, RAID + " !", "a", 30)],
               [post(4, RAID, "b", 60), post(5, OTHER + " encore", "y", 61)], [post(6, OTHER, "w", 26 * 60)],
               [post(7, RAID, "c", 26 * 60 + 5)]]
    one = NearDuplicateIndex()
    one.record()
    stored: list[NearDupEntry] = []
    for batch in batches:
        fresh = NearDuplicateIndex()
        fresh.load([e for e in stored if fresh.horizon(max(x.created_at for x in stored)) <= e.created_at]
                   if stored else [])
        fresh.record()
        assert fresh.assign(batch) == one.assign(batch)
        assert sorted(fresh.labelled_late()) == sorted(one.labelled_late())
        stored += fresh.take_entries()
        one.take_entries()
    assert one.assign([post(8, RAID, "d", 26 * 60 + 6)]) == ["x:7"]  # x:1..x:4 left the window


# -- through the pipeline: one process, one process per bucket, two processes taking turns ------------------

@pytest.fixture(scope="module")
def raid(tmp_path_factory):
    """A bot raid (copy-pasted posts by many accounts) with an X collector outage in the middle (X's posts of
    the gap arrive late, out of time order, as they do live), and one Runtime (models load once) whose store
    and near-duplicate cache each replay replaces."""
    from vigie.core.config import load_config
    from vigie.pipeline.steps import Runtime
    from vigie.sim.scenario import OutageSpec, config_yaml, generate, write
    from vigie.store.sqlite import SqliteStore

    folder = tmp_path_factory.mktemp("raid")
    scenario = generate(5, days=1, shapes=("bot_raid",), outages=(OutageSpec("x", 20, 30),))
    write(scenario, folder, malformed=0)
    (folder / "vigie.yml").write_text(config_yaml(scenario, db_path=str(folder / "unused.db")), encoding="utf-8")
    config = load_config(folder / "vigie.yml")
    config.nlp.workers = 1
    rt = Runtime.from_config(config, store=SqliteStore(folder / "unused.db"), notifiers=[])
    onset = utc(scenario.truth["events"][0]["onset"])
    yield rt, onset - timedelta(minutes=40), onset + timedelta(minutes=80)
    rt.close()
    rt.analyzer.close()


def _replay(rt, store_factory, start, end, caches: int | None) -> dict[str, str | None]:
    """Ingest bucket by bucket as `vigie run --now T` does. `caches`: None = one process; 0 = a new process
    per bucket (new store connection, empty near-duplicate cache); n = n processes taking turns on one store
    file (each its own connection and cache)."""
    from vigie.pipeline.loop import bucket_times
    from vigie.pipeline.steps import ingest_all

    step = timedelta(minutes=rt.config.detection.bucket_minutes)
    n = caches or 1
    stores, indexes = [store_factory() for _ in range(n)], [NearDuplicateIndex() for _ in range(n)]
    rt.store, rt.analyzer.dedup = stores[0], indexes[0]
    try:
        for k, t in enumerate(bucket_times(start, end, step)):
            if caches == 0:
                rt.store.close()
                rt.store, rt.analyzer.dedup = store_factory(), NearDuplicateIndex()
                stores[0] = rt.store
            elif caches:
                rt.store, rt.analyzer.dedup = stores[k % n], indexes[k % n]
            for report in ingest_all(rt, t):
                assert all("outage" in e for e in report.errors), report.errors  # only the simulated one
        return {p.id: p.analysis.near_dup_cluster for p in rt.store.iter_posts(None)}
    finally:
        for s in stores:
            s.close()


def test_one_process_and_one_process_per_bucket_give_the_same_clusters(raid, tmp_path):
    from vigie.store.sqlite import SqliteStore

    rt, start, end = raid
    one = _replay(rt, lambda: SqliteStore(tmp_path / "one.db"), start, end, None)
    per_bucket = _replay(rt, lambda: SqliteStore(tmp_path / "per-bucket.db"), start, end, 0)
    turns = _replay(rt, lambda: SqliteStore(tmp_path / "turns.db"), start, end, 2)
    clustered = [c for c in one.values() if c]
    assert len(clustered) >= 50 and max(clustered.count(c) for c in set(clustered)) >= 20  # the raid is found
    assert per_bucket == one
    assert turns == one  # two processes taking turns on one SQLite file see each other's entries


def test_per_bucket_clusters_on_elasticsearch(raid, tmp_path, es_osmem, es_prefix):
    from es_fixtures import osmem_client

    from vigie.store.elasticsearch import ElasticsearchStore
    from vigie.store.sqlite import SqliteStore

    rt, start, end = raid
    end = start + timedelta(minutes=90)  # the raid's rise and peak: enough to prove the state round-trips
    es = _replay(rt, lambda: ElasticsearchStore(osmem_client(es_osmem.url), prefix=es_prefix), start, end, 0)
    sqlite = _replay(rt, lambda: SqliteStore(tmp_path / "one.db"), start, end, None)
    assert es == sqlite and sum(1 for c in es.values() if c) >= 20


@pytest.mark.parametrize("backend", ["sqlite", "elasticsearch"])
def test_the_stored_state_stays_bounded_and_a_future_post_cannot_hold_it(backend, request, tmp_path):
    """Six simulated days, one page every two hours, through the pipeline's load/save: the store keeps at most two
    windows of entries, the cache one, and a post dated next year (which the clock rules would quarantine
    before analysis; here it reaches the index directly) neither stops eviction nor ends the window."""
    from vigie.pipeline import near_dups

    if backend == "sqlite":
        from vigie.store.sqlite import SqliteStore

        store = SqliteStore(tmp_path / "x.db")
    else:
        from es_fixtures import osmem_client

        from vigie.store.elasticsearch import ElasticsearchStore

        store = ElasticsearchStore(osmem_client(request.getfixturevalue("es_osmem").url),
                                   prefix=request.getfixturevalue("es_prefix"))
    try:
        index = NearDuplicateIndex()
        for hour in range(0, 6 * 24, 2):
            now = T0 + timedelta(hours=hour + 1)
            if hour % 36 == 0:
                index = NearDuplicateIndex()  # a new process now and then: loaded from the store
            near_dups.sync(store, index, latest=now + timedelta(minutes=10))
            text = f"{RAID} numero {hour} " + " ".join(f"mot{hour}x{k}" for k in range(8))
            batch = [post(10 * hour, text, "a", 60 * hour), post(10 * hour + 1, text, "b", 60 * hour + 1)]
            if hour == 30:  # after the first new process
                batch.append(post(9_999_999, OTHER, "z", 60 * 24 * 365))  # dated next year
            assert index.assign(batch)[:2] == [batch[0].id] * 2
            near_dups.save(store, index)
            assert index.members <= 2 * 13  # one window (24 h) of posts
        kept, _ = store.near_dups(T0 - timedelta(days=1))
        assert "x:9999999" not in {e.post_id for e in kept}  # never indexed, never stored
        assert 2 * 24 <= len(kept) <= 2 * (24 + 2)  # two windows of entries (pruned hourly), not six days
        assert store.near_dup_newest() == T0 + timedelta(minutes=60 * (6 * 24 - 2) + 1)
    finally:
        store.close()
