"""A new risk driver is one module plus its tests: registered here, from this file only, a fake driver adds its
points to an assessment, gets its key in the weights config (with its default weight) and its field in the
Elasticsearch risk-index mapping and the Kibana "what drives the risk" chart. Nothing else is edited."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from detect_fixtures import T0, background
from test_detect import TOPIC_CFG

from alerts.detect import Detector
from vigie.app.kibana_objects import saved_objects
from vigie.core.config import ConfigError, DetectionConfig, format_validation_error
from vigie.core.drivers import DRIVERS, RiskDriver, default_weights, driver_names
from vigie.core.models import Driver
from vigie.store.elasticsearch import schema
from vigie.store.sqlite import SqliteStore

NOON = T0 + timedelta(days=3, hours=13)
NAME = "moon_phase"


def moon_phase(s) -> Driver | None:
    """The full points of its weight, whatever the window says (a driver a test can count on)."""
    weight = getattr(s.cfg.weights, NAME)
    if not weight:
        return None
    return Driver(NAME, float(weight), 1.0, None, f"the moon is full: +{weight:.0f}")


@pytest.fixture
def fake_driver():
    DRIVERS.load()  # the built-in ones first: a registered driver comes after them, as a plugin would
    DRIVERS.register(NAME, RiskDriver(NAME, 7, moon_phase, "a test driver"))
    try:
        yield
    finally:
        DRIVERS.unregister(NAME)


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    s = SqliteStore(tmp_path_factory.mktemp("drivers") / "t.db")
    s.upsert_posts(background(T0, 3 * 24 + 14, seed=21))
    yield s
    s.close()


def assess(store, cfg):
    return Detector(cfg).assess(TOPIC_CFG, store, NOON)


def test_a_registered_driver_adds_its_points_to_the_assessment(store, fake_driver):
    off = assess(store, DetectionConfig.model_validate({"weights": {NAME: 0}}))
    a = assess(store, DetectionConfig())
    assert off.driver(NAME) is None
    fake = a.driver(NAME)
    assert fake is not None and fake.points == 7 and fake.explanation == "the moon is full: +7"
    assert [d for d in a.drivers if d.name != NAME] == off.drivers  # the others are untouched
    assert a.risk == pytest.approx(off.risk + 7)  # its points are in the risk
    assert a.risk_point().drivers[NAME] == 7
    # Its weight is read from the config like any other.
    assert assess(store, DetectionConfig.model_validate({"weights": {NAME: 3}})).driver(NAME).points == 3


def test_the_weights_config_takes_its_key_with_its_default(fake_driver):
    assert DetectionConfig().weights.model_dump() == default_weights()
    assert getattr(DetectionConfig().weights, NAME) == 7
    cfg = DetectionConfig.model_validate({"weights": {NAME: 2.5, "reach": 12}})
    assert getattr(cfg.weights, NAME) == 2.5 and cfg.weights.reach == 12
    assert list(cfg.weights.model_dump())[-1] == NAME  # after the built-in drivers


def test_an_unknown_weight_is_still_an_error_and_a_removed_driver_is_unknown_again(fake_driver):
    DRIVERS.unregister(NAME)
    with pytest.raises(Exception) as err:
        DetectionConfig.model_validate({"weights": {NAME: 2}})
    text = format_validation_error("vigie.yaml", err.value)
    assert f"weights.{NAME}: unknown key" in text
    assert not isinstance(err.value, ConfigError)  # a pydantic error, formatted like every other config error


def test_the_es_mapping_and_the_kibana_chart_include_its_field(fake_driver):
    risk = schema.index_templates(schema.Names("vigie"))["vigie-risk"]["template"]["mappings"]
    assert schema.field_types(risk)[f"drivers.{NAME}"] == "float"
    assert f'"{NAME}"' in schema.export_text()
    chart = next(o for o in saved_objects() if o["id"] == "vigie-risk-drivers")
    series = json.loads(chart["attributes"]["visState"])["params"]["series"]
    assert [s["metrics"][0]["field"] for s in series] == [f"drivers.{n}" for n in driver_names()]
    assert series[-1]["metrics"][0]["field"] == f"drivers.{NAME}"


def test_without_the_fake_the_built_in_drivers_stand_alone():
    assert NAME not in driver_names()
    assert NAME not in DetectionConfig().weights.model_dump()
    risk = schema.index_templates(schema.Names("vigie"))["vigie-risk"]["template"]["mappings"]
    assert f"drivers.{NAME}" not in schema.field_types(risk)
