"""Alert policy: turns a stream of assessments into an alert lifecycle (open → escalated → resolved).

Rules (all in buckets of the detector, times are the assessment's `at`):

* **Enter** a level when the risk is at or above its threshold (`topic.thresholds`).
* **Escalate** (watch → warning → crisis) updates the *same* alert: level up, state `escalated`, a
  history entry; the dedup key and id never change during an episode.
* **Hysteresis**: an alert leaves its level only after `exit_buckets` consecutive buckets below
  `threshold - hysteresis` (counted in `Alert.calm_buckets`, persisted with the alert so a restarted
  process continues the count). It then drops to the highest level whose band the *highest* risk of
  those calm buckets is still in (`Alert.calm_peak`), or **resolves** if none: one quiet bucket at the
  end of a choppy half-hour does not end a crisis.
* **Updates**: a risk *rise* of at least `MATERIAL_CHANGE` points since the last notified value, to at
  least the alert's level threshold, is an `update` event worth telling people about (a fall is told by the level drop or the resolution). Other
  steps of an open alert (risk moves, calm-bucket counting) are returned as *silent* updates
  (`AlertEvent.notify = False`): the pipeline persists them but must not deliver them.
* **Cooldown**: for `cooldown_minutes` after a resolution, a new rise to the same or a lower level than the
  resolved alert's peak is suppressed (no new page for a flapping topic). A rise to *crisis*, or to a level
  above the previous peak, opens a new alert even within the cooldown: that is a new, worse episode.
* Acknowledgement (`acknowledged_by/at`) is left untouched: it stops repeat paging in the notifiers, not
  the lifecycle, so an acknowledged alert still escalates, updates and resolves.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import datetime, timedelta

from alerts.detect import Assessment
from vigie.core.config import DetectionConfig, Topic
from vigie.core.models import Alert, AlertState, DriverNote, HistoryEntry, Level, utc

MATERIAL_CHANGE = 15.0  # risk points since the last notified value that make an update worth sending


@dataclass
class AlertEvent:
    kind: str  # "open" | "escalate" | "update" | "resolve"
    alert: Alert  # the alert after the event
    notify: bool = True  # False: persist only (calm-bucket counting, small risk moves); do not deliver


def threshold(topic: Topic, level: Level) -> float:
    return float(getattr(topic.thresholds, level.value))


def _copy(alert: Alert) -> Alert:
    """The caller's object (often straight from the store) is never mutated: the event carries the new state.

    A copy of the alert and of each element of its lists (history entries, evidence, deliveries: later
    steps append to them or edit a delivery), not a JSON round trip: that cost ~3 ms per step of an open
    alert, more than the rest of an assessment."""
    out = copy.copy(alert)
    out.drivers = list(alert.drivers)  # replaced, never edited, by the policy
    out.evidence = [copy.copy(e) for e in alert.evidence]
    out.history = [copy.copy(h) for h in alert.history]
    out.deliveries = [copy.copy(d) for d in alert.deliveries]
    out.links = dict(alert.links)
    out.coverage = copy.deepcopy(alert.coverage)
    return out


class AlertPolicy:
    def __init__(self, cfg: DetectionConfig):
        self.cfg = cfg

    def stay_level(self, topic: Topic, risk: float) -> Level | None:
        """Highest level whose exit band (threshold - hysteresis) the risk is still in."""
        for level in (Level.CRISIS, Level.WARNING, Level.WATCH):
            if risk >= threshold(topic, level) - self.cfg.hysteresis:
                return level
        return None

    def in_cooldown(self, last_resolved: Alert | None, now: datetime) -> bool:
        if last_resolved is None or last_resolved.resolved_at is None:
            return False
        return utc(now) - last_resolved.resolved_at < timedelta(minutes=self.cfg.cooldown_minutes)

    def step(
        self, topic: Topic, a: Assessment, current: Alert | None, last_resolved: Alert | None, now: datetime,
        blind: bool = False,
    ) -> AlertEvent | None:
        """`blind`: a source of the topic is blind over this bucket (alerts/coverage.py): a fall in risk may
        be a collection gap, not a calm, so calm buckets are not counted (no step-down, no resolve)."""
        if current is None or current.state == AlertState.RESOLVED:
            return self._maybe_open(topic, a, last_resolved, now)
        alert = _copy(current)
        alert.risk, alert.drivers, alert.updated_at = a.risk, list(a.drivers), a.at
        alert.peak_risk = max(alert.peak_risk, a.risk)
        if a.level is not None and a.level.rank > alert.level.rank:
            alert.level, alert.state, alert.calm_buckets, alert.calm_peak = a.level, AlertState.ESCALATED, 0, 0.0
            alert.peak_level = _max_level(alert.peak_level, a.level)
            _log(alert, "escalate", a)
            return AlertEvent("escalate", alert)
        if a.risk >= threshold(topic, alert.level) - self.cfg.hysteresis:
            alert.calm_buckets, alert.calm_peak = 0, 0.0
        elif blind:
            pass  # held: the calm may be the gap (counting resumes when the source sees again)
        else:
            alert.calm_buckets += 1
            alert.calm_peak = max(alert.calm_peak, a.risk)
            if alert.calm_buckets >= self.cfg.exit_buckets:
                lower = self.stay_level(topic, alert.calm_peak)
                alert.calm_buckets, alert.calm_peak = 0, 0.0
                if lower is None:
                    alert.state, alert.resolved_at = AlertState.RESOLVED, a.at
                    _log(alert, "resolve", a)
                    return AlertEvent("resolve", alert)
                alert.level = lower
                _log(alert, "update", a)
                return AlertEvent("update", alert)
        # A material rise is told only when it brings the risk back to the alert's level: a choppy tail
        # (risk 6, 48, 30, 50 under a warning) is persisted, not delivered at 1 am.
        if a.risk - _last_logged_risk(alert) >= MATERIAL_CHANGE and a.risk >= threshold(topic, alert.level):
            _log(alert, "update", a)
            return AlertEvent("update", alert)
        return AlertEvent("update", alert, notify=False)

    def _maybe_open(self, topic: Topic, a: Assessment, last_resolved: Alert | None, now: datetime) -> AlertEvent | None:
        if a.level is None:
            return None
        if self.in_cooldown(last_resolved, now):
            assert last_resolved is not None
            previous = last_resolved.peak_level or last_resolved.level
            if not (a.level == Level.CRISIS or a.level.rank > previous.rank):
                return None
        key = Alert.make_dedup_key(topic.id, a.at)
        alert = Alert(
            id=Alert.make_id(key),
            dedup_key=key,
            topic_id=topic.id,
            level=a.level,
            risk=a.risk,
            opened_at=a.at,
            updated_at=a.at,
            state=AlertState.OPEN,
            drivers=list(a.drivers),
            peak_risk=a.risk,
            peak_level=a.level,
        )
        _log(alert, "open", a)
        return AlertEvent("open", alert)


def _max_level(a: Level | None, b: Level) -> Level:
    return b if a is None or b.rank > a.rank else a


def _log(alert: Alert, event: str, a: Assessment) -> None:
    entry = HistoryEntry(at=a.at, event=event, level=alert.level, risk=a.risk)
    # Keep what drove the risk at the moments that matter (lifecycle events and each new peak): the
    # alert's own `drivers` describe only its latest state, which is calm once it resolves.
    if event != "update" or a.risk > max((float(h.risk or 0) for h in alert.history), default=0.0):
        entry.drivers = [DriverNote(d.name, d.points, d.explanation) for d in a.drivers[:5]]
    alert.history.append(entry)


def _last_logged_risk(alert: Alert) -> float:
    return float(alert.history[-1].risk) if alert.history else alert.risk  # type: ignore[arg-type]


def acknowledge(alert: Alert, by: str, at: datetime) -> Alert:
    """A human has seen the alert: record who and when (a copy is returned; the input is untouched).

    Acknowledging stops repeat paging (the notifiers check `acknowledged_by`); escalations, updates and
    the resolution still happen and are still recorded. Acknowledging twice keeps the first record.
    """
    by = by.strip()
    if not by:
        raise ValueError("an acknowledgement needs a name (--by NAME)")
    out = _copy(alert)
    if out.acknowledged_by is None:
        out.acknowledged_by, out.acknowledged_at = by, utc(at)
        out.history.append(HistoryEntry(at=utc(at), event="ack", by=by, level=out.level, risk=out.risk))
    return out
