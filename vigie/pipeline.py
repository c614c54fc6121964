"""The pipeline steps, as plain functions shared by the CLI and the Airflow DAGs.

    listeners.fetch(since cursor) → nlp.analyze(batch) → store.upsert → alerts.detect → alerts.notify

Every step is idempotent: post ids are `<source>:<native id>`, a listener's cursor is saved only after
the page it covers is stored, detection keeps its own cursor (the last bucket it assessed) and alerts
have stable dedup keys, so re-running any step over the same window changes nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from alerts.detect import Assessment, Detector, floor_time
from alerts.notify import build_notifiers, deliver_many
from alerts.policy import AlertEvent, AlertPolicy
from listeners import build_listener
from listeners.base import Listener, SourceError
from nlp.pipeline import Analyzer
from vigie.config import Topic, VigieConfig
from vigie.models import Alert, AlertState, Cursor, Post, iso, utc
from vigie.links import crisis_room_link
from vigie.store import Store, open_store

log = logging.getLogger("vigie.pipeline")

DETECTION_CURSOR = "detection"  # cursor "source" under which detection remembers its last assessed bucket
EVIDENCE_POSTS = 5


@dataclass
class SourceReport:
    source: str
    queries: int = 0
    pages: int = 0
    fetched: int = 0
    inserted: int = 0
    updated: int = 0
    quarantined: int = 0
    errors: list[str] = field(default_factory=list)
    info: list[dict[str, Any]] = field(default_factory=list)  # rate-limit waits, retries reported by listeners

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass
class CycleReport:
    now: datetime
    sources: list[SourceReport]
    events: list[AlertEvent]


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

    @classmethod
    def from_config(
        cls,
        config: VigieConfig,
        *,
        store: Store | None = None,
        notifiers: list[Any] | None = None,
        console: Any = None,
    ) -> "Runtime":
        return cls(
            config=config,
            store=store if store is not None else open_store(config.store),
            analyzer=Analyzer(config.nlp, config.topics),
            detector=Detector(config.detection),
            policy=AlertPolicy(config.detection),
            notifiers=notifiers if notifiers is not None else build_notifiers(config.channels, console=console),
        )

    def listener(self, source_name: str) -> Listener:
        if source_name not in self._listeners:
            try:
                cfg = self.config.sources[source_name]
            except KeyError:
                known = ", ".join(sorted(self.config.sources)) or "none"
                raise SourceError(f"unknown source {source_name!r} (configured: {known})") from None
            self._listeners[source_name] = build_listener(source_name, cfg)
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

    A source error (auth refused, missing secret, unreachable) stops this source and is reported; it never
    raises, so the other sources of a cycle still run.
    """
    now = utc(now) if now else datetime.now(timezone.utc)
    report = SourceReport(source=source_name)
    try:
        listener = rt.listener(source_name)
        topics = [t for t in rt.config.topics_for_source(source_name) if topic_ids is None or t.id in topic_ids]
        queries = listener.plan(topics)
    except SourceError as exc:
        report.errors.append(str(exc))
        log.error("source %s: %s", source_name, exc)
        return report
    for query in queries:
        report.queries += 1
        stored = rt.store.get_cursor(source_name, query.key)
        try:
            for page in listener.fetch(query, stored.value if stored else None, now):
                report.pages += 1
                report.fetched += len(page.posts)
                for post in page.posts:
                    post.fetched_at = post.fetched_at or now
                result = rt.store.upsert_posts(analyze_posts(rt, page.posts))
                relabel_late_clusters(rt)
                report.inserted += result.inserted
                report.updated += result.updated
                report.quarantined += result.quarantined
                for rejected in page.rejected:
                    rt.store.quarantine(source_name, rejected.record, rejected.reason, rejected.context)
                    report.quarantined += 1
                if page.info:
                    report.info.append(page.info)
                # Only now is the page safe: move the cursor past it.
                rt.store.set_cursor(Cursor(source=source_name, query=query.key, value=page.cursor, updated_at=now))
        except SourceError as exc:
            report.errors.append(f"{query.key}: {exc}")
            log.error("source %s, query %s: %s", source_name, query.key, exc)
    return report


def ingest_all(rt: Runtime, now: datetime | None = None) -> list[SourceReport]:
    return [ingest_source(rt, name, now) for name in rt.config.sources]


# -- detection and alerting -------------------------------------------------------------------

def bucket_floor(t: datetime, minutes: int) -> datetime:
    """Start of the `minutes`-wide bucket containing `t` (the detector's own alignment)."""
    return floor_time(t, timedelta(minutes=minutes))


