"""Feedback wired into detection: the marks people give change the risk, causally and bounded,
in the Detector (live), in `backtest_posts` (replay / simulated analyst) and never lose a crisis."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from detect_fixtures import T0, TOPIC, background, burst

from vigie.sim.backtest import backtest_posts
from alerts.detect import Detector
from alerts.feedback import FeedbackPolicy, Verdict, adjusted_risk
from vigie.sim.evaluation import truth_analyst
from vigie.core.config import config_from_dict
from vigie.store.sqlite import SqliteStore

NOW = datetime(2026, 3, 20, tzinfo=timezone.utc)
MAX_DROP = FeedbackPolicy().max_risk_drop
DRIVERS = {"negative_volume": 30.0, "negative_share": 20.0, "reach": 10.0}


def mark(hours_ago: float, verdict: str = "false_alarm", drivers=None) -> Verdict:
    return Verdict("acme", NOW - timedelta(hours=hours_ago), verdict, dict(drivers or DRIVERS))


def test_false_alarms_take_points_off_the_drivers_that_fired_and_say_so():
    risk, why = adjusted_risk("acme", [mark(2)] * 3, DRIVERS, 60.0, NOW)
    assert 60.0 - MAX_DROP <= risk < 60.0  # fewer points, never more than the bound fewer
    assert why is not None and why.startswith(f"-{60 - risk:.0f} points: 3 false alarms marked on negative_volume")
    assert "in the last 14 days" in why
    # A driver that did not fire on the false alarms keeps its points.
    other, note = adjusted_risk("acme", [mark(2, drivers={"reach": 10.0})] * 3, {"crisis_terms": 40.0}, 40.0, NOW)
    assert (other, note) == (40.0, None)


def test_a_crisis_level_reading_is_never_taken_below_the_crisis_threshold():
    crisis = {"negative_volume": 45.0, "negative_share": 25.0, "reach": 10.0}  # 80: a crisis at threshold 75
    lowered, why = adjusted_risk("acme", [mark(2, drivers=crisis)] * 5, crisis, 80.0, NOW, crisis=75.0)
    assert lowered == 75.0 and why is not None and why.startswith("-5 points")
    unbounded, _ = adjusted_risk("acme", [mark(2, drivers=crisis)] * 5, crisis, 80.0, NOW)
    assert unbounded == 80.0 - MAX_DROP < 75.0  # what the floor prevents
    warning, _ = adjusted_risk("acme", [mark(2, drivers=crisis)] * 5, crisis, 70.0, NOW, crisis=75.0)
    assert warning == 70.0 - MAX_DROP  # below the crisis threshold the usual bound applies


def test_marks_are_causal_a_mark_given_later_changes_nothing():
    assert adjusted_risk("acme", [mark(-1)] * 3, DRIVERS, 60.0, NOW) == (60.0, None)
    assert adjusted_risk("other", [mark(2)] * 3, DRIVERS, 60.0, NOW) == (60.0, None)  # per topic


def test_a_real_crisis_mark_restores_the_points():
    lowered, _ = adjusted_risk("acme", [mark(2)], DRIVERS, 60.0, NOW)
    restored, why = adjusted_risk("acme", [mark(2), mark(1, "real_crisis")], DRIVERS, 60.0, NOW)
    assert lowered < 60.0 and restored == 60.0 and why is None


def make_store(tmp_path):
    store = SqliteStore(tmp_path / "t.db")
    bad = T0 + timedelta(days=3, hours=13)
    store.upsert_posts(background(T0, 4 * 24, seed=21))
    store.upsert_posts(burst(bad, [3] * 6 + [5] * 6, first_id=100_000))
    store.upsert_posts(burst(bad + timedelta(hours=1), [8, 15, 25, 40, 60, 60], categories=["boycott"],
                             big_account_at=1, first_id=200_000))
    peak = bad + timedelta(hours=1, minutes=25)
    truth = {"events": [{"topic_id": TOPIC, "kind": "bad_buzz", "onset": bad.isoformat(), "peak": peak.isoformat(),
                         "end": (bad + timedelta(hours=3)).isoformat()}]}
    return store, bad, truth


def config():
    return config_from_dict({"topics": [{"id": TOPIC, "name": "Acme", "query": "acme"}]})


def test_detector_applies_marks_given_before_the_assessment_only(tmp_path):
    store, bad, _ = make_store(tmp_path)
    cfg = config()
    topic = cfg.topics[0]
    at = bad + timedelta(hours=1)
    plain = Detector(cfg.detection).assess(topic, store, at)
    fired = {d.name: d.points for d in plain.drivers}
    assert plain.risk > 20
    marks = [Verdict(TOPIC, at - timedelta(days=1), "false_alarm", fired)] * 3
    adjusted = Detector(cfg.detection).assess(topic, store, at, verdicts=marks)
    assert plain.risk - MAX_DROP <= adjusted.risk < plain.risk
    assert any("false alarms marked on" in n for n in adjusted.notes)
    later = [Verdict(TOPIC, at + timedelta(minutes=5), "false_alarm", fired)] * 3
    assert Detector(cfg.detection).assess(topic, store, at, verdicts=later).risk == plain.risk
    store.close()


def test_backtest_replays_marks_causally_and_loses_no_crisis(tmp_path):
    store, bad, truth = make_store(tmp_path)
    cfg = config()
    start, end = bad - timedelta(hours=2), bad + timedelta(hours=4)  # the event and its surroundings
    risks: dict[str, list] = {"plain": [], "marked": []}
    plain = backtest_posts(cfg, store, start, end, truth=truth, on_assessment=lambda a: risks["plain"].append(a))
    assert plain.metrics["detected_crisis"] == 1
    # Worst case: the very drivers of this crisis were marked false alarm (three times) while it rose.
    given = bad + timedelta(minutes=30)
    rising = next(a for a in risks["plain"] if a.at == given)
    marks = [Verdict(TOPIC, given, "false_alarm", {d.name: d.points for d in rising.drivers})] * 3
    marked = backtest_posts(cfg, store, start, end, truth=truth, verdicts=marks,
                            on_assessment=lambda a: risks["marked"].append(a))
    pairs = list(zip(risks["plain"], risks["marked"]))
    assert all(p.risk == m.risk for p, m in pairs if p.at < given)  # before the mark: untouched
    assert any(m.risk < p.risk for p, m in pairs if p.at >= given)  # after it: fewer points
    assert all(p.risk - m.risk <= MAX_DROP + 1e-9 for p, m in pairs)
    # A crisis-level reading stays one: the first crisis comes at the same time.
    assert all(m.risk >= 75 for p, m in pairs if p.risk >= 75)
    assert marked.metrics["lead_crisis_min"] == plain.metrics["lead_crisis_min"]
    assert marked.metrics["detected_crisis"] == 1 and marked.metrics["lead_crisis_min"][0] > 0
    # The simulated analyst marks this alert as a real crisis: nothing is discounted.
    analysed = backtest_posts(cfg, store, start, end, truth=truth, analyst=truth_analyst(truth))
    assert analysed.metrics == {**plain.metrics, "ms_per_assessment": analysed.metrics["ms_per_assessment"]}
    store.close()


def test_live_detection_reads_the_topics_marks_from_the_store(tmp_path):
    from vigie.core.actions import ActionRequest, apply
    from vigie.sim.sample_alerts import T0 as AT, make_alert
    from vigie.pipeline.steps import topic_verdicts

    store = SqliteStore(tmp_path / "v.db")
    alert = make_alert()
    marked = apply(alert, ActionRequest("false_alarm", alert.id, "alice", "slack", AT + timedelta(minutes=10))).alert
    store.save_alert(marked)
    found = topic_verdicts(store, marked.topic_id, AT + timedelta(hours=1))
    assert [(v.verdict, v.drivers) for v in found] == [("false_alarm", {d.name: round(d.points, 2) for d in marked.drivers})]
    assert found[0].drivers  # the drivers as they were, what the adaptation discounts
    assert topic_verdicts(store, marked.topic_id, AT + timedelta(minutes=5)) == []  # not given yet
    assert topic_verdicts(store, "another-topic", AT + timedelta(hours=1)) == []
    store.close()
