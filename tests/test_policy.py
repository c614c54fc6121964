"""Alert lifecycle rules, driven by hand-made assessments (risk sequences), one bucket at a time."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from alerts.detect import Assessment, level_for
from alerts.policy import AlertEvent, AlertPolicy
from vigie.core.config import DetectionConfig, Topic
from vigie.core.models import Alert, AlertState, Driver, Level, utc

T = datetime(2026, 3, 4, 12, 0, tzinfo=timezone.utc)
STEP = timedelta(minutes=5)
TOPIC = Topic(id="acme", name="Acme", query="acme")  # thresholds 35 / 55 / 75
CFG = DetectionConfig(exit_buckets=3, hysteresis=10, cooldown_minutes=60)


def assessment(risk: float, at: datetime) -> Assessment:
    drivers = [Driver("negative_volume", risk, risk, 1.0, f"negative volume: +{risk:.0f}")] if risk else []
    return Assessment("acme", at, risk, level_for(risk, TOPIC), drivers, [], [])


class Run:
    """Feeds a risk sequence through the policy and keeps the store's view (current / last resolved)."""

    def __init__(self, cfg: DetectionConfig = CFG, start: datetime = T):
        self.policy = AlertPolicy(cfg)
        self.t = start
        self.current: Alert | None = None
        self.last_resolved: Alert | None = None
        self.events: list[AlertEvent] = []

    def feed(self, *risks: float) -> list[AlertEvent]:
        out = []
        for risk in risks:
            self.t += STEP
            ev = self.policy.step(TOPIC, assessment(risk, self.t), self.current, self.last_resolved, self.t)
            if ev is not None:
                if ev.alert.state == AlertState.RESOLVED:
                    self.current, self.last_resolved = None, ev.alert
                else:
                    self.current = ev.alert
                out.append(ev)
        self.events += out
        return out

    def notified(self) -> list[tuple[str, str]]:
        return [(e.kind, e.alert.level.value) for e in self.events if e.notify]


def test_below_every_threshold_nothing_happens():
    run = Run()
    assert run.feed(0, 10, 34.9, 20) == []


def test_warning_escalates_to_crisis_in_the_same_alert():
    run = Run()
    (opened,) = run.feed(60)
    assert opened.kind == "open" and opened.alert.level == Level.WARNING and opened.alert.state == AlertState.OPEN
    assert opened.alert.dedup_key == Alert.make_dedup_key("acme", run.t)
    assert opened.alert.id == Alert.make_id(opened.alert.dedup_key)
    (esc,) = run.feed(80)
    assert esc.kind == "escalate" and esc.notify
    assert esc.alert.id == opened.alert.id and esc.alert.level == Level.CRISIS and esc.alert.state == AlertState.ESCALATED
    assert esc.alert.opened_at == opened.alert.opened_at and esc.alert.updated_at == run.t
    assert esc.alert.peak_level == Level.CRISIS and esc.alert.peak_risk == 80
    assert [(h.event, h.level, h.risk) for h in esc.alert.history] == [
        ("open", Level.WARNING, 60), ("escalate", Level.CRISIS, 80)
    ]
    assert esc.alert.history[-1].at == utc(run.t)
    assert esc.alert.to_dict()["history"][-1]["at"] == utc(run.t).isoformat().replace("+00:00", "Z")


def test_hysteresis_holds_the_level_until_calm_for_exit_buckets():
    run = Run()
    run.feed(80)  # crisis (threshold 75, exit below 65)
    events = run.feed(66, 70, 65)  # inside the hysteresis band: stays crisis, calm count stays 0
    assert all(e.alert.level == Level.CRISIS and e.alert.calm_buckets == 0 for e in events)
    assert all(not e.notify for e in events)  # silent: persisted but not delivered
    events = run.feed(60, 60)  # two calm buckets out of three...
    assert [e.alert.calm_buckets for e in events] == [1, 2] and run.current.level == Level.CRISIS
    run.feed(70)  # ...a relapse resets the count
    assert run.current.calm_buckets == 0 and run.current.level == Level.CRISIS
    (*_, drop) = run.feed(60, 60, 60)  # three calm buckets: drop to the level whose band 60 is in
    assert drop.kind == "update" and drop.notify and drop.alert.level == Level.WARNING
    assert drop.alert.state != AlertState.RESOLVED
    assert drop.alert.peak_level == Level.CRISIS  # the peak is remembered
    (*_, resolved) = run.feed(20, 20, 20)  # below every exit band (watch exits below 25)
    assert resolved.kind == "resolve" and resolved.alert.state == AlertState.RESOLVED
    assert resolved.alert.resolved_at == run.t
    assert len({e.alert.id for e in run.events}) == 1
    assert [h.event for h in resolved.alert.history] == ["open", "update", "resolve"]


def test_flapping_around_a_threshold_does_not_flap_the_alert():
    run = Run()
    run.feed(*[56, 50, 57, 48, 58, 46] * 4)  # warning threshold 55, exit below 45
    assert run.notified() == [("open", "warning")]
    assert run.current is not None


