"""Near-duplicate / coordinated-copy clusters (MinHash + LSH from `datasketch`).

Many authors posting the same text within hours is a key bot-raid and bad-buzz signal. Detection counts
posts per `Analysis.near_dup_cluster` in a time bucket, so the cluster id must be *stable*: it is the id of
the first post of the cluster (earliest `created_at`, then smallest id, within a batch), and it never
changes once given.

The window: a post stays in the index while it is less than `window` older than the newest post indexed
(eviction by time, whatever the order posts arrived in). A post gets a cluster id when its cluster has ≥ 2
members from ≥ 2 distinct authors *within the window* (one author repeating themselves is spam, not
coordination). Reposts (`Post.relation == "repost"`) carry no words of their author: they are
amplification of their original, never a copy, so they never enter the index (quotes and replies do: they
have their own text). `latest`, when set, is the latest `created_at` accepted (the clock rules: the pipeline
sets it to what it would not quarantine): a post dated later is left out, so it cannot move the window.

Across processes: the index is a cache of the store's state. With `record()` on, every post it indexes
leaves a `NearDupEntry` (`take_entries()`), which the pipeline stores with the posts; `load(entries)` puts
the entries of the last window (written by this process or by others) back. The state after a batch is a
function of the entries of the window only (members, authors and representatives are counted over live
entries; eviction is by time), so one process, or one process per bucket reloading from the store, assign
the same clusters (tests/test_near_dup_store.py).

Late labels: posts stored in an earlier batch before their cluster qualified keep `None` in the store;
`labelled_late()` lists them, once, so the caller can re-store them (vigie/pipeline/steps.py).
"""

from __future__ import annotations

import heapq
import re
import zlib
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from nlp import text as T
from vigie.core.models import utc
from vigie.core.neardup import NearDupEntry
from vigie.core.text import fold

VERSION = "minhash-lsh/2"
# Posts shorter than this (in words) are too generic to call copies ("merci !", "nul").
MIN_WORDS = 6
# Only this many live members of a cluster are kept in the LSH index: a 10,000-post raid would otherwise
# return 10,000 candidates to every new copy (measured: 5x slower on template-heavy traffic).
REPRESENTATIVES = 3


def _crc32(data: bytes) -> int:
    # Deterministic across processes (Python's hash() is salted), and ~5x cheaper than datasketch's sha1.
    return zlib.crc32(data)


@dataclass(eq=False)
class _Cluster:
    id: str
    first_at: datetime
    authors: Counter[str] = field(default_factory=Counter)  # live members per author
    posts: set[str] = field(default_factory=set)  # ids of the live members

    @property
    def live(self) -> int:  # members in the window
        return len(self.posts)

    representatives: int = 0  # members in the LSH index
    qualified: bool = False  # whether it qualified at the end of the last change (late labels)

    @property
    def qualifies(self) -> bool:
        return self.live >= 2 and len(self.authors) >= 2


@dataclass(eq=False)
class _Member:
    created: datetime
    author: str
    cluster: _Cluster
    representative: bool


