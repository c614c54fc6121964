"""The crisis report: one self-contained HTML file a communication director can read on a phone.

Everything comes from the store protocol (so it works on SQLite and Elasticsearch alike): volume by
sentiment from `series`, risk history from the alerts' `history`, evidence and top negative posts from
`top_posts`, language and source mix from `posts`. The page has no script and no external resource
(inline CSS, inline SVG), and a Content-Security-Policy that forbids both, so a hostile post that got
past escaping still could not run anything. All post text, author names and URLs are untrusted: they
are escaped, and only http(s) URLs ever become links.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from alerts.notify.content import story_lines
from vigie.pipeline.coverage import blind_periods
from vigie.store import health as collection
from vigie.core.config import Topic, VigieConfig
from vigie.core.models import Alert, Bucket, Driver, HistoryEntry, Level, Post, RiskPoint, risk_peaks, utc
from vigie.app.report_svg import (
    GAP_COLOR, LEVEL_COLORS, SENTIMENT_COLORS, AlertDot, GapBand, Marker, esc, risk_chart, share_bars,
    stacked_volume_chart,
)
from vigie.store.base import Store
from vigie.sim.truth import EventOutcome, compare_with_truth, format_lead

FAR_PAST = datetime(1970, 1, 2, tzinfo=timezone.utc)
FAR_FUTURE = datetime(2100, 1, 1, tzinfo=timezone.utc)
TOP_NEGATIVE = 8
EVIDENCE_SHOWN = 5
TEXT_MAX = 400
DEFAULT_TITLE = "Vigie — crisis report"


# -- collecting ----------------------------------------------------------------------------------

@dataclass
class TopicData:
    topic: Topic
    buckets: list[Bucket]
    alerts: list[Alert]
    top_negative: list[tuple[Post, int]]  # distinct negative posts that travel most, with copies in the period
    languages: Counter[str]
    sources: Counter[str]
    status_level: Level | None = None  # level at the end of the period (None = calm)
    status_risk: float | None = None
    status_alert: Alert | None = None
    risk_trace: list[tuple[datetime, float]] = field(default_factory=list)  # detector's risk over the period
    risk_source: str = ""  # "stored" (the pipeline's risk points) or "recomputed" (by the detector, for the report)
    peak_posts: dict[str, list[tuple[Post, int]]] = field(default_factory=dict)  # alert id -> posts at its peak
    post_ids: set[str] = field(default_factory=set)  # to count a post matched by two topics once
    negative_ids: set[str] = field(default_factory=set)

    @property
    def total(self) -> int:
        return sum(b.count for b in self.buckets)

    @property
    def negative(self) -> int:
        return sum(b.negative for b in self.buckets)

    @property
    def positive(self) -> int:
        return sum(b.positive for b in self.buckets)

    @property
    def peak_alert(self) -> Alert | None:
        return max(self.alerts, key=lambda a: (a.peak_risk or a.risk), default=None)


@dataclass
class ReportData:
    title: str
    start: datetime
    end: datetime
    bucket: timedelta
    generated_at: datetime
    topics: list[TopicData] = field(default_factory=list)
    outcomes: list[EventOutcome] = field(default_factory=list)
    false_alerts: list[Alert] = field(default_factory=list)
    truth_events: list[dict[str, Any]] = field(default_factory=list)
    config: VigieConfig | None = None
    gaps: list[GapBand] = field(default_factory=list)  # collection gaps (blind sources), shaded on the charts

    @property
    def empty(self) -> bool:
        return all(t.total == 0 for t in self.topics) and not any(t.alerts for t in self.topics)


def choose_bucket(start: datetime, end: datetime) -> timedelta:
    """Chart resolution: hourly for a week, finer for short periods, daily for long ones (≤ ~400 points)."""
    span = end - start
    for width in (timedelta(minutes=10), timedelta(minutes=30), timedelta(hours=1), timedelta(hours=6)):
        if span / width <= 400:
            return width
    return timedelta(days=1)


def _floor(t: datetime, width: timedelta) -> datetime:
    w = int(width.total_seconds())
    epoch = int(t.timestamp())
    return datetime.fromtimestamp(epoch - epoch % w, tz=timezone.utc)


def _alert_end(alert: Alert) -> datetime:
    return alert.resolved_at or alert.updated_at


def data_period(store: Store, topic_ids: Sequence[str]) -> tuple[datetime, datetime] | None:
    """First and last moment with a post or an alert of these topics, or None for an empty store."""
    moments: list[datetime] = []
    for tid in topic_ids:
        first = store.posts(tid, FAR_PAST, FAR_FUTURE, limit=1)
        last = store.top_posts(tid, FAR_PAST, FAR_FUTURE, by="recent", limit=1)
        moments += [p.created_at for p in first + last]
        for alert in store.alert_history(tid):
            moments += [alert.opened_at, _alert_end(alert)]
    if not moments:
        return None
    return min(moments), max(moments)


def _status_at(alerts: Sequence[Alert], at: datetime) -> tuple[Level | None, float | None, Alert | None]:
    """The level and risk in force at `at`: the last history entry of an alert still open then."""
    for alert in reversed(alerts):
        if alert.opened_at > at or (alert.resolved_at is not None and alert.resolved_at <= at):
            continue
        entries = [e for e in alert.history if e.at is not None and e.at <= at]
        if entries:
            last = entries[-1]
            level = last.level or alert.level
            return level, float(last.risk if last.risk is not None else alert.risk), alert
        return alert.level, alert.risk, alert
    return None, None, None


def dup_key(post: Post) -> str:
    """Copy-pasted outrage counts as one message: the near-duplicate cluster if NLP set one, else the
    text with case and spacing normalised."""
    if post.analysis and post.analysis.near_dup_cluster:
        return "cluster:" + post.analysis.near_dup_cluster
    return "text:" + " ".join(post.text.lower().split())


def distinct_top_negative(store: Store, topic_id: str, start: datetime, end: datetime,
                          posts: Sequence[Post], limit: int = TOP_NEGATIVE) -> list[tuple[Post, int]]:
    """The most travelled negative posts, one per message, each with how often it appeared in the period."""
    copies = Counter(dup_key(p) for p in posts)
    out: list[tuple[Post, int]] = []
    seen: set[str] = set()
    for post in store.top_posts(topic_id, start, end, by="negative", limit=limit * 10):
        key = dup_key(post)
        if key in seen:
            continue
        seen.add(key)
        out.append((post, max(1, copies.get(key, 1))))
        if len(out) >= limit:
            break
    return out


def peak_of(alert: Alert) -> tuple[datetime, float]:
    """When the alert's risk was highest, and how high (from its history; the opening if it has none)."""
    points = [(e.at, float(e.risk)) for e in alert.history if e.at is not None and e.risk is not None]
    if not points:
        return alert.opened_at, alert.peak_risk or alert.risk
    return max(points, key=lambda p: (p[1], -p[0].timestamp()))


