"""Benchmark: the replay listener's demo access pattern, and the scenario generator.

Prints: the time to replay the bundled demo file tick by tick (one `fetch` per 5 simulated minutes,
resuming from the previous cursor, as `vigie demo` does), the time to generate and write the demo
scenario, and the time to generate a backtest suite.

    .venv/bin/python bench/replay_scenario.py [--suite 50]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from listeners.replay import ReplayListener  # noqa: E402
from vigie.core.models import utc  # noqa: E402
from vigie.sim.scenario import DEMO_SEED, generate, scenario_suite, write  # noqa: E402


def replay_ticks(path: Path, start, end) -> tuple[int, int, float]:
    listener = ReplayListener(path)
    query = listener.plan([])[0]
    cursor, now, calls, posts = None, start, 0, 0
    began = time.perf_counter()
    while now < end:
        now += timedelta(minutes=5)
        calls += 1
        for page in listener.fetch(query, cursor, now):
            posts += len(page.posts)
            cursor = page.cursor
    return calls, posts, time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suite", type=int, default=50, help="scenarios in the suite benchmark")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(f"machine: {platform.processor() or platform.machine()}, Python {platform.python_version()}")

    demo = ROOT / "samples" / "demo" / "posts.jsonl"
    import json

    truth = json.loads((demo.parent / "truth.json").read_text(encoding="utf-8"))
    times = []
    for _ in range(args.runs):
        calls, posts, secs = replay_ticks(demo, utc(truth["start"]), utc(truth["end"]))
        times.append(secs)
    best = min(times)
    print(f"replay: {calls} fetch calls, {posts} posts, {demo.stat().st_size / 1e6:.2f} MB: "
          f"{best:.3f} s (best of {args.runs}), {best / calls * 1e6:.0f} µs per call, {posts / best:,.0f} posts/s")

    gen = []
    for _ in range(args.runs):
        began = time.perf_counter()
        scenario = generate(DEMO_SEED)
        with tempfile.TemporaryDirectory() as tmp:
            write(scenario, tmp)
        gen.append(time.perf_counter() - began)
    print(f"generate + write demo scenario (seed {DEMO_SEED}, {len(scenario.posts)} posts): "
          f"{min(gen):.2f} s (best of {args.runs})")

    began = time.perf_counter()
    sizes = [len(s.posts) for s in scenario_suite(n=args.suite)]
    secs = time.perf_counter() - began
    print(f"scenario_suite(n={args.suite}): {secs:.1f} s, {sum(sizes):,} posts "
          f"(median {statistics.median(sizes):,.0f} per scenario)")


if __name__ == "__main__":
    main()
