"""SQLite-specific behaviour beyond the shared contract: schema upgrades of existing files and the
batched retention purge under WAL (a reader keeps its snapshot while the purge commits)."""

from __future__ import annotations

import dataclasses
import re
import sqlite3
from datetime import timedelta

import pytest
from test_store_contract import MIN, T0, make_alert, make_post

from vigie.core.models import AlertState, Cursor, PostEntities, RiskPoint, iso
from vigie.store.base import Lease, LeaseLost
from vigie.store.sqlite import SqliteStore
from vigie.store.sqlite.post_memo import copy_post

SEC = timedelta(seconds=1)


def _indices(path) -> set[str]:
    with sqlite3.connect(path) as db:
        return {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}


def test_a_file_from_before_last_alert_gets_its_index_on_open(tmp_path):
    path = tmp_path / "old.db"
    store = SqliteStore(path)
    store.save_alert(make_alert("acme", T0))
    store.close()
    with sqlite3.connect(path) as db:  # the file as an older version of Vigie left it
        db.execute("DROP INDEX alerts_topic_state")
    assert "alerts_topic_state" not in _indices(path)

    store = SqliteStore(path)
    try:
        assert "alerts_topic_state" in _indices(path)
        assert store.last_alert("acme", AlertState.OPEN).dedup_key == make_alert("acme", T0).dedup_key
    finally:
        store.close()


def test_purge_in_small_batches_removes_posts_and_topic_rows(tmp_path):
    store = SqliteStore(tmp_path / "x.db")
    try:
        posts = [make_post(str(i), T0 + i * MIN, topic="acme" if i % 2 else "globex") for i in range(20)]
        store.upsert_posts(posts)
        assert store.purge(T0 + 17 * MIN, batch=4) == 17  # four full batches and a partial one
        assert [p.id for p in store.posts(None)] == ["x:17", "x:18", "x:19"]
        assert (store.count_posts("acme"), store.count_posts("globex")) == (2, 1)
        with sqlite3.connect(tmp_path / "x.db") as db:  # no topic row left pointing at a purged post
            assert db.execute("SELECT COUNT(*) FROM post_topics WHERE post_id NOT IN (SELECT id FROM posts)"
                              ).fetchone()[0] == 0
        assert store.purge(T0 + 17 * MIN, batch=4) == 0
    finally:
        store.close()


def test_a_wal_reader_keeps_its_snapshot_while_the_purge_commits(tmp_path):
    path = tmp_path / "x.db"
    store = SqliteStore(path)
    reader = sqlite3.connect(path, isolation_level=None)  # e.g. a notebook on the same file
    try:
        store.upsert_posts([make_post(str(i), T0 + i * MIN) for i in range(10)])
        reader.execute("BEGIN")
        assert reader.execute("SELECT COUNT(*) FROM posts").fetchone()[0] == 10
        assert store.purge(T0 + timedelta(minutes=6), batch=2) == 6  # not blocked by the open read
        assert reader.execute("SELECT COUNT(*) FROM posts").fetchone()[0] == 10  # its snapshot
        reader.execute("COMMIT")
        assert reader.execute("SELECT COUNT(*) FROM posts").fetchone()[0] == 4
    finally:
        reader.close()
        store.close()


def test_a_file_from_before_relations_gets_the_column_and_keeps_its_posts(tmp_path):
    """A store written by a version without `posts.relation`: opening it adds the column (every old row is
    an original: older versions never stored a repost), and reposts written afterwards are amplification."""
    path = tmp_path / "old.db"
    store = SqliteStore(path)
    store.upsert_posts([make_post("old", T0, label="neg")])
    store.close()
    db = sqlite3.connect(path)
    db.execute("ALTER TABLE posts DROP COLUMN relation")  # the table as older versions created it
    db.commit()
    db.close()
    store = SqliteStore(path)
    try:
        store.upsert_posts([make_post("rt", T0 + MIN, label="neg", relation="repost", ref="x:old")])
        [b] = store.series("acme", T0, T0 + 5 * MIN, 5 * MIN)
        assert (b.count, b.negative, b.reposts) == (1, 1, 1)
        assert store.get_post("x:old").relation == "original"
    finally:
        store.close()


