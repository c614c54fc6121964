"""The store contract: one protocol, several adapters, one contract test suite.

Detection, reports and notebooks only talk to this protocol, so they run the same on the embedded
SQLite file and on an Elasticsearch cluster.

The protocol is split by the kind of data it keeps, so an adapter's surface reads concern by concern and a
caller can say which part it needs (`PostStore` for an export, `CursorStore` for collection health):
posts (and the detection inputs read from them), alerts, risk points, cursors, quarantine, the outbox
and lease of the detect-and-deliver step, the near-duplicate index's state, and maintenance. `Store` is all of them: what an adapter
implements and what `vigie.store.open_store` returns.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol, runtime_checkable

from vigie.core.models import (
    Alert,
    AlertState,
    Bucket,
    Cursor,
    OutboxEntry,
    Post,
    Quarantined,
    RiskPoint,
    UpsertResult,
)
from vigie.core.neardup import NearDupEntry

RankBy = Literal["engagement", "reach", "negative", "crisis", "recent"]


@runtime_checkable
class PostStore(Protocol):
    """Posts, and the two reads detection makes of them (`series`, `top_posts`)."""

    def upsert_posts(self, posts: Sequence[Post]) -> UpsertResult:
        """Insert or update by `Post.id`; the same post twice never makes two documents."""

    def get_post(self, post_id: str) -> Post | None: ...

    def count_posts(self, topic_id: str | None = None) -> int: ...

    def posts(
        self, topic_id: str | None, start: datetime | None = None, end: datetime | None = None, limit: int | None = None
    ) -> list[Post]:
        """Posts of a topic (or all posts) with `start <= created_at < end`, oldest first."""

    def iter_posts(
        self, topic_id: str | None, start: datetime | None = None, end: datetime | None = None, page_size: int = 1000
    ) -> Iterator[Post]:
        """The same posts as `posts`, in the same order, read `page_size` at a time: an export of months of
        posts never holds more than one page in memory."""

    def series(self, topic_id: str, start: datetime, end: datetime, bucket: timedelta) -> list[Bucket]:
        """One `Bucket` per bucket in [start, end), empty buckets included, aligned on `start`."""

    def top_posts(
        self, topic_id: str, start: datetime, end: datetime, by: RankBy = "engagement", limit: int = 5
    ) -> list[Post]: ...


@runtime_checkable
class AlertStore(Protocol):
    def save_alert(self, alert: Alert) -> None:
        """Insert or replace by `Alert.dedup_key`."""

    def get_alert(self, alert_id: str) -> Alert | None: ...

    def open_alerts(self, topic_id: str | None = None) -> list[Alert]: ...

    def alert_history(self, topic_id: str | None = None, since: datetime | None = None) -> list[Alert]: ...

    def last_alert(self, topic_id: str, state: AlertState | None = None) -> Alert | None:
        """The topic's most recent alert (by `opened_at`, ties by `id`), optionally only in `state`.
        One indexed read: detection asks this every bucket, where `alert_history` grows forever."""


@runtime_checkable
class RiskStore(Protocol):
    """The risk curve: one point per topic and assessed bucket (dashboards, notebooks, reports)."""

    def save_risk(self, points: Sequence[RiskPoint]) -> None:
        """Insert or replace by (topic_id, at): re-assessing a bucket never makes two points."""

    def risk_series(self, topic_id: str, start: datetime, end: datetime) -> list[RiskPoint]:
        """The topic's stored risk points with `start <= at < end`, oldest first."""


@runtime_checkable
class CursorStore(Protocol):
    """Small keyed documents: listener and detection cursors, collection health (vigie/store/health.py)."""

    def get_cursor(self, source: str, query: str) -> Cursor | None: ...

    def set_cursor(self, cursor: Cursor) -> None: ...

    def update_cursor(self, source: str, query: str, change: Callable[[dict[str, Any] | None], dict[str, Any]],
                      updated_at: datetime | None = None) -> dict[str, Any]:
        """Read-modify-write one cursor without losing a concurrent writer's change: `change(value)` (None
        when there is no cursor yet) returns the new value, which is written only if nobody wrote the cursor
        since it was read. Parallel ingest tasks (one per platform, or `vigie run` next to the DAG) fold
        into the same records (collection health, re-assessment markers). SQLite: one IMMEDIATE transaction.
        Elasticsearch: `if_seq_no`/`if_primary_term`, re-read and retried on conflict, so `change` may run
        more than once and must only compute from its argument. Returns the value written."""


@runtime_checkable
class QuarantineStore(Protocol):
    def quarantine(self, source: str, record: Any, reason: str, context: dict[str, Any] | None = None) -> bool:
        """Keep a record we could not process, with why. Returns False if it was already quarantined."""

    def quarantined(self, source: str | None = None) -> list[Quarantined]: ...


