"""Benchmark: `vigie backtest --series` scoring (alerts.backtest.score_series): cost and event detection.

1. Cost: a 16,000-point 5-minute count series (≈ 55 days), scored 3 times; prints the best time.
2. Quality on count series with known events: for each suite scenario (`vigie.scenario.suite_shapes`),
   the brand topic's 5-minute count of negative posts (oracle labels, see alerts/evaluation.py) is scored;
   an event is caught when a score ≥ THRESHOLD occurs between its onset − 1 h and its end; prints catches,
   median lead before the peak, and the share of points outside events with a score ≥ THRESHOLD.

    .venv/bin/python bench/series_scoring.py [--n 20]
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from alerts.backtest import score_series  # noqa: E402
from alerts.evaluation import oracle_analysis  # noqa: E402
from vigie.models import utc  # noqa: E402
from vigie.scenario import generate, suite_shapes  # noqa: E402

THRESHOLD = 0.9
STEP = timedelta(minutes=5)


def cost(points: int = 16_000) -> float:
    rng = random.Random(1)
    t0 = datetime(2026, 1, 5, tzinfo=timezone.utc)
    times = [t0 + STEP * i for i in range(points)]
    values = []
    for t in times:
        lam = 1 + 8 * (1 + math.cos((t.hour - 13) / 24 * 2 * math.pi)) / 2
        values.append(float(sum(rng.random() < lam / 20 for _ in range(20))))
    best = math.inf
    for _ in range(3):
        began = time.perf_counter()
        score_series(times, values)
        best = min(best, time.perf_counter() - began)
    return best


def scenario_series(index: int) -> tuple[list[datetime], list[float], list[dict]]:
    sc = generate(1000 + index, shapes=suite_shapes(index))
    start, end = utc(sc.truth["start"]), utc(sc.truth["end"])
    n = int((end - start) / STEP)
    counts = [0.0] * n
    brand = sc.topics[0].id
    for rec, role in zip(sc.posts, sc.roles):
        a = oracle_analysis(rec, role, sc)
        if a.topic_ids == [brand] and a.sentiment.label == "neg":
            i = int((utc(rec["created_at"]) - start) / STEP)
            if 0 <= i < n:
                counts[i] += 1
    times = [start + STEP * i for i in range(n)]
    events = [e for e in sc.truth["events"] if e["topic_id"] == brand]
    return times, counts, events


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20)
    args = parser.parse_args()
    print(f"cost: 16,000 points scored in {cost():.3f} s (best of 3)")
    caught = {"bad": [0, 0], "positive": [0, 0]}
    leads: list[float] = []
    outside = flagged = 0
    for i in range(args.n):
        times, counts, events = scenario_series(i)
        scores = score_series(times, counts)
        in_event = [False] * len(times)
        for e in events:
            onset, peak, end = utc(e["onset"]), utc(e["peak"]), utc(e["end"])
            hits = [t for t, s in zip(times, scores) if onset - timedelta(hours=1) <= t <= end and s >= THRESHOLD]
            kind = "positive" if e["kind"] == "positive_viral" else "bad"
            caught[kind][1] += 1
            if hits:
                caught[kind][0] += 1
                if kind == "bad":
                    leads.append((peak - hits[0]).total_seconds() / 60)
            for j, t in enumerate(times):
                if onset - timedelta(hours=1) <= t <= end:
                    in_event[j] = True
        for s, inside in zip(scores, in_event):
            if not inside:
                outside += 1
                flagged += s >= THRESHOLD
    med = f"{statistics.median(leads):.0f}" if leads else "-"
    print(f"{args.n} scenarios, negative-post counts of the brand topic, threshold {THRESHOLD}:")
    print(f"  negative events flagged: {caught['bad'][0]}/{caught['bad'][1]}, median lead before the peak {med} min")
    print(f"  positive events flagged (negatives rise with any crowd): {caught['positive'][0]}/{caught['positive'][1]}")
    print(f"  points outside events with score >= {THRESHOLD}: {flagged}/{outside} ({100 * flagged / max(outside, 1):.2f} %)")


if __name__ == "__main__":
    main()