def _evidence(rt: Runtime, topic: Topic, a: Assessment) -> list[dict[str, Any]]:
    """The posts a crisis team should read first: confidently negative posts that travel (ranked by P(neg)
    band, then reach), then the most engaging."""
    width = timedelta(minutes=rt.config.detection.bucket_minutes)
    start = a.window[0].start if a.window else a.at - width * rt.config.detection.window_buckets
    chosen: dict[str, Post] = {}
    for by in ("negative", "crisis", "engagement"):
        for post in rt.store.top_posts(topic.id, start, a.at, by=by, limit=EVIDENCE_POSTS):
            chosen.setdefault(post.id, post)
        if len(chosen) >= EVIDENCE_POSTS:
            break
    return [evidence_item(p) for p in list(chosen.values())[:EVIDENCE_POSTS]]


def evidence_item(post: Post) -> dict[str, Any]:
    analysis = post.analysis
    return {
        "id": post.id,
        "url": post.url,
        "source": post.source,
        "author": post.author.handle or post.author.name or post.author.id,
        "followers": post.author.followers,
        "text": post.text[:500],
        "engagement": post.engagement.total,
        "sentiment": analysis.sentiment.label if analysis else None,
        # P(negative) from the sentiment model (None when the backend has no probabilities, e.g. the lexicon).
        "p_neg": round(analysis.sentiment.probs["neg"], 3) if analysis and analysis.sentiment.probs else None,
        "crisis_categories": analysis.crisis.categories if analysis else [],
        "created_at": iso(post.created_at),
    }


def _current_and_last_resolved(store: Store, topic_id: str) -> tuple[Alert | None, Alert | None]:
    """The topic's current alert (the newest one not resolved, i.e. open or escalated: what
    `open_alerts(topic)[-1]` is) and its newest resolved one. Indexed single-alert reads, asked every
    bucket: reading `alert_history` here would grow with every alert the topic ever had."""
    newest = (store.last_alert(topic_id, state) for state in AlertState if state is not AlertState.RESOLVED)
    current = max((a for a in newest if a is not None), key=lambda a: (a.opened_at, a.id), default=None)
    return current, store.last_alert(topic_id, AlertState.RESOLVED)


def detect_topic(rt: Runtime, topic: Topic, now: datetime) -> tuple[Assessment, AlertEvent | None]:
    """Assess one topic at `now`, apply the alert policy and persist the alert if it changed (the risk
    point and the delivery are the caller's, batched per bucket)."""
    assessment = rt.detector.assess(topic, rt.store, now)
    current, last_resolved = _current_and_last_resolved(rt.store, topic.id)
    event = rt.policy.step(topic, assessment, current, last_resolved, now)
    if event is None:
        return assessment, None
    alert = event.alert
    if event.kind in ("open", "escalate", "update") or not alert.evidence:
        alert.evidence = _evidence(rt, topic, assessment)
    if rt.config.report.kibana_url:
        alert.links.setdefault("kibana", crisis_room_link(rt.config.report.kibana_url, alert))
    rt.store.save_alert(alert)
    return assessment, event


def detect_and_alert(rt: Runtime, now: datetime, topic_ids: list[str] | None = None) -> list[AlertEvent]:
    """Assess every bucket that completed since the last run, oldest first, for every topic.

    Detection keeps a cursor per topic (the end of the last assessed bucket) so a re-run over the same time
    adds nothing, and a late run catches up bucket by bucket instead of skipping the buckets it missed.
    The events of one bucket are delivered together, so channels can send one digest when many topics
    alert at once.
    """
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
    events: list[AlertEvent] = []
    t = min(next_bucket.values(), default=end + step)
    while t <= end:
        to_deliver, points, assessed = [], [], []
        for topic in topics:
            if next_bucket[topic.id] > t:
                continue
            assessment, event = detect_topic(rt, topic, t)
            points.append(assessment.risk_point())
            assessed.append(topic)
            if event is not None:
                events.append(event)
                if event.notify:  # silent updates (calm-bucket counting) are persisted, not delivered
                    to_deliver.append((event.alert, event.kind))
        # Risk points before the cursors: a crash in between re-assesses the bucket and replaces them.
        rt.store.save_risk(points)
        for topic in assessed:
            rt.store.set_cursor(Cursor(source=DETECTION_CURSOR, query=topic.id, value={"at": iso(t)}, updated_at=t))
        if to_deliver:
            deliver_many(to_deliver, rt.notifiers, rt.store)
        t += step
    return events


def run_cycle(rt: Runtime, now: datetime | None = None) -> CycleReport:
    """One cycle of every configured source, then detection and alerting (`vigie run`)."""
    now = utc(now) if now else datetime.now(timezone.utc)
    sources = ingest_all(rt, now)
    events = detect_and_alert(rt, now)
    return CycleReport(now=now, sources=sources, events=events)
