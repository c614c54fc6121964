"""Alert history entries and evidence items are typed in memory and stored as the JSON objects they have
always been: every kind of entry Vigie writes comes back key for key, in the same order, and old or
hand-edited records (unknown keys, a time that does not parse) still load and are stored again as found."""

from __future__ import annotations

import json
from datetime import timedelta

from vigie.core.models import Alert, AlertState, DriverNote, EvidenceItem, HistoryEntry, Level, utc
from vigie.store.sqlite import SqliteStore

T = utc("2026-03-10T14:00:00Z")

# One of each entry the code writes (alerts.policy, alerts.coverage, vigie.core.actions), as stored before the
# records were typed: the keys and their order are the contract with existing stores, exports and outboxes.
STORED_HISTORY = [
    {"at": "2026-03-10T14:00:00Z", "event": "open", "level": "warning", "risk": 61.5,
     "drivers": [{"name": "negative_volume", "points": 30.2, "explanation": "negative volume ×8: +30"},
                 {"name": "reach", "points": 9.0, "explanation": "reach: +9"}]},
    {"at": "2026-03-10T14:05:00Z", "event": "update", "level": "warning", "risk": 58.0},
    {"at": "2026-03-10T14:06:00Z", "event": "ack", "by": "alice", "level": "warning", "risk": 58.0},
    {"at": "2026-03-10T14:07:00Z", "event": "action", "action": "false_alarm", "key": "false_alarm", "by": "U1",
     "via": "slack", "level": "warning", "risk": 58.0, "verdict": "false_alarm",
     "drivers": {"negative_volume": 30.2, "reach": 9.0}},
    {"at": "2026-03-10T14:08:00Z", "event": "action", "action": "mute_2h", "key": "mute_2h", "by": "U1",
     "via": "slack", "level": "warning", "risk": 58.0, "until": "2026-03-10T16:08:00Z", "topic": "acme"},
    {"at": "2026-03-10T14:09:00Z", "event": "action", "action": "sentiment_wrong",
     "key": "sentiment_wrong:x:1:neutral", "by": "U2", "via": "link", "level": "warning", "risk": 58.0,
     "post_id": "x:1", "label": "neutral", "was": None, "text": "not that bad"},
    {"at": "2026-03-10T15:00:00Z", "event": "resolve", "note": "blind from 14:00 to 15:00 UTC"},
]
STORED_EVIDENCE = [
    {"id": "x:1", "url": "https://x.example/1", "source": "x", "author": "bob", "followers": 1200,
     "text": "not that bad", "engagement": 14, "sentiment": "neg", "p_neg": 0.912,
     "crisis_categories": ["fraud"], "created_at": "2026-03-10T13:58:00Z"},
    {"id": "x:2", "url": None, "source": "x", "author": None, "followers": None, "text": "", "engagement": 0,
     "sentiment": None, "p_neg": None, "crisis_categories": [], "created_at": "2026-03-10T13:59:00Z"},
]


def stored_alert(history=STORED_HISTORY, evidence=STORED_EVIDENCE) -> dict:
    key = Alert.make_dedup_key("acme", T)
    alert = Alert(id=Alert.make_id(key), dedup_key=key, topic_id="acme", level=Level.WARNING, risk=58.0,
                  opened_at=T, updated_at=T + timedelta(hours=1), state=AlertState.RESOLVED)
    return {**alert.to_dict(), "history": history, "evidence": evidence}


def test_every_entry_kind_loads_typed_and_is_stored_key_for_key():
    doc = stored_alert()
    alert = Alert.from_dict(doc)
    opened, update, ack, verdict, mute, relabel, resolved = alert.history
    assert opened.level is Level.WARNING and opened.at == T and opened.drivers == [
        DriverNote("negative_volume", 30.2, "negative volume ×8: +30"), DriverNote("reach", 9.0, "reach: +9")]
    assert update.drivers is None and ack.by == "alice" and ack.event == "ack"
    assert verdict.verdict == "false_alarm" and verdict.judged == {"negative_volume": 30.2, "reach": 9.0}
    assert verdict.drivers is None
    assert mute.until == utc("2026-03-10T16:08:00Z") and mute.topic == "acme"
    assert (relabel.post_id, relabel.label, relabel.was) == ("x:1", "neutral", None)
    assert resolved.note.startswith("blind") and resolved.level is None and resolved.risk is None
    assert alert.evidence[0] == EvidenceItem(id="x:1", url="https://x.example/1", source="x", author="bob",
                                             followers=1200, text="not that bad", engagement=14, sentiment="neg",
                                             p_neg=0.912, crisis_categories=["fraud"],
                                             created_at=utc("2026-03-10T13:58:00Z"))
    again = alert.to_dict()
    # Same keys, same order, same values: the JSON text a store or an outbox writes is unchanged.
    assert json.dumps(again["history"]) == json.dumps(doc["history"])
    assert json.dumps(again["evidence"]) == json.dumps(doc["evidence"])
    assert json.dumps(again, sort_keys=True) == json.dumps(doc, sort_keys=True)


def test_old_or_hand_edited_records_still_load_and_keep_what_this_version_does_not_know(tmp_path):
    history = [{"at": "not a time", "event": "open", "level": "severe", "risk": 40, "origin": "import"},
               {"at": "2026-03-10T14:00:00Z", "event": "open", "level": "watch", "risk": 40,
                "drivers": [{"name": "reach", "points": 3, "explanation": "x", "value": 7, "baseline": 1}, "junk"]}]
    evidence = [{"id": "x:9", "text": "hello", "created_at": "yesterday", "lang": "en"}]
    alert = Alert.from_dict(stored_alert(history, evidence))
    first, second = alert.history
    assert first.at is None and first.level is None and first.extra == {"origin": "import", "at": "not a time",
                                                                         "level": "severe"}
    assert second.drivers == [DriverNote("reach", 3, "x", {"value": 7, "baseline": 1})]
    item = alert.evidence[0]
    assert item.id == "x:9" and item.created_at is None and item.extra == {"created_at": "yesterday", "lang": "en"}
    doc = alert.to_dict()
    assert doc["history"][0] == history[0]  # kept as found
    assert doc["evidence"][0]["created_at"] == "yesterday" and doc["evidence"][0]["lang"] == "en"
    store = SqliteStore(tmp_path / "v.db")
    try:
        store.save_alert(alert)
        assert store.get_alert(alert.id) == alert
    finally:
        store.close()


def test_a_history_entry_stores_only_the_fields_of_its_event():
    entry = HistoryEntry(at=T, event="ack", by="alice", level=Level.CRISIS, risk=80.0)
    assert list(entry.to_dict()) == ["at", "event", "by", "level", "risk"]
    assert HistoryEntry.from_dict(entry.to_dict()) == entry
    judged = HistoryEntry(at=T, event="action", action="real_crisis", verdict="real_crisis", judged={"reach": 9.0})
    assert judged.to_dict()["drivers"] == {"reach": 9.0}
