"""The engagement-velocity and spread drivers, and how look-back drivers fade once a burst is over."""

from __future__ import annotations

from datetime import timedelta

import pytest
from detect_fixtures import T0, background, burst
from test_detect import STEP, TOPIC_CFG, run

from alerts.detect import Detector
from vigie.core.config import DetectionConfig
from vigie.core.models import Level
from vigie.store.sqlite import SqliteStore

SOURCES = ("x", "reddit", "mastodon", "feeds")
NOON = T0 + timedelta(days=3, hours=13)


@pytest.fixture
def store(tmp_path):
    s = SqliteStore(tmp_path / "t.db")
    s.upsert_posts(background(T0, 3 * 24 + 14, seed=21, sources=SOURCES))
    yield s
    s.close()


def assess(store, now, cfg=None):
    return Detector(cfg or DetectionConfig()).assess(TOPIC_CFG, store, now)


def test_spread_scores_a_rise_on_several_sources_not_on_one(store):
    # The same 36 extra negative posts in 30 minutes: on X alone, then on X, Reddit and Mastodon at once.
    end = NOON + timedelta(minutes=30)
    one = burst(NOON, [6] * 6, first_id=100_000, sources=("x",))
    store.upsert_posts(one)
    alone = assess(store, end)
    assert alone.driver("spread") is None or alone.driver("spread").points < 1

    spread_store = SqliteStore(store.path.with_name("spread.db"))
    spread_store.upsert_posts(background(T0, 3 * 24 + 14, seed=21, sources=SOURCES))
    spread_store.upsert_posts(burst(NOON, [6] * 6, first_id=100_000, sources=("x", "reddit", "mastodon")))
    several = assess(spread_store, end)
    spread = several.driver("spread")
    assert spread is not None and spread.points >= 0.5 * DetectionConfig().weights.spread
    assert "rising on 3 sources at once" in spread.explanation
    for source in ("x ×", "reddit ×", "mastodon ×"):
        assert source in spread.explanation
    assert "feeds" not in spread.explanation  # the quiet source is not listed
    spread_store.close()


def test_engagement_velocity_scores_complaints_that_travel(store):
    end = NOON + timedelta(minutes=30)
    # A handful of complaints, each liked 400 times within minutes of publication.
    store.upsert_posts(burst(NOON, [2, 2, 2, 2, 0, 0], first_id=100_000, likes=400))
    a = assess(store, end)
    eng = a.driver("engagement")
    assert eng is not None and eng.points == pytest.approx(DetectionConfig().weights.engagement)
    assert eng.explanation.startswith("engagement velocity on negative posts 6.4k/h, ×")
    assert "over baseline (≤100/h)" in eng.explanation  # the floor the ratio used, not a ×3000 on ~0
    quiet = SqliteStore(store.path.with_name("quiet.db"))  # the same complaints, nobody reacting
    quiet.upsert_posts(background(T0, 3 * 24 + 14, seed=21, sources=SOURCES))
    quiet.upsert_posts(burst(NOON, [2, 2, 2, 2, 0, 0], first_id=100_000, likes=0))
    assert assess(quiet, end).driver("engagement") is None
    quiet.close()
    # The same likes on praise: the negativity gate damps the driver.
    store.upsert_posts(burst(NOON, [12, 12, 12, 12, 0, 0], label="pos", first_id=200_000, likes=0))
    damped = assess(store, end).driver("engagement")
    assert damped is not None and damped.points < eng.points and "damped" in damped.explanation


def test_engagement_weight_zero_removes_the_driver(store):
    store.upsert_posts(burst(NOON, [1, 1, 1, 1, 0, 0], first_id=100_000, likes=400))
    cfg = DetectionConfig.model_validate({"weights": {"engagement": 0}})
    assert assess(store, NOON + timedelta(minutes=30), cfg).driver("engagement") is None


