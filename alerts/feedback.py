"""Learning from verdicts: a per-topic, bounded, decaying adaptation driven by false-alarm marks.

People mark alerts "false alarm" or "real crisis" (vigie/core/actions.py); each mark keeps the risk drivers
as they were (`{"negative_volume": 30.0, "reach": 9.0, ...}`). A driver that carried false alarms on a
topic is trusted less *on that topic*: its points are scaled down by a factor in [1 - max_discount, 1].

- Driven by the drivers that fired: each false alarm spreads `step` over its drivers in proportion to
  their points (the driver that pushed the risk most learns most).
- Real-crisis marks push back with the same weight: a driver that also carried real crises is not muted.
- Decaying: a mark's weight halves every `half_life_days`, so a topic's behaviour can change back.
- Bounded three times: no driver loses more than `max_discount` of its points, the topic's risk never drops
  by more than `max_risk_drop` points whatever the number of marks, and a reading at or above the topic's
  crisis threshold is never taken below it: feedback turns repeated warnings into watches, it never
  silences a crisis (nor delays its first crisis-level reading).

Pure functions (no store, no I/O). `Detector.assess(..., verdicts=...)` applies them; `vigie backtest`
replays stored marks; `bench/detection.py --suite feedback --feedback` measures the effect with a simulated
analyst on scenarios whose false alarms recur (alerts/DETECTION.md, "Feedback from analysts").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Iterable

from vigie.core.models import HistoryEntry, utc


@dataclass(frozen=True)
class Verdict:
    topic_id: str
    at: datetime
    verdict: str  # "false_alarm" | "real_crisis"
    drivers: dict[str, float]


@dataclass(frozen=True)
class FeedbackPolicy:
    # Measured on the feedback suite (alerts/DETECTION.md): with 0.25 / 12 points two marks took a typical
    # repeated false alarm (risk 75, held there by the composition cap) to 63, still a warning.
    step: float = 0.5  # discount one false alarm spreads over its drivers
    max_discount: float = 0.5  # a driver keeps at least half of its points
    max_risk_drop: float = 20.0  # risk points the adaptation may remove at most
    half_life_days: float = 14.0


@dataclass
class Adaptation:
    topic_id: str
    factors: dict[str, float] = field(default_factory=dict)  # driver -> multiplier of its points (absent: 1)
    max_risk_drop: float = FeedbackPolicy.max_risk_drop

    def factor(self, driver: str) -> float:
        return self.factors.get(driver, 1.0)

    def risk(self, drivers: dict[str, float]) -> float:
        """The topic's risk with the adaptation applied (drivers' points scaled, capped at 100, never more
        than `max_risk_drop` below the unadapted risk)."""
        raw = min(100.0, sum(drivers.values()))
        adapted = min(100.0, sum(points * self.factor(name) for name, points in drivers.items()))
        return max(adapted, raw - self.max_risk_drop)


def verdicts_from_records(topic_id: str, recs: Iterable[HistoryEntry]) -> list[Verdict]:
    """Verdicts out of alert history records (vigie.core.actions.records)."""
    return [Verdict(topic_id, utc(r.at), r.verdict, dict(r.judged or {}))  # type: ignore[arg-type]
            for r in recs if r.verdict in ("false_alarm", "real_crisis")]


def adapt(topic_id: str, verdicts: Iterable[Verdict], now: datetime,
          policy: FeedbackPolicy = FeedbackPolicy()) -> Adaptation:
    """The adaptation of one topic at `now`, from the verdicts given on it before `now`."""
    now = utc(now)
    pressure: dict[str, float] = {}
    for v in verdicts:
        if v.topic_id != topic_id or utc(v.at) > now:
            continue  # causal: a verdict given later cannot change an earlier assessment
        total = sum(p for p in v.drivers.values() if p > 0)
        if total <= 0:
            continue
        age_days = (now - utc(v.at)).total_seconds() / 86400
        weight = 0.5 ** (age_days / policy.half_life_days)
        sign = 1.0 if v.verdict == "false_alarm" else -1.0
        for name, points in v.drivers.items():
            if points > 0:
                pressure[name] = pressure.get(name, 0.0) + sign * weight * policy.step * points / total
    factors = {name: 1.0 - min(policy.max_discount, p) for name, p in pressure.items() if p > 0}
    return Adaptation(topic_id, factors, policy.max_risk_drop)


def explain(adaptation: Adaptation, verdicts: Iterable[Verdict], drivers: dict[str, float], now: datetime,
            drop: float, policy: FeedbackPolicy = FeedbackPolicy()) -> str:
    """The note an adjusted assessment carries, e.g. "-8 points: 3 false alarms marked on negative_volume in
    the last 14 days"."""
    now = utc(now)
    discounted = sorted((n for n in drivers if adaptation.factor(n) < 1.0),
                        key=lambda n: -drivers[n] * (1 - adaptation.factor(n)))
    recent = [v for v in verdicts if v.topic_id == adaptation.topic_id and v.verdict == "false_alarm"
              and utc(v.at) <= now and (now - utc(v.at)).days < policy.half_life_days
              and any(v.drivers.get(n, 0) > 0 for n in discounted)]
    names = ", ".join(discounted[:3])
    return (f"-{drop:.0f} points: {len(recent)} false alarm{'s' if len(recent) != 1 else ''} marked on {names} "
            f"in the last {policy.half_life_days:g} days")


def adjusted_risk(topic_id: str, verdicts: list[Verdict], drivers: dict[str, float], risk: float, now: datetime,
                  policy: FeedbackPolicy = FeedbackPolicy(), crisis: float | None = None) -> tuple[float, str | None]:
    """The risk after the topic's feedback, and the note that says why (None when nothing changed).

    The drop is computed on the drivers' points (`Adaptation.risk`, bounded by `max_risk_drop`) and taken
    off the assessed risk (which may already be held by the composition cap), never below 0, and never
    below `crisis` (the topic's crisis threshold) when the risk had reached it."""
    if not verdicts:
        return risk, None
    adaptation = adapt(topic_id, verdicts, now, policy)
    if not adaptation.factors:
        return risk, None
    drop = min(100.0, sum(drivers.values())) - adaptation.risk(drivers)
    drop = min(drop, risk)
    if crisis is not None and risk >= crisis:
        drop = min(drop, risk - crisis)  # a crisis-level reading stays a crisis-level reading
    if drop < 0.05:
        return risk, None
    return round(risk - drop, 1), explain(adaptation, verdicts, drivers, now, drop, policy)
