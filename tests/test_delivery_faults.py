"""Delivery under faults (README "Delivery guarantees"): a crisis page is never lost, never
doubled, never late, whatever the process or the channel does.

The pipeline runs for real (replay → NLP → store → detection → outbox → the local stand-ins of
alerts/notify/receiver.py). Crashes are real: `vigie run` in a subprocess killed with SIGKILL at a
fault-injection point (vigie/core/faults.py), then run again. Each test asserts what every channel accepted:
exactly once per channel (per delivery id for idempotent channels), within 2 runs of its recovery.
"""

from __future__ import annotations

import re
import signal
import threading
import time

import pytest

from alerts.notify.receiver import LocalReceiver, Reply
from notify_fixtures import DeliveryRig

OPEN_ID = re.compile(r"^[0-9a-f]{12}:open$")


@pytest.fixture
def receiver():
    with LocalReceiver() as server:
        yield server


def _store(rig: DeliveryRig, request):
    if rig.db.exists() or "elasticsearch" not in str(rig.config.read_text()):
        from vigie.store.sqlite import SqliteStore

        return SqliteStore(rig.db)
    from es_fixtures import osmem_client

    from vigie.store.elasticsearch import ElasticsearchStore

    return ElasticsearchStore(osmem_client(request.getfixturevalue("es_osmem").url),
                              prefix=request.getfixturevalue("es_prefix"))


def _assert_once_everywhere(rig: DeliveryRig, *, slack: int = 1) -> None:
    webhook = rig.pages("webhook")
    assert len(set(webhook)) == 1 and OPEN_ID.match(webhook[0]), webhook  # once per delivery id
    pagerduty = rig.pages("pagerduty")
    assert len(set(pagerduty)) == 1 and pagerduty[0].endswith(":trigger"), pagerduty
    assert len(rig.pages("slack_webhook")) == slack, rig.pages("slack_webhook")


def _outbox(rig: DeliveryRig, request) -> dict[str, str]:
    store = _store(rig, request)
    try:
        return {e.channel: e.status for e in store.outbox_entries()}
    finally:
        store.close()


# -- crashes between every pair of steps of a bucket ------------------------------------------------

# (point, pages Slack must have accepted, the Slack entry's final status)
SQLITE_POINTS = [
    ("after_alert", 1, "sent"),  # inside the bucket's transaction: rolled back, re-detected
    ("after_outbox", 1, "sent"),
    ("after_cursor", 1, "sent"),
    ("after_commit", 1, "sent"),  # committed, nothing sent: the next run drains the outbox
    ("before_send@webhook", 1, "sent"),  # idempotent channel interrupted: sent again
    ("after_send@webhook", 1, "sent"),  # sent, not recorded: sent again, same delivery id
    ("before_send@slack_webhook", 0, "unknown"),  # at-most-once channel interrupted: reported, not repeated
    ("after_send@slack_webhook", 1, "unknown"),
    ("after_record@slack_webhook", 1, "sent"),
]


@pytest.mark.parametrize("point,slack,slack_status", SQLITE_POINTS, ids=[p[0] for p in SQLITE_POINTS])
def test_sqlite_crash_at_each_step_loses_and_doubles_no_page(tmp_path, receiver, request, point, slack, slack_status):
    rig = DeliveryRig(tmp_path, receiver)
    code, out = rig.run_process(crash=point)
    assert code == -signal.SIGKILL, out  # the crash point was reached
    code, out = rig.run_process()  # the next run (cron, Airflow retry)
    assert code == 0, out
    _assert_once_everywhere(rig, slack=slack)
    statuses = _outbox(rig, request)
    assert statuses == {"webhook": "sent", "pagerduty": "sent", "slack_webhook": slack_status, "console": "sent"}
    if slack_status == "unknown":  # the maybe-lost page is reported on the ops path
        assert "slack_webhook: unknown: interrupted between sending and recording" in out


ES_POINTS = ["after_outbox", "after_alert", "after_cursor", "after_commit", "after_send@webhook"]