def test_material_rise_notifies_an_update_small_moves_do_not():
    run = Run()
    run.feed(40)  # watch
    (small,) = run.feed(48)
    assert small.kind == "update" and not small.notify and small.alert.risk == 48
    (almost,) = run.feed(54.9)  # +14.9 since the last notified risk (40): still silent
    assert not almost.notify
    # A rise of 15 points without crossing a threshold is worth telling.
    run2 = Run()
    run2.feed(36)
    (ev,) = run2.feed(51)
    assert ev.kind == "update" and ev.notify and ev.alert.level == Level.WATCH
    assert ev.alert.history[-1].event == "update"


def test_cooldown_suppresses_a_flapping_reopen_but_not_a_worse_episode():
    run = Run()
    run.feed(60, 0, 0, 0)
    assert run.notified() == [("open", "warning"), ("resolve", "warning")]
    first_id = run.last_resolved.id
    assert run.feed(60) == []  # within the 60-minute cooldown: same level as the last peak, suppressed
    (crisis,) = run.feed(80)  # a crisis is a new, worse episode: it opens even within cooldown
    assert crisis.kind == "open" and crisis.alert.level == Level.CRISIS and crisis.alert.id != first_id


def test_after_cooldown_a_new_alert_opens_with_a_new_dedup_key():
    run = Run()
    run.feed(60, 0, 0, 0)
    first = run.last_resolved
    run.feed(*[0] * 12)  # one hour of calm
    (again,) = run.feed(60)
    assert again.kind == "open" and again.alert.dedup_key != first.dedup_key and again.alert.id != first.id


def test_step_does_not_mutate_the_stored_alert_and_keeps_acknowledgement():
    run = Run()
    (opened,) = run.feed(60)
    stored = opened.alert
    stored.acknowledged_by, stored.acknowledged_at = "alice", run.t
    snapshot = stored.to_dict()
    (esc,) = run.feed(90)
    assert stored.to_dict() == snapshot
    assert esc.alert.acknowledged_by == "alice"  # ack stops repeat paging, not the lifecycle
    assert esc.kind == "escalate"


def test_a_watch_entry_escalates_through_warning():
    run = Run()
    run.feed(36, 56, 76)
    assert run.notified() == [("open", "watch"), ("escalate", "warning"), ("escalate", "crisis")]


def test_a_choppy_calm_run_steps_down_to_its_highest_risk_not_to_its_last():
    run = Run()
    run.feed(80)  # crisis (exit below 65)
    (*_, drop) = run.feed(50, 48, 5)  # three calm buckets, the last one nearly silent
    # The run's highest risk (50) is still in the warning band (exit below 45): warning, not resolved.
    assert drop.kind == "update" and drop.alert.level == Level.WARNING and drop.alert.state != AlertState.RESOLVED
    assert drop.alert.calm_buckets == 0 and drop.alert.calm_peak == 0.0  # a new count for the new level
    (*_, resolved) = run.feed(20, 22, 21)  # a calm run entirely below the watch band (25): resolved
    assert resolved.kind == "resolve"
    assert len({e.alert.id for e in run.events}) == 1


def test_calm_peak_survives_a_restart_through_the_store_format():
    run = Run()
    run.feed(80, 60)
    assert run.current.calm_buckets == 1 and run.current.calm_peak == 60
    restored = Alert.from_dict(run.current.to_dict())  # what a restarted process reads back
    assert (restored.calm_buckets, restored.calm_peak) == (1, 60)


def test_a_choppy_tail_is_persisted_not_delivered_until_it_reaches_the_level_again():
    run = Run()
    run.feed(80)  # crisis
    (*_, drop) = run.feed(50, 48, 20)  # steps down to warning; the value told is 20
    assert drop.alert.level == Level.WARNING and drop.notify and drop.alert.history[-1].risk == 20
    events = run.feed(40, 44)  # +20 and +24 over the last told, but under the warning threshold: silent
    assert [e.notify for e in events] == [False, False]
    (back,) = run.feed(58)  # a material rise that takes the alert back to its level is told
    assert back.kind == "update" and back.notify and back.alert.level == Level.WARNING


def test_the_event_alert_shares_no_list_or_delivery_with_the_callers_alert():
    """The policy copies the alert it steps (not a JSON round trip): appending to the event's history or editing
    one of its deliveries, as the outbox does, leaves the caller's alert as it was."""
    from vigie.core.models import Delivery

    run = Run()
    (opened,) = run.feed(60)
    stored = opened.alert
    stored.deliveries.append(Delivery(channel="slack", event="open", status="failed", attempts=1))
    stored.links["slack"] = "https://example.invalid/1"
    snapshot = stored.to_dict()
    (esc,) = run.feed(90)
    assert esc.alert == Alert.from_dict(esc.alert.to_dict())  # a plain, complete alert
    esc.alert.deliveries[0].status, esc.alert.deliveries[0].error = "sent", None
    esc.alert.history.append(esc.alert.history[-1])
    esc.alert.links["pagerduty"] = "x"
    assert stored.to_dict() == snapshot
    assert esc.alert.deliveries[0] is not stored.deliveries[0] and esc.alert.level == Level.CRISIS
