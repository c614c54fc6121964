"""Alert delivery: cost of `deliver`, and time from bucket close to delivery through the outbox.

Part 1, `deliver()` to console + Slack webhook + PagerDuty + signed webhook against the local receiver on
127.0.0.1, with the delivery log persisted in SQLite after each channel (Vigie's own cost: rendering,
escaping, HTTP, write-ahead log).

Part 2, the outbox (vigie/pipeline/outbox.py) as the pipeline drives it: a bucket closes every 5 minutes
with `--alerts` new crisis alerts; each bucket is committed with its outbox entries (`commit_bucket`), then
drained; between buckets, delivery passes run every `--pass-every` seconds (`vigie deliver --every`), or
not at all (`vigie run` from cron only). Idle time is skipped on a shifted clock, so the figures are the
real processing time plus the scheduled waits, without spending them. Reported: time from bucket close
to the provider's acceptance, p50/p95 per message,
- with normal channels;
- with the Slack channel answering 503 for `--outage` minutes, then recovering (default back-off:
  30 s doubling to 5 min), and how long after the recovery its backlog was delivered.

    .venv/bin/python bench/notify.py                 # 200 alerts, 24 buckets
    .venv/bin/python bench/notify.py --alerts 3 --buckets 48 --outage 20

A real Slack or PagerDuty answers in 100-300 ms, which dominates in production.
"""

from __future__ import annotations

import argparse
import io
import logging
import os
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from alerts.notify import RetryPolicy, build_notifiers, deliver  # noqa: E402
from vigie.pipeline.outbox import OutboxPolicy, drain, plan  # noqa: E402
from alerts.notify.receiver import LocalReceiver, Reply  # noqa: E402
from vigie.core.config import ChannelConfig  # noqa: E402
from vigie.core.models import Alert, Level  # noqa: E402
from vigie.sim.sample_alerts import make_alert  # noqa: E402
from vigie.store import open_file_store  # noqa: E402

BUCKET = timedelta(minutes=5)


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(round(0.95 * len(ordered))) - 1)]


