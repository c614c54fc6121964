"""Alert delivery: latency and throughput of `deliver` to console + Slack webhook + PagerDuty + signed webhook,
against the local receiver on 127.0.0.1, with the delivery log persisted in SQLite after each channel.

    .venv/bin/python bench/notify.py                 # 200 alerts
    .venv/bin/python bench/notify.py --alerts 1000

What it measures is Vigie's own cost (rendering, escaping, HTTP, write-ahead log in SQLite), not the
providers': a real Slack or PagerDuty answers in 100-300 ms, which dominates in production.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from alerts.notify import build_notifiers, deliver  # noqa: E402
from alerts.notify.receiver import LocalReceiver  # noqa: E402
from notify_fixtures import make_alert  # noqa: E402
from vigie.config import ChannelConfig  # noqa: E402
from vigie.models import Level  # noqa: E402
from vigie.store.sqlite import SqliteStore  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--alerts", type=int, default=200)
    args = parser.parse_args()
    with LocalReceiver() as server, tempfile.TemporaryDirectory() as tmp:
        os.environ.update(SLACK_WEBHOOK_URL=server.url + "/services/bench", PAGERDUTY_ROUTING_KEY="bench-key",
                          VIGIE_WEBHOOK_SECRET="bench-secret")
        notifiers = build_notifiers([
            ChannelConfig(type="console", min_level="watch"), ChannelConfig(type="slack_webhook"),
            ChannelConfig(type="pagerduty", url=server.url, min_level="warning"),
            ChannelConfig(type="webhook", url=server.url + "/hook"),
        ], console=io.StringIO(), strict=True)
        store = SqliteStore(Path(tmp) / "bench.db")
        latencies = []
        began = time.perf_counter()
        for i in range(args.alerts):
            alert = make_alert(Level.CRISIS, 80, topic=f"topic{i}")
            t = time.perf_counter()
            deliver(alert, "open", notifiers, store)
            latencies.append(time.perf_counter() - t)
        total = time.perf_counter() - began
        store.close()
    n = len(notifiers)
    print(f"{args.alerts} alerts x {n} channels = {len(server.requests)} HTTP requests + {args.alerts} console prints")
    print(f"deliver(): {args.alerts / total:.0f} alerts/s, {args.alerts * n / total:.0f} deliveries/s")
    print(f"latency per alert (all {n} channels): p50 {statistics.median(latencies) * 1000:.1f} ms, "
          f"p95 {sorted(latencies)[int(0.95 * len(latencies)) - 1] * 1000:.1f} ms")


if __name__ == "__main__":
    main()
