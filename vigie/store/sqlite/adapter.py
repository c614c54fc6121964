"""SQLite adapter of the store contract: the embedded default.

WAL mode lets a notebook read while the pipeline writes. Each post is kept whole as JSON (`doc`)
plus the few columns detection aggregates on; `post_topics` is the (topic, time) index that makes
`series` a single indexed range scan.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from vigie.core.faults import crash_point
from vigie.core.gc_pause import collector_paused
from vigie.core.models import (
    OUTBOX_OPEN,
    Alert,
    AlertState,
    Bucket,
    Cursor,
    OutboxEntry,
    Post,
    Quarantined,
    RiskPoint,
    UpsertResult,
    utc,
)
from vigie.core.neardup import NearDupEntry
from vigie.store.sqlite.bucket_memo import BucketMemo, PostsStamp, copy_bucket
from vigie.store.sqlite.post_memo import PostMemo, copy_post
from vigie.store.base import Lease, LeaseLost, RankBy, bucket_starts, quarantine_fingerprint, record_text

# models.negative_band(sentiment) in SQL, read from the stored document (no column to migrate).
NEG_BAND_SQL = "CAST(COALESCE(json_extract(p.doc, '$.analysis.sentiment.probs.neg'), 1.0) * 10 AS INTEGER)"

SCHEMA = """
CREATE TABLE IF NOT EXISTS posts (
    id TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    created_at REAL NOT NULL,
    author_key TEXT,
    followers INTEGER NOT NULL DEFAULT 0,
    engagement INTEGER NOT NULL DEFAULT 0,
    sentiment_label TEXT,
    sentiment_score REAL,
    crisis_risk REAL NOT NULL DEFAULT 0,
    crisis_categories TEXT NOT NULL DEFAULT '[]',
    near_dup_cluster TEXT,
    doc TEXT NOT NULL,
    relation TEXT NOT NULL DEFAULT 'original'
);
CREATE INDEX IF NOT EXISTS posts_created ON posts(created_at);
CREATE TABLE IF NOT EXISTS post_topics (
    topic_id TEXT NOT NULL,
    created_at REAL NOT NULL,
    post_id TEXT NOT NULL,
    PRIMARY KEY (topic_id, created_at, post_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS post_topics_post ON post_topics(post_id);
CREATE TABLE IF NOT EXISTS cursors (
    source TEXT NOT NULL,
    query TEXT NOT NULL,
    value TEXT NOT NULL,
    updated_at REAL NOT NULL,
    PRIMARY KEY (source, query)
);
CREATE TABLE IF NOT EXISTS alerts (
    id TEXT PRIMARY KEY,
    dedup_key TEXT NOT NULL UNIQUE,
    topic_id TEXT NOT NULL,
    state TEXT NOT NULL,
    opened_at REAL NOT NULL,
    doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS alerts_topic ON alerts(topic_id, opened_at);
-- `last_alert(topic, state)`, asked every bucket: one index seek, no sort (id settles equal opened_at).
-- IF NOT EXISTS: files created by older versions get it on their next open.
CREATE INDEX IF NOT EXISTS alerts_topic_state ON alerts(topic_id, state, opened_at, id);
-- One row per topic and assessed bucket: the risk curve dashboards and notebooks draw.
CREATE TABLE IF NOT EXISTS risk (
    topic_id TEXT NOT NULL,
    at REAL NOT NULL,
    risk REAL NOT NULL,
    doc TEXT NOT NULL,
    PRIMARY KEY (topic_id, at)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS risk_at ON risk(at);
-- The transactional outbox: one row per message owed to a channel, committed with the alert change.
CREATE TABLE IF NOT EXISTS outbox (
    id TEXT PRIMARY KEY,
    alert_id TEXT NOT NULL,
    status TEXT NOT NULL,
    bucket_at REAL NOT NULL,
    seq INTEGER NOT NULL,
    doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS outbox_status ON outbox(status, bucket_at, seq);
CREATE INDEX IF NOT EXISTS outbox_alert ON outbox(alert_id, bucket_at, seq);
-- One row per lease (the detect-and-deliver step): who holds it and until when (epoch seconds).
CREATE TABLE IF NOT EXISTS leases (
    name TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    expires_at REAL NOT NULL
);
-- The near-duplicate index's state (vigie/core/neardup.py): one row per recent post that could be a copy.
-- `seq` is the write order (AUTOINCREMENT: never reused), so a process reads what others added since its
-- last read; `signature` only for the cluster's representatives (MinHash values, 256 bytes).
CREATE TABLE IF NOT EXISTS near_dups (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    post_id TEXT NOT NULL UNIQUE,
    created_at REAL NOT NULL,
    author TEXT NOT NULL,
    cluster_id TEXT NOT NULL,
    cluster_at REAL NOT NULL,
    sketch TEXT NOT NULL,
    signature BLOB
);
CREATE INDEX IF NOT EXISTS near_dups_created ON near_dups(created_at);
CREATE TABLE IF NOT EXISTS quarantine (
    fingerprint TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    reason TEXT NOT NULL,
    record TEXT NOT NULL,
    context TEXT NOT NULL,
    at REAL NOT NULL
);
"""


# One statement for the whole series: the (topic, time) range is joined to `posts` once into `r`, then
# grouped four ways. `r` is used four times, so SQLite (>= 3.35) materializes it; older versions inline
# it (same results, one join per group). Four separate queries cost four joins: about twice the time
# (bench/store.py). Rows are (kind, bucket, key, values...), padded to the width of the "totals" rows.
SERIES_SQL = """
WITH a AS (
    SELECT CAST((t.created_at - :lo) / :width AS INTEGER) AS b, p.source, p.sentiment_label AS label,
           p.followers, p.engagement, p.author_key, p.crisis_categories AS cats, p.near_dup_cluster AS dup,
           p.relation = 'repost' AS repost
    FROM post_topics t JOIN posts p ON p.id = t.post_id
    WHERE t.topic_id = :topic AND t.created_at >= :lo AND t.created_at < :hi
), r AS (SELECT * FROM a WHERE NOT repost)  -- reposts are amplification, not posts (models.Bucket)
SELECT 'reposts', b, NULL, COUNT(*), SUM(followers), SUM(CASE WHEN label = 'neg' THEN followers ELSE 0 END),
       NULL, NULL, NULL, NULL, NULL, NULL
FROM a WHERE repost GROUP BY b
UNION ALL
SELECT 'totals', b, NULL, COUNT(*), SUM(label = 'neg'), SUM(label = 'pos'),
       SUM(followers), SUM(CASE WHEN label = 'neg' THEN followers ELSE 0 END),
       SUM(engagement), SUM(CASE WHEN label = 'neg' THEN engagement ELSE 0 END),
       COUNT(DISTINCT author_key), SUM(cats != '[]')
FROM r GROUP BY b
UNION ALL
SELECT 'source', b, source, COUNT(*), NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL FROM r GROUP BY b, source
UNION ALL
SELECT 'category', b, c.value, COUNT(*), NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
FROM r, json_each(r.cats) c WHERE r.cats != '[]' GROUP BY b, c.value
UNION ALL
SELECT 'dup', b, NULL, MAX(n), NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
FROM (SELECT b, COUNT(*) AS n FROM r WHERE dup IS NOT NULL GROUP BY b, dup) GROUP BY b
"""


def _fill_bucket(bk: Bucket, kind: str, key: str | None, values: list[Any]) -> None:
    """Apply one row of SERIES_SQL to its bucket (SUM over no matching row is NULL, hence `or 0`)."""
    if kind == "reposts":  # may come before or after the bucket's totals: both add to the reach
        bk.reposts, bk.repost_reach = values[0], values[1] or 0
        bk.reach += values[1] or 0
        bk.negative_reach += values[2] or 0
    elif kind == "totals":
        count, neg, pos, reach, neg_reach, eng, neg_eng, authors, crisis = values
        bk.count, bk.negative, bk.positive = count, neg or 0, pos or 0
        bk.reach += reach or 0
        bk.negative_reach += neg_reach or 0
        bk.engagement = eng or 0
        bk.negative_engagement = neg_eng or 0
        bk.authors, bk.crisis_terms = authors, crisis or 0
    elif kind == "source":
        bk.sources[key] = values[0]
    elif kind == "category":
        bk.crisis_categories[key] = values[0]
    else:  # "dup"
        bk.max_dup_cluster = values[0]


PURGE_BATCH = 5000  # posts deleted per transaction by `purge`


def _epoch(dt: datetime) -> float:
    return utc(dt).timestamp()


def _topics_of(post: Post) -> list[str]:
    """Topics a post counts for: those the NLP matched (authoritative) else those it was fetched for."""
    if post.analysis is not None:
        return sorted(set(post.analysis.topic_ids))
    return sorted(set(post.topic_ids))


class SqliteStore:
    """The whole `Store` contract in one SQLite file, concern by concern in the sections below."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        if str(path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        # One connection guarded by a lock: Airflow's local executor and the CLI may share the object.
        self._lock = threading.RLock()
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA busy_timeout=10000")
        self._db.executescript(SCHEMA)
        self._migrate()
        # What the memos below are kept under: changes whenever the posts may have changed.
        self._posts_stamp = PostsStamp()
        self._memo = BucketMemo(self._posts_stamp)  # buckets `series` aggregated while the posts are unchanged
        self._post_memo = PostMemo(self._posts_stamp)  # posts `iter_posts` decoded while they are unchanged

    def _posts_untouched(self):  # noqa: ANN202 (a context manager)
        """Around a write of this connection that changes no post (risk points, alerts, outbox, cursors,
        leases: none of them is read by `series` or `iter_posts`): the memos survive it (bucket_memo.py)."""
        return self._posts_stamp.posts_untouched(self._db)

    def _migrate(self) -> None:
        """Additive columns for files created by older versions (CREATE TABLE IF NOT EXISTS keeps the old
        table). Older versions never stored a repost, so the default is right for every existing row."""
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(posts)")}
        if "relation" not in columns:
            self._db.execute("ALTER TABLE posts ADD COLUMN relation TEXT NOT NULL DEFAULT 'original'")

    # -- posts (PostStore) -------------------------------------------------------------------
    def upsert_posts(self, posts: Sequence[Post]) -> UpsertResult:
        result = UpsertResult()
        if not posts:
            return result
        latest: dict[str, Post] = {}
        for post in posts:  # the last version of a post in a batch wins, as it would on re-fetch
            latest[post.id] = post
        with self._lock, collector_paused():  # a batch of rows, all alive until written (vigie.core.gc_pause)
            # IMMEDIATE, and the stored versions read inside it: another process (a parallel ingest task)
            # storing the same post between our read and our write would otherwise make both count it new.
            self._db.execute("BEGIN IMMEDIATE")
            try:
                existing = self._existing_docs(list(latest))
                changed = []
                for post in latest.values():
                    doc = post.to_json()  # = json.dumps(post.to_dict(), ensure_ascii=False, sort_keys=True)
                    before = existing.get(post.id)
                    if before == doc:
                        continue
                    changed.append((post, doc))
                    if before is None:
                        result.inserted += 1
                    else:
                        result.updated += 1
                self._write_posts(changed)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return result

    def _existing_docs(self, ids: list[str]) -> dict[str, str]:
        out: dict[str, str] = {}
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            marks = ",".join("?" * len(chunk))
            for pid, doc in self._db.execute(f"SELECT id, doc FROM posts WHERE id IN ({marks})", chunk):
                out[pid] = doc
        return out

    def _write_posts(self, changed: list[tuple[Post, str]]) -> None:
        """Rows of the changed posts and their topics, three statements for the whole batch (executemany
        reuses one prepared statement): one round per post was most of the store's time."""
        rows, topic_rows = [], []
        for post, doc in changed:
            analysis = post.analysis
            created = _epoch(post.created_at)
            rows.append((
                post.id,
                post.source,
                created,
                post.author.id or post.author.handle,
                post.reach,
                post.engagement.total,
                analysis.sentiment.label if analysis else None,
                analysis.sentiment.score if analysis else None,
                analysis.crisis.risk if analysis else 0.0,
                json.dumps(sorted(analysis.crisis.categories) if analysis else []),
                analysis.near_dup_cluster if analysis else None,
                doc,
                post.relation,
            ))
            topic_rows.extend((topic, created, post.id) for topic in _topics_of(post))
        self._db.executemany(
            """INSERT INTO posts (id, source, created_at, author_key, followers, engagement, sentiment_label,
                   sentiment_score, crisis_risk, crisis_categories, near_dup_cluster, doc, relation)
               VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)
               ON CONFLICT(id) DO UPDATE SET source=excluded.source, created_at=excluded.created_at,
                   author_key=excluded.author_key, followers=excluded.followers, engagement=excluded.engagement,
                   sentiment_label=excluded.sentiment_label, sentiment_score=excluded.sentiment_score,
                   crisis_risk=excluded.crisis_risk, crisis_categories=excluded.crisis_categories,
                   near_dup_cluster=excluded.near_dup_cluster, doc=excluded.doc, relation=excluded.relation""",
            rows,
        )
        self._db.executemany("DELETE FROM post_topics WHERE post_id = ?", [(post.id,) for post, _ in changed])
        self._db.executemany("INSERT OR IGNORE INTO post_topics (topic_id, created_at, post_id) VALUES (?,?,?)",
                             topic_rows)

    def get_post(self, post_id: str) -> Post | None:
        with self._lock:
            row = self._db.execute("SELECT doc FROM posts WHERE id = ?", (post_id,)).fetchone()
        return Post.from_dict(json.loads(row[0])) if row else None

    def count_posts(self, topic_id: str | None = None) -> int:
        with self._lock:
            if topic_id is None:
                return self._db.execute("SELECT COUNT(*) FROM posts").fetchone()[0]
            return self._db.execute("SELECT COUNT(*) FROM post_topics WHERE topic_id = ?", (topic_id,)).fetchone()[0]

    def posts(
        self, topic_id: str | None, start: datetime | None = None, end: datetime | None = None, limit: int | None = None
    ) -> list[Post]:
        lo = _epoch(start) if start else float("-inf")
        hi = _epoch(end) if end else float("inf")
        lim = -1 if limit is None else int(limit)
        with self._lock:
            if topic_id is None:
                rows = self._db.execute(
                    "SELECT doc FROM posts WHERE created_at >= ? AND created_at < ? ORDER BY created_at, id LIMIT ?",
                    (lo, hi, lim),
                ).fetchall()
            else:
                rows = self._db.execute(
                    """SELECT p.doc FROM post_topics t JOIN posts p ON p.id = t.post_id
                       WHERE t.topic_id = ? AND t.created_at >= ? AND t.created_at < ?
                       ORDER BY t.created_at, t.post_id LIMIT ?""",
                    (topic_id, lo, hi, lim),
                ).fetchall()
        return [Post.from_dict(json.loads(r[0])) for r in rows]

    def iter_posts(
        self, topic_id: str | None, start: datetime | None = None, end: datetime | None = None, page_size: int = 1000
    ) -> Iterator[Post]:
        """Keyset pages on (created_at, id): each page is one indexed range read, whatever the offset, and
        the lock is released between pages so the pipeline can write during a long export. A topic's
        bounded range goes through the post memo (`post_memo.py`): posts decoded by the previous read of an
        overlapping range, with the posts unchanged since, are handed back (copies) instead of decoded again."""
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        if topic_id is None or start is None or end is None:
            for page in self._post_pages(topic_id, _epoch(start) if start else float("-inf"),
                                         _epoch(end) if end else float("inf"), page_size):
                for _created, post in page:
                    yield post
            return
        with self._lock:
            read = self._post_memo.start(self._db, topic_id, _epoch(start), _epoch(end))
        with collector_paused():  # hundreds of live copies, no garbage (vigie.core.gc_pause)
            copies = [copy_post(post) for post in read.posts]
        yield from copies
        if read.read_from < read.hi:
            for page in self._post_pages(topic_id, read.read_from, read.hi, page_size):
                with collector_paused():
                    for created, post in page:
                        read.add(created, post)
                for _created, post in page:
                    yield post
        with self._lock:
            self._post_memo.finish(self._db, read)

    def _post_pages(self, topic_id: str | None, lo: float, hi: float, page_size: int
                    ) -> Iterator[list[tuple[float, Post]]]:
        """The posts with lo <= created_at < hi in (created_at, id) order, with their created_at column,
        page by page."""
        after: tuple[float, str] = (lo, "")
        first = True
        while True:
            # The first page includes `lo` itself; the next ones start strictly after the last row.
            op = ">=" if first else ">"
            with self._lock:
                if topic_id is None:
                    rows = self._db.execute(
                        f"""SELECT created_at, id, doc FROM posts WHERE (created_at, id) {op} (?, ?) AND created_at < ?
                            ORDER BY created_at, id LIMIT ?""", (*after, hi, page_size)).fetchall()
                else:
                    rows = self._db.execute(
                        f"""SELECT t.created_at, t.post_id, p.doc FROM post_topics t JOIN posts p ON p.id = t.post_id
                            WHERE t.topic_id = ? AND (t.created_at, t.post_id) {op} (?, ?) AND t.created_at < ?
                            ORDER BY t.created_at, t.post_id LIMIT ?""", (topic_id, *after, hi, page_size)).fetchall()
            with collector_paused():  # a page of live posts, no garbage (vigie.core.gc_pause)
                page = [(created, Post.from_dict(json.loads(doc))) for created, _pid, doc in rows]
            yield page
            if len(rows) < page_size:
                return
            after, first = (rows[-1][0], rows[-1][1]), False

    # -- detection inputs (PostStore: series, top_posts) -----------------------------------
    def series(self, topic_id: str, start: datetime, end: datetime, bucket: timedelta) -> list[Bucket]:
        start, end = utc(start), utc(end)
        starts = bucket_starts(start, end, bucket)
        if not starts:
            return []
        lo, hi, width = start.timestamp(), end.timestamp(), bucket.total_seconds()
        with self._lock:
            if lo != int(lo) or width != int(width):  # off the integer grid: no memo (bucket_memo.py)
                return self._read_series(topic_id, starts, lo, hi, width)
            lo_s, width_s = int(lo), int(width)
            memo = self._memo.buckets(self._db, topic_id, width_s)
            whole = int((hi - lo) // width)  # the last bucket may be cut short by `end`: never memoised
            out: list[Bucket | None] = []
            for i, s in enumerate(starts):
                b = memo.get(lo_s + i * width_s) if i < whole else None
                out.append(None if b is None else copy_bucket(b, s))
            missing = [i for i, b in enumerate(out) if b is None]
            if missing:  # one read from the first missing bucket to the last (usually just the newest)
                first, last = missing[0], missing[-1]
                fresh = self._read_series(topic_id, starts[first : last + 1], lo + first * width,
                                          min(hi, lo + (last + 1) * width), width)
                for i, b in enumerate(fresh, first):
                    out[i] = b
                    if i < whole:
                        self._memo.put(memo, lo_s + i * width_s, b)
        return out  # type: ignore[return-value]

    def _read_series(self, topic_id: str, starts: list[datetime], lo: float, hi: float, width: float) -> list[Bucket]:
        buckets = [Bucket(topic_id=topic_id, start=s) for s in starts]
        rows = self._db.execute(SERIES_SQL, {"topic": topic_id, "lo": lo, "hi": hi, "width": width}).fetchall()
        for kind, b, key, *values in rows:
            _fill_bucket(buckets[b], kind, key, values)
        return buckets

    def top_posts(
        self, topic_id: str, start: datetime, end: datetime, by: RankBy = "engagement", limit: int = 5
    ) -> list[Post]:
        order = {
            "engagement": "p.engagement DESC, p.followers DESC",
            "reach": "p.followers DESC, p.engagement DESC",
            # Confidently negative posts first (P(neg) in bands of 0.1; 1 for a model without probabilities),
            # then, within a band, the ones that travel: what a crisis team must read first.
            "negative": f"{NEG_BAND_SQL} DESC, (p.engagement + p.followers / 100.0) DESC",
            "crisis": "p.crisis_risk DESC, p.engagement DESC",
            "recent": "p.created_at DESC",
        }.get(by)
        if order is None:
            raise ValueError(f"unknown ranking {by!r}; expected engagement, reach, negative, crisis or recent")
        # A repost is its original again: never a top post of its own.
        where = "t.topic_id = ? AND t.created_at >= ? AND t.created_at < ? AND p.relation != 'repost'"
        if by == "negative":
            where += " AND p.sentiment_label = 'neg'"
        with self._lock:
            rows = self._db.execute(
                f"""SELECT p.doc FROM post_topics t JOIN posts p ON p.id = t.post_id WHERE {where}
                    ORDER BY {order}, p.id LIMIT ?""",
                (topic_id, _epoch(start), _epoch(end), int(limit)),
            ).fetchall()
        return [Post.from_dict(json.loads(r[0])) for r in rows]

    # -- retention (MaintenanceStore.purge) --------------------------------------------------
    def purge(self, before: datetime, *, batch: int = PURGE_BATCH) -> int:
        """Delete posts created before `before` with their `post_topics` rows, `batch` posts per
        transaction. WAL readers are never blocked by a writer; batches keep each transaction and the WAL
        file small, and let the pipeline's writes (same lock, other processes) in between batches."""
        if batch < 1:
            raise ValueError("batch must be at least 1")
        cutoff = _epoch(before)
        removed = 0
        while True:
            with self._lock:
                n = self._purge_batch(cutoff, batch)
            removed += n
            if n < batch:
                break
        with self._lock:  # one statement each: its own transaction (autocommit connection)
            self._db.execute("DELETE FROM risk WHERE at < ?", (cutoff,))
            self._db.execute("DELETE FROM near_dups WHERE created_at < ?", (cutoff,))
        return removed

    def _purge_batch(self, cutoff: float, batch: int) -> int:
        """One transaction: the oldest `batch` posts created before `cutoff` (index `posts_created`)."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            ids = [r[0] for r in self._db.execute(
                "SELECT id FROM posts WHERE created_at < ? ORDER BY created_at LIMIT ?", (cutoff, batch))]
            for i in range(0, len(ids), 500):  # below the bound-parameter limit of old SQLite builds (999)
                chunk = ids[i : i + 500]
                marks = ",".join("?" * len(chunk))
                self._db.execute(f"DELETE FROM post_topics WHERE post_id IN ({marks})", chunk)
                self._db.execute(f"DELETE FROM posts WHERE id IN ({marks})", chunk)
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        return len(ids)

    # -- near-duplicate index state (NearDupStore) -------------------------------------------
    def save_near_dups(self, entries: Sequence[NearDupEntry]) -> int:
        if not entries:
            return 0
        rows = [(e.post_id, e.created_at.timestamp(), e.author, e.cluster_id, e.cluster_at.timestamp(), e.sketch,
                 e.signature) for e in entries]  # entries' times are aware (nlp/dedup.py): no utc() per row
        with self._write():
            before = self._db.total_changes
            self._db.executemany(
                """INSERT OR IGNORE INTO near_dups (post_id, created_at, author, cluster_id, cluster_at, sketch,
                       signature) VALUES (?,?,?,?,?,?,?)""", rows)
            return self._db.total_changes - before

    def near_dups(self, since: datetime, after: Any = None) -> tuple[list[NearDupEntry], Any]:
        sql = "SELECT seq, post_id, created_at, author, cluster_id, cluster_at, sketch, signature FROM near_dups"
        with self._lock:
            if after is None:
                mark = self._db.execute("SELECT COALESCE(MAX(seq), 0) FROM near_dups").fetchone()[0]
                rows = self._db.execute(sql + " WHERE created_at >= ? AND seq <= ? ORDER BY created_at, post_id",
                                        (_epoch(since), mark)).fetchall()
            else:
                rows = self._db.execute(sql + " WHERE seq > ? AND created_at >= ? ORDER BY seq",
                                        (int(after), _epoch(since))).fetchall()
                mark = max([int(after)] + [r[0] for r in rows])
        at = datetime.fromtimestamp  # epoch seconds → aware UTC datetime (utc() costs twice as much per row)
        return [NearDupEntry(pid, at(created, timezone.utc), author, cluster, at(cluster_at, timezone.utc), sketch, sig)
                for _, pid, created, author, cluster, cluster_at, sketch, sig in rows], mark

    def near_dup_newest(self) -> datetime | None:
        with self._lock:
            row = self._db.execute("SELECT MAX(created_at) FROM near_dups").fetchone()
        return utc(row[0]) if row and row[0] is not None else None

    def prune_near_dups(self, before: datetime) -> int:
        with self._write():
            return self._db.execute("DELETE FROM near_dups WHERE created_at < ?", (_epoch(before),)).rowcount

    # -- risk points (RiskStore) -------------------------------------------------------------
    def save_risk(self, points: Sequence[RiskPoint]) -> None:
        if not points:
            return
        with self._lock:
            self._db.execute("BEGIN")
            try:
                with self._posts_untouched():
                    self._write_risk(points)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def _write_risk(self, points: Sequence[RiskPoint]) -> None:
        rows = [(p.topic_id, _epoch(p.at), float(p.risk), json.dumps(p.to_dict(), ensure_ascii=False)) for p in points]
        self._db.executemany("INSERT OR REPLACE INTO risk (topic_id, at, risk, doc) VALUES (?,?,?,?)", rows)

    def risk_series(self, topic_id: str, start: datetime, end: datetime) -> list[RiskPoint]:
        with self._lock:
            rows = self._db.execute(
                "SELECT doc FROM risk WHERE topic_id = ? AND at >= ? AND at < ? ORDER BY at",
                (topic_id, _epoch(start), _epoch(end)),
            ).fetchall()
        return [RiskPoint.from_dict(json.loads(r[0])) for r in rows]

    # -- cursors (CursorStore) ---------------------------------------------------------------
    def get_cursor(self, source: str, query: str) -> Cursor | None:
        with self._lock:
            row = self._db.execute(
                "SELECT value, updated_at FROM cursors WHERE source = ? AND query = ?", (source, query)
            ).fetchone()
        if not row:
            return None
        return Cursor(source=source, query=query, value=json.loads(row[0]), updated_at=utc(row[1]))

    def set_cursor(self, cursor: Cursor) -> None:
        with self._lock, self._posts_untouched():
            self._write_cursor(cursor)

    def update_cursor(self, source: str, query: str, change: Callable[[dict[str, Any] | None], dict[str, Any]],
                      updated_at: datetime | None = None) -> dict[str, Any]:
        # IMMEDIATE: the file's write lock is taken before the read, so another connection (an Airflow task
        # in another process) cannot write the cursor between our read and our write; it waits (busy_timeout).
        with self._write():
            row = self._db.execute("SELECT value FROM cursors WHERE source = ? AND query = ?",
                                   (source, query)).fetchone()
            value = change(json.loads(row[0]) if row else None)
            self._write_cursor(Cursor(source=source, query=query, value=value, updated_at=updated_at))
        return value

    def _write_cursor(self, cursor: Cursor) -> None:
        now = cursor.updated_at or datetime.now(timezone.utc)
        self._db.execute(
            """INSERT INTO cursors (source, query, value, updated_at) VALUES (?,?,?,?)
               ON CONFLICT(source, query) DO UPDATE SET value=excluded.value, updated_at=excluded.updated_at""",
            (cursor.source, cursor.query, json.dumps(cursor.value, sort_keys=True), _epoch(now)),
        )

    # -- alerts (AlertStore) -----------------------------------------------------------------
    def save_alert(self, alert: Alert) -> None:
        with self._lock, self._posts_untouched():
            self._write_alert(alert)

    def _write_alert(self, alert: Alert) -> None:
        doc = json.dumps(alert.to_dict(), ensure_ascii=False, sort_keys=True)
        self._db.execute(
            """INSERT INTO alerts (id, dedup_key, topic_id, state, opened_at, doc) VALUES (?,?,?,?,?,?)
               ON CONFLICT(dedup_key) DO UPDATE SET state=excluded.state, doc=excluded.doc""",
            (alert.id, alert.dedup_key, alert.topic_id, alert.state.value, _epoch(alert.opened_at), doc),
        )

    def get_alert(self, alert_id: str) -> Alert | None:
        with self._lock:
            row = self._db.execute(
                "SELECT doc FROM alerts WHERE id = ? OR dedup_key = ?", (alert_id, alert_id)
            ).fetchone()
        return Alert.from_dict(json.loads(row[0])) if row else None

    def open_alerts(self, topic_id: str | None = None) -> list[Alert]:
        sql = "SELECT doc FROM alerts WHERE state != 'resolved'"
        args: tuple[Any, ...] = ()
        if topic_id is not None:
            sql += " AND topic_id = ?"
            args = (topic_id,)
        with self._lock:
            rows = self._db.execute(sql + " ORDER BY opened_at, id", args).fetchall()
        return [Alert.from_dict(json.loads(r[0])) for r in rows]

    def alert_history(self, topic_id: str | None = None, since: datetime | None = None) -> list[Alert]:
        sql, args = "SELECT doc FROM alerts WHERE opened_at >= ?", [(_epoch(since) if since else float("-inf"))]
        if topic_id is not None:
            sql += " AND topic_id = ?"
            args.append(topic_id)
        with self._lock:
            rows = self._db.execute(sql + " ORDER BY opened_at, id", args).fetchall()
        return [Alert.from_dict(json.loads(r[0])) for r in rows]

    def last_alert(self, topic_id: str, state: AlertState | None = None) -> Alert | None:
        sql, args = "SELECT doc FROM alerts WHERE topic_id = ?", [topic_id]
        if state is not None:
            sql += " AND state = ?"
            args.append(AlertState(state).value)
        with self._lock:
            row = self._db.execute(sql + " ORDER BY opened_at DESC, id DESC LIMIT 1", args).fetchone()
        return Alert.from_dict(json.loads(row[0])) if row else None

    # -- detect-and-deliver (OutboxStore, LeaseStore) -----------------------------------------
    @contextmanager
    def _write(self) -> Iterator[None]:
        """One write transaction. IMMEDIATE: the write lock is taken at BEGIN, so what it reads (a lease)
        cannot be changed by another process before it commits."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def commit_bucket(self, alerts: Sequence[Alert], outbox: Sequence[OutboxEntry], risk: Sequence[RiskPoint],
                      cursors: Sequence[Cursor], lease: Lease | None = None) -> None:
        with self._write(), self._posts_untouched():  # the live loop's write between two assessments
            if lease is not None:
                self._hold(lease)
            for alert in alerts:
                self._write_alert(alert)
            crash_point("after_alert")
            self._insert_outbox(outbox)
            crash_point("after_outbox")
            self._write_risk(risk)
            for cursor in cursors:
                self._write_cursor(cursor)
            crash_point("after_cursor")

    def _hold(self, lease: Lease) -> None:
        """Inside a write transaction: the lease is still ours (renewed), or LeaseLost."""
        now = time.time()
        row = self._db.execute("SELECT owner, expires_at FROM leases WHERE name = ?", (lease.name,)).fetchone()
        if row is None or row[0] != lease.owner:
            raise LeaseLost(f"lease {lease.name!r} is held by {row[0] if row else 'nobody'}, not by this process")
        self._db.execute("UPDATE leases SET expires_at = ? WHERE name = ?", (now + lease.ttl_s, lease.name))

    def _insert_outbox(self, entries: Sequence[OutboxEntry]) -> int:
        added = 0
        for e in entries:
            cur = self._db.execute(
                "INSERT OR IGNORE INTO outbox (id, alert_id, status, bucket_at, seq, doc) VALUES (?,?,?,?,?,?)",
                (e.id, e.alert_id, e.status, _epoch(e.bucket_at), e.seq, json.dumps(e.to_dict(), ensure_ascii=False)))
            added += cur.rowcount
        return added

    def enqueue(self, entries: Sequence[OutboxEntry]) -> int:
        with self._write(), self._posts_untouched():
            return self._insert_outbox(entries)

    def outbox_open(self) -> list[OutboxEntry]:
        marks = ",".join("?" * len(OUTBOX_OPEN))
        with self._lock:
            rows = self._db.execute(f"SELECT doc FROM outbox WHERE status IN ({marks}) ORDER BY bucket_at, seq, id",
                                    OUTBOX_OPEN).fetchall()
        return [OutboxEntry.from_dict(json.loads(r[0])) for r in rows]

    def outbox_entries(self, alert_id: str | None = None) -> list[OutboxEntry]:
        sql, args = "SELECT doc FROM outbox", ()
        if alert_id is not None:
            sql, args = sql + " WHERE alert_id = ?", (alert_id,)
        with self._lock:
            rows = self._db.execute(sql + " ORDER BY bucket_at, seq, id", args).fetchall()
        return [OutboxEntry.from_dict(json.loads(r[0])) for r in rows]

    def record_delivery(self, entry: OutboxEntry, alert: Alert | None = None) -> None:
        with self._write(), self._posts_untouched():
            if alert is not None:
                self._write_alert(alert)
            self._db.execute("UPDATE outbox SET status = ?, doc = ? WHERE id = ?",
                             (entry.status, json.dumps(entry.to_dict(), ensure_ascii=False), entry.id))

    def acquire_lease(self, name: str, owner: str, ttl_s: float, now: float | None = None,
                      stale: Callable[[str], bool] | None = None) -> bool:
        now = time.time() if now is None else now
        with self._write():
            row = self._db.execute("SELECT owner, expires_at FROM leases WHERE name = ?", (name,)).fetchone()
            free = row is None or row[0] == owner or row[1] <= now or (stale is not None and stale(row[0]))
            if free:
                with self._posts_untouched():
                    self._db.execute(
                        """INSERT INTO leases (name, owner, expires_at) VALUES (?,?,?)
                           ON CONFLICT(name) DO UPDATE SET owner=excluded.owner, expires_at=excluded.expires_at""",
                        (name, owner, now + ttl_s))
        return free

    def release_lease(self, name: str, owner: str) -> None:
        with self._lock, self._posts_untouched():
            self._db.execute("DELETE FROM leases WHERE name = ? AND owner = ?", (name, owner))

    # -- quarantine (QuarantineStore) --------------------------------------------------------
    def quarantine(self, source: str, record: Any, reason: str, context: dict[str, Any] | None = None) -> bool:
        text = record_text(record)
        context = context or {}
        fingerprint = quarantine_fingerprint(source, text, reason, context)
        with self._lock:
            cur = self._db.execute(
                "INSERT OR IGNORE INTO quarantine (fingerprint, source, reason, record, context, at) VALUES (?,?,?,?,?,?)",
                (fingerprint, source, reason, text, json.dumps(context, default=str, sort_keys=True),
                 datetime.now(timezone.utc).timestamp()),
            )
        return cur.rowcount == 1

    def quarantined(self, source: str | None = None) -> list[Quarantined]:
        sql, args = "SELECT source, reason, record, context, at FROM quarantine", ()
        if source is not None:
            sql, args = sql + " WHERE source = ?", (source,)
        with self._lock:
            rows = self._db.execute(sql + " ORDER BY at, fingerprint", args).fetchall()
        return [Quarantined(source=s, reason=r, record=rec, context=json.loads(c), at=utc(a)) for s, r, rec, c, a in rows]

    def close(self) -> None:
        with self._lock:
            self._db.close()
