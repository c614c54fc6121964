"""Buckets already aggregated by `SqliteStore.series`, kept while the posts are unchanged.

Detection reads a 3-hour look-back (36 buckets) at every assessment, and a replay or a catch-up run walks
consecutive buckets: 35 of the 36 were aggregated by the previous call. The memo hands those back and
only the new buckets are read.

Late posts are never missed: the memo is dropped as soon as the posts may have changed (`PostsStamp`).
Its stamp is (`PRAGMA data_version`, `Connection.total_changes` minus this connection's writes that never
touch posts): the first changes when another connection (another process, another store object on the
same file) commits anything, the second when this connection writes anything but a risk point, an alert,
an outbox entry, a cursor or a lease (the store marks those writes `posts_untouched`). So the live loop,
which commits a bucket's risk points and alerts between two assessments, keeps its memo; a post, a
near-duplicate cluster, a purge or any write the store does not mark empties it.

Only whole buckets on an integer-second grid are kept: a bucket's figures then depend only on its own
time range (the SQL bucket index is exact for integer epochs), never on the range of the read it came
from. Callers get copies, so nothing they do to a bucket reaches the memo.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from vigie.core.models import Bucket

MAX_BUCKETS = 50_000  # beyond this the memo starts again empty (about 25 MB; 72 h of 5-min buckets is 864 per topic)


class PostsStamp:
    """Changes whenever the posts of the file may have changed: what the store's memos are kept under."""

    def __init__(self) -> None:
        self._untouched = 0  # changes made by this connection inside `posts_untouched` blocks

    def current(self, db: sqlite3.Connection) -> tuple[int, int]:
        """The stamp now (call under the store's lock)."""
        return db.execute("PRAGMA data_version").fetchone()[0], db.total_changes - self._untouched

    @contextmanager
    def posts_untouched(self, db: sqlite3.Connection) -> Iterator[None]:
        """A write of this connection that changes no post nor `post_topics` row (risk points, alerts, the
        outbox, cursors, leases): it leaves the stamp as it was. Whatever the block does, its row changes
        are set aside, so the block must write nothing else (call under the store's lock)."""
        before = db.total_changes
        try:
            yield
        finally:
            self._untouched += db.total_changes - before


def copy_bucket(b: Bucket, start: datetime) -> Bucket:
    """A bucket nobody else holds (its dicts too), starting at the caller's own `start` (the same instant);
    twice as fast as copying field by field (detection copies 36 per assessment)."""
    c = object.__new__(Bucket)
    d = b.__dict__.copy()
    d["start"] = start
    d["sources"] = d["sources"].copy()
    d["crisis_categories"] = d["crisis_categories"].copy()
    c.__dict__ = d
    return c


class BucketMemo:
    def __init__(self, stamp: PostsStamp) -> None:
        self._buckets: dict[tuple[str, int], dict[int, Bucket]] = {}  # (topic, width s) -> start epoch -> bucket
        self._size = 0
        self._posts_stamp = stamp
        self._stamp: tuple[int, int] | None = None

    def buckets(self, db: sqlite3.Connection, topic_id: str, width: int) -> dict[int, Bucket]:
        """The memo of (topic, width), emptied first if the posts may have changed since the last call
        (call under the store's lock, right before reading). Read with `copy_bucket`, fill with `put`."""
        stamp = self._posts_stamp.current(db)
        if stamp != self._stamp or self._size > MAX_BUCKETS:
            self._buckets.clear()
            self._size = 0
            self._stamp = stamp
        return self._buckets.setdefault((topic_id, width), {})

    def put(self, memo: dict[int, Bucket], at: int, b: Bucket) -> None:
        if at not in memo:
            self._size += 1
        memo[at] = copy_bucket(b, b.start)
