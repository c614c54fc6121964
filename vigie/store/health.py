"""Collection health, persisted per source and per query: is Vigie seeing what the platforms publish?

`vigie/pipeline/steps.py ingest_source` records every query it runs here (`record_query`): when it was tried, when
it last succeeded, the last error with its kind (`listeners.base.KINDS`), the quota the platform announced
(`Page.info` quota_remaining / quota_reset_at, read from X-Rate-Limit-*, X-RateLimit-* headers by
`listeners.http.Retrier.observe`; Reddit's X-Ratelimit-* through praw's session), and how many pages and posts each hour brought. `alerts/coverage.py`
judges from these records whether a source is blind; `vigie status` and `/metrics` show them.

Storage: health is a small JSON document per source, kept through the store's cursor API under reserved
cursor sources (as detection keeps its cursor there): it is then persisted, and contract-tested, the same
way on every store (SQLite, Elasticsearch), and one read per source is enough.

Writers fold their change into the stored record (`update`, `add_gap`: `CursorStore.update_cursor`), never
write back a copy read earlier: Airflow runs one ingest task per platform in parallel and `vigie run` may
overlap the DAG, and a load-modify-save would drop the other writer's counts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from vigie.core.models import Cursor, iso, utc
from vigie.store.base import CursorStore

HEALTH_CURSOR = "health"  # cursor "source" under which each source's health is kept (query = source name)
GAPS_CURSOR = "gaps"  # ... and its permanent collection gaps
HISTORY_HOURS = 24 * 28  # hourly counts kept: four weeks, enough for an hour-of-day baseline
MAX_GAPS = 200  # gaps kept per source (the oldest are dropped: an audit trail, not an archive)


def hour_key(t: datetime) -> str:
    return utc(t).strftime("%Y-%m-%dT%H")


def hour_start(key: str) -> datetime:
    return utc(datetime.strptime(key, "%Y-%m-%dT%H"))


@dataclass
class QueryHealth:
    last_attempt: str | None = None
    last_success: str | None = None
    last_error: dict[str, Any] | None = None  # {"kind", "message", "at"}
    pages: int = 0  # of the last run
    posts: int = 0  # of the last run (fetched)


@dataclass
class SourceHealth:
    source: str
    last_attempt: str | None = None
    last_success: str | None = None  # the last run in which no query failed
    failing_since: str | None = None  # first failed run of the current failure streak (None: not failing)
    # A failure streak ended, seen since this time (the last success before it), and its backfill bookkeeping
    # (permanent gap, re-assessment marker: vigie/pipeline/steps.py) is not recorded yet: kept until it is,
    # so a store error in between is retried by the next run rather than lost with the streak.
    recovering_from: str | None = None
    last_error: dict[str, Any] | None = None  # {"kind", "message", "at", "query"}
    quota: dict[str, Any] | None = None  # {"remaining", "reset_at", "at"} as the platform last announced
    quota_prev: dict[str, Any] | None = None  # the sample before (pace forecast)
    queries: dict[str, QueryHealth] = field(default_factory=dict)
    # Hour ("YYYY-MM-DDTHH", ingestion time) -> [runs, pages, posts fetched] for every hour with a run. An
    # hour with no run is absent, never 0: no attempt is not an empty answer.
    hours: dict[str, list[int]] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)  # failed queries by kind, since the source was added

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "SourceHealth":
        queries = {k: QueryHealth(**v) for k, v in (data.get("queries") or {}).items()}
        return cls(**{**data, "queries": queries})

    @property
    def failing(self) -> bool:
        return self.failing_since is not None

    def posts_by_hour(self) -> dict[datetime, int]:
        return {hour_start(k): v[2] for k, v in self.hours.items()}


@dataclass
class Gap:
    """A span of time a source's posts are missing from the store for good (past the platform's look-back)."""

    source: str
    start: datetime
    end: datetime
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "start": iso(self.start), "end": iso(self.end), "reason": self.reason}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Gap":
        return cls(data["source"], utc(data["start"]), utc(data["end"]), data.get("reason", ""))


def load(store: CursorStore, source: str) -> SourceHealth:
    cursor = store.get_cursor(HEALTH_CURSOR, source)
    return SourceHealth.from_dict(cursor.value) if cursor else SourceHealth(source=source)


def save(store: CursorStore, health: SourceHealth, now: datetime) -> None:
    """Replace the whole record (seeding a store). To change it, `update`: this would drop a concurrent write."""
    store.set_cursor(Cursor(source=HEALTH_CURSOR, query=health.source, value=health.to_dict(), updated_at=now))


def update(store: CursorStore, source: str, now: datetime,
           fold: Callable[[SourceHealth], None]) -> tuple[SourceHealth, SourceHealth]:
    """Apply `fold` (e.g. `record_query`, `finish_run`) to the source's stored health in one atomic
    read-modify-write; `fold` may run more than once (a store retries on a conflicting write) and must only
    change the record it is given. Returns the record as it was before and after the write that went
    through: a transition (a failure streak ending) is seen by exactly one of two concurrent writers."""
    seen: list[SourceHealth] = []

    def change(value: dict[str, Any] | None) -> dict[str, Any]:
        before = SourceHealth.from_dict(value) if value else SourceHealth(source=source)
        after = SourceHealth.from_dict(before.to_dict())  # a deep copy: `before` stays as read
        fold(after)
        seen[:] = [before, after]
        return after.to_dict()

    store.update_cursor(HEALTH_CURSOR, source, change, updated_at=now)
    return seen[0], seen[1]


def record_query(health: SourceHealth, query: str | None, now: datetime, *, pages: int, posts: int,
                 error: tuple[str, str] | None, infos: list[dict[str, Any]]) -> None:
    """Fold one query's outcome (or the whole source's, `query=None`, when it could not plan) into `health`."""
    at = iso(now)
    q = health.queries.setdefault(query or "*", QueryHealth())
    q.last_attempt, q.pages, q.posts = at, pages, posts
    if error is None:
        q.last_success = at
    else:
        kind, message = error
        q.last_error = {"kind": kind, "message": message[:300], "at": at}
        health.last_error = {**q.last_error, "query": query}
        health.errors[kind] = health.errors.get(kind, 0) + 1
    for info in infos:
        if "quota_remaining" in info:
            sample = {"remaining": int(info["quota_remaining"]), "at": at,
                      "reset_at": (iso(datetime.fromtimestamp(info["quota_reset_at"], tz=now.tzinfo))
                                   if info.get("quota_reset_at") else None)}
            if health.quota is not None and health.quota.get("at") != at:
                health.quota_prev = health.quota
            health.quota = sample
    counts = health.hours.setdefault(hour_key(now), [0, 0, 0])
    counts[1] += pages
    counts[2] += posts


def finish_run(health: SourceHealth, now: datetime, failed: bool) -> None:
    """Close one run of the source (after all its queries): success / failure streak, hourly run count."""
    at = iso(now)
    health.last_attempt = at
    health.hours.setdefault(hour_key(now), [0, 0, 0])[0] += 1
    if failed:
        health.failing_since = health.failing_since or at
    else:
        if health.failing_since is not None:
            health.recovering_from = health.recovering_from or health.last_success or health.failing_since
        health.last_success, health.failing_since = at, None
    oldest = hour_key(now - timedelta(hours=HISTORY_HOURS))
    for key in [k for k in health.hours if k < oldest]:
        del health.hours[key]


def gaps(store: CursorStore, source: str) -> list[Gap]:
    cursor = store.get_cursor(GAPS_CURSOR, source)
    return [Gap.from_dict(g) for g in (cursor.value.get("gaps") or [])] if cursor else []


def add_gap(store: CursorStore, gap: Gap, now: datetime) -> None:
    """Record a permanent gap; one per outage (its start): recorded again (a re-run, a retried recovery),
    the gap keeps its widest end."""
    def change(value: dict[str, Any] | None) -> dict[str, Any]:
        known = [Gap.from_dict(g) for g in ((value or {}).get("gaps") or [])]
        same = next((g for g in known if g.start == gap.start), None)
        if same is not None:
            same.end = max(same.end, gap.end)
            return {"gaps": [g.to_dict() for g in known]}
        return {"gaps": [g.to_dict() for g in (known + [gap])[-MAX_GAPS:]]}

    store.update_cursor(GAPS_CURSOR, gap.source, change, updated_at=now)


# -- what a dashboard can aggregate ------------------------------------------------------------------

# The failure kinds a source's health counts (`errors`): `listeners.base.KINDS`, repeated here because the
# store may not import listeners (tests/test_kibana_health.py keeps the two equal). Each gets its own
# numeric field in the indexed view, so a dashboard sums errors by kind without a script.
ERROR_KINDS = ("auth", "quota", "rate_limit", "network", "parse", "schema", "config", "store", "internal")


def indexed_view(source: str, value: dict[str, Any]) -> dict[str, Any]:
    """The flat, typed fields of a source's health that a search engine can filter, sort and aggregate on
    (the Elasticsearch adapter stores them beside the record, under `health`, for the Kibana
    collection-health dashboard). The record itself stays the truth; this is derived from it on every write.

    Volume: posts fetched in the hour of the last run and over the 24 hours before it (ingestion time). The
    expected volume is not here: `alerts/coverage.py` computes it when it assesses (the store does not
    import detection). A value that is not a health record (another version's shape) gives the source
    alone: this derived view never stands in the way of storing the record."""
    try:
        h = SourceHealth.from_dict({**value, "source": value.get("source") or source})
        return _indexed(h, source)
    except (TypeError, ValueError, KeyError, AttributeError, IndexError):
        return {"source": source}


def _indexed(h: SourceHealth, source: str) -> dict[str, Any]:
    err = h.last_error or {}
    quota = h.quota or {}
    last = utc(h.last_attempt) if h.last_attempt else None
    recent = {hour_key(last - timedelta(hours=i)) for i in range(24)} if last else set()
    return {
        "source": source,
        "last_attempt": h.last_attempt,
        "last_success": h.last_success,
        "failing": h.failing,
        "failing_since": h.failing_since,
        "last_error_kind": err.get("kind"),
        "last_error_at": err.get("at"),
        "quota_remaining": quota.get("remaining"),
        "quota_reset_at": quota.get("reset_at"),
        "errors": {kind: h.errors.get(kind, 0) for kind in ERROR_KINDS},
        "errors_total": sum(h.errors.values()),
        "posts_hour": h.hours.get(hour_key(last), [0, 0, 0])[2] if last else 0,
        "posts_24h": sum(v[2] for k, v in h.hours.items() if k in recent),
    }
