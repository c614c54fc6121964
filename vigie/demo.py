"""`vigie demo`: the bundled scenario replayed in simulated time through the real pipeline.

The replay listener only releases posts created before the simulated clock, detection runs at every
bucket boundary, and alerts go to the configured channels as they fire, exactly as they would live.
At the end the alert timeline is compared with the scenario's ground truth.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from vigie.config import ChannelConfig, VigieConfig
from vigie.models import Alert, Level, utc
from vigie.pipeline import Runtime, bucket_floor, detect_and_alert, ingest_all


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

    def lead(self, at: datetime | None) -> timedelta | None:
        return None if at is None else self.peak - at


@dataclass
class DemoResult:
    posts_inserted: int = 0
    posts_updated: int = 0
    quarantined: int = 0
    alert_events: int = 0
    ticks: int = 0
    seconds: float = 0.0
    outcomes: list[EventOutcome] = field(default_factory=list)
    false_alerts: list[Alert] = field(default_factory=list)
    report_path: Path | None = None


def load_truth(path: Path) -> dict[str, Any] | None:
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def with_slack_from_env(config: VigieConfig) -> VigieConfig:
    """If SLACK_WEBHOOK_URL is set, the demo's alerts also go to Slack (issue 2)."""
    if os.environ.get("SLACK_WEBHOOK_URL") and not any(c.type == "slack_webhook" for c in config.channels):
        config.channels.append(ChannelConfig(type="slack_webhook", webhook_env="SLACK_WEBHOOK_URL", min_level="warning"))
    return config


def simulate(
    rt: Runtime,
    start: datetime,
    end: datetime,
    *,
    progress: Any = None,
) -> DemoResult:
    """Advance the simulated clock bucket by bucket from `start` to `end`: ingest, then detect."""
    result = DemoResult()
    step = timedelta(minutes=rt.config.detection.bucket_minutes)
    t = bucket_floor(start, rt.config.detection.bucket_minutes) + step
    began = time.perf_counter()
    while t <= end:
        for report in ingest_all(rt, t):
            result.posts_inserted += report.inserted
            result.posts_updated += report.updated
            result.quarantined += report.quarantined
        result.alert_events += len(detect_and_alert(rt, t))
        result.ticks += 1
        if progress is not None:
            progress(t)
        t += step
    result.seconds = time.perf_counter() - began
    return result


def _level_times(alert: Alert) -> dict[Level, datetime]:
    """When each level was first reached during an alert, from its history."""
    out: dict[Level, datetime] = {}
    entries = alert.history or [{"at": alert.opened_at, "level": alert.level.value}]
    for entry in entries:
        if not entry.get("level"):
            continue
        level, at = Level(entry["level"]), utc(entry["at"])
        for lv in Level:
            if lv.rank <= level.rank and lv not in out:
                out[lv] = at
    return out


def compare_with_truth(alerts: list[Alert], truth: dict[str, Any]) -> tuple[list[EventOutcome], list[Alert]]:
    """Match alerts with ground-truth events (same topic, opened between onset - 1 h and the event end)."""
    outcomes: list[EventOutcome] = []
    matched: set[str] = set()
    for ev in truth.get("events", []):
        out = EventOutcome(
            topic_id=ev["topic_id"], kind=ev["kind"], onset=utc(ev["onset"]), peak=utc(ev["peak"]), end=utc(ev["end"])
        )
        for alert in alerts:
            if alert.topic_id != out.topic_id:
                continue
            if not (out.onset - timedelta(hours=1) <= alert.opened_at <= out.end):
                continue
            matched.add(alert.id)
            for level, at in _level_times(alert).items():
                attr = f"first_{level.value}"
                if getattr(out, attr) is None or at < getattr(out, attr):
                    setattr(out, attr, at)
            peak = alert.peak_level or alert.level
            if out.max_level is None or peak.rank > out.max_level.rank:
                out.max_level = peak
        outcomes.append(out)
    false_alerts = [a for a in alerts if a.id not in matched and (a.peak_level or a.level).rank >= Level.WARNING.rank]
    return outcomes, false_alerts
