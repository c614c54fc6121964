"""Per-channel delivery rules: quiet hours, pages per topic per hour, acknowledgement.

Set in a channel's `options` (see alerts/notify/README.md). Every decision uses the *event time*
(`alert.updated_at`, the detector's clock), not the wall clock, so a replay in simulated time and a
live run behave the same, and a re-run decides the same way.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator

from vigie.core.models import Alert, Level

PAGING_EVENTS = ("open", "escalate", "update")


class QuietHours(BaseModel):
    """Between `start` and `end` (local time in `tz`; may span midnight) only events at `min_level` or
    above are sent; the others are logged as skipped. Resolutions always go through."""

    model_config = ConfigDict(extra="forbid")
    start: time
    end: time
    tz: str = "UTC"
    min_level: Literal["watch", "warning", "crisis"] = "crisis"

    @field_validator("tz")
    @classmethod
    def _known_tz(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (use an IANA name such as Europe/Paris)") from None
        return value

    def covers(self, at: datetime) -> bool:
        local = at.astimezone(ZoneInfo(self.tz)).time()
        if self.start <= self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end


class Rules(BaseModel):
    """The rule keys of `ChannelConfig.options` (the other keys belong to the channel type)."""

    model_config = ConfigDict(extra="ignore")
    quiet_hours: QuietHours | None = None
    max_per_topic_per_hour: int | None = Field(None, ge=1, description="Messages/pages per topic per hour")
    # After a human acknowledged the alert, `update` events stop for this channel (escalations and the
    # resolution still go). Default on for pagers, off for chat channels.
    mute_updates_when_acked: bool | None = None
    # Many topics opening/escalating in one cycle → one digest message on channels that support it.
    digest_min_topics: int | None = Field(None, ge=2, description="Topics at once that trigger a digest (default 3)")


RULE_KEYS = set(Rules.model_fields)


def skip_reason(rules: Rules, alert: Alert, event: str, channel: str, recent: list[Alert], pager: bool) -> str | None:
    """Why this event must not be sent to this channel now, or None to send it."""
    at = alert.updated_at
    if event in PAGING_EVENTS:
        mute = rules.mute_updates_when_acked if rules.mute_updates_when_acked is not None else pager
        if event == "update" and mute and alert.acknowledged_at:
            return f"acknowledged by {alert.acknowledged_by or 'someone'}: updates are not re-paged"
        quiet = rules.quiet_hours
        if quiet and quiet.covers(at) and alert.level.rank < Level(quiet.min_level).rank:
            return f"quiet hours {quiet.start:%H:%M}-{quiet.end:%H:%M} {quiet.tz}: only {quiet.min_level} goes through"
        if rules.max_per_topic_per_hour is not None:
            sent = sent_in_last_hour(channel, alert, recent, at)
            if sent >= rules.max_per_topic_per_hour:
                return (f"rate limit: {sent} message(s) for topic {alert.topic_id} on {channel} in the last hour "
                        f"(max {rules.max_per_topic_per_hour})")
    return None


def sent_in_last_hour(channel: str, alert: Alert, recent: list[Alert], at: datetime) -> int:
    since = at - timedelta(hours=1)
    alerts = {a.id: a for a in recent if a.topic_id == alert.topic_id}
    alerts[alert.id] = alert  # the in-memory version is the freshest
    return sum(
        1
        for a in alerts.values()
        for d in a.deliveries
        if d.channel == channel and d.status == "sent" and d.event in PAGING_EVENTS and d.at and since < d.at <= at
    )