def peak_drivers(alert: Alert) -> tuple[list[Driver], bool]:
    """Drivers at the peak if the history recorded them (entries with a `drivers` list), else the alert's
    last drivers. The flag says whether they are the peak's: an alert's own `drivers` are those of its
    last update, which after a resolution can be empty or describe the calm that followed."""
    best = None
    for entry in alert.history:
        # Only detector records: a verdict's record (`judged`, the points when a person judged the alert) is
        # not a peak, and taking it (it carries the risk at the time of the click) showed no driver at all.
        if entry.drivers and entry.risk is not None:
            if best is None or float(entry.risk) > float(best.risk):  # type: ignore[arg-type]
                best = entry
    if best is not None:
        drivers = [Driver(name=d.name, points=float(d.points or 0.0), value=float(d.extra.get("value") or 0.0),
                          baseline=d.extra.get("baseline"), explanation=d.explanation) for d in best.drivers or []]
        return drivers, True
    return list(alert.drivers), False


RISK_TRACE_POINTS = 400  # at most this many detector assessments per topic and report


def risk_trace(store: Store, config: VigieConfig, topic: Topic, start: datetime, end: datetime,
               max_points: int = RISK_TRACE_POINTS, also_at: Sequence[datetime] = ()
               ) -> tuple[list[tuple[datetime, float]], str]:
    """The risk index over the period: the risk points the pipeline stored as it ran, or, for a period it
    did not assess (a store written before risk points were kept, a replay without detection), recomputed
    by the production detector from the stored posts.

    Alerts only log the risk at their events, so between two events (and outside alerts) the report
    would otherwise have to guess. Stored points are what the live detector said at the time; a
    recomputation gives the same curve unless posts arrived late (the detector is strictly causal and a
    pure function of the store and the time). Steps are detection buckets, coarsened to keep at most
    `max_points` (the highest risk of each step, so no peak is lost), plus the moments in `also_at` (alert
    events), so the curve passes through the alert dots. Returns the curve and where it came from
    ("stored" or "recomputed"); empty if there is nothing to draw it from.
    """
    width = timedelta(minutes=config.detection.bucket_minutes)
    span = (end - start).total_seconds()
    per_step = max(1, math.ceil(span / width.total_seconds() / max_points))
    step = width * per_step
    stored = [p for p in store.risk_series(topic.id, start, end + width) if start < p.at <= end]
    if stored and len(stored) >= 0.9 * span / width.total_seconds():
        return _coarsen(stored, per_step, also_at), "stored"
    try:
        from vigie.pipeline.loop import bucket_times, risk_curve
    except ImportError:
        return [], ""
    times = set(bucket_times(_floor(start, width) + step, end, step))
    times |= {utc(x) for x in also_at if start < utc(x) <= end}
    return risk_curve(store, config, topic, sorted(times)), "recomputed"


def _coarsen(points: Sequence[RiskPoint], per_step: int, also_at: Sequence[datetime]) -> list[tuple[datetime, float]]:
    """Groups of `per_step` consecutive points as (last time, highest risk), plus the exact points at `also_at`."""
    out = dict(risk_peaks(list(points), per_step))
    exact = {p.at: p.risk for p in points}
    for t in also_at:
        if utc(t) in exact:
            out[utc(t)] = exact[utc(t)]
    return sorted(out.items())


def _languages(posts: Sequence[Post]) -> Counter[str]:
    return Counter((p.analysis.lang if p.analysis and p.analysis.lang != "und" else p.lang) or "und" for p in posts)


