"""What an alert message says, independent of where it goes (console, Slack, Teams, e-mail, webhook).

Each channel renders these pieces in its own markup and applies its own escaping; nothing here escapes,
because the right escaping depends on the target. Post text is attacker-controlled: `clean` only removes
characters that can disguise text (controls, bidi overrides) and caps its length.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from alerts.notify.i18n import EN, Translate
from vigie.core import messages
from vigie.core.models import Alert, Driver, Level, iso

LEVEL_EMOJI = {Level.WATCH: "🟡", Level.WARNING: "🟠", Level.CRISIS: "🔴"}
LEVEL_COLOR = {Level.WATCH: "#E8B500", Level.WARNING: "#E86A00", Level.CRISIS: "#D0021B"}
EVENT_VERB = {
    "open": "opened",
    "escalate": "escalated",
    "update": "updated",
    "resolve": "resolved",
    "acknowledge": "acknowledged",
    "note": "noted",
}
SPARK = "▁▂▃▄▅▆▇█"

# C0/C1 controls (except newline/tab), zero-width characters and bidi overrides/isolates: they can hide
# or reorder text ("moc.knab" shown as "bank.com").
_INVISIBLE = re.compile("[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")


def clean(text: Any, limit: int) -> str:
    """Untrusted text made safe to *display*: invisible characters removed, whitespace folded, capped."""
    value = _INVISIBLE.sub("", str(text if text is not None else ""))
    value = " ".join(value.split())
    if len(value) > limit:
        value = value[: max(0, limit - 1)].rstrip() + "…"
    return value


def safe_url(url: Any) -> str | None:
    """Only plain http(s) URLs are linked; anything else (javascript:, spaces, markup chars) is dropped."""
    if not isinstance(url, str):
        return None
    url = url.strip()
    if not re.match(r"^https?://[^\s<>|\"'`]+$", url) or len(url) > 2000:
        return None
    return url


def sparkline(values: list[float], width: int = 24) -> str:
    """A text trend: the risk over the alert's history, 0-100 mapped on eight bars."""
    values = values[-width:]
    if not values:
        return ""
    return "".join(SPARK[min(len(SPARK) - 1, max(0, int(v / 100 * len(SPARK))))] for v in values)


def risk_trend(alert: Alert) -> list[float]:
    points = [float(h.risk) for h in alert.history if h.risk is not None]
    if not points or points[-1] != alert.risk:
        points.append(float(alert.risk))
    return points


def top_drivers(alert: Alert, n: int = 3) -> list[Driver]:
    return sorted((d for d in alert.drivers if d.points > 0), key=lambda d: -d.points)[:n]


def fmt_int(value: Any) -> str:
    try:
        return f"{int(value):,}"
    except (TypeError, ValueError):
        return "?"


@dataclass
class EvidenceView:
    author: str
    followers: str
    engagement: str
    sentiment: str
    created_at: str
    excerpt: str
    url: str | None


def evidence(alert: Alert, n: int, excerpt_chars: int = 280) -> list[EvidenceView]:
    out = []
    for item in alert.evidence[:n]:
        out.append(
            EvidenceView(
                author=clean(item.author or "unknown", 60),
                followers=fmt_int(item.followers),
                engagement=fmt_int(item.engagement),
                sentiment=clean(item.sentiment or "", 10),
                created_at=clean(iso(item.created_at) or "", 30),
                excerpt=clean(item.text, excerpt_chars),
                url=safe_url(item.url),
            )
        )
    return out


def level_name(level: Level, _: Translate = EN) -> str:
    return _(level.value.upper())


def title(alert: Alert, event: str, _: Translate = EN) -> str:
    """'CRISIS · acme — escalated' : level, topic, what happened (in the channel's language)."""
    if alert.kind == "coverage":
        source = alert.coverage.get("source", alert.topic_id)
        if event == "resolve":
            return _("RECOVERED · source {source} sees again", source=source)
        return _("BLIND · source {source} — {kinds}", source=source,
                 kinds=", ".join(alert.coverage.get("kinds") or ["?"]))
    if event == "resolve":
        peak = level_name(alert.peak_level or alert.level, _)
        return _("RESOLVED · {topic} — peak {peak} {risk}/100", topic=alert.topic_id, peak=peak,
                 risk=f"{max(alert.peak_risk, alert.risk):.0f}")
    verb = _(EVENT_VERB.get(event, event))
    return f"{level_name(alert.level, _)} · {alert.topic_id} — {verb}"


def summary_line(alert: Alert, _: Translate = EN) -> str:
    if alert.kind == "coverage":
        return coverage_line(alert, _)
    peak = _(" (peak {peak})", peak=f"{alert.peak_risk:.0f}") if alert.peak_risk and alert.peak_risk > alert.risk else ""
    line = _("risk {risk}/100{peak}, state {state}", risk=f"{alert.risk:.0f}", peak=peak, state=_(alert.state.value))
    note = coverage_note(alert, _)
    return line + (f" · {note}" if note else "")


def coverage_note(alert: Alert, _: Translate = EN) -> str | None:
    """'x silent since 14:05 UTC: risk may be understated' when sources of the topic were blind while its
    risk was assessed (vigie/pipeline/steps.py records them on the alert)."""
    blind = (alert.coverage or {}).get("blind") or {}
    if not blind:
        return None
    parts = [_("{source} silent since {time} UTC", source=clean(src, 60), time=str(since)[11:16])
             for src, since in sorted(blind.items())]
    return _("{sources}: risk may be understated", sources=", ".join(parts))


