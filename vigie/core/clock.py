"""Clock sanity: how far in the future a time may be before Vigie refuses it.

A cursor only moves forward. A clock typo (`--now 9999-12-31`) or a post dated in the future by a
platform bug would move one past every real time to come: detection would assess nothing ever again,
a replay file would wait forever for its line dated 9999. So a run's clock more than the configured
skew (`clock.max_skew_minutes`) ahead of the real clock is refused, and a post dated more than the skew
ahead of `max(run clock, real clock)` is quarantined, never stored (the real clock matters because a
backfill runs with a clock in the past while the platforms answer with today's posts).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from vigie.core.models import iso, utc


class ClockError(ValueError):
    """A clock too far in the future; the message gives the limit and the fix."""


def real_now() -> datetime:
    return datetime.now(timezone.utc)


def latest_allowed(skew: timedelta, run_now: datetime | None = None, wall: datetime | None = None) -> datetime:
    """The latest time a post may carry: the run's clock or the real one (whichever is later), plus skew."""
    wall = utc(wall) if wall else real_now()
    base = max(utc(run_now), wall) if run_now else wall
    return base + skew


def check_now(now: datetime, skew: timedelta, wall: datetime | None = None) -> datetime:
    """`now` if it is at most `skew` ahead of the real clock, else ClockError."""
    now = utc(now)
    wall = utc(wall) if wall else real_now()
    if now > wall + skew:
        raise ClockError(
            f"the clock {iso(now)} is {describe(now - wall)} ahead of the real clock ({iso(wall)}), more than the "
            f"allowed skew of {describe(skew)} (clock.max_skew_minutes). A clock in the future would move the "
            "detection cursor past every real time to come. Fix: correct --now (or the system clock)."
        )
    return now


def future_reason(created_at: datetime, skew: timedelta) -> str:
    """The quarantine reason (stable across runs, so a re-fetched post is one quarantine entry)."""
    return (f"created_at {iso(created_at)} is in the future: more than {describe(skew)} (clock.max_skew_minutes) "
            "ahead of the run's clock; not stored, so that no cursor or detection moves past it")


def describe(delta: timedelta) -> str:
    seconds = delta.total_seconds()
    if seconds >= 2 * 86400:
        return f"{seconds / 86400:,.0f} days"
    if seconds >= 7200:
        return f"{seconds / 3600:.0f} h"
    if seconds >= 120:
        return f"{seconds / 60:.0f} min"
    return f"{seconds:.0f} s"
