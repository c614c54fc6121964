"""The entity spread driver (alerts/drivers/entity_spread.py), through the real Detector on a real SQLite store:
one hashtag rising on several sources at once scores; the same burst on one source, or the brand's everyday
hashtag, does not; without a store's posts (bucket-only callers) the driver is silent."""

from __future__ import annotations

from datetime import timedelta

import pytest

from alerts.detect import Detector
from alerts.drivers import compute_drivers
from detect_fixtures import T0, background, burst
from test_detect import TOPIC_CFG
from vigie.core.config import DetectionConfig
from vigie.core.drivers import driver_names
from vigie.core.entities import from_text
from vigie.store.sqlite import SqliteStore

NOON = T0 + timedelta(days=3, hours=13)
SOURCES = ("x", "reddit", "mastodon", "bluesky")


def tagged(posts, tag):
    for p in posts:
        p.text = f"{p.text} #{tag}"
        p.entities = from_text(p.text)
    return posts


def assess_burst(tmp_path, sources, tag="boycottacme"):
    store = SqliteStore(tmp_path / f"es-{len(sources)}-{tag}.db")
    store.upsert_posts(tagged(background(T0, 3 * 24 + 13, seed=5, sources=SOURCES), "acme"))
    store.upsert_posts(tagged(burst(NOON, [3, 6, 9, 12, 12, 12], sources=sources), tag))
    try:
        a = Detector(DetectionConfig()).assess(TOPIC_CFG, store, NOON + timedelta(minutes=30))
    finally:
        store.close()
    return a


def test_registered_with_its_default_weight():
    assert "entity_spread" in driver_names() and DetectionConfig().weights.entity_spread == 10


def test_a_new_hashtag_on_several_sources_at_once_scores(tmp_path):
    a = assess_burst(tmp_path, ("x", "reddit", "bluesky"))
    d = a.driver("entity_spread")
    assert d is not None and d.points > 0, [x.name for x in a.drivers]
    assert d.explanation.startswith("#boycottacme rising on 3 sources at once (bluesky, reddit, x): 54 posts vs 0")
    assert d.value >= 2  # the log-odds z of the hashtag


@pytest.mark.parametrize("sources,tag", [(("x",), "boycottacme"), (("x", "reddit", "bluesky"), "acme")])
def test_one_source_or_the_brands_usual_hashtag_does_not(tmp_path, sources, tag):
    a = assess_burst(tmp_path, sources, tag)
    assert a.driver("entity_spread") is None
    assert a.driver("negative_volume") is not None  # the burst itself is seen: only this driver stays silent


def test_without_posts_the_driver_is_silent(tmp_path):
    store = SqliteStore(tmp_path / "b.db")
    store.upsert_posts(tagged(burst(NOON, [12] * 6, sources=("x", "reddit", "bluesky")), "boycottacme"))
    det = Detector(DetectionConfig())
    window = store.series("acme", NOON, NOON + timedelta(minutes=30), timedelta(minutes=5))
    base = det.baseline("acme", store, NOON)
    store.close()
    assert all(d.name != "entity_spread" for d in compute_drivers(window, base, DetectionConfig()))
