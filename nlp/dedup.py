"""Near-duplicate / coordinated-copy clusters (MinHash + LSH from `datasketch`).

Many authors posting the same text within hours is a key bot-raid and bad-buzz signal. Detection counts
posts per `Analysis.near_dup_cluster` in a time bucket, so the cluster id must be *stable*: it is the id of
the first post of the cluster (earliest `created_at`, then smallest id), and it never changes once given.

The index lives in memory and spans batches: posts are kept for `window` after the newest post seen, then
evicted. A post gets a cluster id only when its cluster has ≥ 2 members from ≥ 2 distinct authors (one
author repeating themselves is spam, not coordination). Limitation, by design of a streaming pipeline:
posts stored in an *earlier* batch before their cluster qualified keep `None` in the store — detection
under-counts such a cluster by those first posts (`labelled_late()` lists them so a caller can re-upsert).
"""

from __future__ import annotations

import re
import zlib
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from collections.abc import Sequence
from typing import Any

import numpy as np

from nlp import text as T
from vigie.core.models import utc
from vigie.core.text import fold

VERSION = "minhash-lsh/1"
# Posts shorter than this (in words) are too generic to call copies ("merci !", "nul").
MIN_WORDS = 6
# Only this many live members of a cluster are kept in the LSH index: a 10,000-post raid would otherwise
# return 10,000 candidates to every new copy (measured: 5x slower on template-heavy traffic).
REPRESENTATIVES = 3


def _crc32(data: bytes) -> int:
    # Deterministic across processes (Python's hash() is salted), and ~5x cheaper than datasketch's sha1.
    return zlib.crc32(data)


@dataclass
class _Cluster:
    id: str
    first_at: datetime
    authors: set[str] = field(default_factory=set)
    members: int = 0
    live: int = 0  # members still in the window
    representatives: int = 0  # members in the LSH index
    labelled: bool = False

    @property
    def qualifies(self) -> bool:
        return self.members >= 2 and len(self.authors) >= 2


class NearDuplicateIndex:
    """`assign(posts)` → cluster id (or None) per post, same order; remembers posts across calls."""

    version = VERSION

    def __init__(self, threshold: float = 0.7, num_perm: int = 64, window: timedelta = timedelta(hours=24)):
        from datasketch import MinHashLSH  # imported here: only the Analyzer needs it

        self.threshold = threshold
        self.num_perm = num_perm
        self.window = window
        self._lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
        self._hashes: dict[str, Any] = {}  # post id → MinHash
        self._post_cluster: dict[str, _Cluster] = {}
        self._times: dict[str, datetime] = {}  # representative id → created_at
        self._order: deque[tuple[datetime, str]] = deque()
        self._newest: datetime | None = None
        self._late: list[str] = []

    def __len__(self) -> int:
        return len(self._hashes)

    def assign(self, posts: list[Any], signatures: Sequence[Any] | None = None) -> list[str | None]:
        """`signatures`: `Signatures.minhashes()` of these posts' texts when computed elsewhere (worker
        processes); computed here otherwise. Either way the clusters are the same."""
        fresh = [i for i, post in enumerate(posts) if post.id not in self._post_cluster]  # replays keep their id
        if signatures is None:
            computed = Signatures.of([posts[i].text for i in fresh], self.num_perm).minhashes()
            by_index = dict(zip(fresh, computed))
        else:
            by_index = {i: signatures[i] for i in fresh}
        todo = [(i, posts[i], by_index[i], utc(posts[i].created_at))  # naive times are taken as UTC
                for i in fresh if by_index[i] is not None]
        # Earliest first so that the first post of a cluster names it, whatever the batch order.
        todo.sort(key=lambda item: (item[3], item[1].id))
        touched: set[int] = set()
        for _, post, mh, created in todo:
            self._advance(created)
            cluster = self._find(mh, created)
            if cluster is None:
                cluster = _Cluster(post.id, created)
            cluster.members += 1
            cluster.live += 1
            cluster.authors.add(_author_key(post))
            if cluster.representatives < REPRESENTATIVES:
                cluster.representatives += 1
                self._lsh.insert(post.id, mh)
                self._hashes[post.id] = mh
                self._times[post.id] = created
            self._post_cluster[post.id] = cluster
            self._order.append((created, post.id))
            touched.add(id(cluster))
        out: list[str | None] = []
        batch_ids = {p.id for p in posts}
        for post in posts:
            cluster = self._post_cluster.get(post.id)
            out.append(cluster.id if cluster is not None and cluster.qualifies else None)
        for cluster in {id(c): c for c in self._post_cluster.values() if id(c) in touched}.values():
            if cluster.qualifies and not cluster.labelled:
                cluster.labelled = True
                self._late.extend(pid for pid, c in self._post_cluster.items() if c is cluster and pid not in batch_ids)
        return out

    def labelled_late(self) -> list[str]:
        """Ids of posts from earlier batches whose cluster qualified since; cleared by the call."""
        late, self._late = self._late, []
        return late

    def cluster_of(self, post_id: str) -> str | None:
        cluster = self._post_cluster.get(post_id)
        return cluster.id if cluster is not None and cluster.qualifies else None

    def _find(self, mh: Any, at: datetime) -> _Cluster | None:
        best: tuple[tuple[datetime, str], _Cluster] | None = None
        for key in self._lsh.query(mh):
            when = self._times[key]
            if abs(when - at) > self.window or mh.jaccard(self._hashes[key]) < self.threshold:
                continue
            cluster = self._post_cluster[key]
            rank = (cluster.first_at, cluster.id)
            if best is None or rank < best[0]:
                best = (rank, cluster)
        return best[1] if best else None

    def _advance(self, at: datetime) -> None:
        if self._newest is None or at > self._newest:
            self._newest = at
        horizon = self._newest - self.window
        while self._order and self._order[0][0] < horizon:
            _, key = self._order.popleft()
            cluster = self._post_cluster.pop(key, None)
            if cluster is None:
                continue
            if key in self._hashes:
                self._lsh.remove(key)
                del self._hashes[key]
                del self._times[key]
                cluster.representatives -= 1
            cluster.live -= 1


