"""Feedback: the per-topic adaptation from verdicts (alerts/feedback.py) and `vigie feedback export`."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from click.testing import CliRunner

from alerts.feedback import FeedbackPolicy, Verdict, adapt, verdicts_from_records
from vigie.sim.sample_alerts import T0, make_alert
from vigie.app.cli.main import cli
from vigie.core.actions import ActionRequest, apply, records
from vigie.store.sqlite import SqliteStore

NOW = datetime(2026, 3, 20, tzinfo=timezone.utc)
FA = {"negative_volume": 30.0, "reach": 10.0}


def fa(days_ago: float, drivers=FA, verdict="false_alarm", topic="acme") -> Verdict:
    return Verdict(topic, NOW - timedelta(days=days_ago), verdict, drivers)


def test_no_verdict_changes_nothing():
    a = adapt("acme", [], NOW)
    assert a.factors == {} and a.risk({"negative_volume": 50, "reach": 30}) == 80


def test_a_false_alarm_lowers_a_similar_burst_below_its_level():
    a = adapt("acme", [fa(0)] * 3, NOW)
    assert a.risk({"negative_volume": 45, "reach": 15}) < 55 <= 60  # a warning-level repeat becomes a watch


def test_a_false_alarm_discounts_its_drivers_in_proportion_to_their_points():
    a = adapt("acme", [fa(0)], NOW)
    step = FeedbackPolicy().step
    assert a.factor("negative_volume") == 1 - step * 0.75 and a.factor("reach") == 1 - step * 0.25
    assert a.factor("crisis_terms") == 1.0  # a driver that did not fire is untouched
    assert adapt("other", [fa(0)], NOW).factors == {}  # per topic


def test_bounded_decaying_causal_and_countered_by_real_crises():
    many = adapt("acme", [fa(0)] * 50, NOW)
    assert many.factor("negative_volume") == 1 - FeedbackPolicy().max_discount
    old = adapt("acme", [fa(14)], NOW)  # one half-life ago: half the effect
    assert abs((1 - old.factor("negative_volume")) - 0.5 * FeedbackPolicy().step * 0.75) < 1e-9
    assert adapt("acme", [fa(-1)], NOW).factors == {}  # a verdict given after `now` is not used
    both = adapt("acme", [fa(0), fa(0, verdict="real_crisis")], NOW)
    assert both.factors == {}


def test_the_drop_is_bounded_whatever_the_number_of_marks():
    policy = FeedbackPolicy()
    a = adapt("acme", [fa(0, {"negative_volume": 1.0})] * 100, NOW)
    crisis = {"negative_volume": 60, "crisis_terms": 20, "reach": 10, "negative_share": 10}
    assert a.factor("negative_volume") == 1 - policy.max_discount
    assert a.risk(crisis) == 100 - policy.max_risk_drop  # 30 points off by the factor, held at the bound


def test_verdicts_come_from_the_action_records():
    out = apply(make_alert(), ActionRequest("false_alarm", make_alert().id, "alice", "slack", T0))
    [v] = verdicts_from_records("acme", records(out.alert))
    assert v.verdict == "false_alarm" and v.drivers["negative_volume"] == 30.0


def test_feedback_export_writes_text_label_jsonl(tmp_path):
    db = tmp_path / "v.db"
    alert = make_alert()
    for i, (post, label) in enumerate([("replay:1", "neutral"), ("replay:2", "positive"), ("replay:1", "negative")]):
        alert = apply(alert, ActionRequest("sentiment_wrong", alert.id, "alice", "slack", T0 + timedelta(minutes=i),
                                           post_id=post, label=label)).alert
    alert = apply(alert, ActionRequest("false_alarm", alert.id, "bob", "link", T0 + timedelta(minutes=5))).alert
    store = SqliteStore(db)
    store.save_alert(alert)
    store.close()
    cfg = tmp_path / "vigie.yml"
    cfg.write_text(f"topics:\n  - id: acme\n    name: Acme\n    query: acme\nstore:\n  type: sqlite\n  path: {db}\n")
    out = tmp_path / "relabels.jsonl"
    result = CliRunner().invoke(cli, ["feedback", "export", "--out", str(out), "--config", str(cfg)])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert rows == [{"text": "Commande 2 jamais livrée, service client injoignable #acme", "label": "positive"},
                    {"text": "Commande 1 jamais livrée, service client injoignable #acme", "label": "negative"}]
    listed = CliRunner().invoke(cli, ["feedback", "list", "--config", str(cfg)])
    assert "false_alarm" in listed.output and "negative_volume +30" in listed.output


def test_alerts_act_cli(tmp_path):
    db = tmp_path / "v.db"
    store = SqliteStore(db)
    store.save_alert(make_alert())
    store.close()
    cfg = tmp_path / "vigie.yml"
    cfg.write_text(f"topics:\n  - id: acme\n    name: Acme\n    query: acme\nstore:\n  type: sqlite\n  path: {db}\n"
                   "channels:\n  - type: console\n    min_level: watch\n")
    args = ["alerts", "act", make_alert().id, "mute_24h", "--by", "alice", "--config", str(cfg)]
    first = CliRunner().invoke(cli, args)
    assert first.exit_code == 0 and "Topic muted for 24 h until" in first.output
    assert "already done" in CliRunner().invoke(cli, args).output
    bad = CliRunner().invoke(cli, ["alerts", "act", "nope", "resolve", "--by", "a", "--config", str(cfg)])
    assert bad.exit_code != 0 and "no alert with id 'nope'" in bad.output
