"""Deep links from alerts to the Kibana "Vigie — crisis room" dashboard, filtered on the alert's topic and
time window. Kibana keeps dashboard state in the URL as rison (`_g` global time, `_a` app query)."""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import quote

from vigie.core.models import Alert, iso

RADAR_DASHBOARD_ID = "vigie-radar"
CRISIS_ROOM_DASHBOARD_ID = "vigie-crisis-room"
EXPLORER_DASHBOARD_ID = "vigie-posts-explorer"


def rison_string(value: str) -> str:
    """Rison-quote a string: `'` -> `!'`, `!` -> `!!`, always in single quotes (safe for any content)."""
    return "'" + value.replace("!", "!!").replace("'", "!'") + "'"


def dashboard_url(base: str, dashboard_id: str, start: datetime, end: datetime, kuery: str = "",
                  space: str | None = None) -> str:
    base = base.rstrip("/")
    if space and space != "default":
        base = f"{base}/s/{quote(space, safe='')}"
    g = f"(time:(from:{rison_string(iso(start))},to:{rison_string(iso(end))}))"
    a = f"(query:(language:kuery,query:{rison_string(kuery)}))"
    # Rison's own punctuation ( ) : , ' ! must stay readable for Kibana; everything else is escaped.
    safe = "():,'!*-._~"
    return f"{base}/app/dashboards#/view/{dashboard_id}?_g={quote(g, safe=safe)}&_a={quote(a, safe=safe)}"


def crisis_room_url(base: str, topic_id: str, start: datetime, end: datetime, space: str | None = None) -> str:
    """The crisis-room dashboard on `topic_id` between `start` and `end`."""
    kuery = 'topics:"' + topic_id.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return dashboard_url(base, CRISIS_ROOM_DASHBOARD_ID, start, end, kuery, space)


def crisis_room_link(base: str, alert: Alert, before: timedelta = timedelta(hours=6),
                     after: timedelta = timedelta(hours=1), space: str | None = None) -> str:
    """Window of an alert: some hours of build-up before it opened, until it resolved (or its last
    update) plus a margin, so the analyst sees what led to it and how it ended."""
    end = (alert.resolved_at or alert.updated_at) + after
    return crisis_room_url(base, alert.topic_id, alert.opened_at - before, end, space)