def test_upsert_restores_the_garbage_collector_as_it_found_it(tmp_path):
    """A batch is written with the cyclic collector paused (vigie.core.gc_pause), also when the write fails."""
    import gc

    import pytest

    store = SqliteStore(tmp_path / "gc.db")
    try:
        for enabled in (True, False):
            (gc.enable if enabled else gc.disable)()
            try:
                assert store.upsert_posts([make_post(f"{enabled}-1", T0)]).inserted == 1
                assert gc.isenabled() is enabled
                with pytest.raises(AttributeError):  # not a post: the batch is refused, nothing half-written
                    store.upsert_posts([make_post(f"{enabled}-2", T0), object()])
                assert gc.isenabled() is enabled
                assert store.get_post(f"x:{enabled}-2") is None
            finally:
                gc.enable()
    finally:
        store.close()


# -- series memo (vigie/store/sqlite/bucket_memo.py): whole buckets kept while the file is unchanged ------------

W5 = timedelta(minutes=5)


def _fresh_series(path, start, end):
    other = SqliteStore(path)
    try:
        return other.series("acme", start, end, W5)
    finally:
        other.close()


def test_consecutive_look_backs_equal_fresh_reads_and_count_a_late_post(tmp_path):
    store = SqliteStore(tmp_path / "x.db")
    try:
        store.upsert_posts([make_post(str(i), T0 + i * 2 * MIN, label="neg" if i % 3 else "pos", source="xr"[i % 2],
                                      categories=("safety",) if i % 4 == 0 else (), dup="c1" if i % 5 == 0 else None,
                                      author=f"a{i % 7}") for i in range(60)])
        for k in range(6):  # a detection walk: each window one bucket later, 35 of 36 buckets already read
            start, end = T0 + k * W5, T0 + (k + 12) * W5
            assert store.series("acme", start, end, W5) == _fresh_series(tmp_path / "x.db", start, end)
        start, end = T0 + 5 * W5, T0 + 17 * W5
        before = store.series("acme", start, end, W5)
        # A late post for a bucket the memo holds (the third of the window) must be counted at the next read.
        store.upsert_posts([make_post("late", start + 2 * W5 + MIN, label="neg", source="bsky")])
        after = store.series("acme", start, end, W5)
        assert after[2].count == before[2].count + 1 and after[2].sources.get("bsky") == 1
        assert after == _fresh_series(tmp_path / "x.db", start, end)
    finally:
        store.close()


def test_a_post_written_by_another_connection_is_counted(tmp_path):
    store, writer = SqliteStore(tmp_path / "x.db"), SqliteStore(tmp_path / "x.db")
    try:
        store.upsert_posts([make_post(str(i), T0 + i * MIN) for i in range(30)])
        start, end = T0, T0 + 6 * W5
        assert [b.count for b in store.series("acme", start, end, W5)] == [5, 5, 5, 5, 5, 5]
        writer.upsert_posts([make_post("other-process", T0 + 2 * W5, label="neg")])
        assert [b.count for b in store.series("acme", start, end, W5)] == [5, 5, 6, 5, 5, 5]
        writer.purge(T0 + 5 * MIN)  # deletes by another connection too
        assert [b.count for b in store.series("acme", start, end, W5)] == [0, 5, 6, 5, 5, 5]
    finally:
        store.close()
        writer.close()


def test_a_bucket_cut_short_is_not_kept_and_callers_cannot_change_the_memo(tmp_path):
    store = SqliteStore(tmp_path / "x.db")
    try:
        store.upsert_posts([make_post(str(i), T0 + i * MIN) for i in range(15)])
        cut = store.series("acme", T0, T0 + 7 * MIN, W5)  # the second bucket holds 2 minutes only
        assert [b.count for b in cut] == [5, 2]
        whole = store.series("acme", T0, T0 + 2 * W5, W5)
        assert [b.count for b in whole] == [5, 5]
        whole[0].count, whole[0].sources["x"] = 99, 99
        again = store.series("acme", T0, T0 + 2 * W5, W5)
        assert [b.count for b in again] == [5, 5] and again[0].sources == {"x": 5}
    finally:
        store.close()


# -- the memos survive the live loop's own writes (risk points, alerts, cursors, leases), never a post ----------