def _collect_topic(store: Store, config: VigieConfig, topic: Topic, start: datetime, end: datetime,
                   bucket: timedelta, status_at: datetime, with_risk_trace: bool) -> TopicData:
    tid = topic.id
    alerts = [a for a in store.alert_history(tid) if a.opened_at < end and _alert_end(a) >= start]
    posts = store.posts(tid, start, end)
    level, risk, alert = _status_at(alerts, status_at)
    # What people were reading when each alert peaked: the detection window before its peak.
    window = timedelta(minutes=config.detection.bucket_minutes * config.detection.window_buckets)
    peak_posts = {}
    for a in alerts:
        at, _ = peak_of(a)
        peak_posts[a.id] = distinct_top_negative(store, tid, at - window, at, posts, limit=EVIDENCE_SHOWN)
    trace, source = [], ""
    if with_risk_trace:
        events = [e.at for a in alerts for e in a.history if e.at is not None]
        trace, source = risk_trace(store, config, topic, start, end, also_at=events)
    return TopicData(
        topic=topic,
        buckets=store.series(tid, start, end, bucket),
        alerts=alerts,
        top_negative=distinct_top_negative(store, tid, start, end, posts),
        languages=_languages(posts),
        sources=Counter(p.source for p in posts),
        status_level=level, status_risk=risk, status_alert=alert,
        peak_posts=peak_posts,
        risk_trace=trace,
        risk_source=source,
        post_ids={p.id for p in posts},
        negative_ids={p.id for p in posts if p.analysis and p.analysis.sentiment.label == "neg"},
    )


def collect(
    store: Store, config: VigieConfig, *, start: datetime | None = None, end: datetime | None = None,
    topic_ids: Sequence[str] | None = None, truth: dict[str, Any] | None = None, title: str | None = None,
    now: datetime | None = None, with_risk_trace: bool = True,
) -> ReportData:
    """Read from the store everything the report shows (no rendering here)."""
    known = [t.id for t in config.topics]
    wanted = list(topic_ids) if topic_ids else known
    unknown = [t for t in wanted if t not in known]
    if unknown:
        raise ValueError(f"unknown topic(s) {', '.join(unknown)}; configured topics: {', '.join(known)}")
    generated = utc(now) if now else datetime.now(timezone.utc)
    span = data_period(store, wanted)
    if start is None or end is None:
        lo, hi = span if span else (generated - timedelta(days=7), generated)
        start = utc(start) if start else lo
        end = utc(end) if end else hi + timedelta(seconds=1)
    start, end = utc(start), utc(end)
    if end <= start:
        raise ValueError(f"the report period is empty: start {start.isoformat()} is not before end {end.isoformat()}")
    bucket = choose_bucket(start, end)
    start = _floor(start, bucket)
    data = ReportData(title=title or DEFAULT_TITLE, start=start, end=end, bucket=bucket, generated_at=generated,
                      config=config)
    for tid in wanted:
        data.topics.append(_collect_topic(store, config, config.topic(tid), start, end, bucket,
                                          min(end, generated), with_risk_trace))
    data.gaps = collection_gaps(store, config, start, end, generated)
    if truth:
        events = [e for e in truth.get("events", []) if e.get("topic_id") in wanted]
        data.truth_events = events
        all_alerts = [a for t in data.topics for a in t.alerts]
        data.outcomes, data.false_alerts = compare_with_truth(all_alerts, {"events": events})
    return data


def collection_gaps(store: Store, config: VigieConfig, start: datetime, end: datetime,
                    now: datetime) -> list[GapBand]:
    """When each configured source was blind in the period: its blind (coverage) alerts, from `since` to
    their resolution (or `now` while still open), and the permanent gaps its backfill could not recover."""
    out = []
    for name in config.sources:
        for since, until, text in blind_periods(store, name, now):
            if since < end and until > start:
                out.append(GapBand(since, until, text))
        for g in collection.gaps(store, name):
            if g.start < end and g.end > start:
                out.append(GapBand(g.start, g.end, f"{name}: posts not recoverable {g.start:%H:%M}-{g.end:%H:%M} "
                                                   f"UTC ({g.reason})"))
    return sorted(out, key=lambda g: g.start)


# -- rendering helpers ---------------------------------------------------------------------------

def safe_url(url: Any) -> str | None:
    """The URL if it is a plain http(s) link, else None (no javascript:, data:, relative tricks)."""
    if not isinstance(url, str):
        return None
    text = url.strip()
    try:
        parts = urlsplit(text)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    if any(ch in text for ch in "\x00\r\n\t <>\"'`"):
        return None
    return text


def _open_link(url: Any) -> str:
    """' · open' linking to the post, or nothing when it has no safe URL (X posts often have none)."""
    href = safe_url(url)
    return "" if href is None else " · " + _link(href, "open")


def _link(url: Any, label: str) -> str:
    href = safe_url(url)
    if href is None:
        return esc(label)
    return f'<a href="{esc(href)}" rel="noopener noreferrer nofollow" target="_blank">{esc(label)}</a>'


def _when(t: datetime | str | None) -> str:
    if t is None or t == "":
        return "—"
    try:
        return utc(t).strftime("%a %d %b %H:%M")
    except (TypeError, ValueError):
        return esc(t)


def _short(text: Any, limit: int = TEXT_MAX) -> str:
    s = "" if text is None else str(text)
    return esc(s if len(s) <= limit else s[: limit - 1] + "…")


def _num(value: Any) -> str:
    try:
        return f"{int(value):,}".replace(",", " ")
    except (TypeError, ValueError):
        return "—"


