"""Human actions on alerts (vigie/core/actions.py, vigie/pipeline/actions.py): idempotent, recorded with who/when/
from where in both stores, synced to the channels through the outbox, mute honoured by detection."""

from __future__ import annotations

from datetime import timedelta

import pytest

from alerts.notify.channels.pagerduty import PagerDutyNotifier
from alerts.notify.receiver import LocalReceiver
from alerts.notify.channels.slack import SlackBotNotifier
from notify_fixtures import DeliveryRig, fast_retry
from vigie.sim.sample_alerts import T0, make_alert
from vigie.pipeline.actions import perform
from vigie.core.actions import ActionRefused, ActionRequest, Allowed, apply, muted_until, records
from vigie.core.config import VigieConfig
from vigie.core.models import AlertState, Delivery, HistoryEntry, iso


def req(action: str, by: str = "U1", via: str = "slack", minutes: int = 1, **kw) -> ActionRequest:
    return ActionRequest(action, make_alert().id, by, via, T0 + timedelta(minutes=minutes), **kw)


# -- pure logic ---------------------------------------------------------------------------------

def test_each_action_is_recorded_once_with_who_when_and_where():
    alert = make_alert()
    first = apply(alert, req("acknowledge", by="U1"))
    assert first.changed and first.event == "acknowledge"
    assert first.alert.acknowledged_by == "U1" and alert.acknowledged_by is None  # the input is untouched
    again = apply(first.alert, req("acknowledge", by="U2", via="pagerduty", minutes=2))
    assert not again.changed and again.record.by == "U1"
    [rec] = records(again.alert)
    assert (rec.action, rec.by, rec.via, iso(rec.at)) == ("acknowledge", "U1", "slack", "2026-03-10T14:06:00Z")


def test_false_alarm_keeps_the_drivers_of_the_moment_and_stops_paging():
    out = apply(make_alert(), req("false_alarm", by="alice", via="link"))
    rec = out.record
    assert rec.verdict == "false_alarm"
    assert rec.judged == {"negative_volume": 30.0, "crisis_terms": 18.0, "reach": 9.0, "authors": 0.0}
    assert out.event == "acknowledge" and out.alert.acknowledged_by == "alice"
    # A verdict on an alert someone already acknowledged is a note, not a second acknowledge.
    later = apply(out.alert, req("real_crisis", by="bob", minutes=3))
    assert later.changed and later.event == "note" and later.alert.acknowledged_by == "alice"
    # Acknowledging after that (or after `vigie alerts ack`) changes nothing: the first one stands.
    again = apply(later.alert, req("acknowledge", by="carol", minutes=4))
    assert not again.changed and again.record.by == "alice"


def test_resolve_closes_and_a_second_resolve_changes_nothing():
    out = apply(make_alert(), req("resolve"))
    assert out.alert.state == AlertState.RESOLVED and out.alert.resolved_at == T0 + timedelta(minutes=1)
    assert not apply(out.alert, req("resolve", minutes=5)).changed


def test_mute_runs_for_its_length_and_can_be_renewed_after():
    out = apply(make_alert(), req("mute_2h"))
    assert muted_until([out.alert], T0 + timedelta(minutes=30)) == T0 + timedelta(hours=2, minutes=1)
    assert muted_until([out.alert], T0 + timedelta(hours=3)) is None
    assert not apply(out.alert, req("mute_2h", minutes=60)).changed  # still muted: the same mute
    renewed = apply(out.alert, req("mute_2h", minutes=200))
    assert renewed.changed and muted_until([renewed.alert], T0 + timedelta(hours=4)) is not None


def test_sentiment_wrong_needs_an_evidence_post_and_one_of_three_labels():
    out = apply(make_alert(), req("sentiment_wrong", post_id="replay:2", label="neutral"))
    assert (out.record.post_id, out.record.was, out.record.label) == ("replay:2", "neg", "neutral")
    assert out.record.text.startswith("Commande 2") and out.event == "note"
    assert not apply(out.alert, req("sentiment_wrong", post_id="replay:2", label="neutral")).changed
    assert apply(out.alert, req("sentiment_wrong", post_id="replay:2", label="positive")).changed
    with pytest.raises(ActionRefused, match="negative, neutral, positive"):
        apply(make_alert(), req("sentiment_wrong", post_id="replay:2", label="meh"))
    with pytest.raises(ActionRefused, match="not evidence"):
        apply(make_alert(), req("sentiment_wrong", post_id="replay:99", label="neutral"))
    with pytest.raises(ActionRefused, match="unknown action"):
        apply(make_alert(), req("delete"))


def test_allowed_actors():
    anyone = Allowed()
    assert anyone.refusal("slack", "U9") is None
    policy = Allowed(slack_users=["U1"], slack_groups=["S0CRISIS"], pagerduty_services=["PSVC1"])
    assert policy.refusal("slack", "U1") is None
    assert policy.refusal("slack", "U2", member_of={"S0CRISIS"}) is None
    assert "not allowed" in policy.refusal("slack", "U3")
    assert policy.refusal("pagerduty", "Jane", service="PSVC1") is None
    assert "PSVC2" in policy.refusal("pagerduty", "Jane", service="PSVC2")


# -- the pipeline step on both stores ---------------------------------------------------------------

