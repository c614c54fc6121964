"""Detection on a real SQLite store filled with seeded synthetic traffic (tests/detect_fixtures.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from detect_fixtures import T0, TOPIC, background, burst, make_post

from alerts.detect import Detector, floor_time, level_for
from alerts.policy import AlertPolicy
from alerts.stats import poisson_log10_sf, trimmed_mean
from vigie.core.config import DetectionConfig, Topic
from vigie.core.models import AlertState, Level
from vigie.store.sqlite import SqliteStore

STEP = timedelta(minutes=5)
TOPIC_CFG = Topic(id=TOPIC, name="Acme", query="acme")


@pytest.fixture
def store(tmp_path):
    s = SqliteStore(tmp_path / "t.db")
    yield s
    s.close()


def run(store, start, end, cfg=None):
    """Detector + policy bucket by bucket, like the pipeline; returns (assessments, notified events)."""
    cfg = cfg or DetectionConfig()
    det, pol = Detector(cfg), AlertPolicy(cfg)
    current = last = None
    assessments, events = [], []
    t = start
    while t <= end:
        a = det.assess(TOPIC_CFG, store, t)
        assessments.append(a)
        ev = pol.step(TOPIC_CFG, a, current, last, t)
        if ev is not None:
            if ev.alert.state == AlertState.RESOLVED:
                last, current = ev.alert, None
            else:
                current = ev.alert
            if ev.notify:
                events.append(ev)
        t += STEP
    return assessments, events


def test_poisson_surprise_small_vs_large_counts():
    assert poisson_log10_sf(3, 1.0) < 2  # 3 instead of ~0-1: unsurprising
    assert poisson_log10_sf(40, 5.0) > 15  # 40 instead of 5: practically impossible by chance
    assert poisson_log10_sf(2, 5.0) == 0.0  # below expectation: never alarming
    assert poisson_log10_sf(5000, 5.0) > 1000  # no underflow on huge bursts
    assert trimmed_mean([1, 1, 1, 1, 1, 1, 1, 1, 1, 100]) == 1.0  # yesterday's burst does not inflate the baseline


def test_quiet_series_raises_no_alert(store):
    store.upsert_posts(background(T0, 4 * 24, seed=3))
    assessments, events = run(store, T0 + timedelta(days=3), T0 + timedelta(days=4))
    assert events == []
    assert max(a.risk for a in assessments) < TOPIC_CFG.thresholds.watch
    assert all(a.notes == [] for a in assessments)  # 3 days of history: no cold start


def test_negative_burst_opens_then_escalates_the_same_alert(store):
    start = T0 + timedelta(days=3, hours=13)
    store.upsert_posts(background(T0, 3 * 24 + 20, seed=5))
    # Angry posts first (no crisis vocabulary yet), then an explosion with crisis words and copy-paste.
    store.upsert_posts(burst(start, [3] * 6 + [5] * 6, first_id=100_000))
    store.upsert_posts(
        burst(start + timedelta(hours=1), [8, 15, 25, 40, 60, 60], categories=["boycott"], big_account_at=1,
              cluster_every=2, first_id=200_000)
    )
    peak = start + timedelta(hours=1, minutes=25)
    _, events = run(store, start - timedelta(hours=2), start + timedelta(hours=6))
    first = events[0]
    assert first.kind == "open" and first.alert.level in (Level.WATCH, Level.WARNING)
    crisis = next(e for e in events if e.alert.level == Level.CRISIS)
    assert crisis.kind == "escalate"
    assert crisis.alert.id == first.alert.id and crisis.alert.dedup_key == first.alert.dedup_key
    assert crisis.alert.state == AlertState.ESCALATED
    assert first.alert.opened_at > start  # strictly causal: nothing before the burst began
    assert crisis.alert.updated_at <= peak  # crisis called before the peak
    warning_at = next(e.alert.updated_at for e in events if e.alert.level.rank >= Level.WARNING.rank)
    # Composition (negative share, a rare crisis category) weighs more, so the explosion with
    # boycott vocabulary may jump from watch to crisis in one bucket; warning never comes after crisis.
    assert warning_at <= crisis.alert.updated_at
    history = [h.event for h in crisis.alert.history]
    assert history[0] == "open" and "escalate" in history
    assert crisis.alert.drivers[0].name == "negative_volume"
    assert [d.points for d in crisis.alert.drivers] == sorted((d.points for d in crisis.alert.drivers), reverse=True)
    nv = crisis.alert.drivers[0]
    assert nv.explanation.startswith("negative volume ×") and nv.explanation.endswith(f": +{nv.points:.0f}")
    # The burst dies down: the alert resolves after the exit buckets, and there is a single episode.
    assert events[-1].kind == "resolve" and events[-1].alert.id == first.alert.id
    assert len({e.alert.id for e in events}) == 1


def test_positive_surge_reaches_at_most_watch(store):
    start = T0 + timedelta(days=3, hours=12)
    store.upsert_posts(background(T0, 3 * 24 + 16, seed=7))
    # A viral compliment: 20x volume, overwhelmingly positive (a few negatives come with any crowd).
    surge = burst(start, [10, 30, 60, 90, 120, 120, 90, 60, 30, 10], label="pos", cluster_every=3, first_id=100_000)
    grumps = burst(start, [1, 2, 4, 6, 8, 8, 6, 4, 2, 1], label="neg", first_id=200_000)
    store.upsert_posts(surge + grumps)
    assessments, events = run(store, start - timedelta(hours=1), start + timedelta(hours=3))
    assert max(a.risk for a in assessments) < TOPIC_CFG.thresholds.warning
    assert all(e.alert.level == Level.WATCH for e in events)
    damped = [d for a in assessments for d in a.drivers if "damped" in d.explanation]
    assert damped, "volume-driven drivers must say they were damped by the low negative share"


def test_three_negatives_at_night_are_not_alarming_but_forty_by_day_are(store):
    store.upsert_posts(background(T0, 4 * 24, seed=11))
    night = T0 + timedelta(days=3, hours=3)  # 03:00 UTC, near-zero usual traffic
    store.upsert_posts(burst(night, [1, 1, 1], first_id=100_000))
    det = Detector(DetectionConfig())
    a = det.assess(TOPIC_CFG, store, night + timedelta(minutes=15))
    assert a.risk < TOPIC_CFG.thresholds.watch
    nv = a.driver("negative_volume")
    assert nv is None or nv.points < 5

    noon = T0 + timedelta(days=3, hours=13)
    store.upsert_posts(burst(noon, [7] * 6, first_id=200_000))  # ~40 negatives in 30 min vs ~5 usual
    b = det.assess(TOPIC_CFG, store, noon + timedelta(minutes=30))
    nv = b.driver("negative_volume")
    assert nv is not None and nv.points >= 0.9 * DetectionConfig().weights.negative_volume
    assert level_for(b.risk, TOPIC_CFG) is not None


def test_cold_start_is_conservative_and_says_so(store):
    start = T0 + timedelta(hours=10)
    store.upsert_posts(background(start, 3, seed=2))
    store.upsert_posts(burst(start + timedelta(hours=3), [1, 1, 1, 2, 2, 2], first_id=100_000))
    a = Detector(DetectionConfig()).assess(TOPIC_CFG, store, start + timedelta(hours=3, minutes=30))
    assert any(n.startswith("cold start: 3 h of history") for n in a.notes)
    assert a.risk < TOPIC_CFG.thresholds.watch  # a dozen complaints on a brand-new topic is not a page


def test_assessment_is_causal_cached_and_independent_of_call_history(store):
    store.upsert_posts(background(T0, 4 * 24, seed=13))
    now = T0 + timedelta(days=3, hours=14, minutes=7)  # mid-bucket: the last *complete* bucket counts
    long_running = Detector(DetectionConfig())
    t = now - timedelta(hours=5)
    while t < now:
        long_running.assess(TOPIC_CFG, store, t)
        t += STEP
    a = long_running.assess(TOPIC_CFG, store, now)
    assert long_running.baseline_reads <= 7  # one baseline read per hour, not per call
    fresh = Detector(DetectionConfig()).assess(TOPIC_CFG, store, now)
    assert a == fresh
    assert a.at == floor_time(now, STEP) and a.window[-1].start == a.at - STEP
    assert len(a.window) == DetectionConfig().window_buckets
    # Posts at or after `now` (and in the still-open bucket) change nothing.
    store.upsert_posts(burst(a.at, [80, 80], categories=["safety"], first_id=300_000))
    assert Detector(DetectionConfig()).assess(TOPIC_CFG, store, now) == a


def test_late_posts_inside_the_window_count_immediately(store):
    store.upsert_posts(background(T0, 4 * 24, seed=17))
    det = Detector(DetectionConfig())
    now = T0 + timedelta(days=3, hours=15)
    before = det.assess(TOPIC_CFG, store, now)
    store.upsert_posts([make_post(500_000 + i, now - timedelta(minutes=3), "neg", categories=["fraud"]) for i in range(40)])
    after = det.assess(TOPIC_CFG, store, now)
    assert after.risk > before.risk and after.driver("crisis_terms") is not None
