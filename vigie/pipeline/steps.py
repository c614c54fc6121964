"""The pipeline steps, as plain functions shared by the CLI and the Airflow DAGs.

    listeners.fetch(since cursor) → nlp.analyze(batch) → store.upsert → alerts.detect → alerts.notify

Every step is idempotent: post ids are `<source>:<native id>`, a listener's cursor is saved only after
the page it covers is stored, detection keeps its own cursor (the last bucket it assessed) and alerts
have stable dedup keys, so re-running any step over the same window changes nothing.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from alerts import coverage, story
from alerts.detect import Assessment, Detector
from alerts.feedback import Verdict, verdicts_from_records
from alerts.notify import notifiers_for
from vigie.pipeline import coverage as blindness
from vigie.pipeline import near_dups
from vigie.pipeline.loop import BucketSink, bucket_floor, bucket_times, run_buckets
from vigie.pipeline.outbox import DrainReport, OutboxPolicy, drain, plan
from alerts.policy import AlertEvent, AlertPolicy
from listeners import build_listener
from listeners.base import Listener, SourceError
from listeners.guard import guarded
from nlp.pipeline import Analyzer
from vigie.core.actions import muted_until, records as action_records
from vigie.core.clock import check_now, future_reason, latest_allowed
from vigie.core.config import Topic, VigieConfig
from vigie.core.models import Alert, AlertState, Cursor, Level, Post, iso, utc
from vigie.core.links import crisis_room_link
from vigie.core.faults import crash_point
from vigie.store import health as collection
from vigie.store import Store, open_store
from vigie.store.base import Lease, LeaseLost

log = logging.getLogger("vigie.pipeline.steps")

DETECTION_CURSOR = "detection"  # cursor "source" under which detection remembers its last assessed bucket
REASSESS_CURSOR = "reassess"  # ... and from when a topic's risk points must be re-assessed (after a backfill)
DETECT_LEASE = "detect-and-deliver"  # one detector (and deliverer) per store at a time
EVIDENCE_POSTS = 5


@dataclass
class SourceFailure:
    query: str | None  # None: the whole source (it could not even plan its queries)
    kind: str  # listeners.base.KINDS
    message: str


@dataclass
class SourceReport:
    source: str
    queries: int = 0
    pages: int = 0
    fetched: int = 0
    inserted: int = 0
    updated: int = 0
    quarantined: int = 0
    future: int = 0  # of `quarantined`: posts dated beyond the clock skew
    errors: list[str] = field(default_factory=list)
    failures: list[SourceFailure] = field(default_factory=list)  # the same, with their kind
    info: list[dict[str, Any]] = field(default_factory=list)  # rate-limit waits, retries reported by listeners

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def failed_queries(self) -> int:
        return len({f.query for f in self.failures})

    def fail(self, query: str | None, kind: str, message: str) -> None:
        self.failures.append(SourceFailure(query, kind, message))
        self.errors.append(f"{query + ': ' if query else ''}[{kind}] {message}")
        log.error("source %s%s: [%s] %s", self.source, f", query {query}" if query else "", kind, message)


@dataclass
class DetectReport:
    """What the detect-and-deliver step did: the alert events, the delivery pass, or why it was skipped."""

    events: list[AlertEvent] = field(default_factory=list)
    delivery: DrainReport = field(default_factory=DrainReport)
    skipped: str | None = None


@dataclass
class CycleReport:
    now: datetime
    sources: list[SourceReport]
    events: list[AlertEvent]
    detection: DetectReport | None = None
    detection_error: str | None = None  # detection could not run (or stopped): what happened

    @property
    def delivery_failures(self) -> list[tuple[str, str, str]]:
        """(alert id, channel, error) of every message whose delivery failed in this cycle's delivery passes
        (to be retried, or given up): the outbox delivers after the commit, so the events' own delivery
        logs are not where failures show."""
        return list(self.detection.delivery.failures) if self.detection is not None else []

    @property
    def outcome(self) -> str:
        """"ok", "partial" (something failed, the rest ran) or "failed" (detection did not run, or every
        source failed)."""
        sources_failed = [s for s in self.sources if not s.ok]
        if self.detection_error is not None or (self.sources and len(sources_failed) == len(self.sources)):
            return "failed"
        if sources_failed or self.delivery_failures:
            return "partial"
        return "ok"


class Runtime:
    """Everything a pipeline step needs, built once per process (or per Airflow task)."""

    def __init__(
        self,
        config: VigieConfig,
        store: Store,
        analyzer: Analyzer,
        detector: Detector,
        policy: AlertPolicy,
        notifiers: list[Any],
    ):
        self.config = config
        self.store = store
        self.analyzer = analyzer
        self.detector = detector
        self.policy = policy
        self.notifiers = notifiers
        self._listeners: dict[str, Listener] = {}
        self.outbox_policy = OutboxPolicy.from_config(config.delivery)
        self.owner = new_owner()  # who holds the detection lease

    @classmethod
    def from_config(
        cls,
        config: VigieConfig,
        *,
        store: Store | None = None,
        notifiers: list[Any] | None = None,
        console: Any = None,
    ) -> "Runtime":
        # Channels first: a missing secret is a configuration error, found before the store is opened.
        notifiers = notifiers if notifiers is not None else notifiers_for(config, console=console)
        return cls(
            config=config,
            store=store if store is not None else open_store(config.store),
            analyzer=Analyzer(config.nlp, config.topics),
            detector=Detector(config.detection),
            policy=AlertPolicy(config.detection),
            notifiers=notifiers,
        )

    @property
    def clock_skew(self) -> timedelta:
        return timedelta(minutes=self.config.clock.max_skew_minutes)

    def listener(self, source_name: str) -> Listener:
        if source_name not in self._listeners:
            try:
                cfg = self.config.sources[source_name]
            except KeyError:
                known = ", ".join(sorted(self.config.sources)) or "none"
                raise SourceError(f"unknown source {source_name!r} (configured: {known})", "config") from None
            listener = build_listener(source_name, cfg, max_future=self.clock_skew)
            self._listeners[source_name] = guarded(listener, source_name)  # raises SourceError only
        return self._listeners[source_name]

    def close(self) -> None:
        self.store.close()


# -- ingestion ---------------------------------------------------------------------------------

def analyze_posts(rt: Runtime, posts: list[Post]) -> list[Post]:
    """Attach an Analysis to each post (the analyzer never raises out of a batch)."""
    for post, analysis in zip(posts, rt.analyzer.analyze(posts)):
        post.analysis = analysis
    return posts


def relabel_late_clusters(rt: Runtime) -> int:
    """Re-store posts that joined a coordinated-copy cluster after they were stored.

    The first copies of a campaign are stored before the cluster qualifies (≥ 2 authors); without this
    step detection would under-count every cluster by its first posts.
    """
    changed = []
    for post_id, cluster in rt.analyzer.late_clusters().items():
        post = rt.store.get_post(post_id)
        if post is not None and post.analysis is not None and post.analysis.near_dup_cluster != cluster:
            post.analysis.near_dup_cluster = cluster
            changed.append(post)
    if changed:
        rt.store.upsert_posts(changed)
    return len(changed)


def ingest_source(
    rt: Runtime, source_name: str, now: datetime | None = None, topic_ids: list[str] | None = None
) -> SourceReport:
    """Fetch one source since its cursors, analyse, store; the cursor moves only after the page is stored.

    Every failure stops as little as it can and is reported with its kind (`listeners.base.KINDS`); this
    function never raises, so the other sources of a cycle and detection still run:
    - the source cannot plan its queries (missing library, unknown source): this source;
    - a listener or its client library fails (auth, quota, network, a truncated body...): this query;
    - the store refuses a page (unreachable Elasticsearch, a bulk whose reply was lost): this page and the
      rest of its query (the cursor stays before the page, so the next run fetches it again; going on to
      the next page would move the cursor past the one not stored).
    A post dated further in the future than the clock skew allows is quarantined, never stored.
    """
    now = utc(now) if now else datetime.now(timezone.utc)
    report = SourceReport(source=source_name)
    try:
        listener = rt.listener(source_name)
        topics = [t for t in rt.config.topics_for_source(source_name) if topic_ids is None or t.id in topic_ids]
        queries = listener.plan(topics)
    except SourceError as exc:
        report.fail(None, getattr(exc, "kind", "internal"), str(exc))
        _record_health(rt, report, None, now, (0, 0, 0, 0), done=True)
        return report
    except Exception as exc:  # building a listener is library code too (a client constructor may raise)
        report.fail(None, "internal", f"{type(exc).__name__}: {exc}")
        _record_health(rt, report, None, now, (0, 0, 0, 0), done=True)
        return report
    for query in queries:
        report.queries += 1
        before = (report.pages, report.fetched, len(report.failures), len(report.info))
        _ingest_query(rt, listener, source_name, query, now, report)
        _record_health(rt, report, query.key, now, before, done=False)
    _record_health(rt, report, None, now, None, done=True)
    return report


def _record_health(rt: Runtime, report: SourceReport, query: str | None, now: datetime,
                   before: tuple[int, int, int, int] | None, *, done: bool) -> None:
    """Fold what one query (or, `done`, the whole run) did into the source's persisted health, in one atomic
    update of the stored record (another ingest of the same source may be writing it too); after a failure
    streak ends, record what the platform's look-back could not recover and have detection re-assess the
    buckets the outage touched. Health is a report on collection: it never stops collection."""
    failed = bool(report.failures)
    outcome: dict[str, Any] | None = None
    if before is not None:
        pages, fetched, failures, infos = before
        errors = report.failures[failures:]
        outcome = dict(pages=report.pages - pages, posts=report.fetched - fetched,
                       error=(errors[-1].kind, errors[-1].message) if errors else None, infos=report.info[infos:])

    def fold(health: collection.SourceHealth) -> None:
        if outcome is not None:
            collection.record_query(health, query, now, **outcome)
        if done:
            collection.finish_run(health, now, failed=failed)

    try:
        _, health = collection.update(rt.store, report.source, now, fold)
    except Exception as exc:
        log.warning("source %s: collection health not saved (%s: %s)", report.source, type(exc).__name__, exc)
        return
    if done and health.recovering_from is not None:
        # The streak ended in this run, or a previous run could not finish this bookkeeping: do it, then
        # clear the mark (only if still the one we did). Both steps are idempotent (same gap, earliest marker).
        since = health.recovering_from
        try:
            _after_recovery(rt, report.source, utc(since), now)
            collection.update(rt.store, report.source, now,
                              lambda h: setattr(h, "recovering_from", None if h.recovering_from == since
                                                else h.recovering_from))
        except Exception as exc:
            log.warning("source %s: backfill bookkeeping not recorded, retried next run (%s: %s)", report.source,
                        type(exc).__name__, exc)


def _after_recovery(rt: Runtime, source_name: str, last_seen: datetime, now: datetime) -> None:
    """The source sees again: its listener has caught up from its cursor as far as the platform lets it
    (`coverage.lookback_hours`); older than that is a permanent gap. Detection re-assesses the buckets from
    the last success on (their risk points are replaced, no alert is re-stepped: no second page)."""
    src_type = getattr(rt.config.sources.get(source_name), "type", "")
    horizon = now - rt.config.coverage.lookback(src_type)
    if last_seen < horizon:
        gap = collection.Gap(source_name, last_seen, horizon,
                             f"outage longer than the {src_type or 'source'} look-back "
                             f"({rt.config.coverage.lookback(src_type).total_seconds() / 3600:g} h)")
        collection.add_gap(rt.store, gap, now)
        log.warning("source %s: posts between %s and %s could not be recovered (permanent gap)", source_name,
                    iso(gap.start), iso(gap.end))
    start = max(last_seen, horizon)

    def earliest(known: dict[str, Any] | None) -> dict[str, Any]:
        # Atomic: two sources of one topic recovering in parallel tasks both widen the marker.
        if known and known.get("from"):
            return {"from": iso(min(start, utc(known["from"])))}
        return {"from": iso(start)}

    for topic in rt.config.topics_for_source(source_name):
        rt.store.update_cursor(REASSESS_CURSOR, topic.id, earliest, updated_at=now)


class _StoreFailed(Exception):
    """The store refused a step of a page (wraps the store's own exception, whatever the backend)."""


def _stored(step: str, fn: Any, *args: Any) -> Any:
    try:
        return fn(*args)
    except Exception as exc:  # SQLite, Elasticsearch and the OS each have their own exception types
        raise _StoreFailed(f"{step}: {type(exc).__name__}: {exc}") from exc


def analyze_and_store(rt: Runtime, posts: list[Post], limit: datetime) -> Any:
    """Analyse `posts` and store them with the near-duplicate entries they made (the store's upsert result).
    Copy clusters are the store's (vigie/pipeline/near_dups.py): first load what other processes added up to
    `limit`, and after storing merge the clusters a concurrent task started for the same copies.
    _StoreFailed if the store refused a step."""
    index = rt.analyzer.dedup
    try:
        _stored("loading the near-duplicate index", near_dups.sync, rt.store, index, limit)
        result = _stored("storing the page", rt.store.upsert_posts, analyze_posts(rt, posts))
        _stored("storing the near-duplicate index", near_dups.save, rt.store, index)
        _stored("merging copy clusters of concurrent tasks", near_dups.settle, rt.store, index)
    except BaseException:
        near_dups.forget(index)  # it may hold entries the store does not: reloaded before the next page
        raise
    return result


def _store_page(rt: Runtime, source_name: str, query: Any, page: Any, now: datetime) -> tuple[Any, int]:
    """Store one page (posts, quarantined records), then move its cursor. Returns (upsert result, number of
    future-dated posts quarantined); _StoreFailed if the store refused any step (the cursor did not move)."""
    limit = latest_allowed(rt.clock_skew, now)
    keep, future = [], 0
    for post in page.posts:
        post.fetched_at = post.fetched_at or now
        if post.created_at > limit:
            # A platform bug or a typo: stored, it would sit in every future window.
            _stored("quarantining a future-dated post", rt.store.quarantine, source_name, post.to_dict(),
                    future_reason(post.created_at, rt.clock_skew), {"query": query.key, "post_id": post.id})
            future += 1
        else:
            keep.append(post)
    result = analyze_and_store(rt, keep, limit)
    _stored("relabelling late clusters", relabel_late_clusters, rt)
    for rejected in page.rejected:
        _stored("quarantining", rt.store.quarantine, source_name, rejected.record, rejected.reason, rejected.context)
    # Only now is the page safe: move the cursor past it.
    _stored("saving the cursor", rt.store.set_cursor,
            Cursor(source=source_name, query=query.key, value=page.cursor, updated_at=now))
    return result, future


def _ingest_query(rt: Runtime, listener: Listener, source_name: str, query: Any, now: datetime,
                  report: SourceReport) -> None:
    try:
        stored = _stored("reading the cursor", rt.store.get_cursor, source_name, query.key)
        pages = listener.fetch(query, stored.value if stored else None, now)
        for page in pages:
            report.pages += 1
            report.fetched += len(page.posts)
            try:
                result, future = _store_page(rt, source_name, query, page, now)
            except _StoreFailed:
                close = getattr(pages, "close", None)
                if close is not None:
                    close()  # stop the listener: a later page stored would move the cursor past this one
                raise
            report.inserted += result.inserted
            report.updated += result.updated
            report.quarantined += result.quarantined + future + len(page.rejected)
            report.future += future
            if page.info:
                report.info.append(page.info)
    except SourceError as exc:
        report.fail(query.key, getattr(exc, "kind", "internal"), str(exc))
    except _StoreFailed as exc:
        report.fail(query.key, "store", f"{exc}; this page is not stored and its cursor did not move "
                                        "(the next run fetches it again)")
    except Exception as exc:  # a bug in our own page handling: this query only
        log.debug("source %s, query %s", source_name, query.key, exc_info=True)
        report.fail(query.key, "internal", f"{type(exc).__name__}: {exc}")


def ingest_all(rt: Runtime, now: datetime | None = None) -> list[SourceReport]:
    return [ingest_source(rt, name, now) for name in rt.config.sources]


# -- detection and alerting -------------------------------------------------------------------

def _top_negatives(rt: Runtime, topic: Topic, start: datetime, end: datetime) -> list[Post]:
    """The posts a crisis team should read after those that explain the story: confidently negative posts
    that travel (ranked by P(neg) band, then reach), then crisis posts, then the most engaging."""
    chosen: dict[str, Post] = {}
    for by in ("negative", "crisis", "engagement"):
        for post in rt.store.top_posts(topic.id, start, end, by=by, limit=EVIDENCE_POSTS):
            chosen.setdefault(post.id, post)
        if len(chosen) >= EVIDENCE_POSTS:
            break
    return list(chosen.values())


def _tell_story(rt: Runtime, topic: Topic, a: Assessment, alert: Alert) -> None:
    """The alert's story and evidence (alerts/story.py) from the store's posts of the story's window."""
    reading, window_start = story.story_at(rt.store, rt.config, alert, a)
    alert.story = reading.story
    alert.evidence = story.choose_evidence(reading, _top_negatives(rt, topic, window_start, a.at), EVIDENCE_POSTS)


evidence_item = story.evidence_item  # kept importable from here


def _current_and_last_resolved(store: Store, topic_id: str) -> tuple[Alert | None, Alert | None]:
    """The topic's current alert (the newest one not resolved, i.e. open or escalated: what
    `open_alerts(topic)[-1]` is) and its newest resolved one. Indexed single-alert reads, asked every
    bucket: reading `alert_history` here would grow with every alert the topic ever had."""
    newest = (store.last_alert(topic_id, state) for state in AlertState if state is not AlertState.RESOLVED)
    current = max((a for a in newest if a is not None), key=lambda a: (a.opened_at, a.id), default=None)
    return current, store.last_alert(topic_id, AlertState.RESOLVED)


# Marks older than this weigh under 3 % (five 14-day half-lives): not worth reading at every bucket.
VERDICT_HORIZON = timedelta(days=70)


def topic_verdicts(store: Store, topic_id: str, now: datetime) -> list[Verdict]:
    """The topic's false-alarm / real-crisis marks given before `now` (vigie.core.actions records), the input of
    the detector's per-topic feedback adaptation."""
    return _PassVerdicts(store).at(topic_id, now)


class _PassVerdicts:
    """`topic_verdicts` for every bucket of one detect pass, reading each topic's recent alerts once (at its
    first bucket) instead of 70 days of alerts per bucket. Exact because nothing adds a mark during a pass
    (marks are human actions, which take the detection lease) and each bucket keeps the same horizon:
    alerts opened at or after its own `now - VERDICT_HORIZON`, marks given at or before its `now`. Asked
    in time order per topic (the bucket loop's order)."""

    def __init__(self, store: Store):
        self.store = store
        self._read: dict[str, list[tuple[datetime, list[Verdict]]]] = {}

    def at(self, topic_id: str, now: datetime) -> list[Verdict]:
        since = now - VERDICT_HORIZON
        if topic_id not in self._read:
            self._read[topic_id] = [(alert.opened_at, verdicts_from_records(topic_id, action_records(alert)))
                                    for alert in self.store.alert_history(topic_id, since=since)]
        out: list[Verdict] = []
        for opened_at, verdicts in self._read[topic_id]:
            if opened_at >= since:
                out += verdicts
        return [v for v in out if v.at <= now]


def _blind_for(rt: Runtime, topic: Topic, blind_since: dict[str, datetime], t: datetime) -> dict[str, datetime]:
    """The topic's sources blind at `t`, and since when (`blind_sources` restricted to the topic)."""
    return {s: since for s, since in blind_since.items() if s in topic_sources(rt, topic) and since <= t}


class _LiveDetection(BucketSink):
    """Live detection's side of the bucket loop: the topic's verdicts and alerts are read from the store; an
    event is muted, given its blind sources, evidence and links; each bucket's alert changes, the messages
    they owe, the risk points and the detection cursors are committed at once, then delivered."""

    def __init__(self, rt: Runtime, blind_since: dict[str, datetime], lease: Lease, report: DetectReport):
        self.rt, self.blind_since, self.lease, self.report = rt, blind_since, lease, report
        self.events: list[AlertEvent] = []
        self.drained = False
        self._verdicts = _PassVerdicts(rt.store)
        self._alerts: dict[str, tuple[Alert | None, Alert | None]] = {}  # what the policy was given
        self._bucket()

    def _bucket(self) -> None:
        self.changed: list[Alert] = []
        self.to_deliver: list[tuple[Alert, str]] = []
        self.points: list[Any] = []
        self.done: list[Topic] = []

    def verdicts(self, topic: Topic, t: datetime) -> list[Verdict]:
        return self._verdicts.at(topic.id, t)

    def alerts(self, topic: Topic, t: datetime) -> tuple[Alert | None, Alert | None]:
        self._alerts[topic.id] = _current_and_last_resolved(self.rt.store, topic.id)
        return self._alerts[topic.id]

    def blind(self, topic: Topic, t: datetime) -> bool:
        return bool(_blind_for(self.rt, topic, self.blind_since, t))

    def assessed(self, topic: Topic, t: datetime, assessment: Assessment, event: AlertEvent | None) -> None:
        blind = _blind_for(self.rt, topic, self.blind_since, t)
        if event is not None:
            event = _live_event(self.rt, topic, assessment, event, self._alerts[topic.id], blind, t)
        point = assessment.risk_point()
        point.blind = sorted(blind)
        self.points.append(point)
        self.done.append(topic)
        if event is not None:
            self.events.append(event)
            self.changed.append(event.alert)
            if event.notify:  # silent updates (calm-bucket counting) are persisted, not delivered
                self.to_deliver.append((event.alert, event.kind))

    def bucket_done(self, t: datetime) -> None:
        rt = self.rt
        entries = plan(self.to_deliver, rt.notifiers, rt.store, rt.outbox_policy, bucket_at=t)
        cursors = [Cursor(source=DETECTION_CURSOR, query=topic.id, value={"at": iso(t)}, updated_at=t)
                   for topic in self.done]
        # One commit: the alert changes, the messages they owe and the cursor (README "Delivery guarantees").
        rt.store.commit_bucket(self.changed, entries, self.points, cursors, lease=self.lease)
        crash_point("after_commit")
        if entries:
            _merge(self.report.delivery, deliver_outbox(rt, self.lease))
            self.drained = True
        self._bucket()


def _live_event(rt: Runtime, topic: Topic, assessment: Assessment, event: AlertEvent,
                alerts: tuple[Alert | None, Alert | None], blind: dict[str, datetime], now: datetime
                ) -> AlertEvent | None:
    """The policy's event as live detection keeps it: dropped or silenced while a person muted the topic,
    with the blind sources, the evidence posts and the crisis-room link on its alert."""
    if event.notify and muted_until(list(alerts), now) is not None:
        # A person muted the topic (vigie/core/actions.py, "Mute 2 h / 24 h"): nothing opens, and the current
        # alert's steps are kept silent, except a rise to crisis, which still pages.
        if event.kind == "open":
            return None
        if not (event.kind == "escalate" and event.alert.level == Level.CRISIS):
            event.notify = False
    alert = event.alert
    alert.coverage = {"blind": {s: iso(since) for s, since in sorted(blind.items())}} if blind else {}
    if story.story_due(event.kind, alert, alerts[0]) or not alert.evidence:
        _tell_story(rt, topic, assessment, alert)
    if rt.config.report.kibana_url:
        alert.links.setdefault("kibana", crisis_room_link(rt.config.report.kibana_url, alert))
    return event


def detect_and_alert(rt: Runtime, now: datetime, topic_ids: list[str] | None = None) -> list[AlertEvent]:
    """`detect_and_deliver`, returning only the alert events (the demo, the Airflow DAG's summary)."""
    return detect_and_deliver(rt, now, topic_ids).events


def owner_is_dead(owner: str) -> bool:
    """A lease holder ("host:pid:nonce") that was a process of this host and no longer runs (killed,
    crashed): its lease is taken over at once instead of after its TTL. Holders on other hosts are
    judged by the TTL alone."""
    host, _, rest = owner.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, another user's
        return False
    return False


def new_owner() -> str:
    """A lease owner id: readable in the store (host, process) and unique per holder."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@contextmanager
def store_lease(store: Store, owner: str, cfg: Any, wait_s: float | None = None) -> Iterator[Lease | None]:
    """Hold the store's detect-and-deliver lease, or yield None if another process still holds it after
    `wait_s` (default `delivery.lease_wait_s`). Two overlapping `vigie run` (or a run and an Airflow
    task) would otherwise assess the same buckets and send the same messages twice."""
    wait_s = cfg.lease_wait_s if wait_s is None else wait_s
    deadline = time.monotonic() + wait_s
    while not store.acquire_lease(DETECT_LEASE, owner, cfg.lease_ttl_s, stale=owner_is_dead):
        if time.monotonic() >= deadline:
            yield None
            return
        time.sleep(min(0.5, max(0.05, wait_s / 10)))
    try:
        yield Lease(DETECT_LEASE, owner, cfg.lease_ttl_s)
    finally:
        try:
            store.release_lease(DETECT_LEASE, owner)
        except Exception as exc:  # the lease lapses by itself after its TTL
            log.warning("could not release the detection lease (%s); it lapses in %.0fs", type(exc).__name__,
                        cfg.lease_ttl_s)


def detection_lease(rt: Runtime, wait_s: float | None = None):  # noqa: ANN201 (a context manager)
    return store_lease(rt.store, rt.owner, rt.config.delivery, wait_s)


def commit_and_deliver(store: Store, config: VigieConfig, notifiers: list[Any], alert: Alert, event: str, *,
                       lease: Lease) -> DetectReport:
    """An alert change made outside detection (`vigie alerts ack`), committed with the messages it owes and
    delivered. The caller read the alert under `lease` (the detect-and-deliver lease) and still holds it:
    committing without it could overwrite an update a detector made in between."""
    policy = OutboxPolicy.from_config(config.delivery)
    entries = plan([(alert, event)], notifiers, store, policy)
    store.commit_bucket([alert], entries, [], [], lease=lease)
    return DetectReport(delivery=drain(store, notifiers, policy, keep_lease=lambda: store.acquire_lease(
        lease.name, lease.owner, lease.ttl_s)))


def deliver_outbox(rt: Runtime, lease: Lease | None = None) -> DrainReport:
    """One delivery pass over the outbox (what is due now), renewing `lease` before each send."""

    def keep() -> bool:
        return rt.store.acquire_lease(lease.name, lease.owner, lease.ttl_s)

    return drain(rt.store, rt.notifiers, rt.outbox_policy, keep_lease=keep if lease is not None else None)


def deliver_pending(rt: Runtime) -> DetectReport:
    """Drain the outbox under the lease, without detecting (`vigie deliver`, between runs)."""
    with detection_lease(rt) as lease:
        if lease is None:
            return DetectReport(skipped=_skipped_message(rt))
        return DetectReport(delivery=deliver_outbox(rt, lease))


def _skipped_message(rt: Runtime) -> str:
    return (f"detection and delivery skipped: another process holds the {DETECT_LEASE!r} lease on this store "
            f"(waited {rt.config.delivery.lease_wait_s:g}s); it delivers what is due. Ingestion is not affected.")


def detect_and_deliver(rt: Runtime, now: datetime, topic_ids: list[str] | None = None) -> DetectReport:
    """Assess every bucket that completed since the last run, oldest first, for every topic; commit each
    bucket's alert changes with the messages they owe (the outbox) and the detection cursor; deliver.

    Detection keeps a cursor per topic (the end of the last assessed bucket) so a re-run over the same time
    adds nothing, and a late run catches up bucket by bucket instead of skipping the buckets it missed.
    The events of one bucket are delivered together, so channels can send one digest when many topics
    alert at once. Failed deliveries of earlier runs are retried here when their back-off is over.
    Only one process per store runs this at a time (the lease); a second one waits briefly, then skips.
    """
    check_now(now, rt.clock_skew)  # a clock in the future would move the detection cursor past all time to come
    with detection_lease(rt) as lease:
        if lease is None:
            message = _skipped_message(rt)
            log.warning(message)
            return DetectReport(skipped=message)
        report = DetectReport()
        try:
            report.events, drained = _detect_buckets(rt, now, topic_ids, lease, report)
            if not drained:  # retries due now, even with no new message (at most one pass per entry and run)
                _merge(report.delivery, deliver_outbox(rt, lease))
        except LeaseLost as exc:
            report.skipped = f"detection stopped: {exc} (this run was too slow; the other one goes on)"
            log.error(report.skipped)
        return report


def _merge(total: DrainReport, one: DrainReport) -> None:
    for name in ("sent", "retrying", "skipped", "unknown"):
        setattr(total, name, getattr(total, name) + getattr(one, name))
    total.waiting = one.waiting  # what still waits at the end
    total.gave_up += one.gave_up
    total.failures += one.failures
    total.deliveries += one.deliveries
    total.lease_lost = total.lease_lost or one.lease_lost


def _detect_buckets(rt: Runtime, now: datetime, topic_ids: list[str] | None, lease: Lease,
                    report: DetectReport) -> tuple[list[AlertEvent], bool]:
    """Assess, commit and deliver bucket by bucket; returns the events and whether it delivered."""
    minutes = rt.config.detection.bucket_minutes
    step = timedelta(minutes=minutes)
    end = bucket_floor(now, minutes)
    topics = [t for t in rt.config.topics if topic_ids is None or t.id in topic_ids]
    next_bucket: dict[str, datetime] = {}
    for topic in topics:
        cursor = rt.store.get_cursor(DETECTION_CURSOR, topic.id)
        last = utc(cursor.value["at"]) if cursor else end - step
        # A detector started after a long outage does not replay weeks of buckets: one day at most.
        next_bucket[topic.id] = max(last + step, end - timedelta(days=1))
    blind = blind_sources(rt, now)
    _reassess(rt, topics, next_bucket, blind, lease)
    sink = _LiveDetection(rt, blind, lease, report)
    first = min(next_bucket.values(), default=end + step)
    run_buckets(rt.detector, rt.store, topics, bucket_times(first, end, step), sink, policy=rt.policy,
                first=next_bucket)
    events, drained = sink.events, sink.drained
    coverage_events = _coverage_alerts(rt, now, lease)
    if coverage_events:
        events += coverage_events
        _merge(report.delivery, deliver_outbox(rt, lease))
        drained = True
    return events, drained


# -- coverage: is Vigie blind on a source? (alerts/coverage.py, vigie/store/health.py) -----------------

def topic_sources(rt: Runtime, topic: Topic) -> list[str]:
    return list(topic.sources) if topic.sources else list(rt.config.sources)


def source_reasons(rt: Runtime, now: datetime) -> dict[str, list[coverage.Reason]]:
    """Every configured source's blind reasons now (empty list: it sees)."""
    return blindness.source_reasons(rt.config, rt.store, now)


def blind_sources(rt: Runtime, now: datetime) -> dict[str, datetime]:
    """Sources blind now, and since when."""
    out = {}
    for name, reasons in source_reasons(rt, now).items():
        blind = [r for r in reasons if r.blind]
        if blind:
            out[name] = min(r.since for r in blind)
    return out


def _coverage_alerts(rt: Runtime, now: datetime, lease: Lease) -> list[AlertEvent]:
    """Open, update or resolve each source's blind alert; committed with the messages it owes."""
    events = []
    for name, reasons in source_reasons(rt, now).items():
        topic_id = blindness.blind_alert_topic(name)
        current = rt.store.last_alert(topic_id)
        change = coverage.step(name, reasons, current, now)
        if change is None:
            continue
        alert, kind = change
        if rt.config.report.kibana_url:
            alert.links.setdefault("kibana", crisis_room_link(rt.config.report.kibana_url, alert))
        entries = plan([(alert, kind)], rt.notifiers, rt.store, rt.outbox_policy, bucket_at=now)
        rt.store.commit_bucket([alert], entries, [], [], lease=lease)
        events.append(AlertEvent(kind, alert))
    return events


def _reassess(rt: Runtime, topics: list[Topic], next_bucket: dict[str, datetime], blind: dict[str, datetime],
              lease: Lease) -> None:
    """After a backfill: re-assess the already assessed buckets the outage touched, replacing their risk
    points (the curve now shows what was recovered). The alert policy is not stepped again over them, so
    nothing is re-opened or re-paged: alerts move on from the current bucket, with the full data."""
    minutes = rt.config.detection.bucket_minutes
    step = timedelta(minutes=minutes)
    for topic in topics:
        marker = rt.store.get_cursor(REASSESS_CURSOR, topic.id)
        if marker is None or not marker.value.get("from"):
            continue
        # At most one day back, like a late detector: older risk points keep their partial coverage mark.
        t = max(bucket_floor(utc(marker.value["from"]), minutes) + step, next_bucket[topic.id] - timedelta(days=1))
        sink = _Reassessed(rt, blind)
        run_buckets(rt.detector, rt.store, [topic], bucket_times(t, next_bucket[topic.id], step, last_included=False),
                    sink)
        rt.store.commit_bucket([], [], sink.points, [], lease=lease)
        asked = marker.value["from"]
        # Cleared only if no ingest widened it meanwhile (a source of this topic recovering in a parallel
        # task): that request is kept for the next run. A crash before this line re-assesses again (idempotent).
        rt.store.update_cursor(REASSESS_CURSOR, topic.id, lambda v: {} if (v or {}).get("from") == asked else v or {},
                               updated_at=next_bucket[topic.id])


class _Reassessed(BucketSink):
    """`_reassess`'s side of the bucket loop: risk points only (no verdicts, no alert policy)."""

    def __init__(self, rt: Runtime, blind_since: dict[str, datetime]):
        self.rt, self.blind_since = rt, blind_since
        self.points: list[Any] = []

    def assessed(self, topic: Topic, t: datetime, assessment: Assessment, event: AlertEvent | None) -> None:
        point = assessment.risk_point()
        point.blind = sorted(_blind_for(self.rt, topic, self.blind_since, t))
        self.points.append(point)


def run_cycle(rt: Runtime, now: datetime | None = None) -> CycleReport:
    """One cycle of every configured source, then detection and alerting (`vigie run`).

    Sources fail alone (`ingest_source`); detection runs on what is stored whatever ingestion did, and a
    detection failure is reported (`CycleReport.detection_error`), not raised, so the caller can say what
    happened (`CycleReport.outcome`, the exit code of `vigie run`)."""
    now = utc(now) if now else datetime.now(timezone.utc)
    check_now(now, rt.clock_skew)
    sources = ingest_all(rt, now)
    try:
        detection = detect_and_deliver(rt, now)
    except Exception as exc:
        log.error("detection failed at %s: %s: %s", iso(now), type(exc).__name__, exc)
        return CycleReport(now=now, sources=sources, events=[], detection_error=f"{type(exc).__name__}: {exc}")
    return CycleReport(now=now, sources=sources, events=detection.events, detection=detection)