class NearDuplicateIndex:
    """`assign(posts)` → cluster id (or None) per post, same order; remembers posts across calls."""

    version = VERSION

    def __init__(self, threshold: float = 0.7, num_perm: int = 64, window: timedelta = timedelta(hours=24)):
        self.threshold = threshold
        self.num_perm = num_perm
        self.window = window
        self.latest: datetime | None = None  # posts dated later are left out (see the module docstring)
        # Where this cache stands against the store (the pipeline's bookkeeping, vigie/pipeline/steps.py):
        # None until loaded from it; then the store's opaque mark of the last entries read.
        self.store_mark: Any = None
        self.loaded = False
        self.pruned_at: datetime | None = None  # newest post time when the store was last pruned
        self._pending: list[NearDupEntry] | None = None
        self.reset()

    def reset(self) -> None:
        """Forget everything (the store, if any, is reloaded before the next batch)."""
        from datasketch import MinHashLSH  # imported here: only the Analyzer needs it

        self._lsh = MinHashLSH(threshold=self.threshold, num_perm=self.num_perm)
        self._hashes: dict[str, Any] = {}  # representative id → MinHash
        self._members: dict[str, _Member] = {}  # live post id → member
        self._clusters: dict[str, _Cluster] = {}  # cluster id → cluster with live members
        self._heap: list[tuple[datetime, str]] = []  # (created_at, post id) of live members: eviction by time
        self._newest: datetime | None = None
        self._late: list[str] = []
        self._sketch: str | None = None
        self.store_mark, self.loaded = None, False
        if self._pending is not None:
            self._pending = []

    def __len__(self) -> int:
        """Posts in the LSH index (at most `REPRESENTATIVES` per cluster)."""
        return len(self._hashes)

    @property
    def members(self) -> int:
        """Posts in the window (every member of every cluster, singletons included)."""
        return len(self._members)

    @property
    def newest(self) -> datetime | None:
        return self._newest

    def horizon(self, newest: datetime | None = None) -> datetime | None:
        """Posts created before this time have left the window (None: nothing indexed yet)."""
        newest = self._newest if newest is None else newest
        return None if newest is None else newest - self.window

    # -- persistence ------------------------------------------------------------------------------------
    def record(self) -> None:
        """Keep a `NearDupEntry` for every post indexed from now on (`take_entries`)."""
        if self._pending is None:
            self._pending = []

    def take_entries(self) -> list[NearDupEntry]:
        """The entries of the posts indexed since the last call (empty unless `record()` was called)."""
        out, self._pending = (self._pending or []), ([] if self._pending is not None else None)
        return out

    def load(self, entries: Iterable[NearDupEntry], report_late: bool = False) -> int:
        """Put stored entries back (those of posts already held, or of another sketch, are skipped). With
        `report_late`, a cluster that qualifies only with the loaded entries (another process added to it
        concurrently) has its members listed in `labelled_late()`. Returns how many entries were loaded."""
        from datasketch import LeanMinHash

        changed: set[_Cluster] = set()
        before: dict[int, bool] = {}
        loaded = 0
        sketch = self._sketch_id()
        members = self._members
        # Stored entries carry aware UTC times (`NearDupEntry`): compared as they are.
        for entry in sorted((e for e in entries if e.post_id not in members and e.sketch == sketch),
                            key=lambda e: (e.created_at, e.post_id)):
            created = entry.created_at
            cluster = self._clusters.get(entry.cluster_id)
            if cluster is None:
                cluster = self._clusters[entry.cluster_id] = _Cluster(entry.cluster_id, entry.cluster_at)
            before.setdefault(id(cluster), cluster.qualified)
            mh = None
            if entry.signature is not None:
                values = np.frombuffer(entry.signature, dtype="<u4").astype(self._dtype)
                mh = LeanMinHash(seed=self._seed, hashvalues=values, scheme=self._scheme)
            self._join(entry.post_id, created, entry.author, cluster, mh, changed)
            if self._newest is None or created > self._newest:
                self._newest = created
            loaded += 1
        self._evict(changed)
        for cluster in changed:
            if report_late and cluster.qualifies and not before.get(id(cluster), False):
                self._late.extend(sorted(cluster.posts))
            cluster.qualified = cluster.qualifies
        return loaded

    def _sketch_id(self) -> str:
        if self._sketch is None:
            from datasketch import MinHash

            probe = MinHash(num_perm=self.num_perm, hashfunc=_crc32)
            self._seed, self._scheme = probe.seed, probe.scheme
            self._dtype = probe.hashvalues.dtype
            self._sketch = f"{VERSION};perm={self.num_perm};seed={probe.seed};{probe.scheme};t={self.threshold}"
        return self._sketch

    # -- assignment --------------------------------------------------------------------------------------
    def assign(self, posts: list[Any], signatures: Sequence[Any] | None = None) -> list[str | None]:
        """`signatures`: `Signatures.minhashes()` of these posts' texts when computed elsewhere (worker
        processes); computed here otherwise. Either way the clusters are the same."""
        try:
            return self._assign(posts, signatures)
        except Exception:
            self.reset()  # a half-updated cache must not be trusted: reloaded from the store next time
            raise

    def _assign(self, posts: list[Any], signatures: Sequence[Any] | None) -> list[str | None]:
        sketch = self._sketch_id()
        latest = utc(self.latest) if self.latest is not None else None
        fresh = [i for i, post in enumerate(posts)
                 if post.id not in self._members  # replays keep their cluster
                 and getattr(post, "relation", "original") != "repost"  # amplification, never a copy
                 and (latest is None or utc(post.created_at) <= latest)]  # the clock rules
        if signatures is None:
            computed = Signatures.of([posts[i].text for i in fresh], self.num_perm).minhashes()
            by_index = dict(zip(fresh, computed))
        else:
            by_index = {i: signatures[i] for i in fresh}
        todo = [(i, posts[i], by_index[i], utc(posts[i].created_at))  # naive times are taken as UTC
                for i in fresh if by_index[i] is not None]
        # Earliest first so that the first post of a cluster names it, whatever the batch order.
        todo.sort(key=lambda item: (item[3], item[1].id))
        changed: set[_Cluster] = set()
        touched: dict[int, tuple[_Cluster, bool]] = {}
        for _, post, mh, created in todo:
            self._advance(created, changed)
            cluster = self._find(mh, created)
            if cluster is None:
                cluster = self._clusters[post.id] = _Cluster(post.id, created)
            touched.setdefault(id(cluster), (cluster, cluster.qualified))
            author = _author_key(post)
            rep = mh if cluster.representatives < REPRESENTATIVES else None
            self._join(post.id, created, author, cluster, rep, changed)
            if self._pending is not None:
                self._pending.append(NearDupEntry(
                    post.id, created, author, cluster.id, cluster.first_at, sketch,
                    np.asarray(rep.hashvalues, dtype="<u4").tobytes() if rep is not None else None))
        self._evict(changed)  # posts that arrived already older than the window leave now
        out: list[str | None] = []
        for post in posts:
            member = self._members.get(post.id)
            out.append(member.cluster.id if member is not None and member.cluster.qualifies else None)
        batch_ids = {p.id for p in posts}
        for cluster, was in touched.values():
            if cluster.qualifies and not was:
                self._late.extend(sorted(cluster.posts - batch_ids))
        for cluster in changed:
            cluster.qualified = cluster.qualifies
        return out

    def labelled_late(self) -> list[str]:
        """Ids of posts from earlier batches whose cluster qualified since; cleared by the call."""
        late, self._late = self._late, []
        return late

    def cluster_of(self, post_id: str) -> str | None:
        member = self._members.get(post_id)
        return member.cluster.id if member is not None and member.cluster.qualifies else None

    def _join(self, post_id: str, created: datetime, author: str, cluster: _Cluster, mh: Any,
              changed: set[_Cluster]) -> None:
        cluster.posts.add(post_id)
        cluster.authors[author] += 1
        if mh is not None:
            cluster.representatives += 1
            self._lsh.insert(post_id, mh)
            self._hashes[post_id] = mh
        self._members[post_id] = _Member(created, author, cluster, mh is not None)
        heapq.heappush(self._heap, (created, post_id))
        changed.add(cluster)

    def _find(self, mh: Any, at: datetime) -> _Cluster | None:
        best: tuple[tuple[datetime, str], _Cluster] | None = None
        for key in self._lsh.query(mh):
            member = self._members[key]
            if abs(member.created - at) > self.window or mh.jaccard(self._hashes[key]) < self.threshold:
                continue
            cluster = member.cluster
            rank = (cluster.first_at, cluster.id)
            if best is None or rank < best[0]:
                best = (rank, cluster)
        return best[1] if best else None

    def _advance(self, at: datetime, changed: set[_Cluster]) -> None:
        if self._newest is None or at > self._newest:
            self._newest = at
            self._evict(changed)

    def _evict(self, changed: set[_Cluster]) -> None:
        """Drop every member created before the horizon: by time, so neither the order posts arrived in nor
        one post far ahead of the others can keep old members in."""
        if self._newest is None:
            return
        horizon = self._newest - self.window
        heap = self._heap
        while heap and heap[0][0] < horizon:
            _, key = heapq.heappop(heap)
            member = self._members.pop(key, None)
            if member is None:
                continue
            cluster = member.cluster
            if member.representative:
                self._lsh.remove(key)
                del self._hashes[key]
                cluster.representatives -= 1
            cluster.posts.discard(key)
            cluster.authors[member.author] -= 1
            if not cluster.authors[member.author]:
                del cluster.authors[member.author]
            if not cluster.live:
                self._clusters.pop(cluster.id, None)
            changed.add(cluster)


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
        from nlp.minhash import minhash_values  # MinHash.bulk's values, in a few array operations

        shingled = [shingle(text) for text in texts]
        values, probe = minhash_values([s for s in shingled if s], num_perm, _crc32)
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
