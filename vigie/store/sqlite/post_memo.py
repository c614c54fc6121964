"""Posts already decoded by `SqliteStore.iter_posts`, kept while the posts are unchanged.

Detection's entity-spread driver reads the posts of a topic's 3-hour look-back, and during a story it does
so at consecutive buckets: 35 of the 36 buckets' posts were decoded by the previous read (JSON decoding is
nine tenths of a read). The memo keeps, per topic, the posts of one time range [lo, hi) as of the stamp
(`bucket_memo.PostsStamp`); a read that starts inside that range gets those posts back and reads from the
store only the posts at or after `hi`.

Late posts are never missed: the memo is emptied as soon as the posts may have changed (the stamp: another
connection committed, or this one wrote anything but risk points, alerts, outbox, cursors or leases), and
a range is kept only when it was read whole with the stamp unchanged from its first to its last page.
Callers get copies (`copy_post`), so nothing they do to a post reaches the memo.
"""

from __future__ import annotations

import sqlite3
from bisect import bisect_left
from dataclasses import dataclass, field

from vigie.core.models import Post
from vigie.store.sqlite.bucket_memo import PostsStamp

MAX_POSTS = 20_000  # a range holding more posts is not kept (a 3-hour look-back of a busy topic is ~1,000)


def _shell(obj):  # noqa: ANN001, ANN202 (any dataclass instance)
    """A new instance of obj's class with a copy of its attributes (the attributes themselves shared)."""
    c = object.__new__(type(obj))
    c.__dict__ = obj.__dict__.copy()
    return c


def copy_post(p: Post) -> Post:
    """A post nobody else holds: every nested record, list and dict copied (strings, numbers and datetimes
    are immutable and shared). Five times faster than decoding the post again; `tests/test_store_sqlite.py`
    checks that no mutable part of a fully filled post is shared, so a field added later cannot slip by."""
    c = _shell(p)
    d = c.__dict__
    d["author"] = _shell(p.author)
    d["engagement"] = _shell(p.engagement)
    d["topic_ids"] = list(p.topic_ids)
    a = p.analysis
    if a is not None:
        ca = d["analysis"] = _shell(a)
        ad = ca.__dict__
        s = ad["sentiment"] = _shell(a.sentiment)
        if a.sentiment.probs is not None:
            s.__dict__["probs"] = dict(a.sentiment.probs)
        cr = ad["crisis"] = _shell(a.crisis)
        cr.__dict__["categories"], cr.__dict__["terms"] = list(a.crisis.categories), list(a.crisis.terms)
        ad["topic_ids"], ad["entities"], ad["notes"] = list(a.topic_ids), list(a.entities), list(a.notes)
        ad["model_versions"] = dict(a.model_versions)
    e = p.entities
    if e is not None:
        ce = d["entities"] = _shell(e)
        ed = ce.__dict__
        ed["hashtags"], ed["mentions"], ed["links"], ed["domains"] = (list(e.hashtags), list(e.mentions),
                                                                      list(e.links), list(e.domains))
    return c


@dataclass
class _Range:
    """Every post of a topic with lo <= created_at < hi, in (created_at, id) order, as of `stamp`."""

    lo: float
    hi: float
    stamp: tuple[int, int]
    at: list[float] = field(default_factory=list)  # created_at of each post (the SQL column), for bisect
    posts: list[Post] = field(default_factory=list)


class PostMemo:
    def __init__(self, stamp: PostsStamp) -> None:
        self._stamp = stamp
        self._ranges: dict[str, _Range] = {}

    def start(self, db: sqlite3.Connection, topic_id: str, lo: float, hi: float) -> "PostRead":
        """Begin a read of the topic's posts in [lo, hi) (call under the store's lock): the posts the memo
        already holds for it, and where the store must read from."""
        stamp = self._stamp.current(db)
        if any(r.stamp != stamp for r in self._ranges.values()):  # the posts may have changed: start again
            self._ranges.clear()
        kept = self._ranges.get(topic_id)
        if kept is None or not kept.lo <= lo <= kept.hi:  # nothing kept for the start of this range
            return PostRead(self, topic_id, lo, hi, stamp, [], [], lo)
        i, j = bisect_left(kept.at, lo), bisect_left(kept.at, min(hi, kept.hi))
        return PostRead(self, topic_id, lo, hi, stamp, kept.at[i:j], kept.posts[i:j], max(lo, kept.hi))

    def finish(self, db: sqlite3.Connection, read: "PostRead") -> None:
        """Keep what `read` saw, if the posts did not change while it was read (call under the lock)."""
        if self._stamp.current(db) != read.stamp or len(read.posts) > MAX_POSTS:
            return
        self._ranges[read.topic_id] = _Range(read.lo, read.hi, read.stamp, read.at, read.posts)


@dataclass
class PostRead:
    """One read in progress: the memo's posts for its range, then those the store adds from `read_from`."""

    memo: PostMemo
    topic_id: str
    lo: float
    hi: float
    stamp: tuple[int, int]
    at: list[float]
    posts: list[Post]  # the memo's own objects: hand out copies
    read_from: float  # the store reads [read_from, hi); when read_from >= hi the memo had everything

    def add(self, created_at: float, post: Post) -> None:
        """A post the store read for this range (the memo keeps a copy; the caller gets `post`)."""
        self.at.append(created_at)
        self.posts.append(copy_post(post))