def _badge(level: Level | None, risk: float | None = None) -> str:
    if level is None:
        return '<span class="badge calm">calm</span>'
    text = level.value if risk is None else f"{level.value} · {risk:.0f}"
    return f'<span class="badge {esc(level.value)}">{esc(text)}</span>'


def _duration(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    hours, mins = divmod(minutes, 60)
    return f"{hours} h {mins:02d}" if hours else f"{mins} min"


def _thresholds(topic: Topic) -> dict[Level, float]:
    t = topic.thresholds
    return {Level.WATCH: t.watch, Level.WARNING: t.warning, Level.CRISIS: t.crisis}


def _truth_markers(data: ReportData, topic_id: str) -> list[Marker]:
    out = []
    for ev in data.truth_events:
        if ev.get("topic_id") != topic_id:
            continue
        kind = str(ev.get("kind", "event")).replace("_", " ")
        for key in ("onset", "peak"):
            if ev.get(key):
                out.append(Marker(utc(ev[key]), f"{kind} {key}"))
    return out


def _risk_episodes(alerts: Sequence[Alert]) -> list[list[AlertDot]]:
    episodes = []
    for alert in alerts:
        entries = alert.history or [HistoryEntry(at=alert.opened_at, event="open", level=alert.level, risk=alert.risk)]
        points = []
        for e in entries:
            if e.at is None or e.risk is None:
                continue
            points.append(AlertDot(e.at, float(e.risk), e.level, e.event, alert.id))
        episodes.append(sorted(points, key=lambda p: p.at))
    return episodes


# -- sections ------------------------------------------------------------------------------------

def _section(sid: str, title: str, body: str, extra_class: str = "") -> str:
    cls = f"card {extra_class}".strip()
    return f'<section id="{esc(sid)}" class="{cls}" data-section="{esc(sid)}"><h2>{esc(title)}</h2>\n{body}\n</section>'


def _summary(data: ReportData) -> str:
    if data.empty:
        return _section("summary", "Summary", (
            '<p class="empty" data-empty="true"><strong>No data</strong> for this period: the store holds no post '
            "and no alert for the selected topics. Run the pipeline (<code>vigie run</code> or "
            "<code>vigie demo</code>) and generate the report again.</p>"))
    # Distinct posts: one post can match several topics (a comparison post names both brands).
    total = len(set().union(*(t.post_ids for t in data.topics)))
    neg = len(set().union(*(t.negative_ids for t in data.topics)))
    alerts = [a for t in data.topics for a in t.alerts]
    by_level = Counter((a.peak_level or a.level) for a in alerts)
    hot = [t for t in data.topics if t.status_level is not None]
    if hot:
        worst = max(hot, key=lambda t: (t.status_level.rank, t.status_risk or 0))
        headline = (f"<strong>{esc(worst.topic.name)}</strong> is at <strong>{esc(worst.status_level.value)}</strong> "
                    f"level (risk {worst.status_risk or 0:.0f}/100) at the end of the period.")
    else:
        headline = "No topic has an open alert at the end of the period."
    peaks = [(t, t.peak_alert) for t in data.topics if t.peak_alert]
    if peaks:
        t, a = max(peaks, key=lambda ta: ((ta[1].peak_level or ta[1].level).rank, ta[1].peak_risk or ta[1].risk))
        headline += (f" Highest level reached: <strong>{esc((a.peak_level or a.level).value)}</strong> "
                     f"(risk {a.peak_risk or a.risk:.0f}) on {esc(t.topic.name)}, "
                     f"alert opened {_when(a.opened_at)} UTC.")
    kpis = [
        (_num(total), "posts"),
        (f"{100.0 * neg / total:.0f}%" if total else "—", "negative"),
        (_num(len(alerts)), "alerts"),
        (_num(by_level.get(Level.CRISIS, 0)), "reached crisis"),
    ]
    kpi_html = "".join(f'<div class="kpi"><div class="kpi-value">{v}</div><div class="kpi-label">{esc(k)}</div></div>'
                       for v, k in kpis)
    cards = []
    for t in data.topics:
        peak = t.peak_alert
        peak_txt = (f"peak {esc((peak.peak_level or peak.level).value)} {peak.peak_risk or peak.risk:.0f}"
                    if peak else "no alert")
        cards.append(
            f'<a class="risk-card" href="#topic-{esc(t.topic.id)}"><div class="risk-name">{esc(t.topic.name)}</div>'
            f"<div>{_badge(t.status_level, t.status_risk)}</div>"
            f'<div class="muted">{_num(t.total)} posts · {peak_txt}</div></a>'
        )
    body = (f'<p class="headline">{headline}</p><div class="kpis">{kpi_html}</div>'
            f'<h3 id="current-risk">Current risk per topic</h3><div class="risk-cards" data-section="current-risk">'
            f'{"".join(cards)}</div>')
    return _section("summary", "Summary", body)


def _legend(items: Sequence[tuple[str, str]]) -> str:
    return '<div class="legend">' + "".join(
        f'<span><i style="background:{color}"></i>{esc(name)}</span>' for name, color in items) + "</div>"


def _post_item(post: Post, copies: int = 1) -> str:
    a = post.analysis
    author = post.author.handle or post.author.name or post.author.id or "unknown"
    sentiment = f"{a.sentiment.label} {a.sentiment.score:+.2f}" if a else "not analysed"
    cats = ", ".join(a.crisis.categories) if a and a.crisis.categories else ""
    meta = [esc(f"@{author}" if post.author.handle else author), f"{_num(post.author.followers or 0)} followers",
            f"{_num(post.engagement.total)} interactions", esc(post.source), _when(post.created_at) + " UTC",
            esc(sentiment)]
    if cats:
        meta.append(f'<span class="cats">{esc(cats)}</span>')
    if copies > 1:
        meta.insert(0, f'<span class="copies">×{_num(copies)} in the period</span>')
    return (f'<li class="post"><blockquote>{_short(post.text)}</blockquote>'
            f'<div class="meta">{" · ".join(meta)}{_open_link(post.url)}</div></li>')


def _topic_section(data: ReportData, t: TopicData) -> str:
    parts = [f'<p class="muted">Query: <code>{esc(t.topic.query)}</code> · {_num(t.total)} posts · '
             f"{_num(t.negative)} negative · {_num(t.positive)} positive · "
             f"status {_badge(t.status_level, t.status_risk)}</p>"]
    markers = _truth_markers(data, t.topic.id)
    hours = data.bucket.total_seconds() / 3600
    res = f"{hours:g} h" if hours >= 1 else f"{data.bucket.total_seconds() / 60:g} min"
    if t.total:
        layers = [
            ("negative", SENTIMENT_COLORS["neg"], [b.negative for b in t.buckets]),
            ("neutral", SENTIMENT_COLORS["neu"], [max(0, b.count - b.negative - b.positive) for b in t.buckets]),
            ("positive", SENTIMENT_COLORS["pos"], [b.positive for b in t.buckets]),
        ]
        chart = stacked_volume_chart([b.start for b in t.buckets], data.bucket, layers,
                                     f"Posts per {res} by sentiment, {t.topic.name}", markers, gaps=data.gaps)
        gap_legend = [("collection gap (a source was blind)", GAP_COLOR)] if data.gaps else []
        parts.append(f'<h3>Volume by sentiment <span class="muted">(posts per {res}, UTC)</span></h3>'
                     + _legend([(n, c) for n, c, _ in layers] + gap_legend) + chart)
    else:
        parts.append('<p class="empty">No posts for this topic in this period.</p>')
    episodes = _risk_episodes(t.alerts)
    # Same time axis as the volume chart above it, so the eye can go from one to the other.
    chart_end = t.buckets[-1].start + data.bucket if t.buckets else data.end
    chart = risk_chart(data.start, chart_end, episodes, _thresholds(t.topic), f"Risk index, {t.topic.name}", markers,
                       trace=t.risk_trace, gaps=data.gaps)
    legend = [(lv.value, LEVEL_COLORS[lv]) for lv in Level] + ([("ground truth", "#5b4fc7")] if markers else [])
    legend += [("collection gap (a source was blind)", GAP_COLOR)] if data.gaps else []
    note = "" if episodes else ('<p class="muted">No alert in this period: the risk stayed below the watch '
                                'threshold.</p>')
    parts.append("<h3>Risk index <span class=\"muted\">(0-100, dots = alert events)</span></h3>"
                 + _legend(legend) + chart + note)
    if t.top_negative:
        parts.append('<h3>Top negative posts <span class="muted">(one per message, most engagement and reach '
                     'first; ×N = copies in the period)</span></h3><ol class="posts" data-section="top-negative">'
                     + "".join(_post_item(p, n) for p, n in t.top_negative) + "</ol>")
    else:
        parts.append('<h3>Top negative posts</h3><p class="muted" data-section="top-negative">No negative post.</p>')
    src_total, lang_total = sum(t.sources.values()), sum(t.languages.values())
    parts.append(
        '<div class="two-col" data-section="sources-languages"><div><h3>Sources</h3>'
        + share_bars(t.sources.most_common(8), src_total) + "</div><div><h3>Languages</h3>"
        + share_bars(t.languages.most_common(8), lang_total, "bar lang") + "</div></div>"
    )
    return _section(f"topic-{t.topic.id}", f"Topic: {t.topic.name}", "\n".join(parts), "topic")


def _drivers(alert: Alert) -> str:
    drivers, at_peak = peak_drivers(alert)
    if not drivers:
        return ('<p class="muted">No driver recorded at the last update (the risk had fallen back); the risk '
                "history and the posts at the peak below show what happened.</p>")
    rows = "".join(
        f"<tr><td>{esc(d.name)}</td><td class=\"num\">{d.points:.1f}</td><td>{esc(d.explanation)}</td></tr>"
        for d in sorted(drivers, key=lambda d: -d.points)
    )
    when = "at the peak" if at_peak else ("at the last update" if alert.resolved_at is None else
                                          "at the last update before resolution")
    return (f'<p class="muted">Drivers {when}.</p>'
            f'<table class="drivers"><tr><th>Driver</th><th>Points</th><th>Why</th></tr>{rows}</table>')


def _evidence(alert: Alert) -> str:
    if not alert.evidence:
        return '<p class="muted">No evidence post recorded.</p>'
    items = []
    for ev in alert.evidence[:EVIDENCE_SHOWN]:
        meta = [esc(f"@{ev.author}" if ev.author else "unknown author"),
                f"{_num(ev.followers)} followers", f"{_num(ev.engagement)} interactions",
                esc(ev.sentiment or "—") + _p_neg(ev.p_neg),
                _when(ev.created_at or ev.extra.get("created_at")) + " UTC"]  # a time that did not parse: as found
        items.append(f'<li class="post"><blockquote>{_short(ev.text)}</blockquote>'
                     f'<div class="meta">{" · ".join(meta)}{_open_link(ev.url)}</div></li>')
    return f'<ol class="posts">{"".join(items)}</ol>'


def _story(alert: Alert) -> str:
    """What the alert is about (alerts/story.py), told at its last open, escalation or peak."""
    lines = story_lines(alert, excerpt_chars=240)
    if not lines:
        return ""
    items = []
    for line in lines:
        quote = f"<blockquote>{esc(line.quote)}</blockquote>" if line.quote else ""
        items.append(f'<li class="story"><strong>{esc(line.label)}</strong> {esc(line.text)}'
                     f"{_open_link(line.url)}{quote}</li>")
    return f"<h4>The story</h4><ul class=\"story\">{''.join(items)}</ul>"


def _p_neg(value: object) -> str:
    """" (P(neg) 0.93)" when the evidence item carries the model's probability (a number, never markup)."""
    return f" (P(neg) {value:.2f})" if isinstance(value, (int, float)) and not isinstance(value, bool) else ""


def _peak_posts(alert: Alert, posts: list[tuple[Post, int]]) -> str:
    at, risk = peak_of(alert)
    title = f"<h4>Negative posts at the peak <span class=\"muted\">(risk {risk:.0f}, {_when(at)} UTC)</span></h4>"
    if not posts:
        return title + '<p class="muted">No negative post in the detection window before the peak.</p>'
    return title + '<ol class="posts">' + "".join(_post_item(p, n) for p, n in posts) + "</ol>"


def _alerts_section(data: ReportData) -> str:
    alerts = sorted((a for t in data.topics for a in t.alerts), key=lambda a: a.opened_at)
    if not alerts:
        return _section("alerts", "Alerts", '<p class="muted">No alert in this period.</p>')
    names = {t.topic.id: t.topic.name for t in data.topics}
    posts_at_peak = {k: v for t in data.topics for k, v in t.peak_posts.items()}
    blocks = []
    for a in alerts:
        peak = a.peak_level or a.level
        end = a.resolved_at
        state = (f"resolved {_when(end)} UTC after {_duration(end - a.opened_at)}" if end
                 else f"{a.state.value} since {_when(a.opened_at)} UTC")
        links = "".join(f" · {_link(url, name)}" for name, url in sorted(a.links.items()))
        blocks.append(
            f'<details class="alert" data-alert-id="{esc(a.id)}"{" open" if peak == Level.CRISIS else ""}>'
            f"<summary>{_badge(peak, a.peak_risk or a.risk)} <strong>{esc(names.get(a.topic_id, a.topic_id))}</strong>"
            f" · opened {_when(a.opened_at)} UTC · {esc(state)}</summary>"
            f'<div class="alert-body"><p class="muted">Alert {esc(a.id)} · dedup key <code>{esc(a.dedup_key)}</code>'
            f"{links}</p>{_story(a)}<h4>What drove the risk</h4>{_drivers(a)}{_peak_posts(a, posts_at_peak.get(a.id, []))}"
            f"<h4>Evidence recorded at the alert's last update</h4>{_evidence(a)}</div></details>"
        )
    return _section("alerts", f"Alerts ({len(alerts)})", "\n".join(blocks))


def _truth_section(data: ReportData) -> str:
    if not data.truth_events:
        return ""
    rows = []
    for o in data.outcomes:
        positive = o.kind.lower() in ("positive", "positive_viral", "viral_positive") or "positive" in o.kind.lower()
        if positive:
            verdict = ("correct: no crisis alert" if o.max_level is None or o.max_level != Level.CRISIS
                       else "false crisis alert")
        else:
            verdict = "caught" if o.first_warning else ("watch only" if o.first_watch else "missed")
        rows.append(
            f"<tr><td>{esc(o.topic_id)}</td>"
            f"<td>{esc(o.kind)}<div class=\"muted\">{_short(o.description, 160)}</div></td>"
            f"<td>{_when(o.onset)}</td><td>{_when(o.peak)}</td>"
            f"<td>{_when(o.first_warning)}<div class=\"muted\">{esc(format_lead(o.lead(o.first_warning)))}</div></td>"
            f"<td>{_when(o.first_crisis)}<div class=\"muted\">{esc(format_lead(o.lead(o.first_crisis)))}</div></td>"
            f"<td>{_badge(o.max_level)}</td><td>{esc(verdict)}</td></tr>"
        )
    false = "".join(f"<li>{esc(a.topic_id)} · {_badge(a.peak_level or a.level, a.peak_risk or a.risk)} opened "
                    f"{_when(a.opened_at)} UTC</li>" for a in data.false_alerts)
    body = ('<div class="scroll"><table class="truth"><tr><th>Topic</th><th>Event</th><th>True onset</th>'
            "<th>True peak</th><th>First warning</th><th>First crisis</th><th>Max level</th><th>Verdict</th></tr>"
            + "".join(rows) + "</table></div>"
            + (f"<h3>Warning-or-worse alerts matching no event ({len(data.false_alerts)})</h3><ul>{false}</ul>"
               if data.false_alerts else "<p>No false warning-or-worse alert.</p>")
            + '<p class="muted">Times UTC. Lead time = how long before the true peak the alert fired.</p>')
    return _section("truth", "Alert timeline vs ground truth", body)


def _methodology(data: ReportData) -> str:
    cfg = data.config
    det = cfg.detection if cfg else None
    weights = ", ".join(f"{k.replace('_', ' ')} ≤ {v:g}" for k, v in det.weights.model_dump().items()) if det else ""
    thresholds = "; ".join(f"{esc(t.topic.name)}: watch {t.topic.thresholds.watch:g}, warning "
                           f"{t.topic.thresholds.warning:g}, crisis {t.topic.thresholds.crisis:g}" for t in data.topics)
    sentiment = esc(cfg.nlp.sentiment) if cfg else "lexicon"
    if any(t.risk_trace for t in data.topics):
        steps = [t.risk_trace[1][0] - t.risk_trace[0][0] for t in data.topics if len(t.risk_trace) > 1]
        every = esc(_duration(steps[0])) if steps else "bucket"
        if all(t.risk_source == "stored" for t in data.topics if t.risk_trace):
            risk_note = (f"As the detector assessed it live, bucket by bucket (stored risk points; the highest "
                         f"value of every {every} is drawn). Dots are the alert events.")
        else:
            risk_note = (f"Recomputed for this report by the production detector from the stored posts, every "
                         f"{every} (strictly causal: each point uses only posts published before it), where no "
                         "live risk points were stored. Dots are the alert events as they were recorded live.")
    else:
        risk_note = ("Recorded at alert events only (one dot per event, lines join them); outside alerts the "
                     "risk stayed below the watch threshold.")
    body = f"""
<ul>
<li><strong>Collection.</strong> Posts are fetched by the configured listeners and matched to topics by their
keyword query. Each post is stored once (id = source + platform id), so re-runs do not inflate counts.</li>
<li><strong>Sentiment and crisis signals.</strong> Language is identified per post; sentiment uses the
<code>{sentiment}</code> backend (negative / neutral / positive); a French/English crisis lexicon flags safety,
legal, boycott, fraud, outage, customer-service and ethics vocabulary. Automatic sentiment is wrong on
sarcasm and mixed messages: read the evidence posts before acting.</li>
<li><strong>Risk index (0-100).</strong> Every {det.bucket_minutes if det else 5} minutes, the last
{det.window_buckets if det else 6} buckets are compared with a {det.baseline_hours if det else 72} h baseline
of the same topic. Drivers add points up to a cap each ({esc(weights)}); the sum is capped at 100.</li>
<li><strong>Levels.</strong> {thresholds}. A level is left only after the risk stays
{det.hysteresis if det else 10:g} points below it for {det.exit_buckets if det else 6} buckets (hysteresis), so a
noisy minute does not close an alert.</li>
<li><strong>Risk curve.</strong> {risk_note}</li>
<li><strong>Charts.</strong> Volumes are counted per {esc(_duration(data.bucket))} bucket, in UTC. Evidence posts are
the negative posts that travel most (engagement and reach) in the alert window.</li>
</ul>
<p class="muted">Generated by Vigie {esc(data.generated_at.strftime('%Y-%m-%d %H:%M'))} UTC. Post texts are quoted
as published by their authors, not endorsed.</p>"""
    return _section("methodology", "Methodology", body)


CSS = """
:root{--fg:#1f2933;--muted:#616e7c;--bg:#f5f7fa;--card:#fff;--line:#e4e7eb;--accent:#2f5bd3}
*{box-sizing:border-box}
body{margin:0;font:15px/1.5 -apple-system,BlinkMacSystemFont,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;
color:var(--fg);background:var(--bg)}
header{background:#17233b;color:#fff;padding:18px 16px 14px}
header h1{margin:0 0 4px;font-size:1.45em}
header p{margin:0;color:#c9d3e3;font-size:.92em}
nav{display:flex;flex-wrap:wrap;gap:6px;padding:10px 16px;background:#fff;border-bottom:1px solid var(--line);
position:sticky;top:0;z-index:2}
nav a{font-size:.85em;padding:3px 10px;border:1px solid var(--line);border-radius:14px;color:var(--accent);
text-decoration:none;white-space:nowrap}
main{max-width:1080px;margin:0 auto;padding:12px}
.card{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:14px 16px;margin:0 0 14px}
h2{margin:0 0 10px;font-size:1.2em}
h3{margin:16px 0 6px;font-size:1em}
h4{margin:12px 0 4px;font-size:.95em}
.muted{color:var(--muted);font-size:.88em;font-weight:normal}
.headline{font-size:1.08em;margin:0 0 12px}
.kpis{display:grid;grid-template-columns:repeat(auto-fit,minmax(120px,1fr));gap:8px}
.kpi{background:var(--bg);border-radius:8px;padding:8px 10px}
.kpi-value{font-size:1.5em;font-weight:700}
.kpi-label{color:var(--muted);font-size:.85em}
.risk-cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(220px,1fr));gap:8px}
.risk-card{display:block;border:1px solid var(--line);border-radius:8px;padding:8px 10px;color:inherit;
text-decoration:none}
.risk-name{font-weight:600}
.badge{display:inline-block;padding:1px 9px;border-radius:10px;font-size:.82em;font-weight:600;color:#fff;
text-transform:uppercase;letter-spacing:.02em}
.badge.calm{background:#3f9d6b}.badge.watch{background:#d9a400}.badge.warning{background:#e8710a}
.badge.crisis{background:#c5221f}
/* Charts keep a readable size on phones: below ~600 px they scroll sideways instead of shrinking. */
.chart-wrap{overflow-x:auto;-webkit-overflow-scrolling:touch}
svg.chart{width:100%;min-width:600px;height:auto;display:block;margin:4px 0}
svg .grid{stroke:#eef0f3}
svg .axis{stroke:#9aa5b1}
svg .tick{font-size:12px;fill:#616e7c}
svg .area{stroke:none;opacity:.9}
svg .threshold{stroke-dasharray:5 4;stroke-width:1.2}
svg .threshold-label{font-size:10.5px;font-weight:600}
svg .risk{fill:none;stroke:#17233b;stroke-width:1.6}
svg .alert-dot{stroke:#fff;stroke-width:1}
svg .marker{stroke-dasharray:2 3;stroke-width:1.4}
svg .marker-label{font-size:11px;font-weight:600}
.legend{display:flex;flex-wrap:wrap;gap:12px;font-size:.82em;color:var(--muted)}
.legend i{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:4px;vertical-align:-1px}
ol.posts{padding-left:22px;margin:6px 0}
li.post{margin:0 0 10px}
blockquote{margin:0;padding:6px 10px;background:#fbf2f2;border-left:3px solid #d64545;border-radius:4px;
overflow-wrap:anywhere;white-space:pre-wrap}
.meta{font-size:.8em;color:var(--muted);margin-top:2px;overflow-wrap:anywhere}
.cats{color:#c5221f}
.copies{color:#fff;background:#616e7c;border-radius:8px;padding:0 6px;font-weight:600}
.two-col{display:grid;grid-template-columns:repeat(auto-fit,minmax(260px,1fr));gap:16px}
.share{display:grid;grid-template-columns:90px 1fr 90px;align-items:center;gap:6px;font-size:.88em;margin:3px 0}
.share-name{overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.share-track{background:var(--bg);border-radius:4px;height:10px;overflow:hidden}
.bar{display:block;height:100%;background:var(--accent)}
.bar.lang{background:#5b4fc7}
.share-value{text-align:right}
details.alert{border:1px solid var(--line);border-radius:8px;padding:8px 10px;margin:0 0 8px}
details.alert summary{cursor:pointer}
table{border-collapse:collapse;width:100%;font-size:.88em}
th,td{border-bottom:1px solid var(--line);padding:5px 6px;text-align:left;vertical-align:top}
td.num{text-align:right;white-space:nowrap}
.scroll{overflow-x:auto}
table.truth{min-width:720px}
.empty{padding:10px;background:var(--bg);border-radius:8px}
code{font-size:.9em;background:var(--bg);padding:0 3px;border-radius:3px;overflow-wrap:anywhere}
a{color:var(--accent)}
@media (max-width:600px){body{font-size:14px}main{padding:6px}.card{padding:10px}
.share{grid-template-columns:70px 1fr 70px}}
@media print{nav{display:none}.card{break-inside:avoid}details.alert{break-inside:avoid}}
"""

# No script, no external fetch: even an escaping bug could not run code or phone home.
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"


def render(data: ReportData) -> str:
    """The whole HTML document for already collected data."""
    topics = ", ".join(t.topic.name for t in data.topics)
    period = f"{_when(data.start)} → {_when(data.end)} UTC"
    nav = [("summary", "Summary")] + [(f"topic-{t.topic.id}", t.topic.name) for t in data.topics]
    nav += [("alerts", "Alerts")] + ([("truth", "vs ground truth")] if data.truth_events else [])
    nav += [("methodology", "Methodology")]
    body = [_summary(data)]
    if not data.empty:
        body += [_topic_section(data, t) for t in data.topics]
    body += [_alerts_section(data), _truth_section(data), _methodology(data)]
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<meta name="generator" content="vigie">
<title>{esc(data.title)}</title>
<style>{CSS}</style>
</head>
<body>
<header><h1>{esc(data.title)}</h1><p>{esc(topics)} · {esc(period)}</p></header>
<nav>{"".join(f'<a href="#{esc(sid)}">{esc(name)}</a>' for sid, name in nav)}</nav>
<main>
{chr(10).join(b for b in body if b)}
</main>
</body>
</html>
"""


def write_report(
    store: Store, config: VigieConfig, path: Path | str, *, start: datetime | None = None, end: datetime | None = None,
    topic_ids: Sequence[str] | None = None, truth: dict[str, Any] | None = None, title: str | None = None,
    risk_curve: bool = True,
) -> Path:
    """Write the self-contained HTML report for `[start, end)` (default: the whole data span) to `path`.

    `risk_curve=False` skips recomputing the risk curve with the detector (the chart then joins the risk
    logged at alert events), for very large periods on a remote store."""
    data = collect(store, config, start=start, end=end, topic_ids=topic_ids, truth=truth, title=title,
                   with_risk_trace=risk_curve)
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(render(data), encoding="utf-8")
    tmp.replace(out)  # a reader (browser auto-refresh, CI artefact) never sees half a report
    return out
