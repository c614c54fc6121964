"""Issue 14h: the earliest sign of a bad buzz is a big account taking up a grievance. Through the real Detector on
a real SQLite store: the `influencer` driver (alerts/drivers/influencer.py), reach and engagement judged over
1 h and 3 h, rare crisis categories counted together; and `Signals.read_posts`, which reads the store once."""

from __future__ import annotations

from datetime import timedelta

from alerts.detect import Detector
from alerts.drivers import compute_drivers
from alerts.drivers.signals import Signals
from detect_fixtures import T0, background, burst, make_post
from test_detect import TOPIC_CFG
from vigie.core.config import DetectionConfig
from vigie.core.drivers import driver_names
from vigie.core.models import Bucket
from vigie.store.sqlite import SqliteStore

NOON = T0 + timedelta(days=3, hours=13)
HISTORY_HOURS = 3 * 24 + 13


def everyday_service(posts, every=4):
    """Every `every`-th negative post of the background carries the everyday "service" category."""
    negatives = [p for p in posts if p.analysis.sentiment.label == "neg"]
    for p in negatives[::every]:
        p.analysis.crisis.categories = ["service"]
    return posts


def big_post(at, label="neg", categories=("safety",), followers=250_000, n=900_000):
    return make_post(n, at, label, followers=followers, author="conso_vigilante", categories=list(categories), likes=900)


def assess_at(tmp_path, extra, at, name="s"):
    store = SqliteStore(tmp_path / f"{name}.db")
    store.upsert_posts(everyday_service(background(T0, HISTORY_HOURS, seed=5)))
    store.upsert_posts(extra)
    try:
        return Detector(DetectionConfig()).assess(TOPIC_CFG, store, at)
    finally:
        store.close()


def test_registered_with_its_default_weight():
    assert "influencer" in driver_names() and DetectionConfig().weights.influencer == 25


def test_a_big_account_relaying_a_rare_grievance_scores_in_full(tmp_path):
    a = assess_at(tmp_path, [big_post(NOON + timedelta(minutes=12))], NOON + timedelta(minutes=30))
    d = a.driver("influencer")
    assert d is not None and d.points == 25.0, [x.explanation for x in a.drivers]
    assert d.explanation.startswith("negative post about safety by conso_vigilante (250k followers, ×")
    assert d.explanation.endswith("18 min ago: +25")
    assert d.value == 250_000
    # One post is not a warning on its own (with reach and engagement: 50 points at most)...
    assert a.risk < TOPIC_CFG.thresholds.warning


def test_with_a_few_more_posts_of_rare_vocabulary_it_is_a_warning(tmp_path):
    # ...a handful of other posts of the same rare vocabulary within the hour make it one: the story has started.
    extra = [big_post(NOON + timedelta(minutes=5))] + burst(NOON + timedelta(minutes=10), [1, 1, 1, 1],
                                                                categories=["safety"])
    alone = assess_at(tmp_path, extra[:1], NOON + timedelta(minutes=30), "alone")
    a = assess_at(tmp_path, extra, NOON + timedelta(minutes=30), "with")
    assert alone.risk < TOPIC_CFG.thresholds.warning <= a.risk, [x.explanation for x in a.drivers]


def test_an_everyday_complaint_a_positive_post_or_no_category_from_the_same_account_does_not(tmp_path):
    at = NOON + timedelta(minutes=30)
    for i, post in enumerate([big_post(NOON + timedelta(minutes=12), categories=("service",)),
                              big_post(NOON + timedelta(minutes=12), label="pos"),
                              big_post(NOON + timedelta(minutes=12), categories=())]):
        a = assess_at(tmp_path, [post], at, f"no{i}")
        assert a.driver("influencer") is None, (post.analysis, [x.explanation for x in a.drivers])
    # An account of the usual size with the rare category is no influencer either.
    a = assess_at(tmp_path, [big_post(NOON + timedelta(minutes=12), followers=3_000)], at, "small")
    assert a.driver("influencer") is None


def test_the_post_counts_for_an_hour(tmp_path):
    post = big_post(NOON + timedelta(minutes=2))
    assert assess_at(tmp_path, [post], NOON + timedelta(minutes=60), "h1").driver("influencer") is not None
    assert assess_at(tmp_path, [post], NOON + timedelta(minutes=70), "h2").driver("influencer") is None


