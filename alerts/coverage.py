"""Blind alerts: is Vigie still seeing a source? Pure logic over collection health (vigie/store/health.py).

A source is *blind* when:
- its runs have failed for `coverage.failing_minutes` (network, schema, parse... any kind);
- its credentials were refused (`auth`): at once, a human must act, waiting helps nothing;
- its quota is spent (remaining 0 before the reset), or — a warning, not yet blind — will be spent before
  the reset at the current pace;
- its volume collapsed: it answers, but the posts it brought over the last `collapse_hours` hours are far
  below what its own history expects for those hours of the day (improbable under the count model, and
  at most `collapse_ratio` of the expectation: a quiet Saturday evening is improbable, not a collapse) (a changed API answering 200 with empty
  pages, an expired query, a slow drift to zero).

The collapse test treats volumes as counts: the expected count per hour comes from the same hour of the
day on earlier days (median, or trimmed mean from 5 days), the spread from a negative binomial whose
dispersion is estimated on the source's own earlier spans of the same length (robust to the odd burst).
The p-value is the NB lower tail of the span's total. A sparse topic at night expects ~1 post an hour: three silent hours have a lower-tail probability
around e^-3, nowhere near `collapse_p`, so no blind alert; a source expecting 200 that brings 3 is blind.
The count maths (NB lower tail, dispersion, robust means) is the detection count model's, in alerts/stats.py.

Blind alerts are `Alert(kind="coverage")` with their own lifecycle (`step`): open, update when the reason
changes, resolve when the source recovers, with the gap's extent. They go through the outbox like any
alert; channels take them only if their `kinds` include "coverage" (the console, the ops path, by default).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from alerts import stats
from vigie.store.health import SourceHealth, hour_key, hour_start
from vigie.core.models import Alert, AlertState, HistoryEntry, Level, iso, utc

# Why a source is blind, most serious first; `forecast` is a warning (still collecting).
REASONS = ("auth", "quota", "failing", "collapse", "forecast")


@dataclass
class Reason:
    kind: str  # one of REASONS
    since: datetime
    message: str

    @property
    def blind(self) -> bool:
        return self.kind != "forecast"

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "since": iso(self.since), "message": self.message}


# -- counts ------------------------------------------------------------------------------------

def baseline(values: list[float]) -> float:
    """The expected count of an hour from the same hour on earlier days: without the highest and the
    lowest fifth from 5 days on (one burst day, one outage hour do not move it), the median below that."""
    if len(values) < 5:
        return stats.median(values)
    return stats.trimmed_mean(values, trim=0.2, low=0.2)


def dispersion(pairs: list[tuple[float, int]]) -> float:
    """NB dispersion φ (variance = μ + φμ²) of (expected, observed) pairs, by the detection count model's
    moments (`alerts.stats.nb_dispersion`), winsorised at 3 robust standard deviations: a history of a few
    days has too few spans to trim, and one viral hour must not make every later judgement lenient."""
    return stats.nb_dispersion([x for _, x in pairs], [mu for mu, _ in pairs], trim=0.0,
                               max_alpha=math.inf, winsor=3.0, min_points=3)


@dataclass
class Collapse:
    observed: int
    expected: float
    p: float
    phi: float
    since: datetime


def collapse(health: SourceHealth, now: datetime, hours: int, min_days: int) -> Collapse | None:
    """The last `hours` complete hours with a run, judged against the same hours of the day on earlier
    days; None when the history is too short to know what to expect."""
    key = (hour_key(now), hours, min_days)
    cached = getattr(health, "_collapse", None)  # complete hours do not change within an hour: judge once
    if cached is not None and cached[0] == key:
        return cached[1]
    result = _collapse(health, now, hours, min_days)
    health._collapse = (key, result)  # type: ignore[attr-defined]  # not a field: never persisted
    return result


def _collapse(health: SourceHealth, now: datetime, hours: int, min_days: int) -> Collapse | None:
    counts = {hour_start(k): v[2] for k, v in health.hours.items() if v[0] > 0}
    current = hour_start(hour_key(now))
    span = sorted(t for t in counts if current - timedelta(hours=hours) <= t < current)
    if len(span) < hours:
        return None  # runs missing in the span: the failing rule speaks for those hours
    span_set = set(span)
    by_hour: dict[int, list[tuple[datetime, int]]] = {}
    for t, x in counts.items():
        if t < span[0]:
            by_hour.setdefault(t.hour, []).append((t, x))
    means = []
    for t in span:
        past = by_hour.get(t.hour, [])
        if len(past) < min_days:
            return None
        means.append(baseline([x for _, x in past]))
    hour_mean = {h: baseline([x for _, x in past]) for h, past in by_hour.items() if len(past) >= min_days}
    # The dispersion is estimated on totals over spans of the same length (every earlier span whose hours
    # all had a run), not on single hours: the hours of one evening share its mood (a quiet Saturday, a
    # holiday), and treating them as independent would make a quiet evening look impossible.
    pairs = []
    for t in counts:
        window = [t + timedelta(hours=i) for i in range(hours)]
        if window[-1] < span[0] and all(w in counts and w.hour in hour_mean for w in window) \
                and not span_set.intersection(window):
            pairs.append((sum(hour_mean[w.hour] for w in window), sum(counts[w] for w in window)))
    phi = dispersion(pairs)
    observed = sum(counts[t] for t in span)
    total = sum(means)
    return Collapse(observed, total, stats.nb_cdf(observed, total, phi), phi, span[0])


# -- reasons -----------------------------------------------------------------------------------

def assess(health: SourceHealth, now: datetime, cfg: Any) -> list[Reason]:
    """Why this source is blind now (empty: it is not). `cfg`: `vigie.core.config.CoverageConfig`."""
    now = utc(now)
    out: list[Reason] = []
    err = health.last_error or {}
    if health.failing:
        since = utc(health.failing_since)
        what = f"[{err.get('kind', '?')}] {err.get('message', '')}".strip()
        if err.get("kind") == "auth":
            out.append(Reason("auth", since, f"credentials refused: {what}"))
        elif err.get("kind") == "quota":
            out.append(Reason("quota", since, f"quota spent: {what}"))
        elif now - since >= timedelta(minutes=cfg.failing_minutes):
            out.append(Reason("failing", since, f"failing since {since:%H:%M} UTC: {what}"))
    quota = health.quota
    if quota and quota.get("reset_at") and not any(r.kind == "quota" for r in out):
        reset = utc(quota["reset_at"])
        if reset > now:
            if quota["remaining"] <= 0:
                out.append(Reason("quota", utc(quota["at"]), f"quota spent until {reset:%H:%M} UTC"))
            elif cfg.quota_forecast and (eta := _quota_runs_out(health)) is not None and eta < reset:
                out.append(Reason("forecast", utc(quota["at"]),
                                  f"at the current pace the quota ({quota['remaining']} left) runs out at "
                                  f"{eta:%H:%M} UTC, before its reset at {reset:%H:%M} UTC"))
    if not health.failing:
        c = collapse(health, now, cfg.collapse_hours, cfg.min_history_days)
        if (c is not None and c.expected >= cfg.min_expected and c.p < cfg.collapse_p
                and c.observed <= cfg.collapse_ratio * c.expected):
            out.append(Reason("collapse", c.since,
                              f"{c.observed} posts in {cfg.collapse_hours} h where ~{c.expected:.0f} are expected "
                              f"(p={c.p:.1e}): the source answers but brings (almost) nothing"))
    return out


# Two quota samples belong to the same window when their resets are this close. Reddit announces its reset
# as whole seconds still to wait, not as a time: the reset time derived from two answers of one window can
# differ by a second or two. A new window moves the reset by a whole window (10 min on Reddit, 15 on X).
SAME_WINDOW = timedelta(seconds=30)


def _quota_runs_out(health: SourceHealth) -> datetime | None:
    cur, prev = health.quota, health.quota_prev
    if not cur or not prev or not cur.get("reset_at") or not prev.get("reset_at"):
        return None
    if abs(utc(cur["reset_at"]) - utc(prev["reset_at"])) > SAME_WINDOW or cur["remaining"] > prev["remaining"]:
        return None  # a new window: no pace yet
    spent = prev["remaining"] - cur["remaining"]
    elapsed = (utc(cur["at"]) - utc(prev["at"])).total_seconds()
    if spent <= 0 or elapsed <= 0:
        return None
    return utc(cur["at"]) + timedelta(seconds=cur["remaining"] * elapsed / spent)


# -- the blind alert's lifecycle ----------------------------------------------------------------

def alert_topic(source: str) -> str:
    """The `topic_id` of a source's coverage alerts (no configured topic can contain a colon... nor needs to)."""
    return f"source:{source}"


