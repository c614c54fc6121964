"""Alerts against a scenario's ground truth: when did each level fire, how long before the true peak.

Pure functions over `Alert` records and the truth dict written beside a scenario
(`{"events": [{"topic_id", "kind", "onset", "peak", "end", "description"}]}`), with no import of the
pipeline, so the report, the notebooks and the demo can all use them without pulling in detection.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from vigie.core.models import Alert, HistoryEntry, Level, utc

# An alert opened up to this long before a true onset still counts as catching that event: detection
# sees the first angry posts slightly before the scenario's nominal onset time.
MATCH_BEFORE_ONSET = timedelta(hours=1)


@dataclass
class EventOutcome:
    """How the alerts compared with one ground-truth event."""

    topic_id: str
    kind: str
    onset: datetime
    peak: datetime
    end: datetime
    first_watch: datetime | None = None
    first_warning: datetime | None = None
    first_crisis: datetime | None = None
    max_level: Level | None = None
    description: str = ""

    def lead(self, at: datetime | None) -> timedelta | None:
        """Time between an alert moment and the true peak (positive = the alert came first)."""
        return None if at is None else self.peak - at


def level_times(alert: Alert) -> dict[Level, datetime]:
    """When each level was first reached during an alert, from its history (reaching crisis also
    means the lower levels were reached, at the latest, at that moment)."""
    out: dict[Level, datetime] = {}
    entries = alert.history or [HistoryEntry(at=alert.opened_at, event="open", level=alert.level)]
    for entry in entries:
        if entry.level is None or entry.at is None:
            continue
        level, at = entry.level, entry.at
        for lv in Level:
            if lv.rank <= level.rank and lv not in out:
                out[lv] = at
    return out


def compare_with_truth(alerts: list[Alert], truth: dict[str, Any]) -> tuple[list[EventOutcome], list[Alert]]:
    """Match alerts with ground-truth events (same topic, opened between onset - 1 h and the event end).

    Returns one outcome per event, and the warning-or-worse alerts that match no event (false alerts).
    """
    outcomes: list[EventOutcome] = []
    matched: set[str] = set()
    for ev in truth.get("events", []):
        out = EventOutcome(
            topic_id=ev["topic_id"], kind=ev["kind"], onset=utc(ev["onset"]), peak=utc(ev["peak"]),
            end=utc(ev["end"]), description=str(ev.get("description") or ""),
        )
        for alert in alerts:
            if alert.topic_id != out.topic_id:
                continue
            if not (out.onset - MATCH_BEFORE_ONSET <= alert.opened_at <= out.end):
                continue
            matched.add(alert.id)
            for level, at in level_times(alert).items():
                attr = f"first_{level.value}"
                if getattr(out, attr) is None or at < getattr(out, attr):
                    setattr(out, attr, at)
            peak = alert.peak_level or alert.level
            if out.max_level is None or peak.rank > out.max_level.rank:
                out.max_level = peak
        outcomes.append(out)
    # Blind (coverage) alerts speak of collection, not of a topic: `compare_outages` judges them.
    false_alerts = [a for a in alerts if a.id not in matched and a.kind != "coverage"
                    and (a.peak_level or a.level).rank >= Level.WARNING.rank]
    return outcomes, false_alerts


@dataclass
class OutageOutcome:
    """How the blind alerts compared with one ground-truth collector outage (`truth["outages"]`)."""

    source: str
    start: datetime
    end: datetime
    opened_at: datetime | None = None  # the first blind alert of that source within the outage
    resolved_at: datetime | None = None


def compare_outages(alerts: list[Alert], truth: dict[str, Any]) -> tuple[list[OutageOutcome], list[Alert]]:
    """Match blind alerts (`kind: coverage`, topic `source:<name>`) with the truth's collector outages: an
    alert of the same source opened within the outage. Returns one outcome per outage, and the blind
    alerts that match none (false blind alerts)."""
    blind = [a for a in alerts if a.kind == "coverage"]
    outcomes, matched = [], set()
    for o in truth.get("outages", []):
        out = OutageOutcome(str(o["source"]), utc(o["start"]), utc(o["end"]))
        for a in sorted(blind, key=lambda a: a.opened_at):
            if a.coverage.get("source") == out.source and out.start <= a.opened_at <= out.end:
                matched.add(a.id)
                if out.opened_at is None:
                    out.opened_at, out.resolved_at = a.opened_at, a.resolved_at
        outcomes.append(out)
    return outcomes, [a for a in blind if a.id not in matched]


def format_lead(delta: timedelta | None) -> str:
    """'2 h 35 min before the peak' / '40 min after the peak' / 'never'."""
    if delta is None:
        return "never"
    minutes = int(abs(delta.total_seconds()) // 60)
    hours, mins = divmod(minutes, 60)
    text = f"{hours} h {mins:02d} min" if hours else f"{mins} min"
    return f"{text} {'before' if delta.total_seconds() >= 0 else 'after'} the peak"