def test_a_positive_storm_around_it_does_not_damp_it(tmp_path):
    # A giveaway storm in the same half hour tips the window's balance positive: reach and engagement are damped
    # (the negativity gate), the influencer's own post is not.
    post = big_post(NOON + timedelta(minutes=12))
    storm = burst(NOON, [30] * 6, label="pos")
    calm = assess_at(tmp_path, [post], NOON + timedelta(minutes=30), "calm").driver("influencer")
    stormy = assess_at(tmp_path, [post] + storm, NOON + timedelta(minutes=30), "storm")
    assert calm is not None and stormy.driver("influencer") is not None
    assert stormy.driver("influencer").points == calm.points
    assert "damped" in stormy.driver("reach").explanation


def test_without_a_store_it_is_silent(tmp_path):
    store = SqliteStore(tmp_path / "buckets.db")
    store.upsert_posts(everyday_service(background(T0, HISTORY_HOURS, seed=5)))
    store.upsert_posts([big_post(NOON + timedelta(minutes=12))])
    cfg = DetectionConfig()
    detector = Detector(cfg)
    now = NOON + timedelta(minutes=30)
    width = timedelta(minutes=cfg.bucket_minutes)
    recent = store.series(TOPIC_CFG.id, now - width * 36, now, width)
    base = detector.baseline(TOPIC_CFG.id, store, now - width * cfg.window_buckets)
    store.close()
    names = [d.name for d in compute_drivers(recent[-cfg.window_buckets:], base, cfg, recent)]
    assert "influencer" not in names and "reach" in names


def test_reach_remembers_the_amplifier_over_the_hour(tmp_path):
    # 40 minutes after the big account posted, the 30-minute window no longer holds it: the reach driver
    # judges the last hour too (it used to forget the amplifier of a bad buzz half an hour after it posted).
    a = assess_at(tmp_path, [big_post(NOON - timedelta(minutes=10))], NOON + timedelta(minutes=30))
    reach = a.driver("reach")
    assert reach is not None and "over the last 1 h" in reach.explanation, [x.explanation for x in a.drivers]
    assert reach.value >= 250_000


def test_rare_categories_together_count_more_than_the_strongest_alone(tmp_path):
    at = NOON + timedelta(minutes=30)
    one = assess_at(tmp_path, burst(NOON, [0, 1, 0, 1, 0, 0], categories=["safety"]), at, "one")
    mixed = burst(NOON, [0, 1, 0, 1, 0, 0], categories=["safety"]) + \
        burst(NOON, [1, 0, 1, 0, 0, 0], categories=["boycott"], first_id=200_000) + \
        burst(NOON, [0, 0, 0, 0, 1, 1], categories=["legal"], first_id=300_000)
    together = assess_at(tmp_path, mixed, at, "together").driver("crisis_terms")
    alone = one.driver("crisis_terms")
    assert together is not None and "rare categories together ×6" in together.explanation
    assert together.points > (alone.points if alone else 0.0) + 5


def test_read_posts_reads_the_store_once_per_span():
    calls = []
    posts = [make_post(i, T0 + timedelta(minutes=5 * i), "neg") for i in range(12)]

    def reader(since):
        calls.append(since)
        return [p for p in posts if p.created_at >= since]

    recent = [Bucket(topic_id="acme", start=T0 + timedelta(minutes=5 * i)) for i in range(12)]
    # read_posts reads no baseline: none is built here
    s = Signals(window=recent[-6:], recent=recent, base=None, cfg=DetectionConfig(), exp={}, gate=1.0,
                damped=[], spans=[6], posts=reader)
    last_hour = s.read_posts(T0 + timedelta(minutes=30))
    assert [p.id for p in last_hour] == [p.id for p in posts[6:]] and len(calls) == 1
    assert s.read_posts(T0 + timedelta(minutes=45)) == posts[9:] and len(calls) == 1  # within what was read
    assert s.read_posts() == posts and calls == [T0 + timedelta(minutes=30), T0]  # wider: read once more
    assert s.read_posts(T0 + timedelta(minutes=30)) == posts[6:] and len(calls) == 2