class ShiftedClock:
    """Real time plus the idle time skipped so far: processing is measured, waits are not spent."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> datetime:
        return datetime.now(timezone.utc) + timedelta(seconds=self.offset)

    def skip(self, seconds: float) -> None:
        self.offset += seconds


class FlakyReceiver(LocalReceiver):
    """The local receiver, with some paths answering 503 until `recover_at` (on the shifted clock)."""

    def __init__(self, clock: ShiftedClock) -> None:
        super().__init__()
        self.clock = clock
        self.down: dict[str, datetime] = {}

    def _default(self, got):  # type: ignore[override]
        for prefix, until in self.down.items():
            if got.path.startswith(prefix) and self.clock() < until:
                return Reply(503, "upstream_unavailable")
        return super()._default(got)


def channels(server: LocalReceiver) -> list[ChannelConfig]:
    os.environ.update(SLACK_WEBHOOK_URL=server.url + "/services/bench", PAGERDUTY_ROUTING_KEY="bench-key",
                      VIGIE_WEBHOOK_SECRET="bench-secret")
    return [ChannelConfig(type="console", min_level="watch"), ChannelConfig(type="slack_webhook"),
            ChannelConfig(type="pagerduty", url=server.url, min_level="warning"),
            ChannelConfig(type="webhook", url=server.url + "/hook")]


def deliver_cost(n_alerts: int) -> None:
    with LocalReceiver() as server, tempfile.TemporaryDirectory() as tmp:
        notifiers = build_notifiers(channels(server), console=io.StringIO(), strict=True)
        store = open_file_store(Path(tmp) / "bench.db")
        latencies = []
        began = time.perf_counter()
        for i in range(n_alerts):
            alert = make_alert(Level.CRISIS, 80, topic=f"topic{i}")
            t = time.perf_counter()
            deliver(alert, "open", notifiers, store)
            latencies.append(time.perf_counter() - t)
        total = time.perf_counter() - began
        store.close()
    n = len(notifiers)
    print(f"deliver(): {n_alerts} alerts x {n} channels = {len(server.requests)} HTTP requests + {n_alerts} console prints")
    print(f"  {n_alerts / total:.0f} alerts/s, {n_alerts * n / total:.0f} deliveries/s; latency per alert (all {n} "
          f"channels): p50 {statistics.median(latencies) * 1000:.1f} ms, p95 {p95(latencies) * 1000:.1f} ms")


def outbox_run(buckets: int, per_bucket: int, pass_every: float | None, outage_min: float) -> dict[str, object]:
    """Buckets closing every 5 min through commit_bucket + drain; returns the latencies (seconds)."""
    clock = ShiftedClock()
    policy = OutboxPolicy()  # the defaults: 30 s doubling to 5 min, 12 h expiry
    server = FlakyReceiver(clock).start()
    recover_at = clock() + timedelta(minutes=outage_min)
    if outage_min:
        server.down["/services"] = recover_at
    try:
        with tempfile.TemporaryDirectory() as tmp:
            notifiers = build_notifiers(channels(server), console=io.StringIO(), strict=True,
                                        retry=RetryPolicy(attempts=1))  # the outbox does the retrying
            store = open_file_store(Path(tmp) / "outbox.db")
            passes = 0
            for b in range(buckets):
                close = clock()
                alerts: list[Alert] = []
                for j in range(per_bucket):
                    alert = make_alert(Level.CRISIS, 80, topic=f"t{b}-{j}", updated_at=close)
                    alert.dedup_key = Alert.make_dedup_key(alert.topic_id, close)
                    alert.id = Alert.make_id(alert.dedup_key)
                    alerts.append(alert)
                entries = plan([(a, "open") for a in alerts], notifiers, store, policy, now=close, bucket_at=close)
                store.commit_bucket(alerts, entries, [], [])
                drain(store, notifiers, policy, clock=clock)
                passes += 1
                waited = clock() - close
                if pass_every:  # `vigie deliver --every`
                    while waited + timedelta(seconds=pass_every) < BUCKET:
                        clock.skip(pass_every)
                        drain(store, notifiers, policy, clock=clock)
                        passes += 1
                        waited = clock() - close
                clock.skip(max(0.0, (BUCKET - (clock() - close)).total_seconds()))
            while store.outbox_open():  # after the last bucket: runs go on until everything is out
                drain(store, notifiers, policy, clock=clock)
                passes += 1
                clock.skip(pass_every or BUCKET.total_seconds())
            done = [e for e in store.outbox_entries() if e.status == "sent"]
            left = [e for e in store.outbox_entries() if e.status != "sent"]
            store.close()
    finally:
        server.stop()
    latency = [(e.done_at - e.bucket_at).total_seconds() for e in done]
    slack = [e for e in done if e.channel == "slack_webhook"]
    after_recovery = [(e.done_at - max(e.bucket_at, recover_at)).total_seconds() for e in slack]
    return {"latency": latency, "slack": [(e.done_at - e.bucket_at).total_seconds() for e in slack],
            "after_recovery": after_recovery, "messages": len(done), "not_sent": len(left), "passes": passes}


def fmt(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else (f"{seconds:.1f} s" if seconds < 120 else f"{seconds / 60:.1f} min")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--alerts", type=int, default=200, help="alerts for deliver(); per bucket / 100 for the outbox")
    parser.add_argument("--buckets", type=int, default=24, help="5-minute buckets in the outbox runs")
    parser.add_argument("--per-bucket", type=int, default=2, help="new crisis alerts per bucket (3+ makes digests)")
    parser.add_argument("--outage", type=float, default=12.0, help="minutes the Slack channel answers 503")
    parser.add_argument("--pass-every", type=float, default=30.0, help="seconds between `vigie deliver` passes")
    args = parser.parse_args()
    deliver_cost(args.alerts)
    logging.disable(logging.ERROR)  # the outage's retry warnings are expected; the figures say the rest
    print(f"\noutbox: {args.buckets} buckets of 5 min, {args.per_bucket} crisis alert(s) each, 4 channels; "
          "time from bucket close to delivery")
    runs = [("normal channels, runs only", None, 0.0),
            (f"Slack 503 for {args.outage:g} min then back, runs every 5 min only", None, args.outage),
            (f"Slack 503 for {args.outage:g} min then back, + `vigie deliver --every {args.pass_every:g}`",
             args.pass_every, args.outage)]
    for label, every, outage in runs:
        r = outbox_run(args.buckets, args.per_bucket, every, outage)
        lat = r["latency"]
        line = (f"  {label}: {r['messages']} messages ({r['not_sent']} not sent), all channels p50 "
                f"{fmt(statistics.median(lat))}, p95 {fmt(p95(lat))}")
        if outage:
            line += (f"; Slack p95 {fmt(p95(r['slack']))}, its backlog out {fmt(max(r['after_recovery']))} "
                     f"after the recovery (p95 {fmt(p95(r['after_recovery']))})")
        print(line)


if __name__ == "__main__":
    main()
