"""Benchmark: blind alerts over the suite of seeded scenarios (`vigie.sim.scenario.scenario_suite`).

Each platform of a scenario is one source, collected every 5 minutes: a run brings the posts created since
the previous run. The collection health (vigie/store/health.py) and the blind-alert logic (alerts/coverage.py)
run at every run, exactly as `ingest_source` and `detect_and_deliver` drive them, without a store.

Printed:
- false blind alerts per source-week on the untouched suite (goal 0): an alert with no failure injected,
  i.e. quiet nights, weekends, bursts and their aftermath mistaken for a collector problem;
- time to blind alert after an injected failure, in 5-minute buckets beyond the configured tolerance
  (goal <= 2), for three failures injected at a seeded time on day 5 of each scenario, per source:
    error   every run fails (network errors): the `failing_minutes` rule;
    auth    the token is revoked: immediately;
    empty   the source answers 200 with no posts (a changed API, an expired query): the volume collapse
            rule, whose tolerance is `collapse_hours` (the span it judges) — only sources busy enough for
            silence to be evidence are expected to alert (`min_expected` posts over the span).

    .venv/bin/python bench/coverage.py --n 20

What is left for integration: the generator is being rewritten by another helper (the demo's collector
outage and these figures inside bench/detection.py); this script only uses `scenario_suite` and the
records' `source` / `created_at`, so it should keep running on the new generator unchanged.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from alerts import coverage  # noqa: E402
from vigie.store import health as collection  # noqa: E402
from vigie.core.config import CoverageConfig  # noqa: E402
from vigie.core.models import utc  # noqa: E402
from vigie.sim.scenario import DEFAULT_START, generate, suite_shapes  # noqa: E402

RUN = timedelta(minutes=5)
VERBOSE = False


def per_run_counts(records: list[dict], start: datetime, end: datetime) -> dict[str, list[int]]:
    """Posts per source per 5-minute run over [start, end)."""
    n = int((end - start) / RUN)
    out: dict[str, list[int]] = defaultdict(lambda: [0] * n)
    for rec in records:
        i = int((utc(rec["created_at"]) - start) / RUN)
        if 0 <= i < n:
            out[rec["source"]][i] += 1
    return out


def simulate(source: str, counts: list[int], start: datetime, cfg: CoverageConfig,
             failure: str | None = None, fail_at: int | None = None) -> list[int]:
    """Run indexes at which a blind alert opened (the coverage lifecycle, one source)."""
    h = collection.SourceHealth(source=source)
    current = None
    opened = []
    for i, n in enumerate(counts):
        now = start + RUN * (i + 1)
        failing = failure is not None and fail_at is not None and i >= fail_at
        if failing and failure in ("error", "auth"):
            kind = "network" if failure == "error" else "auth"
            collection.record_query(h, "q", now, pages=0, posts=0, error=(kind, "injected"), infos=[])
            collection.finish_run(h, now, failed=True)
        else:
            posts = 0 if failing and failure == "empty" else n
            collection.record_query(h, "q", now, pages=1, posts=posts, error=None, infos=[])
            collection.finish_run(h, now, failed=False)
        change = coverage.step(source, coverage.assess(h, now, cfg), current, now)
        if change is not None:
            current, event = change
            if event == "open":
                opened.append(i)
                if VERBOSE and failure is None:
                    print(f"  false blind alert {source} at {now:%a %H:%M}: {current.coverage['reasons'][0]['message']}")
    return opened


@dataclass
class BlindTally:
    """What `measure` found: false blind alerts on the untouched suite, and delays after injected failures."""

    scenarios: int = 0
    days: int = 7
    seconds: float = 0.0
    source_weeks: float = 0.0
    false_alerts: int = 0
    false_by_source: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    delays: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))  # buckets beyond tolerance
    missed: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    tried: dict[str, int] = field(default_factory=lambda: defaultdict(int))


def measure(indices: Iterable[int], days: int = 7, base_seed: int = 1000) -> BlindTally:
    """Blind alerts over the suite scenarios `indices` (`scenario_suite`'s i: seed base_seed + i)."""
    cfg = CoverageConfig()
    t0 = time.perf_counter()
    tally = BlindTally(days=days)
    for k in indices:
        sc = generate(base_seed + k, start=DEFAULT_START, days=days, shapes=suite_shapes(k))
        tally.scenarios += 1
        start, end = utc(sc.truth["start"]), utc(sc.truth["end"])
        counts = per_run_counts(sc.posts, start, end)
        rng = random.Random(k)
        for source, series in sorted(counts.items()):
            tally.source_weeks += (end - start) / timedelta(days=7)
            opened = simulate(source, series, start, cfg)
            tally.false_alerts += len(opened)
            tally.false_by_source[source] += len(opened)
            fail_at = int(timedelta(days=4, hours=rng.uniform(0, 24)) / RUN)
            for failure, tolerance in (("error", timedelta(minutes=cfg.failing_minutes)), ("auth", timedelta(0)),
                                       ("empty", timedelta(hours=cfg.collapse_hours))):
                tally.tried[failure] += 1
                after = [i for i in simulate(source, series, start, cfg, failure, fail_at) if i >= fail_at]
                if not after:
                    tally.missed[failure] += 1
                    continue
                late = (after[0] - fail_at + 1) * RUN - tolerance
                tally.delays[failure].append(late / RUN)
    tally.seconds = time.perf_counter() - t0
    return tally


def report(t: BlindTally) -> list[str]:
    """The printed lines (bench/detection.py prints them too)."""
    lines = [f"blind alerts: scenarios {t.scenarios} x {t.days} days; source-weeks: {t.source_weeks:.1f}; "
             f"{t.seconds:.1f} s",
             f"false blind alerts: {t.false_alerts} ({t.false_alerts / max(t.source_weeks, 1e-9):.3f} per source-week) "
             f"by source: {dict(sorted(t.false_by_source.items()))}"]
    for failure in ("error", "auth", "empty"):
        d = t.delays[failure]
        med = f"{statistics.median(d):+.1f}" if d else "-"
        worst = f"{max(d):+.1f}" if d else "-"
        lines.append(f"time to blind alert after '{failure}' beyond tolerance, in buckets: median {med}, worst {worst}; "
                     f"alerted {len(d)}/{t.tried[failure]} (missed {t.missed[failure]})")
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=20, help="scenarios of the suite")
    ap.add_argument("--days", type=int, default=7)
    ap.add_argument("--verbose", action="store_true", help="print each false blind alert and why")
    args = ap.parse_args()
    global VERBOSE
    VERBOSE = args.verbose
    print("\n".join(report(measure(range(args.n), days=args.days))))


if __name__ == "__main__":
    main()
