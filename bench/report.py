"""Time the HTML report and the notebook loaders on a configured store (default: the demo's, after `make demo`).

    .venv/bin/python bench/report.py [--config samples/demo/vigie.yml] [--repeat 3]

Prints the store size, the report's wall time and size, and the pandas loaders' wall time.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from vigie.core.config import load_config  # noqa: E402
from vigie.app.notebook import load_alerts, load_posts  # noqa: E402
from vigie.app.report import write_report  # noqa: E402
from vigie.store import open_store  # noqa: E402


def best_of(repeat: int, fn) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        began = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - began)
    return min(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="samples/demo/vigie.yml")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    config = load_config(args.config)
    store = open_store(config.store)
    try:
        posts = store.count_posts()
        alerts = len(store.alert_history())
        if not posts:
            sys.exit(f"{args.config}: the store is empty; run `make demo` first")
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "report.html"
            seconds, _ = best_of(args.repeat, lambda: write_report(store, config, out))
            size = out.stat().st_size
    finally:
        store.close()
    load_s, frame = best_of(args.repeat, lambda: load_posts(config))
    alerts_s, _ = best_of(args.repeat, lambda: load_alerts(config))
    print(f"store: {config.store.type}, {posts:,} posts, {alerts} alerts, {len(config.topics)} topics")
    print(f"write_report: {seconds:.2f} s (best of {args.repeat}), {size / 1024:.0f} KiB of HTML")
    rate = len(frame) / max(load_s, 1e-9)
    print(f"load_posts (all topics): {load_s:.2f} s for {len(frame):,} rows ({rate:,.0f} rows/s)")
    print(f"load_alerts: {alerts_s * 1000:.0f} ms")


if __name__ == "__main__":
    main()