@pytest.mark.parametrize("point", ES_POINTS)
def test_elasticsearch_crash_at_each_step_loses_and_doubles_no_page(tmp_path, receiver, request, es_proxy, es_prefix,
                                                                    point):
    rig = DeliveryRig(tmp_path, receiver, store_yaml=f"  type: elasticsearch\n  url: {es_proxy.url}\n  prefix: {es_prefix}\n")
    code, out = rig.run_process(crash=point)
    assert code == -signal.SIGKILL, out
    code, out = rig.run_process()
    assert code == 0, out
    _assert_once_everywhere(rig)
    assert _outbox(rig, request) == {"webhook": "sent", "pagerduty": "sent", "slack_webhook": "sent", "console": "sent"}


# -- channels that fail ------------------------------------------------------------------------

def test_503_is_retried_at_the_next_run_and_does_not_hold_up_the_other_channels(tmp_path, receiver, monkeypatch, request):
    receiver.script("/services", Reply(503, "upstream_unavailable"))
    receiver.script("/hook", Reply(503, "maintenance"))
    rig = DeliveryRig(tmp_path, receiver)
    report, _ = rig.run(monkeypatch)
    assert report.detection.delivery.retrying == 2
    assert sorted(c for _, c, _ in report.detection.delivery.failures) == ["slack_webhook", "webhook"]
    assert rig.pages("pagerduty") and not rig.pages("slack_webhook") and not rig.pages("webhook")
    report, _ = rig.run(monkeypatch, minutes=5)  # the channels are back: the next run delivers
    assert report.detection.delivery.sent == 2
    _assert_once_everywhere(rig)
    store = _store(rig, request)
    try:
        [alert] = store.alert_history()
        slack = next(d for d in alert.deliveries if d.channel == "slack_webhook")
        assert (slack.status, slack.attempts) == ("sent", 2)
    finally:
        store.close()


def test_429_retry_after_is_honoured_across_runs(tmp_path, receiver, monkeypatch):
    receiver.script("/services", Reply(429, "rate_limited", headers={"Retry-After": "3"}))
    rig = DeliveryRig(tmp_path, receiver)
    rig.run(monkeypatch)
    answered = time.monotonic()  # (about) when the 429 came back
    report, _ = rig.run(monkeypatch, minutes=5)  # within Retry-After: the channel is left alone
    assert len(receiver.to("/services")) == 1 and report.detection.delivery.waiting == 1
    time.sleep(max(0.0, 3.1 - (time.monotonic() - answered)))
    report, _ = rig.run(monkeypatch, minutes=10)  # the first run after Retry-After delivers
    assert report.detection.delivery.sent == 1
    _assert_once_everywhere(rig)


def test_a_hanging_channel_times_out_is_retried_and_the_others_go_first(tmp_path, receiver, monkeypatch):
    receiver.script("/hook", Reply(504, "gateway timeout", delay=1.5))  # no answer within timeout_s: 1
    rig = DeliveryRig(tmp_path, receiver)
    report, _ = rig.run(monkeypatch)
    assert report.detection.delivery.retrying == 1
    assert rig.pages("pagerduty") and rig.pages("slack_webhook") and not rig.pages("webhook")
    rig.run(monkeypatch, minutes=5)
    _assert_once_everywhere(rig)


def test_a_refused_delivery_is_given_up_at_once_and_reported(tmp_path, receiver, monkeypatch, request):
    receiver.script("/services", Reply(404, "no_service"))
    rig = DeliveryRig(tmp_path, receiver)
    report, console = rig.run(monkeypatch)
    [line] = report.detection.delivery.gave_up
    assert "slack_webhook" in line and "HTTP 404" in line
    assert "Vigie delivery: gave up open of alert" in console  # the ops path
    rig.run(monkeypatch, minutes=5)
    assert len(receiver.to("/services")) == 1  # not retried
    assert _outbox(rig, request)["slack_webhook"] == "failed"


def test_a_channel_down_past_the_expiry_is_given_up_and_reported(tmp_path, receiver, monkeypatch, request):
    receiver.script("/services", *[Reply(503, "down")] * 5)
    rig = DeliveryRig(tmp_path, receiver, delivery="  expire_after_minutes: 0.02\n")  # 1.2 s
    rig.run(monkeypatch)
    time.sleep(1.3)
    report, console = rig.run(monkeypatch, minutes=5)
    [line] = report.detection.delivery.gave_up
    assert "not delivered within" in line and "HTTP 503" in line
    assert "Vigie delivery: gave up" in console
    store = _store(rig, request)
    try:
        [alert] = store.alert_history()
        assert [d.status for d in alert.deliveries if d.channel == "slack_webhook"] == ["expired"]
    finally:
        store.close()


