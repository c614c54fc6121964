"""One SQLite file, several processes: what Airflow's local executor does (one ingest task per platform, the
detect-and-deliver task, `vigie run` overlapping them), each process with its own connection. The thread
tests (tests/test_health_concurrency.py) share one interpreter; here two spawned interpreters hammer the
file at once through the store's public API, and the counts at the end must be exact:

- `update_cursor` (collection health folds): no update lost;
- the detect-and-deliver lease: mutual exclusion, so a plain read-then-write of a counter under it loses
  nothing, and `commit_bucket(lease=...)` commits only for the holder;
- the outbox: entries both processes owe (same deterministic id) are written once, `enqueue` counts each
  once across processes.
"""

from __future__ import annotations

import multiprocessing
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from detect_fixtures import make_post
from test_health_concurrency import health_run

from vigie.core.models import Cursor, OutboxEntry
from vigie.store import health as collection
from vigie.store.base import Lease
from vigie.store.sqlite import SqliteStore

PROCESSES = 2
NOW = datetime(2026, 3, 9, 12, 10, tzinfo=timezone.utc)


def _entry(entry_id: str) -> OutboxEntry:
    return OutboxEntry(id=entry_id, alert_id="a1", topic_id="acme", channel="ops", event="open", key=entry_id,
                       bucket_at=NOW, enqueued_at=NOW, next_attempt_at=NOW, expires_at=NOW + timedelta(days=1))


# -- the workers (top-level: a spawned process imports this module to find them) -------------------

def health_runs(store: SqliteStore, n: int, runs: int) -> list[int]:
    """The thread test's runs (writer 1 fails every third); returns the run count each update started from.
    Between two runs a pause, as a real run fetches pages between its writes: SQLite's busy handler is not
    fair, and a process committing in a tight loop keeps a waiting one out (seen here: 150 updates in a
    row while the other slept in its busy handler)."""
    befores = []
    for i in range(runs):
        befores.append(health_run(store, n, i))
        time.sleep(0.001)
    return befores


def leased_commits(store: SqliteStore, n: int, runs: int) -> list[int]:
    """Under the lease: read the counter, commit it + 1 with two outbox entries (one this process's, one
    both processes owe). Without mutual exclusion the read-then-write would lose increments. Returns the
    counts it read."""
    owner, seen = f"proc-{n}", []
    for i in range(runs):
        while not store.acquire_lease("detect", owner, ttl_s=30):
            time.sleep(0.0005)
        cursor = store.get_cursor("counter", "n")
        count = cursor.value["n"] if cursor else 0
        seen.append(count)
        store.commit_bucket([], [_entry(f"{owner}-{i}"), _entry(f"shared-{i}")], [],
                            [Cursor(source="counter", query="n", value={"n": count + 1}, updated_at=NOW)],
                            lease=Lease("detect", owner, 30))
        store.release_lease("detect", owner)
        time.sleep(0.001)  # a detection run's pause: the other process gets its turn instead of starving
    return seen


def enqueues(store: SqliteStore, n: int, runs: int) -> int:
    added = 0
    for i in range(runs):
        added += store.enqueue([_entry(f"mine-{n}-{i}"), _entry(f"both-{i}")])
    return added


def upserts(store: SqliteStore, n: int, runs: int) -> int:
    """Ingest tasks storing posts at once: each its own posts and posts both fetched (a cross-posted story)."""
    inserted = 0
    for i in range(runs):
        at = NOW - timedelta(minutes=i)
        result = store.upsert_posts([make_post(i, at, "neg", source=f"s{n}"), make_post(i, at, "neu", source="both")])
        inserted += result.inserted
    return inserted


WORK = {"health": health_runs, "lease": leased_commits, "outbox": enqueues, "posts": upserts}


def interleaved(a: list[int], b: list[int]) -> bool:
    """The two processes' commits alternated (neither ran all of its work before the other started)."""
    return min(a) < max(b) and min(b) < max(a)


def worker(kind: str, path: str, n: int, runs: int, start, results) -> None:
    store = SqliteStore(path)
    try:
        start.wait(timeout=30)
        results.put((n, WORK[kind](store, n, runs)))
    except BaseException as exc:  # the parent asserts on it (a child's traceback is not the test's)
        results.put((n, f"error: {exc!r}"))
    finally:
        store.close()


def run_processes(kind: str, path: Path, runs: int) -> list:
    ctx = multiprocessing.get_context("spawn")
    SqliteStore(path).close()  # the schema exists before the race (what `vigie init` does)
    start, results = ctx.Barrier(PROCESSES), ctx.Queue()
    procs = [ctx.Process(target=worker, args=(kind, str(path), n, runs, start, results)) for n in range(PROCESSES)]
    for p in procs:
        p.start()
    out = dict(results.get(timeout=60) for _ in procs)
    for p in procs:
        p.join(timeout=30)
    assert all(p.exitcode == 0 for p in procs), [p.exitcode for p in procs]
    assert not any(isinstance(v, str) for v in out.values()), out
    return [out[n] for n in range(PROCESSES)]


def test_two_processes_folding_health_lose_no_update(tmp_path):
    runs = 150
    befores = run_processes("health", tmp_path / "vigie.db", runs)
    store = SqliteStore(tmp_path / "vigie.db")
    try:
        h = collection.load(store, "mastodon")
    finally:
        store.close()
    total = PROCESSES * runs
    assert h.hours == {collection.hour_key(NOW): [total, total, runs * 2 + runs * 3]}
    assert h.errors == {"network": len(range(0, runs, 3))}
    assert set(h.queries) == {"q0", "q1"}
    # Each update started from the one before it (none folded into a state another had already changed),
    # and the two processes' updates alternated: they did race.
    assert sorted(befores[0] + befores[1]) == list(range(total))
    assert interleaved(*befores)


def test_two_processes_under_the_lease_exclude_each_other(tmp_path):
    runs = 100
    seen = run_processes("lease", tmp_path / "vigie.db", runs)
    store = SqliteStore(tmp_path / "vigie.db")
    try:
        assert store.get_cursor("counter", "n").value == {"n": PROCESSES * runs}  # no increment lost
        ids = [e.id for e in store.outbox_entries()]
        assert len(ids) == len(set(ids)) == PROCESSES * runs + runs  # own entries + the shared ones, once each
        assert store.acquire_lease("detect", "after", ttl_s=30)  # released by both
    finally:
        store.close()
    assert sorted(seen[0] + seen[1]) == list(range(PROCESSES * runs)) and interleaved(*seen)


def test_two_processes_enqueuing_the_same_entries_write_them_once(tmp_path):
    runs = 150
    added = run_processes("outbox", tmp_path / "vigie.db", runs)
    store = SqliteStore(tmp_path / "vigie.db")
    try:
        ids = [e.id for e in store.outbox_entries()]
    finally:
        store.close()
    assert len(ids) == len(set(ids)) == PROCESSES * runs + runs
    assert sum(added) == PROCESSES * runs + runs  # each shared entry counted by the one process that wrote it


def test_two_processes_storing_posts_at_once(tmp_path):
    runs = 150
    inserted = run_processes("posts", tmp_path / "vigie.db", runs)
    store = SqliteStore(tmp_path / "vigie.db")
    try:
        assert store.count_posts() == PROCESSES * runs + runs
        assert store.count_posts("acme") == PROCESSES * runs + runs
    finally:
        store.close()
    assert sum(inserted) == PROCESSES * runs + runs  # a post both stored is inserted once, updated or skipped once
