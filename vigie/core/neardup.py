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
        return self.signature is not None
