"""Detection: how far the recent window of a topic is from its usual self, as a risk index 0-100.

For a topic at time `now`:

* the **window** is the last `window_buckets` complete buckets before `now` (re-read from the store at
  every call, so late posts inside the window always count);
* the **baseline** (`alerts.baseline`) is `baseline_hours` of buckets ending `BASELINE_GUARD` (3 h) before
  the hour boundary that precedes the window, so an event a few hours old is not yet its own "normal". It
  is summarised once per hour and cached in the Detector; at each hourly refresh only the newest hours are
  re-read from the store (`Detector.REFRESH_OVERLAP`), the rest of the 72 h comes from the cache.
  Consequence, by design: a post that arrives late for a bucket already in the baseline is counted at the
  next refresh if it is within that overlap, otherwise only after a restart. Without such late posts, the
  result is a function of (store contents, now) only: the refresh hour is derived from `now`, so a fresh
  Detector and a long-running one agree. Everything is strictly causal (nothing at or after the end of
  the last complete bucket is read).
* the **drivers** (`alerts.drivers`) turn window, look-back and baseline into points; the risk is their
  sum, capped at 100, and held just under the warning threshold when the window's composition is the
  usual one (`drivers.signals.composition_cap`: a volume event reaches watch at most); the level follows the
  topic's thresholds (before the policy's hysteresis).
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from alerts.baseline import Baseline, bucket_row, build_baseline_from_rows
from alerts.feedback import Verdict, adjusted_risk
from alerts.drivers import compute_drivers
from alerts.drivers.signals import LONGER_SCALES, SUSTAINED_HOURS, composition_cap, persistent_share
from vigie.core.config import DetectionConfig, Topic
from vigie.core.models import Bucket, Driver, Level, RiskPoint, utc
from vigie.store.base import Store

# The baseline stops this long before the window (plus up to an hour of refresh granularity): an event
# that has been going on for a few hours is not yet part of its own "normal".
BASELINE_GUARD = timedelta(hours=3)


@dataclass
class Assessment:
    topic_id: str
    at: datetime  # end of the last complete bucket assessed (the "now" of detection)
    risk: float  # 0..100
    level: Level | None  # raw level implied by risk and the topic thresholds (before hysteresis)
    drivers: list[Driver]  # sorted by points, highest first
    window: list[Bucket]  # the recent buckets assessed
    notes: list[str] = field(default_factory=list)

    def driver(self, name: str) -> Driver | None:
        return next((d for d in self.drivers if d.name == name), None)

    def risk_point(self) -> RiskPoint:
        """What is kept of every assessment (the risk curve of dashboards and notebooks)."""
        return RiskPoint(topic_id=self.topic_id, at=self.at, risk=self.risk, level=self.level,
                         drivers={d.name: d.points for d in self.drivers}, notes=list(self.notes))


def floor_time(t: datetime, width: timedelta) -> datetime:
    """Start of the bucket of width `width` (aligned on the Unix epoch) that contains `t`."""
    seconds = int(width.total_seconds())
    epoch = int(utc(t).timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds, tz=timezone.utc)


def level_for(risk: float, topic: Topic) -> Level | None:
    th = topic.thresholds
    if risk >= th.crisis:
        return Level.CRISIS
    if risk >= th.warning:
        return Level.WARNING
    if risk >= th.watch:
        return Level.WATCH
    return None


class Detector:
    """Assesses topics against their baselines; keeps one cached baseline per topic (refreshed hourly)."""

    # At an hourly refresh only the newest part of the baseline range is re-read from the store (the hour
    # that entered the range plus this much before it); older buckets come from the cache. A post that
    # arrives later than this for an older bucket is not counted in the baseline until that bucket leaves
    # the range, or until the Detector restarts (a full read).
    REFRESH_OVERLAP = timedelta(hours=2)

    def __init__(self, cfg: DetectionConfig):
        self.cfg = cfg
        self.width = timedelta(minutes=cfg.bucket_minutes)
        self._baselines: dict[str, Baseline] = {}
        # topic -> bucket start -> the bucket's `bucket_row` (what a build reads of it, extracted once)
        self._history: dict[str, dict[datetime, tuple]] = {}
        self.baseline_reads = 0  # store reads made for baselines (for benchmarks and tests)
        self.full_reads = 0

    def baseline(self, topic_id: str, store: Store, window_start: datetime) -> Baseline:
        end = floor_time(window_start, timedelta(hours=1)) if self.width <= timedelta(hours=1) else window_start
        end -= BASELINE_GUARD
        cached = self._baselines.get(topic_id)
        if cached is not None and cached.end == end:
            return cached
        start = floor_time(end - timedelta(hours=self.cfg.baseline_hours), self.width)
        history = self._history.get(topic_id)
        if cached is not None and history is not None and start <= cached.end <= end:
            read_from = max(start, floor_time(cached.end - self.REFRESH_OVERLAP, self.width))
        else:  # first call, or time jumped (a backtest restarted): read the whole range
            history, read_from = {}, start
            self.full_reads += 1
        for b in store.series(topic_id, read_from, end, self.width):
            history[b.start] = bucket_row(b)
        self.baseline_reads += 1
        ordered = sorted(history)  # nearly sorted already (older hours first, then the re-read ones)
        lo, hi = bisect_left(ordered, start), bisect_left(ordered, end)
        for t in ordered[:lo] + ordered[hi:]:  # the hour that left the range
            del history[t]
        self._history[topic_id] = history
        base = build_baseline_from_rows([history[t] for t in ordered[lo:hi]], end, self.cfg)
        self._baselines[topic_id] = base
        return base

    def assess(self, topic: Topic, store: Store, now: datetime, verdicts: list[Verdict] | None = None) -> Assessment:
        """`verdicts`: the topic's false-alarm / real-crisis marks (read from the store by the caller; only
        those given before `now` count), applied as a bounded per-topic discount (`alerts.feedback`)."""
        end = floor_time(now, self.width)
        start = end - self.width * self.cfg.window_buckets
        lookback = max(self.cfg.window_buckets * max(LONGER_SCALES), int(SUSTAINED_HOURS * 60 // self.cfg.bucket_minutes))
        recent = store.series(topic.id, end - self.width * lookback, end, self.width)  # one read per call
        window = recent[-self.cfg.window_buckets :]
        base = self.baseline(topic.id, store, start)
        drivers = compute_drivers(window, base, self.cfg, recent,
                                  posts=lambda since: list(store.iter_posts(topic.id, since, end)))
        risk = round(min(100.0, sum(d.points for d in drivers)), 1)
        notes = []
        # Composition over volume: without evidence that the mix changed (more negative than the volume
        # predicts, rare crisis categories, negative copies, amplified negative posts) a surge stays below
        # warning, however large.
        th = topic.thresholds
        cap = composition_cap(drivers, self.cfg, th.warning, th.crisis,
                              persistent_share(recent, base, self.cfg.bucket_minutes))
        if risk > cap:
            if cap < th.warning:
                notes.append(f"volume event: the usual composition (no negative excess beyond the volume, no rare "
                             f"crisis category, no negative copies or amplification); risk {risk:.0f} held at {cap:.1f}")
            else:
                notes.append(f"no rare crisis category or negative copies yet: risk {risk:.0f} held at {cap:.1f}")
            risk = cap
        if verdicts:
            risk, why = adjusted_risk(topic.id, verdicts, {d.name: d.points for d in drivers}, risk, end,
                                      crisis=th.crisis)
            if why:
                notes.append(why)
        if base.sparse and risk > 0:
            notes.append("sparse topic: median 0 posts per bucket, judged on expectations floored at one post "
                         "per window and over 1 h and 3 h")
        if base.cold:
            # The topic's age as users see it: its first post in the baseline or in the recent look-back.
            first = base.first_at or next((b.start for b in recent if b.count), None)
            age = (end - first).total_seconds() / 3600 if first else 0.0
            notes.append(f"cold start: {age:.0f} h of history, conservative priors")
        return Assessment(
            topic_id=topic.id,
            at=end,
            risk=risk,
            level=level_for(risk, topic),
            drivers=sorted(drivers, key=lambda d: (-d.points, d.name)),
            window=window,
            notes=notes,
        )