def coverage_line(alert: Alert, _: Translate = EN) -> str:
    """A blind alert's summary: why (the first reason's message), or the gap's extent once resolved."""
    cov = alert.coverage or {}
    if alert.state.value == "resolved":
        since, until = str(cov.get("since", ""))[:16].replace("T", " "), str(cov.get("until", ""))[11:16]
        return _("blind from {since} to {until} UTC; posts of that span are caught up where the platform allows",
                 since=since, until=until)
    reasons = cov.get("reasons") or []
    return clean("; ".join(r.get("message", "") for r in reasons), 400) or _("collection stopped")


def driver_name(name: str, _: Translate = EN) -> str:
    """A risk driver's name in the channel's language (English keeps the driver's id: "negative_volume";
    French: "volume négatif")."""
    return _(name)


def explanation(d: Driver, _: Translate = EN, limit: int = 300) -> str:
    """A driver's explanation in the channel's language, cleaned and capped: detection keeps it as a
    language-neutral message (vigie/core/messages.py); a driver without one (an alert stored before, a
    plugin driver) has its English text only."""
    raw = messages.text(d.message, _) if d.message else d.explanation
    return clean(raw, limit)


def links(alert: Alert) -> dict[str, str]:
    """Links worth a button: only http(s) ones (a local report path is shown as text by channels)."""
    return {name: url for name, value in alert.links.items() if (url := safe_url(value))}


def local_paths(alert: Alert) -> dict[str, str]:
    return {name: clean(value, 300) for name, value in alert.links.items() if not safe_url(value)}


@dataclass
class DigestLine:
    alert: Alert
    event: str
    text: str  # Vigie's own words (level, topic, risk, top driver name): still escaped by each channel
    top_post: EvidenceView | None


def digest(items: list[tuple[Alert, str]], _: Translate = EN) -> tuple[str, list[DigestLine]]:
    """One message for many topics alerting at once: a title and one line per alert, worst first."""
    ordered = sorted(items, key=lambda it: (-it[0].level.rank, -it[0].risk))
    worst = ordered[0][0].level if ordered else Level.WATCH
    head = f"{LEVEL_EMOJI.get(worst, '')} " + _("{n} topics alerting at once (worst: {worst})",
                                                n=len({a.topic_id for a, _e in items}), worst=level_name(worst, _))
    lines = []
    for alert, event in ordered:
        drivers = top_drivers(alert, 1)
        why = f" — {driver_name(drivers[0].name, _)} +{drivers[0].points:.0f}" if drivers else ""
        posts = evidence(alert, 1, excerpt_chars=160)
        lines.append(DigestLine(alert, event, f"{LEVEL_EMOJI.get(alert.level, '')} {title(alert, event, _)}: "
                                               + _("risk {risk}/100", risk=f"{alert.risk:.0f}") + why,
                                posts[0] if posts else None))
    return head, lines


@dataclass
class StoryLine:
    """One line of an alert's story (alerts/story.py) in the channel's language: a label, Vigie's text with
    the story's data in it (handles, terms: untrusted, cleaned here, still escaped by each channel), an
    optional quoted excerpt of a post, and a link when the post has a safe one."""

    label: str
    text: str
    quote: str = ""
    url: str | None = None


def _when(value: Any) -> str:
    return clean((iso(value) or "")[:16].replace("T", " "), 20)


def story_lines(alert: Alert, _: Translate = EN, excerpt_chars: int = 200, per_part: int = 3) -> list[StoryLine]:
    """What the alert is about, as lines: the first report, the amplifiers, the copy clusters, what is rising,
    the sources and the press pickup. Empty when the alert has no story (older alerts, coverage alerts)."""
    story = alert.story
    if story is None:
        return []
    out: list[StoryLine] = []
    first = story.first_post
    if first is not None:
        out.append(StoryLine(_("First report"), _("@{author} ({source}, {followers} followers) at {time} UTC",
                                                  author=clean(first.author or "?", 60), source=clean(first.source, 30),
                                                  followers=fmt_int(first.followers), time=_when(first.created_at)),
                             clean(first.text, excerpt_chars), safe_url(first.url)))
    for amp in story.amplifiers[:per_part]:
        text = _(
            "@{author} ({source}) · {followers} followers · {interactions} interactions · {reposts} reposts seen",
            author=clean(amp.author or "?", 60), source=clean(amp.source, 30), followers=fmt_int(amp.followers),
            interactions=fmt_int(amp.engagement), reposts=fmt_int(amp.reposts))
        out.append(StoryLine(_("Amplifier"), text, clean(amp.text, excerpt_chars), safe_url(amp.url)))
    for c in story.clusters[:per_part]:
        text = _(
            "{size} posts by {authors} accounts ({share} % young or under 50 followers), first seen {time} UTC",
            size=fmt_int(c.size), authors=fmt_int(c.authors), share=f"{100 * c.young_or_small:.0f}",
            time=_when(c.first_seen))
        out.append(StoryLine(_("Copy cluster"), text, clean(c.text, excerpt_chars)))
    if story.rising:
        sign = {"hashtags": "#", "mentions": "@"}
        items = [_("{key} ({window} vs {baseline} usual)", key=clean(sign.get(t.kind, "") + t.key, 60),
                   window=fmt_int(t.window), baseline=fmt_int(t.baseline)) for t in story.rising[:8]]
        out.append(StoryLine(_("Rising"), ", ".join(items)))
    if story.sources:
        # each count goes through the translator so it is written in the channel's language ("1 234" in French)
        out.append(StoryLine(_("Sources"), ", ".join(_("{source} {count}", source=clean(src, 30), count=fmt_int(n))
                                                     for src, n in story.sources.items())))
    for item in story.press[:per_part]:
        out.append(StoryLine(_("Press"), _("{outlet} at {time} UTC", outlet=clean(item.author or item.source or "?", 60),
                                           time=_when(item.created_at)), clean(item.text, excerpt_chars),
                             safe_url(item.url)))
    return out
