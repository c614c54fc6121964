"""Benchmark: detection quality over a suite of seeded scenarios, per detector configuration.

For each scenario of `vigie.sim.scenario.scenario_suite` (7 simulated days, ground truth known), the posts are
analysed, stored in a scratch SQLite file, and the real `Detector` + `AlertPolicy` run at every 5-minute
bucket (`vigie.sim.backtest.backtest_posts`). Printed per configuration: events caught at warning / at their
severity, median and p10 lead time before the true peak, false alerts per topic-week at warning and at
crisis level, alerts on positive events, and the cost of one assessment.

Analysis modes:
  --analysis nlp     the project's NLP (`nlp.pipeline.Analyzer`): what users get.
  --analysis nlp --ingest per-bucket
                     the project's NLP, each 5-minute bucket analysed by a fresh analyser that knows the copy
                     clusters only through the store, with the pipeline's late relabelling: what one
                     `vigie run --now T` per bucket (cron, Airflow) gets (vigie/sim/per_bucket.py). The
                     default `--ingest one` analyses in one process, in batches of 512 posts.
  --analysis oracle  labels from the generator's roles (angry/copy/praise...; ordinary posts get the
                     topic's mood mix by a hash of their id; copies share a near-duplicate cluster per
                     template): detection quality with the NLP factored out.

Tuning protocol: defaults are tuned on scenarios 0-9, 20-29, 40-49 (`--split tune`) and reported on
10-19, 30-39 (`--split test`); each block of ten holds every event shape once.

    .venv/bin/python bench/detection.py --n 50 --split test --analysis oracle

`--feedback`: each configuration is also replayed with a simulated analyst (`vigie.sim.evaluation.truth_analyst`)
who marks every warning+ alert 30 min after it reaches warning: false alarm outside a true negative event,
real crisis during one; the marks feed the per-topic adaptation (`alerts.feedback`) causally. Printed:
false warning+ per topic-week and crisis leads before / after, per event shape, and crises caught.

`--suite feedback`: the feedback suite instead (`vigie.sim.scenario.feedback_suite`, seeds 5000+i by default):
the brand's outage-complaint waves recur every day or two, at no fixed hour (organic, max level watch), beside
one true event (bad buzz, flash viral, night, weekend, bot raid in turn). Use it with --feedback:

    .venv/bin/python bench/detection.py --suite feedback --n 20 --split all --analysis oracle --variants default --feedback

Then, unless --no-blind (always skipped with --suite feedback), the blind-alert figures of bench/coverage.py on the same scenarios: false blind
alerts per source-week (goal 0) and the time to a blind alert after an injected failure, in 5-minute
buckets beyond the configured tolerance (goal <= 2).
"""

from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from vigie.sim.evaluation import FEEDBACK_SUFFIX, SUITES, VARIANTS, Tally, run_scenario  # noqa: E402
from bench import coverage as blind_bench  # noqa: E402