def test_look_back_drivers_fade_when_the_burst_is_over(store):
    store.upsert_posts(burst(NOON, [12] * 12, categories=["safety"], first_id=100_000))  # 1 hour of anger
    over = NOON + timedelta(hours=1)
    during = assess(store, over)
    assert during.risk >= TOPIC_CFG.thresholds.crisis
    # 70 minutes later the last hour is back to normal: the 3-hour span and the CUSUM no longer hold the risk.
    after = assess(store, over + timedelta(minutes=70))
    assert after.risk < TOPIC_CFG.thresholds.watch - DetectionConfig().hysteresis
    faded = [d for d in after.drivers if "fading" in d.explanation]
    assert all(d.name in ("negative_volume", "sustained") for d in faded)


def test_alert_resolves_soon_after_a_burst_and_does_not_reopen(store):
    store.upsert_posts(burst(NOON, [12] * 12, categories=["safety"], first_id=100_000))
    _, events = run(store, NOON - timedelta(hours=1), NOON + timedelta(hours=6))
    assert {e.alert.id for e in events} == {events[0].alert.id}  # one episode
    resolved = [e for e in events if e.kind == "resolve"]
    assert resolved and resolved[0].alert.peak_level == Level.CRISIS
    cfg = DetectionConfig()
    # Burst end + the window emptying + the exit buckets at each level stepped through, with slack.
    latest = NOON + timedelta(hours=1) + STEP * (cfg.window_buckets + 3 * cfg.exit_buckets) + timedelta(minutes=30)
    assert resolved[0].alert.resolved_at <= latest


def test_a_small_topic_negative_share_is_judged_over_hours(tmp_path):
    small = SqliteStore(tmp_path / "small.db")
    small.upsert_posts(background(T0, 3 * 24 + 14, seed=5, rate=lambda t: 0.1))  # ~1 post an hour
    # Two complaints an hour for 3 hours: too few posts in any half-hour for a share to mean anything.
    small.upsert_posts(burst(NOON - timedelta(hours=3), ([1] + [0] * 5) * 6, first_id=100_000))
    a = assess(small, NOON)
    share = a.driver("negative_share")
    assert share is not None and "over the last 3 h" in share.explanation
    # The window alone (1-2 posts) carries no share signal at all (full weight needs 30 posts).
    assert share.points >= 0.15 * DetectionConfig().weights.negative_share
    small.close()


def test_every_weight_has_its_driver_and_every_driver_its_weight():
    from vigie.core.config import Weights
    from vigie.core.drivers import DRIVERS

    # A driver's name is its weight's name and its module's: the config, the Kibana driver chart and
    # load_risk rely on it. The order is the one users have always seen (config, mapping, chart colours).
    assert DRIVERS.names() == ["negative_volume", "negative_share", "reach", "crisis_terms", "authors",
                               "coordination", "sustained", "engagement", "spread", "entity_spread", "influencer"]
    assert all(d.compute.__name__ == name and d.compute.__module__ == f"alerts.drivers.{name}"
               for name, d in DRIVERS.items())
    assert list(Weights().model_dump()) == DRIVERS.names()


def test_the_example_config_documents_every_weight_at_its_default():
    # vigie.example.yml is where users start: a stale weight there silently overrides the default (its
    # negative_share and crisis_terms were the weights of before issue 14 until 14h).
    from pathlib import Path

    from vigie.core.config import Weights, load_config

    example = load_config(Path(__file__).resolve().parents[1] / "vigie.example.yml")
    assert example.detection.weights.model_dump() == Weights().model_dump()