# -- overlapping runs ----------------------------------------------------------------------------

@pytest.mark.parametrize("backend", ["sqlite", "elasticsearch"])
def test_two_concurrent_runs_page_once_and_the_second_says_it_skipped(tmp_path, receiver, request, backend):
    store_yaml = None
    if backend == "elasticsearch":
        proxy, prefix = request.getfixturevalue("es_proxy"), request.getfixturevalue("es_prefix")
        store_yaml = f"  type: elasticsearch\n  url: {proxy.url}\n  prefix: {prefix}\n"
    in_flight = threading.Event()
    # The first run is still delivering (its request held until the second run is over, whatever the load)...
    receiver.script("/hook", Reply(200, {"ok": True}, delay=90.0, hold=in_flight))
    rig = DeliveryRig(tmp_path, receiver, store_yaml=store_yaml, delivery="  lease_wait_s: 0.5\n",
                      options="{retry_attempts: 1, timeout_s: 120}")
    first = rig.start_process()
    try:
        deadline = time.monotonic() + 60
        while not receiver.to("/hook") and time.monotonic() < deadline:
            time.sleep(0.05)
        assert receiver.to("/hook"), "the first run never delivered"
        code, second = rig.run_process()  # ...when the second starts (cron overlap)
    finally:
        in_flight.set()
    first_out, _ = first.communicate(timeout=60)
    assert first.returncode == 0 and code == 0, (first_out, second)
    assert "detection and delivery skipped: another process holds the 'detect-and-deliver' lease" in second
    assert "replay: ok" in second  # ingestion is not leased: it ran
    _assert_once_everywhere(rig)


# -- digests -------------------------------------------------------------------------------------

def test_many_topics_in_one_bucket_make_one_digest_through_the_outbox(tmp_path, receiver, monkeypatch, request):
    rig = DeliveryRig(tmp_path, receiver, topics=("acme", "acme_fr", "acme_en"))
    report, console = rig.run(monkeypatch)
    [digest] = rig.pages("slack_webhook")
    assert "3" in digest  # one Slack message for three topics
    assert len(set(rig.pages("webhook"))) == 3 and len(set(rig.pages("pagerduty"))) == 3  # per alert
    assert console.count("topics") >= 1 and report.detection.delivery.sent == 12
    store = _store(rig, request)
    try:
        slack = [d for a in store.alert_history() for d in a.deliveries if d.channel == "slack_webhook"]
        assert [d.status for d in slack] == ["sent"] * 3 and all(d.response.startswith("digest of 3") for d in slack)
    finally:
        store.close()


def test_vigie_deliver_sends_between_runs_what_a_run_could_not(tmp_path, receiver, monkeypatch):
    from click.testing import CliRunner

    from vigie.app.cli.main import cli

    receiver.script("/services", Reply(503, "down"))
    rig = DeliveryRig(tmp_path, receiver)
    rig.run(monkeypatch)
    assert not rig.pages("slack_webhook")
    result = CliRunner().invoke(cli, ["deliver", "--config", str(rig.config)])  # the channel is back
    assert result.exit_code == 0, result.output
    assert "outbox: 1 sent" in result.output
    _assert_once_everywhere(rig)


def test_an_acknowledgement_the_pager_refused_with_503_is_retried_by_the_next_pass(tmp_path, receiver, monkeypatch):
    from click.testing import CliRunner

    from vigie.app.cli.main import cli

    rig = DeliveryRig(tmp_path, receiver)
    report, _ = rig.run(monkeypatch)
    [event] = report.events
    receiver.script("/v2/enqueue", Reply(503, "busy"))
    result = CliRunner().invoke(cli, ["alerts", "ack", event.alert.id, "--by", "alice", "--config", str(rig.config)])
    assert result.exit_code == 0 and "pagerduty: retrying" in result.output, result.output
    result = CliRunner().invoke(cli, ["deliver", "--config", str(rig.config)])
    assert "outbox: 1 sent" in result.output, result.output
    assert rig.pages("pagerduty").count(f"{event.alert.dedup_key}:acknowledge") == 1
