"""The near-duplicate index's state as the store keeps it: one `NearDupEntry` per recent post.

The NLP step (`nlp/dedup.py`) produces these entries and the store keeps them (`vigie.store.base.NearDupStore`),
so that copy clusters do not depend on which process analysed which post: every `vigie run`, every Airflow
task, starts from the entries of the last `window` and adds its own. Both sides import this module only
(the core): the store never imports nlp, nlp never imports the store.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class NearDupEntry:
    """One post of the near-duplicate index. Immutable once written: a post re-analysed later keeps the
    entry (and so the cluster) it got the first time.

    `cluster_id` / `cluster_at`: the cluster the post joined, named after the post that started it, and when
    that post was created (the rank that decides which cluster a new copy joins when it matches several).
    `signature`: the MinHash hash values (little-endian uint32) when the post is one of the few members of its
    cluster kept in the LSH index (a representative); None for the other members, which only count (size,
    distinct authors). `sketch` says how the signature was computed (index version, permutations, seed,
    permutation scheme): entries of another sketch are ignored, never compared. Times are aware (UTC)."""

    post_id: str
    created_at: datetime
    author: str
    cluster_id: str
    cluster_at: datetime
    sketch: str
    signature: bytes | None = None

    @property
    def representative(self) -> bool:
        return self.signature is not None and not self.is_merge

    # -- merge records ---------------------------------------------------------------------------------------
    # Two processes analysing the first copies of a text at the same moment start two clusters; the first
    # process to see both merges them (nlp/dedup.py) and writes a merge record with the entries, so that
    # every process and every later load applies the same union. A record is an entry (same table or index,
    # same incremental reads, same pruning) told apart by its `post_id` prefix; `author` holds the merged
    # cluster's id, `cluster_id` / `cluster_at` the cluster it was merged into, `created_at` the newest post
    # time when merged (at or after every member it renamed, so it stays loaded as long as they do).
    @classmethod
    def merge(cls, merged: str, into: str, into_at: datetime, at: datetime, sketch: str) -> "NearDupEntry":
        return cls(f"{MERGE_PREFIX}{merged}>{into}", at, merged, into, into_at, sketch, None)

    @property
    def is_merge(self) -> bool:
        return self.post_id.startswith(MERGE_PREFIX)

    @property
    def merged(self) -> str:
        """The id of the cluster a merge record merged (into `cluster_id`)."""
        return self.author


# Post ids are `<source>:<native id>` (vigie.core.models): no source is called "~merge".
MERGE_PREFIX = "~merge:"