def test_drivers_read_the_window_the_same_whether_or_not_it_is_the_look_back_tail(store):
    """The drivers read sums and expectations once per assessment from the look-back (`Signals`) when the window is its
    tail, as the Detector reads them; a caller passing a window made of other (equal) bucket objects takes the
    bucket-by-bucket path. Both must give the same drivers, to the explanation."""
    import copy

    from alerts.drivers import compute_drivers
    from alerts.drivers.signals import LONGER_SCALES

    store.upsert_posts(burst(NOON, [6, 9, 12, 14, 16, 18], categories=["safety"], first_id=100_000))
    cfg = DetectionConfig()
    now = NOON + timedelta(minutes=30)
    detector = Detector(cfg)
    detector.assess(TOPIC_CFG, store, now)  # builds the baseline
    width = timedelta(minutes=cfg.bucket_minutes)
    recent = store.series(TOPIC_CFG.id, now - width * cfg.window_buckets * max(LONGER_SCALES), now, width)
    base = detector.baseline(TOPIC_CFG.id, store, now - width * cfg.window_buckets)
    tail = compute_drivers(recent[-cfg.window_buckets:], base, cfg, recent)
    apart = compute_drivers(copy.deepcopy(recent[-cfg.window_buckets:]), base, cfg, recent)
    assert [d.points for d in tail] and max(d.points for d in tail) > 5
    assert [(d.name, d.points, d.value, d.baseline, d.explanation) for d in tail] == \
        [(d.name, d.points, d.value, d.baseline, d.explanation) for d in apart]


def test_a_fast_rise_is_judged_over_its_first_buckets(store):
    # 25 complaints in the last 10 minutes of an otherwise ordinary afternoon window: over 30 minutes
    # they are diluted by 20 quiet minutes, over the last 15 minutes (`signals.SHORT_SPAN`) they are not.
    store.upsert_posts(burst(NOON + timedelta(minutes=20), [12, 13], first_id=100_000))
    a = assess(store, NOON + timedelta(minutes=30))
    nv, share = a.driver("negative_volume"), a.driver("negative_share")
    assert nv is not None and "over the last 0.25 h" in nv.explanation
    assert share is not None and "over the last 0.25 h" in share.explanation
    # Fifteen minutes earlier the same window held nothing unusual: the rise is seen in its first buckets.
    assert assess(store, NOON + timedelta(minutes=15)).risk < TOPIC_CFG.thresholds.watch


def test_no_category_is_rare_before_the_topic_has_shown_its_usual_mix(tmp_path):
    # A topic with a handful of posts in three days has not shown which crisis categories are everyday
    # ones: five "service" complaints are judged against one expected post there (`signals.MIN_MIX_POSTS`),
    # against a fraction of a post on a topic whose history holds hundreds of posts without any.
    def crisis_points(rate_day: float) -> float:
        s = SqliteStore(tmp_path / f"t{rate_day}.db")
        s.upsert_posts(background(T0, 3 * 24 + 14, seed=5, rate=lambda t: rate_day))
        s.upsert_posts(burst(NOON, [1, 1, 1, 1, 1, 0], categories=["service"], first_id=100_000))
        d = assess(s, NOON + timedelta(minutes=30)).driver("crisis_terms")
        s.close()
        return 0.0 if d is None else d.points

    assert crisis_points(0.003) < 2.0  # ~3 posts in 3 days
    assert crisis_points(1.0) > 5.0  # ~850 posts in 3 days, none with a crisis category


def test_a_rare_category_is_no_news_in_a_crowd(tmp_path):
    # Never seen in the ~850 posts of the topic's usual mix, a category may still come about once in 850
    # posts: 3 "legal" posts among 600 in half an hour are not a rare category surging; 3 among 20 are.
    def crisis_points(crowd: int) -> float:
        s = SqliteStore(tmp_path / f"c{crowd}.db")
        s.upsert_posts(background(T0, 3 * 24 + 14, seed=5, rate=lambda t: 1.0))
        s.upsert_posts(burst(NOON, [1, 1, 1, 0, 0, 0], categories=["legal"], first_id=100_000))
        s.upsert_posts(burst(NOON, [crowd // 6] * 6, label="neu", first_id=200_000))
        d = assess(s, NOON + timedelta(minutes=30)).driver("crisis_terms")
        s.close()
        return 0.0 if d is None else d.points

    assert crisis_points(600) < 1.0
    assert crisis_points(12) > 2.0