@runtime_checkable
class OutboxStore(Protocol):
    """The detect-and-deliver step (vigie/pipeline/outbox.py, vigie/pipeline/steps.py): a bucket's changes
    committed with the messages they owe, and the delivery audit trail."""

    def commit_bucket(self, alerts: Sequence[Alert], outbox: Sequence[OutboxEntry], risk: Sequence[RiskPoint],
                      cursors: Sequence[Cursor], lease: "Lease | None" = None) -> None:
        """Commit one assessed bucket: the alert changes, the messages they owe (outbox entries, added only
        if absent: a re-detected bucket never resets an entry already sent), the risk points, then the
        detection cursors. SQLite: one transaction. Elasticsearch (no transactions): outbox first, then
        alerts, risk and cursors last, so a crash leaves at worst a bucket that is assessed again and finds
        its outbox entries already there. With `lease`, raises `LeaseLost` (and writes nothing, on SQLite)
        if another process holds the detection lease now."""

    def outbox_open(self) -> list[OutboxEntry]:
        """Entries still to do (`pending`, `sending`), oldest bucket first, in commit order."""

    def outbox_entries(self, alert_id: str | None = None) -> list[OutboxEntry]:
        """Every entry (of one alert), oldest bucket first: the delivery audit trail."""

    def enqueue(self, entries: Sequence[OutboxEntry]) -> int:
        """Add entries that are not there yet (same id: kept as is). Returns how many were added."""

    def record_delivery(self, entry: OutboxEntry, alert: Alert | None = None) -> None:
        """Save an entry's new state, and the alert whose delivery log tells it (SQLite: together)."""


@runtime_checkable
class LeaseStore(Protocol):
    """One process at a time runs detect-and-deliver: a named lease with an owner and an expiry."""

    def acquire_lease(self, name: str, owner: str, ttl_s: float, now: float | None = None,
                      stale: Callable[[str], bool] | None = None) -> bool:
        """Take (or renew) the lease `name` for `ttl_s` seconds if it is free, expired, already ours, or
        held by an owner `stale(owner)` says is dead. Atomic across processes: of two concurrent callers
        exactly one wins."""

    def release_lease(self, name: str, owner: str) -> None:
        """Give the lease back (only if still ours)."""


@runtime_checkable
class NearDupStore(Protocol):
    """The near-duplicate index's state (`vigie.core.neardup.NearDupEntry`, one per recent post that could be a
    copy), so that copy clusters do not depend on which process analysed which post. The NLP step keeps the
    index in memory as a cache; the pipeline (vigie/pipeline/steps.py) loads it from here before a batch and
    saves the batch's new entries right after its posts. The entries are read back by `created_at` (the
    window) and by write order (what other processes added since the last read). Merge records
    (`NearDupEntry.is_merge`: two clusters found to be one) are entries like the others for the store."""

    def save_near_dups(self, entries: Sequence[NearDupEntry]) -> int:
        """Add entries; an entry whose post already has one is kept as it was (the first analysis decides the
        cluster: a re-run changes nothing). Returns how many were added."""

    def near_dups(self, since: datetime, after: Any = None) -> tuple[list[NearDupEntry], Any]:
        """Entries of posts created at or after `since`, oldest first; with `after` (the mark a previous call
        returned), only those written since that call (they may include a few already read: the caller skips
        the posts it holds). Returns the entries and the mark to pass next time."""

    def near_dup_newest(self) -> datetime | None:
        """The newest `created_at` among the entries (None when there is none): where the window ends."""

    def prune_near_dups(self, before: datetime) -> int:
        """Remove the entries of posts created before `before` (out of every window); how many."""


@runtime_checkable
class MaintenanceStore(Protocol):
    def purge(self, before: datetime) -> int:
        """Retention: remove the posts created before `before` (and their topic links, their near-duplicate
        entries) and the risk points assessed before it. Alerts, cursors and quarantine are kept (audit trail). Returns how many posts
        were removed; a second call, 0."""

    def close(self) -> None: ...


@runtime_checkable
class Store(PostStore, AlertStore, RiskStore, CursorStore, QuarantineStore, OutboxStore, LeaseStore,
            NearDupStore, MaintenanceStore, Protocol):
    """The whole contract: what every adapter implements (tests/test_store_contract.py runs it on each)."""


# -- capabilities: methods only some adapters have; `vigie.store.backend.StoreBackend` says which -------------
@runtime_checkable
class InstallableStore(Protocol):
    """Capability `installable`: a store with an install step (templates, policies, indices)."""

    def check(self) -> dict[str, Any]:
        """Prove the connection, credentials and product; the server's description."""

    def setup(self) -> list[str]:
        """Create or update what the store needs; idempotent. One line per action, for the CLI."""


@runtime_checkable
class LifecyclePolicyStore(Protocol):
    """Capability `lifecycle_policy`: retention may be done by the server instead of `purge`."""

    def ilm_available(self) -> bool: ...


class LeaseLost(RuntimeError):
    """Another process holds the detection lease: this one must stop writing (its lease expired)."""


class Lease:
    """A held lease, passed to `commit_bucket` so a process whose lease expired cannot commit."""

    def __init__(self, name: str, owner: str, ttl_s: float):
        self.name, self.owner, self.ttl_s = name, owner, ttl_s


def bucket_starts(start: datetime, end: datetime, bucket: timedelta) -> list[datetime]:
    out, t = [], start
    while t < end:
        out.append(t)
        t += bucket
    return out


def record_text(record: Any) -> str:
    """Quarantined records are kept as text, whatever they were, so nothing is ever lost."""
    import json

    if isinstance(record, bytes):
        return record.decode("utf-8", errors="backslashreplace")
    if isinstance(record, str):
        return record
    try:
        return json.dumps(record, ensure_ascii=False, sort_keys=True, default=str)
    except (TypeError, ValueError):
        return repr(record)


def quarantine_fingerprint(source: str, text: str, reason: str, context: dict[str, Any]) -> str:
    """The same bad record seen again (a re-run) is not a new problem: one entry per record+place.
    Shared by the adapters so both deduplicate the same way."""
    import hashlib
    import json

    return hashlib.sha256(json.dumps([source, text, reason, context], sort_keys=True, default=str).encode()).hexdigest()


def iter_batches(items: Iterable[Any], size: int) -> Iterable[list[Any]]:
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
