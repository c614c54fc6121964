"""A channel is one module (alerts/notify/channels/): a channel type registered from this file only — its config
model and its notifier — is accepted by the configuration, built by `build_notifiers`, sent alerts by the
delivery step through the outbox, and its declared capabilities (pager, idempotent, digest) are honoured by
the delivery code. Nothing else in the project is edited or patched."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import pytest

from alerts.notify import build_notifiers
from alerts.notify.base import Notifier
from alerts.notify.build import CommonOptions
from notify_fixtures import open_store
from vigie.sim.sample_alerts import T0, make_alert
from vigie.core.config import CHANNELS, ChannelConfig, ConfigError, config_from_dict
from vigie.core.models import Alert, Delivery, Level
from vigie.pipeline.outbox import OutboxPolicy, drain, plan
from vigie.pipeline.steps import commit_and_deliver, new_owner, store_lease

POLICY = OutboxPolicy(retry_base_s=30, retry_max_s=300, expire_after_s=3600)


class PigeonOptions(CommonOptions):
    loft: str = "main"


class PigeonConfig(ChannelConfig):
    """A carrier-pigeon channel: its own key (`roost_env`, its secret's variable) and its own option (`loft`)."""

    roost_env: str | None = None
    secret_key = "roost_env"
    secret_default = "PIGEON_ROOST"
    options_model = PigeonOptions

    def notifier(self, setup: Any) -> "PigeonNotifier":
        return PigeonNotifier(setup.secret("pigeon roost"), setup.options.loft, **setup.common())


class PigeonNotifier(Notifier):
    """Records what it is asked to send; the capabilities are set per test."""

    def __init__(self, roost: str, loft: str, **common: Any):
        super().__init__(**common)
        self.roost, self.loft = roost, loft
        self.sent: list[tuple[str, str]] = []  # (alert id, event)
        self.digests: list[list[str]] = []

    def send(self, alert: Alert, event: str) -> Delivery:
        self.sent.append((alert.id, event))
        return Delivery(self.channel, event, "sent", attempts=1, response=f"coo-{len(self.sent)}", at=alert.updated_at)

    def send_digest(self, items: list[tuple[Alert, str]]) -> Delivery:
        self.digests.append([a.topic_id for a, _ in items])
        return Delivery(self.channel, "digest", "sent", attempts=1, at=items[0][0].updated_at)


@pytest.fixture
def pigeon(monkeypatch):
    monkeypatch.setenv("PIGEON_ROOST", "roof-7")
    CHANNELS.register("pigeon", PigeonConfig)
    try:
        yield
    finally:
        CHANNELS.unregister("pigeon")


def capable(monkeypatch, **capabilities: bool) -> None:
    for name, value in capabilities.items():
        monkeypatch.setattr(PigeonNotifier, name, value)  # the test's own class, not project code


CONFIG = {"topics": [{"id": "acme", "name": "Acme", "query": "acme"}]}


def test_the_configuration_accepts_a_registered_channel_and_checks_its_own_keys(pigeon):
    config = config_from_dict({**CONFIG, "channels": [{"type": "pigeon", "min_level": "watch", "roost_env": "MY_ROOST",
                                                       "options": {"loft": "north"}}]})
    [cfg] = config.channels
    assert isinstance(cfg, PigeonConfig) and cfg.roost_env == "MY_ROOST" and cfg.secret_variable() == "MY_ROOST"
    assert isinstance(ChannelConfig(type="pigeon"), PigeonConfig)
    with pytest.raises(ConfigError) as err:  # a key of its own, checked like every `*_env` key
        config_from_dict({**CONFIG, "channels": [{"type": "pigeon", "roost_env": "not a name"}]}, "vigie.yml")
    assert "vigie.yml" in str(err.value) and "channels[0].roost_env" in str(err.value)
    assert "NAME of an environment variable" in str(err.value)
    with pytest.raises(ConfigError) as err:  # an unknown type names the registered ones, this one included
        config_from_dict({**CONFIG, "channels": [{"type": "pidgeon"}]}, "vigie.yml")
    assert "channels[0].type" in str(err.value) and "'pigeon'" in str(err.value) and "'slack_bot'" in str(err.value)


def test_unregistered_the_type_is_unknown_again():
    with pytest.raises(ConfigError, match=r"channels\[0\]\.type: Input should be .*'webhook'"):
        config_from_dict({**CONFIG, "channels": [{"type": "pigeon"}]})


def test_built_from_the_config_it_gets_alerts_through_the_outbox(tmp_path, pigeon):
    config = config_from_dict({**CONFIG, "channels": [
        {"type": "console", "min_level": "watch"},
        {"type": "pigeon", "min_level": "warning", "options": {"loft": "north", "max_per_topic_per_hour": 5}}]})
    console, pigeon_ = build_notifiers(config.channels, console=io.StringIO())
    assert isinstance(pigeon_, PigeonNotifier)
    assert (pigeon_.channel, pigeon_.roost, pigeon_.loft, pigeon_.min_level) == ("pigeon", "roof-7", "north", Level.WARNING)
    assert pigeon_.rules.max_per_topic_per_hour == 5 and pigeon_.kinds == ("risk",)  # rules given at construction
    store = open_store(tmp_path)
    alert = make_alert(Level.WARNING)
    with store_lease(store, new_owner(), config.delivery) as lease:
        report = commit_and_deliver(store, config, [console, pigeon_], alert, "open", lease=lease)
    assert report.delivery.sent == 2 and pigeon_.sent == [(alert.id, "open")]
    [logged] = [d for d in store.get_alert(alert.id).deliveries if d.channel == "pigeon"]
    assert (logged.status, logged.response) == ("sent", "coo-1")


def test_a_missing_secret_names_the_variable_and_optional_leaves_the_channel_out(pigeon, monkeypatch):
    monkeypatch.delenv("PIGEON_ROOST")
    config = config_from_dict({**CONFIG, "channels": [{"type": "pigeon"}]})
    with pytest.raises(ConfigError, match="PIGEON_ROOST is not set"):
        build_notifiers(config.channels)
    optional = config_from_dict({**CONFIG, "channels": [{"type": "pigeon", "optional": True}]})
    assert build_notifiers(optional.channels) == []


@pytest.mark.parametrize("pager", [True, False])
def test_a_pager_is_not_re_paged_on_updates_once_acknowledged(tmp_path, pigeon, monkeypatch, pager):
    capable(monkeypatch, pager=pager)
    [n] = build_notifiers([ChannelConfig(type="pigeon", min_level="watch")])
    store = open_store(tmp_path)
    alert = make_alert(Level.WARNING, acknowledged_at=T0, acknowledged_by="dircom")
    store.commit_bucket([alert], plan([(alert, "update")], [n], store, POLICY, now=T0), [], [])
    report = drain(store, [n], POLICY, clock=lambda: T0)
    assert (report.sent, report.skipped) == ((0, 1) if pager else (1, 0))
    assert n.sent == ([] if pager else [(alert.id, "update")])


@pytest.mark.parametrize("idempotent, sent_again", [(True, True), (False, False)])
def test_an_interrupted_delivery_is_sent_again_only_when_the_channel_is_idempotent(tmp_path, pigeon, monkeypatch,
                                                                                  idempotent, sent_again):
    capable(monkeypatch, idempotent=idempotent)
    [n] = build_notifiers([ChannelConfig(type="pigeon", min_level="watch")])
    store = open_store(tmp_path)
    alert = make_alert(Level.CRISIS)
    [entry] = plan([(alert, "open")], [n], store, POLICY, now=T0)
    store.commit_bucket([alert], [entry], [], [])
    entry.status = "sending"  # what a crash between the provider call and its record leaves behind
    store.record_delivery(entry)
    report = drain(store, [n], POLICY, clock=lambda: T0 + timedelta(minutes=1))
    assert n.sent == ([(alert.id, "open")] if sent_again else [])
    assert (report.sent, report.unknown) == ((1, 0) if sent_again else (0, 1))


@pytest.mark.parametrize("digest", [True, False])
def test_many_topics_at_once_make_one_digest_only_on_a_digest_channel(tmp_path, pigeon, monkeypatch, digest):
    capable(monkeypatch, digest=digest)
    [n] = build_notifiers([ChannelConfig(type="pigeon", min_level="watch")])
    store = open_store(tmp_path)
    alerts = [make_alert(Level.WARNING, topic=f"brand{i}") for i in range(3)]
    entries = plan([(a, "open") for a in alerts], [n], store, POLICY, now=T0, bucket_at=T0)
    store.commit_bucket(alerts, entries, [], [])
    report = drain(store, [n], POLICY, clock=lambda: T0)
    assert report.sent == 3
    if digest:
        assert n.digests == [["brand0", "brand1", "brand2"]] and n.sent == []
    else:
        assert n.digests == [] and sorted(e for _, e in n.sent) == ["open"] * 3