def _series_ranges(statements: list[str]) -> list[tuple[float, float]]:
    """(lo, hi) of every series read among traced statements (the SQL is expanded with its bound values)."""
    found = [re.search(r"t\.created_at >= ([\d.e+]+) AND t\.created_at < ([\d.e+]+)", s) for s in statements
             if "WITH a AS" in s]
    return [(float(m.group(1)), float(m.group(2))) for m in found]


def test_the_live_loops_writes_keep_the_series_memo_and_a_late_post_still_counts(tmp_path):
    store = SqliteStore(tmp_path / "x.db")
    try:
        store.upsert_posts([make_post(str(i), T0 + i * MIN, label="neg" if i % 3 else "pos") for i in range(70)])
        store.series("acme", T0, T0 + 12 * W5, W5)
        # What live detection writes between two assessments: a bucket's alert, risk points and cursors in one
        # commit, and around it single risk points, alerts, cursors and the lease.
        store.commit_bucket([make_alert("acme", T0)], [], [RiskPoint("acme", T0 + 12 * W5, 40.0)],
                            [Cursor("detect", "acme", {"at": "x"})])
        store.save_risk([RiskPoint("acme", T0 + 13 * W5, 41.0)])
        store.save_alert(make_alert("acme", T0 + W5))
        store.set_cursor(Cursor("detect", "globex", {"at": "y"}))
        assert store.acquire_lease("detect", "me", 30.0)
        store.release_lease("detect", "me")
        statements: list[str] = []
        store._db.set_trace_callback(statements.append)  # observe the SQL the next read runs
        start, end = T0 + W5, T0 + 13 * W5
        assert store.series("acme", start, end, W5) == _fresh_series(tmp_path / "x.db", start, end)
        assert _series_ranges(statements) == [((end - W5).timestamp(), end.timestamp())]  # the new bucket only
        # A late post, even right after those writes, empties the memo: the next read is whole and counts it.
        store.save_risk([RiskPoint("acme", T0 + 14 * W5, 42.0)])
        store.upsert_posts([make_post("late", T0 + 3 * W5 + MIN, label="neg")])
        statements.clear()
        after = store.series("acme", start, end, W5)
        assert _series_ranges(statements) == [(start.timestamp(), end.timestamp())]
        assert after[2].count == 6 and after == _fresh_series(tmp_path / "x.db", start, end)
    finally:
        store.close()


def test_a_failed_commit_keeps_counting_later_posts(tmp_path):
    store = SqliteStore(tmp_path / "x.db")
    try:
        store.upsert_posts([make_post(str(i), T0 + i * MIN) for i in range(30)])
        store.series("acme", T0, T0 + 6 * W5, W5)
        with pytest.raises(LeaseLost):  # rolled back: nothing of it, and the memo's stamp is not fooled
            store.commit_bucket([], [], [RiskPoint("acme", T0, 1.0)], [], lease=Lease("detect", "nobody", 30.0))
        store.upsert_posts([make_post("late", T0 + 2 * W5)])
        assert [b.count for b in store.series("acme", T0, T0 + 6 * W5, W5)] == [5, 5, 6, 5, 5, 5]
    finally:
        store.close()


# -- post memo (vigie/store/sqlite/post_memo.py): decoded posts kept while the posts are unchanged -------------

def _fresh_posts(path, start, end):
    other = SqliteStore(path)
    try:
        return [p.to_dict() for p in other.iter_posts("acme", start, end)]
    finally:
        other.close()


def _posts(store, start, end, page_size=1000):
    return [p.to_dict() for p in store.iter_posts("acme", start, end, page_size=page_size)]


