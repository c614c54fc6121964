"""Near-duplicate / coordinated-copy clusters (MinHash + LSH from `datasketch`).

Many authors posting the same text within hours is a key bot-raid and bad-buzz signal. Detection counts
posts per `Analysis.near_dup_cluster` in a time bucket, so the cluster id must not depend on who analysed
what in which order: it is the id of the cluster's first post (earliest `created_at`, then smallest id).
When a copy older than that arrives (a late post; a source analysed after another of the same moment), the
cluster takes its id: a merge (below), so its stored members are relabelled.

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

Races: two processes analysing the first copies of a text at the same moment, each blind to the other's
entries, start two clusters. At its next load, a process compares the other processes' new representatives
with the ones it assigned since its previous load (`_merge_races`); a match where either post started its
cluster merges the two (union by rank: the earlier-ranked cluster keeps its id, whoever finds it). Every
merge (race or rename) leaves a merge record among the entries (`NearDupEntry.merge`), which other
processes and later loads apply, so the state stays a function of the stored entries.

Late labels: posts stored in an earlier batch before their cluster qualified keep `None` in the store;
`labelled_late()` lists them, once, so the caller can re-store them (vigie/pipeline/steps.py); so are the
members of a merged cluster whose stored id changed.
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
        # Merged clusters (nlp docstring "Races"): merged id → (id merged into, its first time); a heap of
        # (merge time, merged id) bounds it by age like the members.
        self._alias: dict[str, tuple[str, datetime]] = {}
        self._alias_heap: list[tuple[datetime, str]] = []
        # Representatives this index assigned since it last loaded the store (→ whether each started its
        # cluster): assigned blind to what other processes wrote meanwhile, so checked against it next load.
        self._unsynced: dict[str, bool] = {}
        self._unioned: set[str] = set()  # ids of clusters merged during the current assign/load
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
        merges: list[NearDupEntry] = []
        foreign: list[NearDupEntry] = []  # representatives another process wrote since the last load
        # Stored entries carry aware UTC times (`NearDupEntry`): compared as they are.
        for entry in sorted((e for e in entries if e.post_id not in members and e.sketch == sketch),
                            key=lambda e: (e.created_at, e.post_id)):
            if entry.is_merge:
                merges.append(entry)
                continue
            created = entry.created_at
            cluster = self._named(entry.cluster_id, entry.cluster_at)
            before.setdefault(id(cluster), cluster.qualified)
            mh = None
            if entry.signature is not None:
                values = np.frombuffer(entry.signature, dtype="<u4").astype(self._dtype)
                mh = LeanMinHash(seed=self._seed, hashvalues=values, scheme=self._scheme)
            self._join(entry.post_id, created, entry.author, cluster, mh, changed)
            if mh is not None and report_late:
                foreign.append(entry)
            if self._newest is None or created > self._newest:
                self._newest = created
            loaded += 1
        for record in merges:  # after the members: a record may name clusters loaded just above
            self._apply_merge(record, changed)
            loaded += 1
        if foreign and self._unsynced:
            self._merge_races(foreign, changed)
        self._unsynced.clear()  # everything assigned so far has now been checked against the store
        self._evict(changed)
        for cluster in changed:
            if report_late and cluster.qualifies and not before.get(id(cluster), False):
                self._late.extend(sorted(cluster.posts))
            cluster.qualified = cluster.qualifies
        self._report_unioned(set() if report_late else None)
        return loaded

    # -- races between processes ----------------------------------------------------------------------------
    def _merge_races(self, foreign: list[NearDupEntry], changed: set[_Cluster]) -> None:
        """Two processes that analysed copies of one text at the same moment, each blind to the other's
        entries, may have started two clusters. Each loaded representative of another process is compared
        with the representatives this index assigned since its last load (the only ones the other process
        cannot have seen, and that could not see it); a match where either post started its cluster is what
        one process would have put in one cluster: the two clusters merge, the earlier-ranked one keeps its
        id (union by rank: the same result whichever process sees the race first, or both)."""
        for entry in foreign:
            mine = self._members.get(entry.post_id)
            mh = self._hashes.get(entry.post_id)
            if mine is None or mh is None:
                continue
            started = entry.cluster_id == entry.post_id
            for key in self._lsh.query(mh):
                own_start = self._unsynced.get(key)
                if own_start is None or not (started or own_start):
                    continue
                other = self._members[key]
                if other.cluster is mine.cluster or abs(other.created - mine.created) > self.window:
                    continue
                if mh.jaccard(self._hashes[key]) >= self.threshold:
                    self._union(other.cluster, mine.cluster, changed, record=True)

    def _root(self, cluster_id: str, at: datetime) -> tuple[str, datetime]:
        """The id (and first time) a cluster id stands for now: itself, or what it was merged into."""
        while cluster_id in self._alias:
            cluster_id, at = self._alias[cluster_id]
        return cluster_id, at

    def _named(self, cluster_id: str, at: datetime) -> _Cluster:
        """The live cluster an entry's cluster id stands for (created, empty, if none is live)."""
        cluster_id, at = self._root(cluster_id, at)
        cluster = self._clusters.get(cluster_id)
        if cluster is None:
            cluster = self._clusters[cluster_id] = _Cluster(cluster_id, at)
        return cluster

    def _apply_merge(self, record: NearDupEntry, changed: set[_Cluster]) -> None:
        merged_id, merged_at = self._root(record.merged, record.cluster_at)
        into_id, into_at = self._root(record.cluster_id, record.cluster_at)
        if merged_id == into_id:
            return  # applied already (a record read again, or the same race merged by two processes)
        merged, into = self._clusters.get(merged_id), self._clusters.get(into_id)
        if merged is None and merged_id == record.merged:
            # Nothing of it is held here, so its first time is unknown (not in the record): the record decides.
            self._set_alias(merged_id, into_id, into_at, record.created_at)
            return
        self._union(merged or _Cluster(merged_id, merged_at), into or _Cluster(into_id, into_at), changed,
                    at=record.created_at)

    def _union(self, a: _Cluster, b: _Cluster, changed: set[_Cluster], record: bool = False,
               at: datetime | None = None) -> _Cluster:
        """Merge two live clusters; the one ranked first (first post time, then id) keeps its id."""
        winner, loser = (a, b) if (a.first_at, a.id) <= (b.first_at, b.id) else (b, a)
        for post_id in loser.posts:
            self._members[post_id].cluster = winner
        winner.posts |= loser.posts
        winner.authors.update(loser.authors)
        winner.representatives += loser.representatives
        loser.posts, loser.authors, loser.representatives = set(), Counter(), 0
        self._clusters.pop(loser.id, None)
        at = at or self._newest or winner.first_at
        self._set_alias(loser.id, winner.id, winner.first_at, at)
        if winner.posts:
            self._clusters[winner.id] = winner
        else:
            self._clusters.pop(winner.id, None)
        if record and self._pending is not None:
            self._pending.append(NearDupEntry.merge(loser.id, winner.id, winner.first_at, at, self._sketch_id()))
        changed.add(winner)
        self._unioned.add(winner.id)
        return winner

    def _set_alias(self, merged: str, into: str, into_at: datetime, at: datetime) -> None:
        if merged != into and merged not in self._alias:
            self._alias[merged] = (into, into_at)
            heapq.heappush(self._alias_heap, (at, merged))

    def _report_unioned(self, exclude: set[str] | None) -> None:
        """Members of merged clusters carry a stale id in the store: listed for relabelling (unless
        `exclude` is None: a first load, whose store already holds what the merging process relabelled)."""
        unioned, self._unioned = self._unioned, set()
        if exclude is None:
            return
        for cluster_id in sorted(unioned):
            cluster = self._clusters.get(self._root(cluster_id, datetime.min)[0])
            if cluster is not None and cluster.qualifies:
                self._late.extend(sorted(cluster.posts - exclude))

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
            elif (created, post.id) < (cluster.first_at, cluster.id):
                # A copy older than the cluster's first post (a late post, or a source analysed after another
                # one of the same moment) names it: the cluster's id does not depend on the order of arrival.
                touched.setdefault(id(cluster), (cluster, cluster.qualified))
                was = cluster.qualified
                cluster = self._union(cluster, _Cluster(post.id, created), changed, record=True)
                cluster.qualified = was
            touched.setdefault(id(cluster), (cluster, cluster.qualified))
            author = _author_key(post)
            rep = mh if cluster.representatives < REPRESENTATIVES else None
            self._join(post.id, created, author, cluster, rep, changed)
            if rep is not None:
                self._unsynced[post.id] = cluster.id == post.id
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
        self._report_unioned(batch_ids)
        return out

    def labelled_late(self) -> list[str]:
        """Ids of posts from earlier batches whose cluster qualified since; cleared by the call."""
        late, self._late = list(dict.fromkeys(self._late)), []  # once each, a merge may list a post again
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
        aliases = self._alias_heap
        while aliases and aliases[0][0] < horizon - self.window:  # a window's margin for a lagging process
            self._alias.pop(heapq.heappop(aliases)[1], None)
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
