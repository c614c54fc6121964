"""The one bucket loop (vigie/pipeline/loop.py) and what goes through it: order, per-topic start, the alert
policy, the verdicts read once per detect pass, and the maintenance outputs found by name."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from detect_fixtures import T0, TOPIC, background

from vigie.core.actions import ActionRequest, apply
from vigie.core.config import config_from_dict
from vigie.pipeline.loop import BucketSink, bucket_times, new_detector, risk_curve, run_buckets
from vigie.store.sqlite import SqliteStore

STEP = timedelta(minutes=5)


def config(*topic_ids: str):
    return config_from_dict({"topics": [{"id": t, "name": t, "query": t} for t in topic_ids or (TOPIC,)]})


class Recorder(BucketSink):
    def __init__(self):
        self.seen: list[tuple[str, datetime, bool]] = []
        self.buckets: list[datetime] = []

    def assessed(self, topic, t, assessment, event):
        assert assessment.topic_id == topic.id and assessment.at == t
        self.seen.append((topic.id, t, event is not None))

    def bucket_done(self, t):
        self.buckets.append(t)


def test_bucket_times_includes_the_last_bucket_unless_told_not_to():
    last = T0 + 2 * STEP
    assert list(bucket_times(T0, last, STEP)) == [T0, T0 + STEP, T0 + 2 * STEP]
    assert list(bucket_times(T0, last, STEP, last_included=False)) == [T0, T0 + STEP]
    assert list(bucket_times(last, T0, STEP)) == []


def test_the_loop_is_bucket_major_in_topic_order_and_starts_each_topic_at_its_own_bucket(tmp_path):
    cfg = config("b", "a")
    store = SqliteStore(tmp_path / "l.db")
    sink = Recorder()
    times = list(bucket_times(T0 + STEP, T0 + 3 * STEP, STEP))
    run_buckets(new_detector(cfg), store, cfg.topics, times, sink, first={"b": T0 + 2 * STEP, "a": T0 + STEP})
    assert [(tid, t) for tid, t, _ in sink.seen] == [
        ("a", T0 + STEP), ("b", T0 + 2 * STEP), ("a", T0 + 2 * STEP), ("b", T0 + 3 * STEP), ("a", T0 + 3 * STEP)]
    assert sink.buckets == times  # every bucket is closed, even one where a topic was not due yet
    assert not any(event for *_, event in sink.seen)  # no policy given: assessments only
    store.close()


def test_the_report_curve_is_the_detector_run_through_the_loop(tmp_path):
    cfg = config()
    store = SqliteStore(tmp_path / "r.db")
    store.upsert_posts(background(T0, 48, seed=3))
    times = list(bucket_times(T0 + timedelta(hours=24), T0 + timedelta(hours=26), timedelta(hours=1)))
    detector = new_detector(cfg)
    expected = [(t, detector.assess(cfg.topics[0], store, t).risk) for t in times]
    assert risk_curve(store, cfg, cfg.topics[0], times) == expected
    store.close()


def test_a_detect_pass_reads_the_marks_once_and_keeps_each_buckets_horizon(tmp_path):
    """`_PassVerdicts` (one alert read per topic and pass) answers what a read per bucket answered: marks
    given at or before the bucket, on alerts opened within VERDICT_HORIZON of it."""
    from vigie.sim.sample_alerts import T0 as AT, make_alert
    from vigie.pipeline.steps import VERDICT_HORIZON, _PassVerdicts

    class CountingStore(SqliteStore):
        reads = 0

        def alert_history(self, *args, **kwargs):
            CountingStore.reads += 1
            return super().alert_history(*args, **kwargs)

    store = CountingStore(tmp_path / "v.db")
    alert = make_alert()
    marked = apply(alert, ActionRequest("false_alarm", alert.id, "alice", "slack", AT + timedelta(minutes=10))).alert
    store.save_alert(marked)
    pass_ = _PassVerdicts(store)
    before = pass_.at(marked.topic_id, AT + timedelta(minutes=5))
    given = pass_.at(marked.topic_id, AT + timedelta(minutes=10))
    edge = pass_.at(marked.topic_id, AT + VERDICT_HORIZON)  # the alert opened exactly at the horizon
    past = pass_.at(marked.topic_id, AT + VERDICT_HORIZON + STEP)  # its marks are now too old to read
    assert (before, [v.verdict for v in given], [v.verdict for v in edge], past) == ([], ["false_alarm"],
                                                                                    ["false_alarm"], [])
    assert CountingStore.reads == 1
    store.close()


def test_a_maintenance_output_is_found_by_name_and_can_be_replaced(tmp_path):
    from vigie.pipeline.maintenance import OUTPUTS, daily_report

    written = []

    def fake_report(store, config, out, *, start, end, risk_curve):
        written.append((out.name, start, end, risk_curve))
        return out

    class Rt:
        config = config_from_dict({"topics": [{"id": "acme", "name": "Acme", "query": "acme"}],
                                   "report": {"path": str(tmp_path / "report.html")}})
        store = None

    OUTPUTS.register("report", fake_report, replace=True)
    try:
        path = daily_report(Rt(), datetime(2026, 3, 11, 6, tzinfo=timezone.utc))
    finally:
        OUTPUTS.unregister("report")
    day = datetime(2026, 3, 10, tzinfo=timezone.utc)
    assert path == tmp_path / "report-2026-03-10.html"
    assert written == [("report-2026-03-10.html", day, day + timedelta(days=1), True)]
    assert "report" in OUTPUTS.names()  # the built-in one comes back on the next lookup