def step(source: str, reasons: list[Reason], current: Alert | None, now: datetime) -> tuple[Alert, str] | None:
    """The coverage alert change for this source at `now` (open / update / resolve), or None."""
    now = utc(now)
    if current is not None and current.state is not AlertState.RESOLVED:
        alert = Alert.from_dict(current.to_dict())
        alert.updated_at = now
        if not reasons:
            alert.state, alert.resolved_at = AlertState.RESOLVED, now
            alert.coverage = {**alert.coverage, "until": iso(now)}
            alert.history.append(HistoryEntry(at=now, event="resolve", note=gap_text(alert)))
            return alert, "resolve"
        kinds = [r.kind for r in reasons]
        if kinds != alert.coverage.get("kinds"):
            alert.coverage = {**alert.coverage, "kinds": kinds, "reasons": [r.to_dict() for r in reasons]}
            alert.level = _level(reasons)
            alert.history.append(HistoryEntry(at=now, event="update", note=reasons[0].message))
            return alert, "update"
        return None
    if not reasons:
        return None
    since = min(r.since for r in reasons)
    key = Alert.make_dedup_key(alert_topic(source), since)
    alert = Alert(id=Alert.make_id(key), dedup_key=key, topic_id=alert_topic(source), level=_level(reasons),
                  risk=0.0, opened_at=now, updated_at=now, kind="coverage",
                  coverage={"source": source, "since": iso(since), "kinds": [r.kind for r in reasons],
                            "reasons": [r.to_dict() for r in reasons]})
    alert.history.append(HistoryEntry(at=now, event="open", note=reasons[0].message))
    return alert, "open"


def _level(reasons: list[Reason]) -> Level:
    return Level.WARNING if all(not r.blind for r in reasons) else Level.CRISIS


def gap_text(alert: Alert) -> str:
    cov = alert.coverage
    since, until = cov.get("since"), cov.get("until")
    if not since:
        return ""
    start = utc(since)
    end = utc(until) if until else None
    extent = f"{start:%Y-%m-%d %H:%M} → {end:%H:%M} UTC ({_duration(end - start)})" if end else f"since {start:%H:%M} UTC"
    return f"{cov.get('source', '?')} blind {extent}"


def _duration(d: timedelta) -> str:
    minutes = int(d.total_seconds() // 60)
    return f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{minutes} min"