def test_consecutive_post_reads_equal_fresh_reads_and_see_every_late_post(tmp_path):
    path = tmp_path / "x.db"
    store, writer = SqliteStore(path), SqliteStore(path)
    try:
        store.upsert_posts([make_post(str(i), T0 + i * MIN, label="neg" if i % 3 else "pos",
                                      text=f"#Boycott{i % 4} vu sur https://ex{i % 3}.org/a @acme") for i in range(90)])
        for k in range(6):  # the entity-spread walk: each look-back one bucket later, small pages too
            start, end = T0 + k * W5, T0 + (k + 8) * W5
            assert _posts(store, start, end, page_size=7) == _fresh_posts(path, start, end)
        start, end = T0 + 5 * W5, T0 + 13 * W5
        assert _posts(store, start + W5, end - W5) == _fresh_posts(path, start + W5, end - W5)  # inside the memo
        # late posts inside the kept range: from this connection, from another one, then a purge by another
        store.save_risk([RiskPoint("acme", end, 10.0)])
        store.upsert_posts([make_post("late", start + 2 * W5 + 30 * SEC, label="neg")])
        assert "x:late" in [p["id"] for p in _posts(store, start, end)]
        writer.upsert_posts([make_post("other-process", start + 3 * W5, label="neg")])
        assert _posts(store, start, end) == _fresh_posts(path, start, end)
        assert "x:other-process" in [p["id"] for p in _posts(store, start, end)]
        writer.purge(start + 4 * W5)
        assert _posts(store, start, end) == _fresh_posts(path, start, end)
        assert min(p["created_at"] for p in _posts(store, start, end)) >= iso(start + 4 * W5)
        # a read abandoned halfway keeps nothing wrong
        next(store.iter_posts("acme", start + W5, end + W5))
        assert _posts(store, start + W5, end + W5) == _fresh_posts(path, start + W5, end + W5)
    finally:
        store.close()
        writer.close()


def test_a_post_read_after_the_live_loops_writes_decodes_only_the_new_posts(tmp_path):
    store = SqliteStore(tmp_path / "x.db")
    try:
        store.upsert_posts([make_post(str(i), T0 + i * MIN) for i in range(60)])
        list(store.iter_posts("acme", T0, T0 + 10 * W5))
        store.commit_bucket([], [], [RiskPoint("acme", T0 + 10 * W5, 5.0)], [])
        statements: list[str] = []
        store._db.set_trace_callback(statements.append)
        assert len(list(store.iter_posts("acme", T0 + W5, T0 + 11 * W5))) == 50
        reads = [s for s in statements if "FROM post_topics" in s]
        assert len(reads) == 1 and f">= ({(T0 + 10 * W5).timestamp()}, '')" in reads[0]  # from the old end on
    finally:
        store.close()


def test_callers_cannot_change_the_post_memo(tmp_path):
    store = SqliteStore(tmp_path / "x.db")
    try:
        store.upsert_posts([make_post(str(i), T0 + i * MIN, categories=("safety",), text="#Rappel @acme")
                            for i in range(20)])
        for _ in range(2):  # the second read comes from the memo: change everything a caller could reach
            for p in store.iter_posts("acme", T0, T0 + 4 * W5):
                p.text, p.author.followers, p.engagement.likes = "changed", 1, 1
                p.topic_ids.append("globex")
                p.analysis.sentiment.label, p.analysis.crisis.categories[0] = "pos", "fraud"
                p.analysis.model_versions["x"] = "y"
                p.analysis.entities.clear()
                if p.entities is not None:
                    p.entities.hashtags.append("changed")
        assert _posts(store, T0, T0 + 4 * W5) == _fresh_posts(tmp_path / "x.db", T0, T0 + 4 * W5)
    finally:
        store.close()


def _mutable_parts(value, path="post"):
    """(path, object) of every list, dict and record inside a post, itself included."""
    if isinstance(value, (list, dict)) or dataclasses.is_dataclass(value):
        yield path, value
    items = (value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list)
             else ((f.name, getattr(value, f.name)) for f in dataclasses.fields(value))
             if dataclasses.is_dataclass(value) else ())
    for key, item in items:
        yield from _mutable_parts(item, f"{path}.{key}")


def test_a_post_copy_shares_no_mutable_part_even_of_a_field_added_later():
    # Every record, list and dict of a fully filled post (optional parts too): a field added to the models
    # later is a new list/dict/record here, and shared by the copy unless `copy_post` learns about it.
    post = make_post("1", T0, categories=("safety",), text="#a @b https://c.org")
    post.analysis.sentiment.probs = {"neg": 0.7, "neu": 0.2, "pos": 0.1}
    post.analysis.notes = ["n"]
    post.entities = PostEntities(hashtags=["a"], mentions=["b"], links=["https://c.org"], domains=["c.org"])
    copy = copy_post(post)
    assert copy == post
    originals = {path: id(obj) for path, obj in _mutable_parts(post)}
    copies = {path: id(obj) for path, obj in _mutable_parts(copy)}
    assert originals.keys() == copies.keys() and len(originals) > 15
    assert [path for path in originals if originals[path] == copies[path]] == []