def is_tune(i: int) -> bool:
    """Blocks of 10 consecutive scenarios (one of each suite shape) alternate: 0-9 tune, 10-19 test, ...
    so both halves see every event shape."""
    return (i // 10) % 2 == 0


def pct(values: list[float], q: float) -> str:
    if not values:
        return "-"
    ordered = sorted(values)
    return f"{ordered[min(len(ordered) - 1, int(q * len(ordered)))]:.0f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=50, help="scenarios in the suite")
    parser.add_argument("--suite", choices=tuple(SUITES), default="default",
                        help="feedback: scenarios whose false alarms recur on one topic (for --feedback)")
    parser.add_argument("--base-seed", type=int, default=None, help="default 1000 (5000 for --suite feedback)")
    parser.add_argument("--split", choices=("tune", "test", "all"), default="test")
    parser.add_argument("--analysis", choices=("nlp", "oracle"), default="nlp")
    parser.add_argument("--ingest", choices=("one", "per-bucket"), default="one",
                        help="with --analysis nlp: per-bucket = one fresh analyser per 5-minute bucket, copy "
                             "clusters through the store (as one `vigie run` per bucket)")
    parser.add_argument("--variants", default=",".join(VARIANTS), help="comma-separated, among: " + ", ".join(VARIANTS))
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--by-shape", action="store_true", help="also print catches per event shape")
    parser.add_argument("--background", choices=("realistic", "poisson"), default="realistic",
                        help="the suite's background traffic (poisson: the calm chatter of earlier versions)")
    parser.add_argument("--no-reposts", action="store_true",
                        help="scenarios without reposts (retweets, boosts: amplification of their originals), as "
                             "before the generator wrote them")
    parser.add_argument("--feedback", action="store_true",
                        help="also replay each configuration with a simulated analyst's false-alarm / real-crisis marks")
    parser.add_argument("--no-blind", action="store_true",
                        help="skip the blind-alert figures (false blind alerts per source-week, time to a blind "
                             "alert after an injected failure: bench/coverage.py over the same scenarios)")
    args = parser.parse_args()
    if args.base_seed is None:
        args.base_seed = 5000 if args.suite == "feedback" else 1000
    variants = [v for v in args.variants.split(",") if v]
    unknown = [v for v in variants if v.removesuffix(FEEDBACK_SUFFIX) not in VARIANTS]
    if unknown:
        parser.error(f"unknown variant(s) {unknown}")
    if args.feedback:
        variants = [v for name in variants for v in (name, name + FEEDBACK_SUFFIX)]
    if args.ingest == "per-bucket":
        if args.analysis != "nlp":
            parser.error("--ingest per-bucket needs --analysis nlp (the oracle's clusters are the generator's)")
        args.analysis = "nlp-per-bucket"
    indices = [i for i in range(args.n) if args.split == "all" or is_tune(i) == (args.split == "tune")]
    began = time.perf_counter()
    totals = {v: Tally() for v in variants}
    jobs = [(i, args.base_seed, args.analysis, variants, args.background, args.suite, not args.no_reposts)
            for i in indices]
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        for result in pool.map(run_scenario, jobs):
            for name, tally in result.items():
                totals[name].add(tally)
    wall = time.perf_counter() - began
    print(f"{len(indices)} scenarios of the {args.suite} suite ({args.split} split of {args.n}, seeds {args.base_seed}+i), "
          f"analysis={args.analysis}, background={args.background}{', no reposts' if args.no_reposts else ''}, "
          f"{wall:.0f} s wall on {args.jobs} process(es)")
    print("| config | caught ≥warning | caught at severity | lead warning median / p10 (min) | "
          "lead crisis median / p10 (min, crisis-severity events) | false alerts / topic-week (warning+ / crisis) | "
          "positive events: warning+ / crisis | ms per assessment |")
    print("|---|---|---|---|---|---|---|---|")
    for name, t in totals.items():
        tw = max(t.topic_weeks, 1e-9)
        print(f"| {name} | {t.caught_warning}/{t.events} | {t.caught_severity}/{t.events} | "
              f"{pct(t.lead_warning, 0.5)} / {pct(t.lead_warning, 0.1)} | {pct(t.lead_crisis, 0.5)} / {pct(t.lead_crisis, 0.1)} | "
              f"{t.false_warning / tw:.3f} / {t.false_crisis / tw:.3f} | {t.positive_warning}/{t.positive} / "
              f"{t.positive_crisis}/{t.positive} | {1000 * t.seconds / max(t.assessments, 1):.2f} |")
    print()
    print("| config | first warning after the true onset median / p90 (min) | resolution after the event's end "
          "median / p90 (min) | still open at the end | warning+ alerts per caught event (mean / max) |")
    print("|---|---|---|---|---|")
    for name, t in totals.items():
        per = t.alerts_per_event
        print(f"| {name} | {pct(t.delay_warning, 0.5)} / {pct(t.delay_warning, 0.9)} | "
              f"{pct(t.resolution_lag, 0.5)} / {pct(t.resolution_lag, 0.9)} | {t.unresolved} | "
              f"{sum(per) / max(len(per), 1):.2f} / {max(per, default=0)} |")
    print()
    print("| config | first warning lead / onset-to-peak, median / p10 | crisis-severity events at crisis before the peak |")
    print("|---|---|---|")
    for name, t in totals.items():
        f = t.lead_fraction
        med = f"{sorted(f)[len(f) // 2]:.0%}" if f else "-"
        p10 = f"{sorted(f)[int(0.1 * len(f))]:.0%}" if f else "-"
        print(f"| {name} | {med} / {p10} | {t.crisis_before_peak}/{t.crisis_events} |")
    print()
    print("| config | organic spikes | at warning+ | at crisis | at watch | by shape: spikes / warning+ / watch |")
    print("|---|---|---|---|---|---|")
    for name, t in totals.items():
        per = ", ".join(f"{s} {v[0]}/{v[1]}/{v[2]}" for s, v in sorted(t.organic_by_shape.items()))
        watch = sum(v[2] for v in t.organic_by_shape.values())
        print(f"| {name} | {t.organic} | {t.organic_warning} | {t.organic_crisis} | {watch} | {per} |")
    if not args.no_blind and args.suite == "default":
        # Collection health on the same scenarios: goal 0 false blind alerts per source-week and a
        # blind alert at most 2 buckets after the configured tolerance.
        print()
        print("\n".join(blind_bench.report(blind_bench.measure(indices, base_seed=args.base_seed))))
    if args.by_shape:
        for name, t in totals.items():
            shapes = ", ".join(f"{s} {k}/{n}" for s, (n, k) in sorted(t.by_shape.items()))
            print(f"{name}: caught at severity by shape: {shapes}")
            leads = ", ".join(f"{s} {pct(v, 0.5)} (min {min(v):.0f})" for s, v in sorted(t.shape_leads.items()))
            print(f"{name}: warning lead before the peak by shape, median (min): {leads}")
    if args.feedback:
        print_feedback(totals)


def print_feedback(totals: dict[str, Tally]) -> None:
    """Before / after the simulated analyst's marks, per configuration and per event shape."""
    print()
    print("| config | analyst marks (false alarm / real crisis) | false warning+ / topic-week before → after | "
          "false crisis before → after | caught at severity before → after | crisis-severity events at crisis "
          "before → after | crisis lead median / p10 (min) before → after |")
    print("|---|---|---|---|---|---|---|")
    for name, after in totals.items():
        before = totals.get(name.removesuffix(FEEDBACK_SUFFIX))
        if not name.endswith(FEEDBACK_SUFFIX) or before is None:
            continue
        tw = max(before.topic_weeks, 1e-9)
        caught = lambda t: sum(1 for _ in t.lead_crisis)  # noqa: E731
        print(f"| {name} | {after.marks.get('false_alarm', 0)} / {after.marks.get('real_crisis', 0)} | "
              f"{before.false_warning / tw:.3f} → {after.false_warning / tw:.3f} | "
              f"{before.false_crisis} → {after.false_crisis} | {before.caught_severity}/{before.events} → "
              f"{after.caught_severity}/{after.events} | {caught(before)}/{before.crisis_events} → "
              f"{caught(after)}/{after.crisis_events} | {pct(before.lead_crisis, 0.5)} / {pct(before.lead_crisis, 0.1)} → "
              f"{pct(after.lead_crisis, 0.5)} / {pct(after.lead_crisis, 0.1)} |")
        print()
        print(f"| {name}: shape | caught at severity before → after | false warning+ / topic-week in scenarios "
              "with this shape, before → after | crisis lead median (min) before → after | warning lead median "
              "(min) before → after |")
        print("|---|---|---|---|---|")
        for shape in sorted(before.by_shape):
            fb, fa = before.false_by_shape.get(shape, [0, 0]), after.false_by_shape.get(shape, [0, 0])
            print(f"| {shape} | {before.by_shape[shape][1]}/{before.by_shape[shape][0]} → "
                  f"{after.by_shape.get(shape, [0, 0])[1]}/{after.by_shape.get(shape, [0, 0])[0]} | "
                  f"{fb[0] / max(fb[1], 1e-9):.3f} → {fa[0] / max(fa[1], 1e-9):.3f} | "
                  f"{pct(before.shape_crisis_leads.get(shape, []), 0.5)} → {pct(after.shape_crisis_leads.get(shape, []), 0.5)} | "
                  f"{pct(before.shape_leads.get(shape, []), 0.5)} → {pct(after.shape_leads.get(shape, []), 0.5)} |")


if __name__ == "__main__":
    main()