@pytest.fixture(params=["sqlite", "elasticsearch"])
def store(request, tmp_path):
    if request.param == "sqlite":
        from vigie.store.sqlite import SqliteStore

        s = SqliteStore(tmp_path / "x.db")
    else:
        from es_fixtures import osmem_client

        from vigie.store.elasticsearch import ElasticsearchStore

        s = ElasticsearchStore(osmem_client(request.getfixturevalue("es_osmem").url),
                               prefix=request.getfixturevalue("es_prefix"))
    yield s
    s.close()


@pytest.fixture
def server():
    with LocalReceiver() as s:
        yield s


def delivered_alert():
    """An alert already paged on Slack (bot, thread known) and PagerDuty."""
    alert = make_alert()
    alert.deliveries = [Delivery("slack_bot", "open", "sent", attempts=1, response="C0VIGIE/1700000000.000100", at=T0),
                        Delivery("pagerduty", "open", "sent", attempts=1, response=alert.dedup_key, at=T0)]
    return alert


def channels(server):
    retry, _ = fast_retry(1)
    return [SlackBotNotifier("xoxb-test", "C0VIGIE", base_url=server.url + "/api/", retry=retry, interactive=True),
            PagerDutyNotifier("rk-test", base_url=server.url, retry=retry)]


CONFIG = VigieConfig.model_validate({"topics": [{"id": "acme", "name": "Acme", "query": "acme"}],
                                     "delivery": {"lease_wait_s": 5}})


def test_slack_ack_acknowledges_pagerduty_once_and_updates_slack_in_place(store, server):
    store.save_alert(delivered_alert())
    result = perform(store, CONFIG, channels(server), req("acknowledge", by="U1"))
    assert result.changed and result.delivery.sent == 2
    [pd] = server.to("/v2/enqueue")
    assert pd.json["event_action"] == "acknowledge" and pd.json["dedup_key"] == make_alert().dedup_key
    note, update = server.to("/api/chat.postMessage"), server.to("/api/chat.update")
    assert note[0].json["thread_ts"] == "1700000000.000100"
    assert update[0].json["ts"] == "1700000000.000100" and "Acknowledged by" in str(update[0].json["blocks"])
    # The same click again (a Slack retry, a second person): nothing recorded, nothing sent.
    assert not perform(store, CONFIG, channels(server), req("acknowledge", by="U2", minutes=2)).changed
    assert len(server.to("/v2/enqueue")) == 1
    stored = store.get_alert(make_alert().id)
    [rec] = records(stored)
    assert (rec.by, rec.via) == ("U1", "slack")


def test_pagerduty_ack_reaches_slack_but_is_not_echoed_to_pagerduty(store, server):
    store.save_alert(delivered_alert())
    result = perform(store, CONFIG, channels(server), req("acknowledge", by="Jane", via="pagerduty"),
                     origin_channels=("pagerduty",))
    assert result.changed and server.to("/v2/enqueue") == []
    assert len(server.to("/api/chat.update")) == 1


def test_notes_thread_on_slack_only_and_each_note_is_its_own_message(store, server):
    store.save_alert(delivered_alert())
    perform(store, CONFIG, channels(server), req("mute_2h", by="U1"))
    perform(store, CONFIG, channels(server), req("sentiment_wrong", by="U1", minutes=2, post_id="replay:1", label="neutral"))
    notes = [r.json for r in server.to("/api/chat.postMessage")]
    assert len(notes) == 2 and all(n["thread_ts"] == "1700000000.000100" for n in notes)
    assert "Topic muted for 2 h until" in notes[0]["text"] and "neutral" in notes[1]["text"]
    assert server.to("/v2/enqueue") == []  # PagerDuty has no notes
    stored = store.get_alert(make_alert().id)
    assert [r.action for r in records(stored)] == ["mute_2h", "sentiment_wrong"]


def test_unknown_alert_is_a_key_error(store, server):
    with pytest.raises(KeyError):
        perform(store, CONFIG, channels(server), req("acknowledge"))


# -- the mute is honoured by the detection step -----------------------------------------------------

def test_a_muted_topic_opens_no_alert(tmp_path, server, monkeypatch):
    from vigie.store.sqlite import SqliteStore

    (tmp_path / "a").mkdir()
    unmuted = DeliveryRig(tmp_path / "a", server)
    report, _ = unmuted.run(monkeypatch)
    assert [e.kind for e in report.events if e.notify][:1] == ["open"]  # the rig's crisis opens

    (tmp_path / "b").mkdir()
    muted = DeliveryRig(tmp_path / "b", server)
    old = make_alert(topic="acme", state=AlertState.RESOLVED)
    old.resolved_at = muted.now() - timedelta(days=3)  # long past the cooldown
    old.history.append(HistoryEntry.from_dict({"at": "x", "event": "action", "action": "mute_24h", "key": "mute_24h",
                                               "by": "U1", "via": "slack",
                                               "until": (muted.now() + timedelta(hours=1)).isoformat()}))
    store = SqliteStore(muted.db)
    store.save_alert(old)
    store.close()
    report, _ = muted.run(monkeypatch)
    assert [e for e in report.events if e.kind == "open"] == []
    store = SqliteStore(muted.db)
    assert store.open_alerts("acme") == []
    store.close()
