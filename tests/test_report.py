"""The HTML crisis report (`vigie report`, the notebooks' helpers): structure, escaping, empty store, CLI, and a
real render in headless Chromium (no console error, sections visible, screenshot)."""

from __future__ import annotations

import os
import struct
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner

from report_fixtures import ONSET, PEAK, T0, TRUTH, build_store, make_alerts, make_posts
from vigie.app.browser import find_chromium, run_headless
from vigie.app.cli.report import report as report_command
from vigie.core.models import Analysis, Author, DriverNote, EvidenceItem, Level, Post, Sentiment, iso
from vigie.app.report import collect, data_period, render, safe_url, write_report


class Page(HTMLParser):
    """Every tag with its attributes, the ids, and the visible text, as a browser's parser sees them."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)

    @property
    def ids(self) -> set[str]:
        return {a["id"] for _, a in self.tags if a.get("id")}

    @property
    def visible(self) -> str:
        return " ".join(" ".join(self.text).split())


@pytest.fixture()
def filled(tmp_path):
    store, config, config_path = build_store(tmp_path)
    yield store, config, config_path
    store.close()


def test_report_has_every_section_and_the_truth_timeline(filled, tmp_path):
    store, config, _ = filled
    out = write_report(store, config, tmp_path / "out" / "report.html", truth=TRUTH)
    html = out.read_text(encoding="utf-8")
    page = Page(html)
    assert {"summary", "current-risk", "topic-lumio", "topic-lumio-support", "alerts", "truth",
            "methodology"} <= page.ids
    text = page.visible
    # Charts: per topic one stacked volume chart and one risk chart, as inline SVG.
    assert sum(1 for tag, _ in page.tags if tag == "svg") == 4
    assert "Volume by sentiment" in text and "Risk index" in text
    # Risk thresholds of each topic, including a topic-specific override (30/50/70).
    assert "crisis 75" in text and "crisis 70" in text
    # Alert markers: one dot per history entry (6 for the bad buzz, 2 for the watch).
    assert sum(1 for tag, a in page.tags if tag == "circle" and "alert-dot" in (a.get("class") or "")) == 8
    # Drivers and evidence of the crisis alert.
    assert "negative_volume" in text and "120 negative posts in 30 min" in text
    assert "Lumio m'a prélevé trois fois ce mois-ci" in text
    # Ground truth: lead time of the first warning (15:15) and first crisis (16:15) before the 19:00 peak.
    assert "3 h 45 min before the peak" in text and "2 h 45 min before the peak" in text
    assert "correct: no crisis alert" in text  # the positive viral moment
    assert "bad buzz onset" in html and "positive viral peak" in html  # markers on the charts
    # Summary figures match the store.
    assert f"{store.count_posts():,}".replace(",", " ") in text
    assert "Highest level reached: crisis (risk 92)" in text
    # Self-contained: no script, no external resource.
    assert not any(tag in ("script", "iframe", "object", "embed", "link") for tag, _ in page.tags)
    assert not any(a.get("src") for _, a in page.tags)


def test_top_negative_posts_are_distinct_messages_with_their_copies(filled):
    store, config, _ = filled
    data = collect(store, config, topic_ids=["lumio"])
    top = data.topics[0].top_negative
    texts = [p.text for p, _ in top]
    assert len(texts) == len(set(texts)) >= 3
    assert all(p.analysis.sentiment.label == "neg" for p, _ in top)
    copies = {p.text: n for p, n in top}
    expected = sum(1 for p in store.posts("lumio") if p.text == texts[0])
    assert copies[texts[0]] == expected > 1


def test_current_risk_is_the_level_in_force_at_the_end_of_the_period(filled):
    store, config, _ = filled
    during = collect(store, config, start=T0, end=PEAK + timedelta(minutes=30), topic_ids=["lumio"])
    assert during.topics[0].status_level == Level.CRISIS
    assert during.topics[0].status_risk == 92.0
    before = collect(store, config, start=T0, end=ONSET, topic_ids=["lumio"])
    assert before.topics[0].status_level is None and before.topics[0].alerts == []
    html = render(during)
    assert "is at <strong>crisis</strong> level (risk 92/100)" in html


def test_period_filter_counts_only_posts_inside_it(filled):
    store, config, _ = filled
    start, end = T0 + timedelta(days=1), T0 + timedelta(days=2)
    data = collect(store, config, start=start, end=end, topic_ids=["lumio"])
    assert data.topics[0].total == len(store.posts("lumio", start, end)) > 0
    assert data.topics[0].total < store.count_posts("lumio")


def test_unknown_topic_and_empty_period_are_clear_errors(filled, tmp_path):
    store, config, _ = filled
    with pytest.raises(ValueError, match=r"unknown topic\(s\) nope; configured topics: lumio, lumio-support"):
        write_report(store, config, tmp_path / "r.html", topic_ids=["nope"])
    with pytest.raises(ValueError, match="period is empty"):
        write_report(store, config, tmp_path / "r.html", start=T0, end=T0)


HOSTILE_TEXT = '<script>alert(1)</script><img src=x onerror="alert(2)"> "><svg onload=alert(3)>'


def _hostile_store(tmp_path):
    store, config, config_path = build_store(tmp_path)
    t = T0 + timedelta(days=1, hours=20)
    bad = Post(
        id="x:hostile", source="x", text=HOSTILE_TEXT, created_at=t, url="javascript:alert(4)",
        author=Author(id="evil", handle='"onerror=alert(5) x="', followers=10_000_000),
        topic_ids=["lumio"], analysis=Analysis(lang="en", sentiment=Sentiment("neg", -1.0, "lexicon"),
                                               topic_ids=["lumio"]),
    )
    store.upsert_posts([bad])
    alert = make_alerts(make_posts())[0]
    # As a store may hold them (hand-edited, or from elsewhere): loaded through EvidenceItem.from_dict.
    alert.evidence.insert(0, EvidenceItem.from_dict({
        "id": bad.id, "url": " JaVaScRiPt:alert(6)", "author": "</td><script>x</script>", "followers": "<b>many</b>",
        "text": HOSTILE_TEXT, "engagement": 3, "sentiment": "<i>neg</i>", "created_at": iso(t)}))
    alert.evidence.insert(1, EvidenceItem.from_dict({
        "id": "x:2", "url": 'https://ok.example/"onmouseover="alert(7)', "author": "a", "text": "quote-in-url",
        "created_at": "not a date"}))
    store.save_alert(alert)
    return store, config


def test_hostile_post_text_authors_and_links_are_inert(tmp_path):
    store, config = _hostile_store(tmp_path)
    try:
        html = write_report(store, config, tmp_path / "r.html", truth=TRUTH).read_text(encoding="utf-8")
    finally:
        store.close()
    page = Page(html)
    for tag, attrs in page.tags:
        assert tag not in ("script", "img", "iframe"), (tag, attrs)
        for name, value in attrs.items():
            assert not name.startswith("on"), (tag, name, value)
            if name == "href":
                assert value.startswith(("#", "https://", "http://")), value
                assert '"' not in value
    assert "javascript:" not in html.lower()  # the URLs are never shown, and never become links
    # The hostile text is shown to the reader, as text.
    assert HOSTILE_TEXT in page.visible
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert '@"onerror=alert(5) x="' in page.visible
    # The CSP forbids scripts even if escaping ever failed.
    csp = next(a["content"] for t, a in page.tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy")
    assert "default-src 'none'" in csp and "script-src" not in csp


@pytest.mark.parametrize("url,expected", [
    ("https://x.com/a/status/1", "https://x.com/a/status/1"),
    ("http://example.org/p?q=1&r=2", "http://example.org/p?q=1&r=2"),
    ("javascript:alert(1)", None), (" JAVASCRIPT:alert(1)", None), ("data:text/html,<b>", None),
    ("//evil.example/x", None), ("/relative", None), ("https://", None), ("https://a.b/\"onclick=x", None),
    ("https://a.b/x y", None), (None, None), (42, None), ("vbscript:msgbox", None),
])
def test_safe_url_allows_only_absolute_http_links(url, expected):
    assert safe_url(url) == expected


def test_empty_store_gives_a_valid_report_saying_there_is_no_data(tmp_path):
    store, config, _ = build_store(tmp_path, with_data=False)
    try:
        html = write_report(store, config, tmp_path / "empty.html").read_text(encoding="utf-8")
    finally:
        store.close()
    page = Page(html)
    assert html.startswith("<!DOCTYPE html>") and html.rstrip().endswith("</html>")
    assert {"summary", "alerts", "methodology"} <= page.ids
    assert "No data for this period" in page.visible
    assert any(a.get("data-empty") == "true" for _, a in page.tags)
    assert "No alert in this period." in page.visible
    assert not any(tag == "svg" for tag, _ in page.tags)


def test_cli_writes_the_report_and_rejects_bad_times(filled, tmp_path):
    _, _, config_path = filled
    truth = tmp_path / "truth.json"
    truth.write_text(__import__("json").dumps(TRUTH), encoding="utf-8")
    out = tmp_path / "cli" / "report.html"
    runner = CliRunner()
    result = runner.invoke(report_command, ["--config", str(config_path), "--out", str(out), "--truth", str(truth),
                                            "--since", "2026-03-03T00:00Z", "--until", "2026-03-04T00:00Z",
                                            "--topic", "lumio", "--title", "Lumio <weekly>"])
    assert result.exit_code == 0, result.output
    assert f"Report written to {out}" in result.output
    page = Page(out.read_text(encoding="utf-8"))
    assert "topic-lumio" in page.ids and "topic-lumio-support" not in page.ids
    assert "Lumio <weekly>" in page.visible and "Tue 03 Mar 00:00 → Wed 04 Mar 00:00 UTC" in page.visible
    bad = runner.invoke(report_command, ["--config", str(config_path), "--out", str(out), "--since", "yesterday"])
    assert bad.exit_code == 2 and "expected an ISO-8601 time" in bad.output
    unknown = runner.invoke(report_command, ["--config", str(config_path), "--out", str(out), "--topic", "zzz"])
    assert unknown.exit_code == 1 and "unknown topic(s) zzz" in unknown.output


def test_cli_relative_since_ends_now(filled, tmp_path):
    _, _, config_path = filled
    out = tmp_path / "recent.html"
    result = CliRunner().invoke(report_command, ["--config", str(config_path), "--out", str(out), "--since", "2d",
                                                 "--no-risk-curve"])
    assert result.exit_code == 0, result.output
    # The fixture data is from March 2026: nothing in the last two days.
    page = Page(out.read_text(encoding="utf-8")).visible
    assert "No data for this period" in page
    assert "Recorded at alert events only" in page  # --no-risk-curve: the detector was not run


# -- headless Chromium ----------------------------------------------------------------------------

def _chromium() -> str:
    exe = find_chromium()
    if exe is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("Chromium is required in CI for the report rendering test: apt-get install -y chromium")
        pytest.skip("Chromium not installed (apt-get install chromium); required and checked when CI=true")
    return exe


def console_messages(stderr: str) -> list[str]:
    """Messages the page wrote to the browser console (errors, CSP violations, logs): Chromium logs them
    as `...:INFO:CONSOLE:<line>] "message", source: ...` with --enable-logging=stderr --v=0."""
    return [line for line in stderr.splitlines() if ":CONSOLE" in line]


def _png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    return struct.unpack(">II", head[16:24])


def test_console_check_catches_page_errors(tmp_path):
    """Control: the console check used below does see a failing script and a blocked resource."""
    exe = _chromium()
    bad = tmp_path / "bad.html"
    bad.write_text("<!DOCTYPE html><html><body><p>x</p><script>console.error('boom'); nope();</script>"
                   "</body></html>", encoding="utf-8")
    run = run_headless(bad, "--enable-logging=stderr", "--v=0", "--dump-dom", binary=exe)
    messages = console_messages(run.stderr)
    assert any("boom" in m for m in messages) and any("nope is not defined" in m for m in messages)


def test_report_renders_in_headless_chromium_without_console_errors(tmp_path):
    exe = _chromium()
    store, config = _hostile_store(tmp_path)
    try:
        html = write_report(store, config, tmp_path / "report.html", truth=TRUTH)
    finally:
        store.close()
    run = run_headless(html, "--enable-logging=stderr", "--v=0", "--dump-dom", binary=exe)
    assert run.returncode == 0, run.stderr[-2000:]
    assert console_messages(run.stderr) == []
    dom = Page(run.stdout)
    assert {"summary", "current-risk", "topic-lumio", "alerts", "truth", "methodology"} <= dom.ids
    assert "Top negative posts" in dom.visible and "Alert timeline vs ground truth" in dom.visible
    assert not any(tag == "script" for tag, _ in dom.tags)  # the hostile post stayed text in the live DOM
    shot = tmp_path / "report.png"
    run = run_headless(html, f"--screenshot={shot}", "--window-size=1100,1600", binary=exe)
    assert run.returncode == 0 and shot.exists()
    assert _png_size(shot) == (1100, 1600)
    assert shot.stat().st_size > 30_000  # a blank page compresses to a few KB; charts and text do not
    phone = tmp_path / "phone.png"
    run = run_headless(html, f"--screenshot={phone}", "--window-size=390,1400", binary=exe)
    assert run.returncode == 0 and _png_size(phone) == (390, 1400)


def test_cli_pdf_through_headless_chromium(filled, tmp_path):
    _chromium()
    _, _, config_path = filled
    pdf = tmp_path / "report.pdf"
    result = CliRunner().invoke(report_command, ["--config", str(config_path), "--out", str(tmp_path / "r.html"),
                                                 "--pdf", str(pdf)])
    assert result.exit_code == 0, result.output
    assert f"PDF written to {pdf}" in result.output
    assert pdf.read_bytes()[:5] == b"%PDF-" and pdf.stat().st_size > 20_000


def test_a_post_matching_two_topics_counts_once_in_the_summary(filled, tmp_path):
    store, config, _ = filled
    both = Post(id="x:both", source="x", text="Lumio support vs Lumio brand", created_at=T0 + timedelta(hours=3),
                topic_ids=["lumio", "lumio-support"],
                analysis=Analysis(lang="en", sentiment=Sentiment("neg", -0.5, "lexicon"),
                                  topic_ids=["lumio", "lumio-support"]))
    store.upsert_posts([both])
    data = collect(store, config)
    assert sum(t.total for t in data.topics) == store.count_posts() + 1
    kpi = Page(render(data)).visible.split("Summary", 2)[-1]
    assert f"{store.count_posts():,}".replace(",", " ") + " posts" in kpi


def test_alerts_show_posts_and_drivers_of_their_peak_not_of_the_calm_after(filled, tmp_path):
    store, config, _ = filled
    alert = next(a for a in store.alert_history("lumio"))
    # What a resolved alert looks like in the store: drivers cleared, evidence of the quiet end.
    alert.drivers = []
    alert.evidence = [EvidenceItem(id="x:calm", text="Lumio app logged me out again, annoying.", sentiment="neg")]
    alert.history[3].drivers = [DriverNote.from_dict({"name": "crisis_terms", "points": 19.5, "value": 40, "baseline": 1,
                                                      "explanation": "crisis vocabulary in 40 posts vs 1 usual"})]
    store.save_alert(alert)
    data = collect(store, config, topic_ids=["lumio"])
    peak_posts = data.topics[0].peak_posts[alert.id]
    assert peak_posts and all(p.analysis.crisis.categories for p, _ in peak_posts)  # the bad buzz itself
    page = Page(render(data)).visible
    assert "Negative posts at the peak (risk 92, Tue 03 Mar 18:00 UTC)" in page
    assert "Drivers at the peak." in page and "crisis vocabulary in 40 posts vs 1 usual" in page
    alert.history[3].drivers = None
    store.save_alert(alert)
    page = Page(render(collect(store, config, topic_ids=["lumio"]))).visible
    assert "No driver recorded at the last update" in page


def test_risk_curve_is_recomputed_by_the_detector_and_passes_through_alert_events(filled):
    store, config, _ = filled
    data = collect(store, config, topic_ids=["lumio"])
    trace = dict(data.topics[0].risk_trace)
    assert 100 <= len(trace) <= 420  # about RISK_TRACE_POINTS assessments, plus the alert events
    peak_at = max(trace, key=trace.get)
    assert ONSET <= peak_at <= PEAK + timedelta(hours=3) and trace[peak_at] >= 75  # the bad buzz
    assert max(v for t, v in trace.items() if t < ONSET - timedelta(hours=2)) < 35  # calm before it
    alert = store.alert_history("lumio")[0]
    assert all(iso_t in {iso(t) for t in trace} for iso_t in (iso(e.at) for e in alert.history))
    page = Page(render(data))
    assert any(tag == "polyline" and "risk-trace" in (a.get("class") or "") for tag, a in page.tags)
    assert "Recomputed for this report by the production detector" in page.visible
    quick = collect(store, config, topic_ids=["lumio"], with_risk_trace=False)
    assert quick.topics[0].risk_trace == []
    assert "Recorded at alert events only" in Page(render(quick)).visible


def test_risk_curve_prefers_the_risk_points_stored_live(tmp_path):
    from alerts.detect import Detector
    from vigie.app.report import risk_trace

    store, config, _ = build_store(tmp_path)
    topic = next(t for t in config.topics if t.id == "lumio")
    start, end = data_period(store, ["lumio"])
    recomputed, how = risk_trace(store, config, topic, start, end)
    assert how == "recomputed" and recomputed
    # The pipeline's points for every bucket of the period (here from the same detector, plus one marker
    # value a recomputation could not produce): the report draws them, not a recomputation.
    detector, width = Detector(config.detection), timedelta(minutes=config.detection.bucket_minutes)
    points, t = [], start.replace(second=0, microsecond=0) + width
    while t <= end:
        points.append(detector.assess(topic, store, t).risk_point())
        t += width
    marker = points[len(points) // 2]
    marker.risk = 66.6
    store.save_risk(points)
    stored, how = risk_trace(store, config, topic, start, end, also_at=[marker.at])
    assert how == "stored"
    assert dict(stored)[marker.at] == 66.6  # the exact point at an alert event
    assert len(stored) <= 420 and max(v for _, v in stored) == max(p.risk for p in points)  # no peak lost
    page = Page(render(collect(store, config, topic_ids=["lumio"])))
    assert "As the detector assessed it live" in page.visible


def test_collection_gaps_are_shaded_on_the_volume_and_risk_charts(tmp_path):
    """A blind source (its blind alert, from the first failed run to the recovery) and a permanent gap show
    as shaded bands behind both charts, with the extent in their tooltip; a report without gaps has none."""
    from alerts import coverage
    from vigie.store import health as collection
    from listeners.replay import ReplaySource

    store, config, _ = build_store(tmp_path)
    try:
        plain = render(collect(store, config, truth=TRUTH))
        assert 'class="gap"' not in plain and "collection gap" not in plain
        source = "x"
        config.sources[source] = ReplaySource(type="replay", path=tmp_path / "x.jsonl", platforms=["x"])
        since, back = ONSET + timedelta(hours=1), ONSET + timedelta(hours=1, minutes=45)
        reason = coverage.Reason("failing", since, "failing since 15:00 UTC: [network] timed out")
        opened, _ = coverage.step(source, [reason], None, since + timedelta(minutes=30))
        resolved, event = coverage.step(source, [], opened, back)
        assert event == "resolve"
        store.save_alert(resolved)
        collection.add_gap(store, collection.Gap(source, PEAK, PEAK + timedelta(hours=2), "look-back exceeded"), back)
        data = collect(store, config, truth=TRUTH)
        assert [(g.start, g.end) for g in data.gaps] == [(since, back), (PEAK, PEAK + timedelta(hours=2))]
        html = render(data)
        # Two topics, two charts each (volume, risk), two gaps per chart.
        assert html.count('class="gap"') == 2 * 2 * 2
        assert f"{source} blind {since:%Y-%m-%d %H:%M} → {back:%H:%M} UTC (45 min)" in html
        assert "collection gap (a source was blind)" in html
        # A blind alert is about collection: it is no false alert of a topic.
        assert all(a.kind != "coverage" for a in data.false_alerts)
    finally:
        store.close()


def test_peak_drivers_are_the_detectors_not_a_verdict_taken_at_a_higher_risk():
    # A person marks the alert a real crisis while its risk is at 91: that record carries the risk and the
    # points they judged, but it is not a detector assessment; the peak's drivers are the 88 update's.
    from datetime import datetime, timezone

    from vigie.app.report import peak_drivers
    from vigie.core.models import Alert, HistoryEntry

    t = datetime(2026, 3, 4, 12, 0, tzinfo=timezone.utc)
    key = Alert.make_dedup_key("acme", t)
    volume = DriverNote(name="negative_volume", points=31.0, explanation="negative volume ×9")
    alert = Alert(id=Alert.make_id(key), dedup_key=key, topic_id="acme", level=Level.CRISIS, risk=91.0,
                  opened_at=t, updated_at=t, history=[
                      HistoryEntry(at=t, event="open", level=Level.WARNING, risk=60.0, drivers=[volume]),
                      HistoryEntry(at=t + timedelta(minutes=30), event="escalate", level=Level.CRISIS, risk=88.0,
                                   drivers=[volume]),
                      HistoryEntry(at=t + timedelta(minutes=40), event="action", action="real_crisis", by="alice",
                                   via="slack", level=Level.CRISIS, risk=91.0, verdict="real_crisis",
                                   judged={"negative_volume": 31.0})])
    drivers, at_peak = peak_drivers(alert)
    assert at_peak and [d.name for d in drivers] == ["negative_volume"] and drivers[0].points == 31.0
