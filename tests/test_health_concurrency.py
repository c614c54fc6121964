"""Collection health survives concurrent writers: Airflow runs one ingest task per platform in parallel and
`vigie run` may overlap the DAG, so two processes fold runs into the same source's record at the same time
(vigie/store/health.py `update`, `CursorStore.update_cursor`). Each writer has its own store object (its
own SQLite connection, its own Elasticsearch client), as two processes would; no update may be lost.

SQLite: a file in tmp, serialised by BEGIN IMMEDIATE. Elasticsearch: osmem-server, which implements
`_seq_no`/`_primary_term`, `if_seq_no`/`if_primary_term` and answers 409 to a stale write, as Elasticsearch
does: the adapter re-reads and re-applies the change."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timezone

import pytest

from vigie.core.models import iso
from vigie.store import health as collection
from vigie.store.base import Store

NOW = datetime(2026, 3, 9, 12, 10, tzinfo=timezone.utc)
WRITERS = 2
RUNS = 60  # per writer: with a plain read-then-write, both stores lose updates here on every run


def sqlite_stores(request, tmp_path) -> Callable[[], Store]:
    from vigie.store.sqlite import SqliteStore

    return lambda: SqliteStore(tmp_path / "vigie.db")


def es_stores(request, tmp_path) -> Callable[[], Store]:
    from vigie.sim.osmem import osmem_client
    from vigie.store.elasticsearch import ElasticsearchStore

    url, prefix = request.getfixturevalue("es_osmem").url, request.getfixturevalue("es_prefix")
    return lambda: ElasticsearchStore(osmem_client(url), prefix=prefix)


@pytest.fixture(params=[sqlite_stores, es_stores], ids=["sqlite", "elasticsearch"])
def open_store(request, tmp_path) -> Callable[[], Store]:
    opened: list[Store] = []

    def opener() -> Store:
        opened.append(request.param(request, tmp_path)())
        # First use installs the indices (Elasticsearch auto-setup): done here, one store after the other,
        # so the writers race on the record only (first uses at once: tests/test_store_es_first_use.py).
        opened[-1].get_cursor("warm-up", "-")
        return opened[-1]

    yield opener
    for s in opened:
        s.close()


def hammer(stores: list[Store], work: Callable[[Store, int, int], None]) -> None:
    """Run `work(store, writer, i)` RUNS times in each writer's thread, all starting together."""
    start, failures = threading.Barrier(len(stores)), []

    def writer(n: int) -> None:
        try:
            start.wait()
            for i in range(RUNS):
                work(stores[n], n, i)
        except BaseException as exc:  # reported below: a thread's exception is not the test's
            failures.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(len(stores))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not failures, failures
    assert not any(t.is_alive() for t in threads)


def health_run(store: Store, n: int, i: int) -> int:
    """Writer `n`'s run `i` of source "mastodon", folded into its stored health (writer 1 fails every third
    run: a network error on its query, 2 + n posts a run). Returns the run count the update started from."""
    failed = n == 1 and i % 3 == 0

    def fold(h: collection.SourceHealth) -> None:
        collection.record_query(h, f"q{n}", NOW, pages=1, posts=n + 2,
                                error=("network", "timed out") if failed else None, infos=[])
        collection.finish_run(h, NOW, failed=failed)

    was, _ = collection.update(store, "mastodon", NOW, fold)
    return (was.hours.get(collection.hour_key(NOW)) or [0])[0]


def test_concurrent_runs_of_one_source_lose_no_count(open_store):
    stores = [open_store() for _ in range(WRITERS)]
    befores = []  # the run count each committed update started from

    def one_run(store: Store, n: int, i: int) -> None:
        befores.append(health_run(store, n, i))

    hammer(stores, one_run)

    h = collection.load(stores[0], "mastodon")
    runs = WRITERS * RUNS
    failed_runs = len(range(0, RUNS, 3))
    # [runs, pages, posts] of the hour: writer 0 brings 2 posts a run, writer 1 brings 3.
    assert h.hours == {collection.hour_key(NOW): [runs, runs, RUNS * 2 + RUNS * 3]}
    assert h.errors == {"network": failed_runs}
    assert set(h.queries) == {"q0", "q1"} and h.queries["q1"].last_error["kind"] == "network"
    assert h.last_attempt == iso(NOW)
    # Each update started from the one before it: no two writers folded into the same state, so a
    # transition (a failure streak ending: backfill, re-assessment) is seen by exactly one of them.
    assert sorted(befores) == list(range(runs))


def test_concurrent_gaps_and_markers_keep_every_writer(open_store):
    """Permanent gaps of one source recorded by two tasks, and a topic's re-assessment marker widened by
    two of its sources recovering at once: both folds land."""
    stores = [open_store() for _ in range(WRITERS)]

    def record(store: Store, n: int, i: int) -> None:
        start = datetime(2026, 3, 1, tzinfo=timezone.utc).timestamp() + 3600 * (n * RUNS + i)
        gap = collection.Gap("reddit", datetime.fromtimestamp(start, timezone.utc),
                             datetime.fromtimestamp(start + 1800, timezone.utc), f"writer {n}")
        collection.add_gap(store, gap, NOW)

    hammer(stores, record)

    kept = collection.gaps(stores[0], "reddit")
    assert len(kept) == min(WRITERS * RUNS, collection.MAX_GAPS)
    assert {g.reason for g in kept} == {f"writer {n}" for n in range(WRITERS)}
    assert len({g.start for g in kept}) == len(kept)
