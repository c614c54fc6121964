"""The outbox's rules (vigie/pipeline/outbox.py) on a real SQLite store and the local stand-ins: order per
alert and channel, closing events, interrupted deliveries per channel kind, back-off."""

from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone

import pytest

from alerts.notify import build_notifiers
from alerts.notify.base import RetryPolicy
from vigie.pipeline.outbox import OutboxPolicy, drain, plan
from alerts.notify.receiver import LocalReceiver, Reply
from notify_fixtures import open_store
from vigie.sim.sample_alerts import make_alert
from vigie.core.config import ChannelConfig
from vigie.core.models import AlertState, Delivery, Level

NOW = datetime(2026, 3, 10, 14, 6, tzinfo=timezone.utc)
POLICY = OutboxPolicy(retry_base_s=30, retry_max_s=300, expire_after_s=3600)


@pytest.fixture
def server():
    with LocalReceiver() as s:
        yield s


class Clock:
    def __init__(self) -> None:
        self.t = NOW

    def __call__(self) -> datetime:
        return self.t


def _slack(server, monkeypatch, kind: str = "slack_webhook"):
    monkeypatch.setenv("SLACK_WEBHOOK_URL", server.url + "/services/T/B/x")
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    cfg = ChannelConfig(type=kind, channel="C0VIGIE", url=server.url + "/api/" if kind == "slack_bot" else None)
    return build_notifiers([cfg, ChannelConfig(type="console", min_level="watch")], console=io.StringIO(),
                           retry=RetryPolicy(attempts=1))


def _commit(store, alert, event, notifiers, clock):
    entries = plan([(alert, event)], notifiers, store, POLICY, now=clock(), bucket_at=alert.updated_at)
    store.commit_bucket([alert], entries, [], [])
    return entries


def test_resolve_waits_behind_its_open_and_both_arrive_in_order_with_back_off(tmp_path, server, monkeypatch):
    store, clock = open_store(tmp_path), Clock()
    notifiers = _slack(server, monkeypatch)
    server.script("/services", Reply(503, "down"), Reply(503, "down"))
    alert = make_alert(Level.WARNING)
    _commit(store, alert, "open", notifiers, clock)
    assert drain(store, notifiers, POLICY, clock=clock).retrying == 1
    resolved = store.get_alert(alert.id)
    resolved.state, resolved.updated_at = AlertState.RESOLVED, NOW + timedelta(minutes=30)
    # The channel was not told yet, but its open is on the way: it must hear the resolution too.
    assert [e.channel for e in _commit(store, resolved, "resolve", notifiers, clock)] == ["slack_webhook", "console"]
    clock.t += timedelta(seconds=10)  # within the 30 s back-off: the channel is left alone, resolve waits
    report = drain(store, notifiers, POLICY, clock=clock)
    assert (report.sent, report.waiting) == (1, 2) and len(server.to("/services")) == 1  # console: resolved
    clock.t += timedelta(seconds=25)  # due again, still down: back-off doubles (60 s)
    drain(store, notifiers, POLICY, clock=clock)
    [open_entry] = [e for e in store.outbox_open() if e.key == "open"]
    assert open_entry.next_attempt_at == clock.t + timedelta(seconds=60) and open_entry.rounds == 2
    clock.t += timedelta(seconds=61)
    assert drain(store, notifiers, POLICY, clock=clock).sent == 2
    texts = [r.json["text"] for r in server.accepted("/services")]
    assert len(texts) == 2 and "opened" in texts[0] and "resolved" in texts[1].lower()


def test_the_resolution_of_an_alert_nobody_was_told_about_is_skipped(tmp_path, server, monkeypatch):
    store, clock = open_store(tmp_path), Clock()
    notifiers = _slack(server, monkeypatch)
    server.script("/services", *[Reply(503, "down")] * 3)
    alert = make_alert(Level.WARNING)
    _commit(store, alert, "open", notifiers, clock)
    drain(store, notifiers, POLICY, clock=clock)
    clock.t += timedelta(minutes=30)
    resolved = store.get_alert(alert.id)
    resolved.state = AlertState.RESOLVED
    _commit(store, resolved, "resolve", notifiers, clock)
    clock.t += timedelta(minutes=40)  # past the open's expiry: it is given up, so nobody on Slack knows
    report = drain(store, notifiers, POLICY, clock=clock)
    assert len(report.gave_up) == 1 and report.skipped == 1
    assert {e.key: e.status for e in store.outbox_entries() if e.channel == "slack_webhook"} == \
        {"open": "expired", "resolve": "skipped"}
    assert len(server.accepted("/services")) == 0


def test_an_outcome_already_in_the_alert_log_is_not_sent_again(tmp_path, server, monkeypatch):
    """Elasticsearch records the alert's log before the entry: a crash in between leaves `sending` in the
    outbox and `sent` in the log; the log wins, nothing is re-sent."""
    store, clock = open_store(tmp_path), Clock()
    notifiers = _slack(server, monkeypatch)
    alert = make_alert(Level.WARNING)
    [entry, _console] = _commit(store, alert, "open", notifiers, clock)
    entry.status = "sending"
    logged = store.get_alert(alert.id)
    logged.deliveries.append(Delivery("slack_webhook", "open", "sent", attempts=1, key="open"))
    store.record_delivery(entry, logged)
    drain(store, notifiers, POLICY, clock=clock)
    assert server.to("/services") == [] and store.outbox_entries(alert.id)[0].status == "sent"


def test_an_interrupted_slack_bot_delivery_rewrites_the_known_thread_parent(tmp_path, server, monkeypatch):
    store, clock = open_store(tmp_path), Clock()
    notifiers = _slack(server, monkeypatch, "slack_bot")
    alert = make_alert(Level.WARNING)
    _commit(store, alert, "open", notifiers, clock)
    drain(store, notifiers, POLICY, clock=clock)
    assert [r.path for r in server.requests] == ["/api/chat.postMessage"]
    escalated = store.get_alert(alert.id)
    escalated.level, escalated.risk, escalated.state = Level.CRISIS, 88.0, AlertState.ESCALATED
    [entry, _console] = _commit(store, escalated, "escalate", notifiers, clock)
    entry.status = "sending"  # the process died during chat.postMessage of the thread reply
    store.record_delivery(entry)
    report = drain(store, notifiers, POLICY, clock=clock)
    assert report.sent == 2
    # No second thread reply: the parent (what the channel shows) is rewritten to the crisis state.
    assert [r.path for r in server.requests] == ["/api/chat.postMessage", "/api/chat.update"]
    assert "CRISIS" in server.requests[-1].json["text"]


def test_a_channel_removed_from_the_config_keeps_its_messages_until_they_expire(tmp_path, server, monkeypatch):
    store, clock = open_store(tmp_path), Clock()
    notifiers = _slack(server, monkeypatch)
    alert = make_alert(Level.WARNING)
    _commit(store, alert, "open", notifiers, clock)
    console_only = [n for n in notifiers if n.channel == "console"]
    assert drain(store, console_only, POLICY, clock=clock).waiting == 1
    clock.t += timedelta(hours=2)
    [line] = drain(store, console_only, POLICY, clock=clock).gave_up
    assert "slack_webhook" in line and "not delivered within 60 min" in line
