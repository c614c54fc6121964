"""Vigie knows when it is blind: collection health persisted per source and query on both stores,
blind alerts (auth revoked, quota spent, failing for N minutes, volume collapse judged as overdispersed
counts), coverage recorded on risk alerts, no false resolve while a source is blind, recovery with a
permanent gap and re-assessed risk points without a second page. The sources are real HTTP servers on
127.0.0.1 (vigie/sim/standins/server.py) speaking the Mastodon API."""

from __future__ import annotations

import io
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone

import pytest

from detect_fixtures import T0, TOPIC, background, burst

from alerts import coverage, stats
from vigie.store import health as collection
from vigie.core.config import CoverageConfig, config_from_dict
from vigie.core.models import AlertState
from vigie.pipeline.steps import REASSESS_CURSOR, Runtime, detect_and_deliver, ingest_source
from vigie.store.sqlite import SqliteStore
from vigie.sim.standins.server import FixtureServer, Reply, Req

STEP = timedelta(minutes=5)
NOW = datetime(2026, 3, 9, 12, tzinfo=timezone.utc)
CFG = CoverageConfig()


# -- the count model: sparse nights are not collapses, a busy source going quiet is ----------------

def history(rate, days: int = 7, end: datetime = NOW, seed: int = 3) -> collection.SourceHealth:
    """A source's health with `days` of hourly runs whose post counts follow `rate(t)` (Poisson-gamma)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    h = collection.SourceHealth(source="s")
    t = end - timedelta(days=days)
    while t < end:
        mu = rate(t)
        lam = rng.gamma(4.0, mu / 4.0) if mu > 0 else 0.0  # overdispersed: φ = 0.25
        h.hours[collection.hour_key(t)] = [1, 1, int(rng.poisson(lam))]
        t += timedelta(hours=1)
    return h


def night_sparse(t: datetime) -> float:
    return 0.3 if t.hour < 7 else 4.0


def busy(t: datetime) -> float:
    return 120.0 if 8 <= t.hour < 22 else 25.0


def set_span(h: collection.SourceHealth, end: datetime, counts: list[int]) -> None:
    for i, n in enumerate(reversed(counts)):
        h.hours[collection.hour_key(end - timedelta(hours=i + 1))] = [1, 1, n]


def test_a_quiet_night_on_a_sparse_topic_is_not_a_collapse():
    night = datetime(2026, 3, 9, 5, 10, tzinfo=timezone.utc)
    h = history(night_sparse, end=night.replace(minute=0))
    set_span(h, night.replace(minute=0), [0, 0, 0])
    assert coverage.assess(h, night, CFG) == []
    # Not even with a lenient threshold: the expected total is ~1 post, silence proves nothing.
    assert coverage.collapse(h, night, 3, 3).expected < 3


def test_a_busy_source_answering_empty_pages_for_hours_collapses():
    h = history(busy, end=NOW)
    set_span(h, NOW, [2, 0, 0])
    [reason] = coverage.assess(h, NOW + timedelta(minutes=5), CFG)
    assert reason.kind == "collapse" and reason.blind and "2 posts in 3 h" in reason.message


def test_a_slow_drift_to_zero_is_caught_before_it_reaches_zero():
    h = history(busy, end=NOW - timedelta(hours=8))
    caught = None
    for i, share in enumerate([0.9, 0.7, 0.5, 0.3, 0.15, 0.05, 0.0, 0.0]):
        t = NOW - timedelta(hours=8) + timedelta(hours=i)
        h.hours[collection.hour_key(t)] = [1, 1, int(120 * share)]
        if caught is None and coverage.assess(h, t + timedelta(hours=1, minutes=1), CFG):
            caught = share
    assert caught is not None and caught > 0.0  # blind before the source is fully silent


def test_overdispersion_widens_the_lower_tail_robustly():
    pairs = [(10.0, x) for x in [10, 11, 9, 10, 10, 12, 8, 10, 11, 9]]
    assert coverage.dispersion(pairs) == 0.0  # Poisson-like or tighter: no extra spread
    bursty = [(10.0, x) for x in [2, 25, 4, 18, 6, 15, 3, 22, 9, 12]]
    phi = coverage.dispersion(bursty)
    assert phi > 0.2
    one_viral = pairs + [(10.0, 5000)]
    assert coverage.dispersion(one_viral) < 0.5  # one viral hour does not make every hour "noisy"
    assert stats.nb_cdf(0, 30.0, phi) > stats.nb_cdf(0, 30.0, 0.0) * 1e3


def test_baseline_leaves_out_one_burst_day_and_one_outage_hour():
    assert coverage.baseline([10, 12, 11]) == 11  # the median below 5 days
    assert coverage.baseline([0, 10, 12, 11, 400]) == 11  # the outage hour and the burst left out
    assert coverage.baseline([]) == 0.0


# -- collection health persisted on both stores ---------------------------------------------------

from test_store_contract import store  # noqa: E402,F401  (the contract's SQLite + osmem fixture)


def test_health_and_gaps_round_trip_on_every_store(store):
    h = collection.SourceHealth(source="masto")
    collection.record_query(h, "tag:acme", NOW, pages=2, posts=40, error=None,
                            infos=[{"quota_remaining": 120, "quota_reset_at": NOW.timestamp() + 900}])
    collection.record_query(h, "tag:brand", NOW, pages=0, posts=0, error=("auth", "HTTP 401"), infos=[])
    collection.finish_run(h, NOW, failed=True)
    collection.save(store, h, NOW)
    back = collection.load(store, "masto")
    assert back == h
    assert back.failing_since == "2026-03-09T12:00:00Z" and back.last_error["kind"] == "auth"
    assert back.queries["tag:acme"].last_success == "2026-03-09T12:00:00Z" and back.queries["tag:brand"].last_success is None
    assert back.quota == {"remaining": 120, "at": "2026-03-09T12:00:00Z", "reset_at": "2026-03-09T12:15:00Z"}
    assert back.hours == {"2026-03-09T12": [1, 2, 40]}
    gap = collection.Gap("masto", NOW - timedelta(days=9), NOW - timedelta(days=7), "outage")
    collection.add_gap(store, gap, NOW)
    collection.add_gap(store, gap, NOW)  # a re-run records it once
    assert collection.gaps(store, "masto") == [gap]


# -- the pipeline, against a Mastodon server ------------------------------------------------------

def status(n: int, at: datetime) -> dict:
    return {"id": str(110_000 + n), "created_at": at.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "content": f"<p>acme épisode {n}</p>", "spoiler_text": "", "language": "fr",
            "url": f"https://mastodon.test/@ana/{110_000 + n}", "in_reply_to_id": None, "reblog": None,
            "replies_count": 0, "reblogs_count": 0, "favourites_count": 0,
            "account": {"id": "7", "username": "ana", "acct": "ana@mastodon.test", "display_name": "Ana",
                        "followers_count": 10}}


class Mastodon:
    """GET /api/v1/timelines/tag/:tag, with a quota header the test lowers, and 401 once the token is revoked."""

    def __init__(self):
        self.statuses: list[dict] = []
        self.remaining = 300
        self.revoked = False

    def __call__(self, req: Req) -> Reply:
        if self.revoked:
            return Reply(401, {"error": "The access token was revoked"})
        rows = sorted(self.statuses, key=lambda s: int(s["id"]))
        if req.arg("min_id"):
            rows = [s for s in rows if int(s["id"]) > int(req.arg("min_id"))]
        rows = rows[: int(req.arg("limit") or 20)]
        self.remaining = max(0, self.remaining - 1)
        return Reply(200, list(reversed(rows)), {"X-RateLimit-Remaining": str(self.remaining),
                                                 "X-RateLimit-Reset": "2027-01-01T00:00:00.000Z"})


@pytest.fixture
def sqlite(tmp_path):
    s = SqliteStore(tmp_path / "vigie.db")
    yield s
    s.close()


def runtime(store, url: str, out: io.StringIO, failing_minutes: int = 15) -> Runtime:
    cfg = config_from_dict({
        "topics": [{"id": TOPIC, "name": "Acme", "query": "acme", "sources": ["x"]}],
        "sources": {"x": {"type": "mastodon", "instance": url, "hashtags": ["acme"], "retries": 0,
                          "timeout_s": 2, "max_wait_s": 0}},
        "channels": [{"type": "console", "min_level": "watch", "options": {"name": "ops"}},
                     {"type": "console", "min_level": "watch", "kinds": ["risk"], "options": {"name": "crisis"}}],
        "coverage": {"failing_minutes": failing_minutes},
    })
    return Runtime.from_config(cfg, store=store, console=out)


def test_auth_revoked_mid_run_opens_a_blind_alert_at_once_on_the_ops_channel_only(sqlite):
    store = sqlite
    with FixtureServer(Mastodon()) as server:
        out = io.StringIO()
        rt = runtime(store, server.url, out)
        server.app.statuses = [status(i, NOW - timedelta(minutes=30 - i)) for i in range(5)]
        assert ingest_source(rt, "x", NOW).ok
        h = collection.load(store, "x")
        assert h.last_success == "2026-03-09T12:00:00Z" and h.quota["remaining"] < 300
        assert h.queries["tag:acme"].posts == 5
        server.app.revoked = True
        later = NOW + STEP
        report = ingest_source(rt, "x", later)
        assert [f.kind for f in report.failures] == ["auth"]
        detect_and_deliver(rt, later)
        blind = store.last_alert(coverage.alert_topic("x"))
        assert blind is not None and blind.kind == "coverage" and blind.coverage["kinds"] == ["auth"]
        assert {e.channel for e in store.outbox_entries(blind.id)} == {"ops"}  # not the crisis team
        assert "BLIND · source x — auth" in out.getvalue()


def test_quota_header_falling_to_zero_is_a_blind_alert(sqlite):
    store = sqlite
    with FixtureServer(Mastodon()) as server:
        rt = runtime(store, server.url, io.StringIO())
        server.app.statuses = [status(i, NOW - timedelta(minutes=30 - i)) for i in range(5)]
        server.app.remaining = 1  # this call leaves 0, long before the reset
        ingest_source(rt, "x", NOW)
        assert collection.load(store, "x").quota["remaining"] == 0
        detect_and_deliver(rt, NOW)
        blind = store.last_alert(coverage.alert_topic("x"))
        assert blind is not None and "quota" in blind.coverage["kinds"]


def test_outage_in_the_middle_of_a_bad_buzz(sqlite):
    """The blind alert fires, the bad-buzz alert says its coverage was partial, it does not resolve while
    the source is blind; on recovery the blind alert resolves with the gap's extent, risk points are
    re-assessed and nothing is paged twice."""
    start = T0 + timedelta(days=3, hours=13)
    outage = start + timedelta(hours=1, minutes=15)
    store = sqlite
    with FixtureServer(Mastodon()) as server:
        out = io.StringIO()
        rt = runtime(store, server.url, out)
        buzz = burst(start, [3] * 6 + [5] * 6, first_id=100_000) + burst(
            start + timedelta(hours=1), [8, 15, 25, 40, 60, 60], categories=["boycott"], big_account_at=1,
            cluster_every=2, first_id=200_000)
        store.upsert_posts(background(T0, 3 * 24 + 20, seed=5))
        store.upsert_posts([p for p in buzz if p.created_at < outage])  # collection stops at the outage
        t = start - timedelta(hours=1)
        while t <= outage:
            ingest_source(rt, "x", t)
            detect_and_deliver(rt, t)
            t += STEP
        risk = store.last_alert(TOPIC)
        assert risk is not None and risk.kind == "risk" and risk.state is not AlertState.RESOLVED
        server.fail("/api", *[Reply(503, {"error": "down"})] * 200)
        blind_at = None
        while t <= outage + timedelta(hours=3):
            ingest_source(rt, "x", t)
            report = detect_and_deliver(rt, t)
            if blind_at is None and any(e.alert.kind == "coverage" for e in report.events):
                blind_at = t
            t += STEP
        # Blind within the tolerance (15 min) + 2 buckets; the buzz alert is held open, marked partial.
        assert blind_at is not None and blind_at - outage <= timedelta(minutes=15) + 2 * STEP
        risk = store.last_alert(TOPIC)
        assert risk.state is not AlertState.RESOLVED
        assert "x" in risk.coverage["blind"]
        points = store.risk_series(TOPIC, blind_at, t)  # from the blind alert on, every point says so
        assert points and all(p.blind == ["x"] for p in points)
        # Not vacuous: with what was collected the risk fell to calm for far more than the exit buckets,
        # so a policy that read the gap as calm would have resolved the buzz during the outage.
        from alerts.policy import threshold
        from vigie.core.models import Level

        calm = [p for p in points if p.risk < threshold(rt.config.topic(TOPIC), Level.WATCH) - rt.config.detection.hysteresis]
        assert len(calm) >= 3 * rt.config.detection.exit_buckets
        server.faults.clear()
        server.app.statuses = [status(i, t - timedelta(minutes=3)) for i in range(3)]
        ingest_source(rt, "x", t)
        assert store.get_cursor(REASSESS_CURSOR, TOPIC).value["from"]
        detect_and_deliver(rt, t)
        blind = store.last_alert(coverage.alert_topic("x"))
        assert blind.state is AlertState.RESOLVED and blind.coverage["until"]
        assert "RECOVERED · source x" in out.getvalue()
        assert store.get_cursor(REASSESS_CURSOR, TOPIC).value == {}
        assert all(p.blind == [] for p in store.risk_series(TOPIC, outage + STEP, t))  # re-assessed
        # One page per (alert, event, channel): the outbox holds no second "open" for the buzz.
        entries = store.outbox_entries(risk.id)
        opens = [(e.channel, e.event) for e in entries if e.event == "open"]
        assert sorted(opens) == [("crisis", "open"), ("ops", "open")]
        # The buzz alert as it stood during the outage tells every channel its coverage was partial.
        from alerts.notify import email_message, slack_blocks
        from alerts.notify.channels import console

        during = risk  # as stored while the source was blind
        note = f"x silent since {risk.coverage['blind']['x'][11:16]} UTC: risk may be understated"
        assert note in console.render(during, "update").plain
        assert note in email_message.plain_text(during, "update")
        assert note in str(slack_blocks.message(during, "update"))


# -- vigie status, /metrics ------------------------------------------------------------------------

def test_status_and_metrics_say_a_source_is_blind(tmp_path):
    import json
    import threading
    import urllib.request
    from wsgiref.simple_server import make_server

    from click.testing import CliRunner

    from vigie.app.cli.main import cli
    from vigie.app.cli.status import EXIT_BLIND
    from vigie.core.config import load_config
    from vigie.app.metrics import metrics_app

    with FixtureServer(Mastodon()) as server:
        path = tmp_path / "vigie.yml"
        path.write_text(
            f"topics:\n  - id: acme\n    name: Acme\n    query: acme\nsources:\n  x:\n    type: mastodon\n"
            f"    instance: {server.url}\n    hashtags: [acme]\n    retries: 0\n"
            f"store:\n  type: sqlite\n  path: {tmp_path / 'v.db'}\nchannels:\n  - type: console\n", encoding="utf-8")
        config = load_config(path)
        store = SqliteStore(tmp_path / "v.db")
        try:
            rt = Runtime.from_config(config, store=store, console=io.StringIO())
            server.app.statuses = [status(i, NOW - timedelta(minutes=30 - i)) for i in range(4)]
            ingest_source(rt, "x", NOW)
            ok = CliRunner().invoke(cli, ["status", "--config", str(path), "--json", "--now", NOW.isoformat()])
            assert ok.exit_code == 0, ok.output
            assert json.loads(ok.output)["sources"][0]["state"] == "ok"
            server.app.revoked = True
            ingest_source(rt, "x", NOW + STEP)
            detect_and_deliver(rt, NOW + STEP)
            res = CliRunner().invoke(cli, ["status", "--config", str(path), "--json", "--now", (NOW + STEP).isoformat()])
            assert res.exit_code == EXIT_BLIND, res.output
            data = json.loads(res.output)
            assert data["blind"] == ["x"]
            [src] = data["sources"]
            assert src["last_error"]["kind"] == "auth" and src["last_success"] == "2026-03-09T12:00:00Z"
            assert src["queries"]["tag:acme"]["posts"] == 0 and src["coverage_alert"]["kinds"] == ["auth"]
            table = CliRunner().invoke(cli, ["status", "--config", str(path), "--now", (NOW + STEP).isoformat()])
            assert table.exit_code == EXIT_BLIND and "credentials refused" in table.output

            httpd = make_server("127.0.0.1", 0, metrics_app(config, store, clock=lambda: NOW + STEP))
            thread = threading.Thread(target=httpd.serve_forever, daemon=True)
            thread.start()
            try:
                page = urllib.request.urlopen(f"http://127.0.0.1:{httpd.server_port}/metrics", timeout=5).read().decode()
            finally:
                httpd.shutdown()
                httpd.server_close()
            assert 'vigie_source_blind{reason="auth",source="x"} 1.0' in page
            assert 'vigie_source_errors{kind="auth",source="x"} 1.0' in page
            assert 'vigie_source_posts{source="x",window="this_hour"} 4.0' in page
            assert 'vigie_deliveries{channel="console",status="sent"} 1.0' in page  # the blind alert, sent
            assert "vigie_outbox_depth 0.0" in page and 'vigie_detection_lag_seconds{topic="acme"} 0.0' in page
        finally:
            store.close()


def test_quota_forecast_warns_before_the_quota_is_spent_and_a_new_window_resets_the_pace():
    h = collection.SourceHealth(source="x")
    reset = NOW.timestamp() + 6 * 3600
    collection.record_query(h, "q", NOW, pages=1, posts=5, error=None,
                            infos=[{"quota_remaining": 1000, "quota_reset_at": reset}])
    collection.finish_run(h, NOW, failed=False)
    assert coverage.assess(h, NOW, CFG) == []  # one sample: no pace yet
    later = NOW + timedelta(hours=1)
    collection.record_query(h, "q", later, pages=1, posts=5, error=None,
                            infos=[{"quota_remaining": 600, "quota_reset_at": reset}])  # 400/h: empty in 1.5 h
    [reason] = coverage.assess(h, later, CFG)
    assert reason.kind == "forecast" and not reason.blind and "runs out at 14:30 UTC" in reason.message
    alert, event = coverage.step("x", [reason], None, later)
    assert event == "open" and alert.level.value == "warning"  # a warning: still collecting
    collection.record_query(h, "q", later + STEP, pages=1, posts=5, error=None,
                            infos=[{"quota_remaining": 900, "quota_reset_at": reset + 3600}])  # a new window
    assert coverage.assess(h, later + STEP, CFG) == []
    assert coverage.step("x", [], alert, later + STEP)[1] == "resolve"


def test_an_outage_longer_than_the_look_back_leaves_a_permanent_gap(sqlite):
    with FixtureServer(Mastodon()) as server:
        rt = runtime(sqlite, server.url, io.StringIO())
        rt.config.coverage.lookback_hours = {"mastodon": 1}  # what this instance lets a listener page back
        server.app.statuses = [status(i, NOW - timedelta(minutes=30 - i)) for i in range(3)]
        assert ingest_source(rt, "x", NOW).ok
        server.app.revoked = True
        for hours in (1, 2, 3):
            assert not ingest_source(rt, "x", NOW + timedelta(hours=hours)).ok
        assert collection.gaps(sqlite, "x") == []  # still failing: nothing is known lost yet
        server.app.revoked = False
        back = NOW + timedelta(hours=3, minutes=5)
        assert ingest_source(rt, "x", back).ok
        [gap] = collection.gaps(sqlite, "x")
        assert (gap.start, gap.end) == (NOW, back - timedelta(hours=1)) and "look-back" in gap.reason
        assert sqlite.get_cursor(REASSESS_CURSOR, TOPIC).value["from"] == "2026-03-09T14:05:00Z"  # within reach
        ingest_source(rt, "x", back + STEP)  # a later success records nothing more
        assert len(collection.gaps(sqlite, "x")) == 1


class RefusesReassessOnce:
    """The SQLite store, refusing the first write of a re-assessment marker (a store hiccup between the
    health update that ends an outage and the backfill bookkeeping that follows it)."""

    def __init__(self, store):
        self.store, self.refused = store, 0

    def __getattr__(self, name):
        return getattr(self.store, name)

    def update_cursor(self, source, query, change, updated_at=None):
        if source == REASSESS_CURSOR and not self.refused:
            self.refused += 1
            raise RuntimeError("store unavailable")
        return self.store.update_cursor(source, query, change, updated_at)


def test_backfill_bookkeeping_lost_to_a_store_error_is_done_by_the_next_run(sqlite):
    flaky = RefusesReassessOnce(sqlite)
    with FixtureServer(Mastodon()) as server:
        rt = runtime(flaky, server.url, io.StringIO())
        server.app.statuses = [status(i, NOW - timedelta(minutes=30 - i)) for i in range(3)]
        assert ingest_source(rt, "x", NOW).ok
        server.app.revoked = True
        assert not ingest_source(rt, "x", NOW + timedelta(hours=1)).ok
        server.app.revoked = False
        assert ingest_source(rt, "x", NOW + timedelta(hours=2)).ok  # recovers; the marker write is refused
        assert flaky.refused == 1 and sqlite.get_cursor(REASSESS_CURSOR, TOPIC) is None
        h = collection.load(sqlite, "x")
        assert not h.failing and h.recovering_from == "2026-03-09T12:00:00Z"  # the outage is not forgotten
        assert ingest_source(rt, "x", NOW + timedelta(hours=2, minutes=5)).ok
        assert sqlite.get_cursor(REASSESS_CURSOR, TOPIC).value["from"] == "2026-03-09T12:00:00Z"
        assert collection.load(sqlite, "x").recovering_from is None


# -- Reddit's quota headers (X-Ratelimit-Used / -Remaining / -Reset), through praw ------------------

def reddit_runtime(store, url: str, monkeypatch) -> Runtime:
    monkeypatch.setenv("R_COV_ID", "id")
    monkeypatch.setenv("R_COV_SECRET", "secret")
    cfg = config_from_dict({
        "topics": [{"id": "brivolle", "name": "Brivolle", "query": "brivolle", "sources": ["r"]}],
        "sources": {"r": {"type": "reddit", "client_id_env": "R_COV_ID", "client_secret_env": "R_COV_SECRET",
                          "oauth_url": url, "reddit_url": url, "retries": 0, "timeout_s": 2, "max_wait_s": 0}},
        "channels": [{"type": "console", "min_level": "watch", "options": {"name": "ops"}}],
    })
    return Runtime.from_config(cfg, store=store, console=io.StringIO())


def real_now() -> datetime:
    # Reddit announces its reset as seconds to wait: the reset time is read off the real clock, so the runs'
    # times are real times too (what a forecast compares).
    return datetime.now(timezone.utc).replace(microsecond=0)


@contextmanager
def reddit_window(store, monkeypatch, quota: int, reset_s: float = 120):
    """A Reddit stand-in whose window has `quota` requests left, and a runtime reading it as source "r"."""
    from vigie.sim.standins.reddit import FakeReddit, link

    fake = FakeReddit([link(i) for i in range(3)], quota=quota, reset_s=reset_s)
    fake.used = 0
    with FixtureServer(fake) as server:
        yield server, reddit_runtime(store, server.url, monkeypatch), real_now()


def test_reddit_quota_falling_to_zero_is_a_blind_alert_and_the_source_stops_spending(sqlite, monkeypatch):
    with reddit_window(sqlite, monkeypatch, quota=2) as (server, rt, t):
        assert ingest_source(rt, "r", t).ok
        h = collection.load(sqlite, "r")
        assert h.quota["remaining"] == 1 and 110 <= (collection.utc(h.quota["reset_at"]) - t).total_seconds() <= 121
        detect_and_deliver(rt, t)
        assert sqlite.last_alert(coverage.alert_topic("r")) is None  # 1 left: not blind
        assert ingest_source(rt, "r", t + timedelta(seconds=10)).ok
        assert collection.load(sqlite, "r").quota["remaining"] == 0
        detect_and_deliver(rt, t + timedelta(seconds=10))
        blind = sqlite.last_alert(coverage.alert_topic("r"))
        assert blind is not None and blind.kind == "coverage" and blind.coverage["kinds"] == ["quota"]
        # The next run stops on the announced 0 (reset beyond max_wait_s): no request spent on a certain 429.
        asked = len(server.paths("/r/all/search"))
        report = ingest_source(rt, "r", t + timedelta(seconds=20))
        assert [f.kind for f in report.failures] == ["rate_limit"] and len(server.paths("/r/all/search")) == asked


def test_reddit_quota_forecast_to_run_out_before_the_reset(sqlite, monkeypatch):
    with reddit_window(sqlite, monkeypatch, quota=40) as (_server, rt, t):
        assert ingest_source(rt, "r", t).ok
        # 1 request in 2 s, 38 left: spent in ~76 s, before the reset in ~120 s (a warning, still collecting).
        assert ingest_source(rt, "r", t + timedelta(seconds=2)).ok
        h = collection.load(sqlite, "r")
        assert (h.quota_prev["remaining"], h.quota["remaining"]) == (39, 38)
        [reason] = coverage.assess(h, t + timedelta(seconds=2), CFG)
        assert reason.kind == "forecast" and not reason.blind
        detect_and_deliver(rt, t + timedelta(seconds=2))
        warning = sqlite.last_alert(coverage.alert_topic("r"))
        assert warning is not None and warning.coverage["kinds"] == ["forecast"] and warning.level.value == "warning"
        # At a slower pace the same window lasts past its reset: no warning.
        slow = collection.SourceHealth.from_dict(h.to_dict())
        slow.quota_prev = {**slow.quota_prev, "at": collection.iso(t - timedelta(minutes=10))}
        assert coverage.assess(slow, t + timedelta(seconds=2), CFG) == []
