"""The one bucket loop: assess topics bucket by bucket, oldest first, and hand each result to a sink.

Every pass of detection over time goes through `run_buckets`: live detection (`steps.detect_and_deliver`:
per-topic cursors, alerts read from and committed to the store with their outbox), the backtest
(`vigie.sim.backtest`: alerts kept in memory, a simulated analyst), the re-assessment after a backfill and
the report's recomputed risk curve (`risk_curve`: assessments only, no alert policy). What differs between
them is what they read (verdicts, the current alert, blind sources) and what they do with a result: that is
the sink. What never differs lives here once: the times, bucket-major order (every topic of a bucket before
the next bucket, topics in the caller's order), one `Detector.assess` per topic and bucket, and the alert
policy stepped right after it.

`simulate` is the same walk one level up (the clock of a replay: ingest, then detect, per bucket).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from alerts.detect import Assessment, Detector, floor_time
from alerts.feedback import Verdict
from alerts.policy import AlertEvent, AlertPolicy
from vigie.core.config import Topic
from vigie.core.models import Alert
from vigie.store.base import Store

__all__ = ["AlertEvent", "Assessment", "BucketSink", "Detector", "assessments", "bucket_floor", "bucket_times",
           "new_detector", "risk_curve", "run_buckets"]


def bucket_floor(t: datetime, minutes: int) -> datetime:
    """Start of the `minutes`-wide bucket containing `t` (the detector's own alignment)."""
    return floor_time(t, timedelta(minutes=minutes))


def bucket_times(first: datetime, last: datetime, step: timedelta, *, last_included: bool = True
                 ) -> Iterator[datetime]:
    """first, first + step, ... up to `last` (included, or not)."""
    t = first
    while t <= last if last_included else t < last:
        yield t
        t += step


def new_detector(config: Any) -> Detector:
    """A fresh detector for `config.detection` (a pass that must not share the live one's baseline cache)."""
    return Detector(config.detection)


class BucketSink:
    """What one kind of pass reads and does around each assessment. The defaults are an in-memory pass with
    no verdicts, no alert and no blind source; subclasses override what they keep elsewhere."""

    def verdicts(self, topic: Topic, t: datetime) -> list[Verdict] | None:
        """The topic's false-alarm / real-crisis marks known at `t` (the detector's feedback input)."""
        return None

    def alerts(self, topic: Topic, t: datetime) -> tuple[Alert | None, Alert | None]:
        """The topic's current alert and its last resolved one, as the alert policy must see them at `t`."""
        return None, None

    def blind(self, topic: Topic, t: datetime) -> bool:
        """Is a source of the topic blind at `t` (the policy then resolves nothing on its account)?"""
        return False

    def assessed(self, topic: Topic, t: datetime, assessment: Assessment, event: AlertEvent | None) -> None:
        """One topic assessed at `t` (and the policy's event, if it was stepped and something changed)."""

    def bucket_done(self, t: datetime) -> None:
        """Every due topic of bucket `t` was assessed (live detection commits the bucket here)."""


def run_buckets(detector: Detector, store: Store, topics: Sequence[Topic], times: Iterable[datetime],
                sink: BucketSink, *, policy: AlertPolicy | None = None,
                first: Mapping[str, datetime] | None = None) -> None:
    """Assess every topic at every time, bucket-major, and hand each result to `sink`.

    `policy`: step the alert policy after each assessment (None: assessments only). `first`: per topic id, the
    first time it is due (live detection's cursors); a topic is skipped at the times before it."""
    for t in times:
        for topic in topics:
            if first is not None and first[topic.id] > t:
                continue
            assessment = detector.assess(topic, store, t, verdicts=sink.verdicts(topic, t))
            event = None
            if policy is not None:
                current, last_resolved = sink.alerts(topic, t)
                event = policy.step(topic, assessment, current, last_resolved, t, blind=sink.blind(topic, t))
            sink.assessed(topic, t, assessment, event)
        sink.bucket_done(t)


class _Collect(BucketSink):
    def __init__(self) -> None:
        self.points: list[Assessment] = []

    def assessed(self, topic: Topic, t: datetime, assessment: Assessment, event: AlertEvent | None) -> None:
        self.points.append(assessment)


def assessments(detector: Detector, store: Store, topic: Topic, times: Iterable[datetime]) -> list[Assessment]:
    """The detector's assessments of one topic at `times` (in that order), without alert policy or feedback."""
    sink = _Collect()
    run_buckets(detector, store, [topic], times, sink)
    return sink.points


def risk_curve(store: Store, config: Any, topic: Topic, times: Iterable[datetime]) -> list[tuple[datetime, float]]:
    """(time, risk) recomputed by a fresh production detector at each of `times` (give them in time order: its
    hourly baseline cache then serves consecutive times). What the report draws for a period detection did
    not assess."""
    times = list(times)
    return [(t, a.risk) for t, a in zip(times, assessments(new_detector(config), store, topic, times))]