_NOISE = re.compile(r"(?:https?://|www\.)\S+|(?<![\w@])@[\w.]+")


@dataclass
class Signatures:
    """MinHash signatures of a list of texts, one matrix row per text that has shingles: the expensive,
    order-independent half of `NearDuplicateIndex.assign` (normalisation, shingling, hashing), which the
    worker processes compute for their chunk. One array pickles far cheaper than one MinHash per post."""

    num_perm: int
    seed: int
    scheme: str
    rows: list[int]  # matrix row of each text, -1 when the text is too short to compare
    values: np.ndarray

    @classmethod
    def of(cls, texts: Sequence[Any], num_perm: int) -> "Signatures":
        from datasketch import MinHash

        shingled = [shingle(text) for text in texts]
        present = [s for s in shingled if s]
        hashes = MinHash.bulk(present, num_perm=num_perm, hashfunc=_crc32)
        probe = hashes[0] if hashes else MinHash(num_perm=num_perm, hashfunc=_crc32)
        values = (np.stack([h.hashvalues for h in hashes]) if hashes
                  else np.empty((0, num_perm), dtype=probe.hashvalues.dtype))
        rows, n = [], 0
        for s in shingled:
            rows.append(n if s else -1)
            n += bool(s)
        return cls(num_perm, probe.seed, probe.scheme, rows, values)

    @staticmethod
    def concat(parts: Sequence["Signatures"]) -> "Signatures":
        """The signatures of consecutive chunks as those of the whole batch."""
        rows, offset = [], 0
        for part in parts:
            rows.extend(r + offset if r >= 0 else -1 for r in part.rows)
            offset += len(part.values)
        first = parts[0]
        return Signatures(first.num_perm, first.seed, first.scheme, rows, np.concatenate([p.values for p in parts]))

    def minhashes(self) -> list[Any]:
        """One MinHash (frozen, same hash values as computed) or None per text."""
        from datasketch import LeanMinHash

        return [LeanMinHash(seed=self.seed, hashvalues=self.values[r], scheme=self.scheme) if r >= 0 else None
                for r in self.rows]


def shingle(text: str) -> list[bytes]:
    """Word bigrams of the folded text without URLs and mentions (raids vary those); [] when too short."""
    words = re.findall(r"\w+", fold(_NOISE.sub(" ", T.clean(text))))
    if len(words) < MIN_WORDS:
        return []
    return list({f"{a} {b}".encode() for a, b in zip(words, words[1:])})


def _author_key(post: Any) -> str:
    author = getattr(post, "author", None)
    ident = (author.id or author.handle) if author is not None else None
    return f"{post.source}:{ident}" if ident else f"post:{post.id}"  # unknown author: count as distinct
