"""Benchmark: third-party change/burst detectors vs Vigie's `score_series`, all run causally.

Same series and scoring rule as `bench/series_scoring.py`: for each suite scenario, the brand topic's
5-minute count of negative posts (oracle labels); an event is flagged when a point between its onset − 1 h
and its end is flagged; lead = peak − first flag; "outside" = points outside every event window. Because a
drift detector flags one point per change while a score stays high over a burst, false alarms are also
counted as episodes: runs of consecutive flags starting outside every event window, per week of series.

Every method is strictly online: the decision at t uses only values up to t.
  vigie        vigie.sim.backtest.score_series, flag = score ≥ 0.99 (as in series_scoring.py; calibrated: ~1 % of ordinary points)
  river-PH     river.drift.PageHinkley(mode="up") on the raw count, flag = drift detected (it then resets)
  river-ADWIN  river.drift.ADWIN on the raw count, flag = drift detected with a higher mean after it
  ruptures     ruptures.Binseg (l2) on the past 12 h (144 points) at every point, BIC-like penalty
               3·σ²·ln(144) (σ² robust from first differences, ≥ 1); flag = a change point in the last hour
               with a segment mean ≥ 1.5 × the previous one + 1. (Pelt costs ~75 ms a window here, i.e.
               ~25 min for 10 scenarios at every point; Binseg ~2 ms.)
  statsmodels  statsmodels' state-space ExponentialSmoothing (level only), parameters re-fitted once a
               day on the past only, one-step-ahead Kalman forecasts; flag = (y − forecast) / forecast sd ≥ 3.

Parameters are the libraries' defaults or stated above, fixed before the run (no tuning on this suite).
This is a bench script: these libraries are dev-only (requirements-dev.txt) and never imported by Vigie.

    .venv/bin/python bench/changepoint_alternatives.py --n 10
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from series_scoring import THRESHOLD, scenario_series  # noqa: E402

from vigie.sim.backtest import score_series  # noqa: E402
from vigie.core.models import utc  # noqa: E402

DAY = 288  # 5-minute points per day


def flags_vigie(times: list[datetime], values: list[float]) -> list[bool]:
    return [s >= THRESHOLD for s in score_series(times, values)]


def flags_page_hinkley(times: list[datetime], values: list[float]) -> list[bool]:
    from river import drift

    ph = drift.PageHinkley(mode="up")
    out = []
    for x in values:
        ph.update(x)
        out.append(bool(ph.drift_detected))
    return out


def flags_adwin(times: list[datetime], values: list[float]) -> list[bool]:
    from river import drift

    ad = drift.ADWIN()
    out = []
    for x in values:
        before = ad.estimation
        ad.update(x)
        # ADWIN is two-sided; only a rise matters for early warning (its estimate drops the old part).
        out.append(bool(ad.drift_detected) and ad.estimation > before)
    return out


def flags_ruptures(times: list[datetime], values: list[float], window: int = 144, recent: int = 12) -> list[bool]:
    import numpy as np
    import ruptures as rpt

    out = [False] * len(values)
    arr = np.asarray(values, dtype=float)
    for t in range(window, len(values) + 1):
        w = arr[t - window:t]
        diffs = np.diff(w)
        sigma2 = max(1.0, (1.4826 * float(np.median(np.abs(diffs - np.median(diffs))))) ** 2 / 2)
        bkps = rpt.Binseg(model="l2", min_size=3, jump=1).fit(w.reshape(-1, 1)).predict(pen=3 * sigma2 * math.log(window))
        edges = [0, *bkps]
        for a, b, c in zip(edges, edges[1:], edges[2:]):
            if b >= window - recent and w[b:c].mean() >= 1.5 * w[a:b].mean() + 1:
                out[t - 1] = True
    return out


def flags_statsmodels(times: list[datetime], values: list[float], z_flag: float = 3.0) -> list[bool]:
    import numpy as np
    from statsmodels.tsa.statespace.exponential_smoothing import ExponentialSmoothing

    y = np.asarray(values, dtype=float)
    out = [False] * len(values)
    for day_start in range(DAY, len(values), DAY):
        day_end = min(day_start + DAY, len(values))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fitted = ExponentialSmoothing(y[:day_start]).fit(disp=False)  # past only
            applied = fitted.apply(y[:day_end])  # same parameters, Kalman filter: forecast at t uses y < t
        pred = np.asarray(applied.fittedvalues)
        var = np.asarray(applied.filter_results.forecasts_error_cov[0, 0, :]) * applied.scale
        for t in range(day_start, day_end):
            sd = math.sqrt(max(var[t], 1e-9))
            out[t] = (y[t] - pred[t]) / sd >= z_flag
    return out


METHODS: dict[str, Callable[[list[datetime], list[float]], list[bool]]] = {
    "vigie score_series": flags_vigie,
    "river PageHinkley (up)": flags_page_hinkley,
    "river ADWIN (rise)": flags_adwin,
    "ruptures Binseg, 12 h past window": flags_ruptures,
    "statsmodels exp. smoothing residual": flags_statsmodels,
}


def evaluate(args: tuple[int, list[str]]) -> dict[str, dict]:
    index, names = args
    times, counts, events = scenario_series(index)
    in_event = [False] * len(times)
    spans = []
    for e in events:
        onset, peak, end = utc(e["onset"]), utc(e["peak"]), utc(e["end"])
        kind = {"positive_viral": "positive", "organic": "organic"}.get(e["kind"], "bad")
        if kind == "organic":  # organic spikes: neither an event to catch nor an ordinary point
            for j, t in enumerate(times):
                if onset - timedelta(hours=1) <= t <= end:
                    in_event[j] = True
            continue
        spans.append((onset - timedelta(hours=1), peak, end, kind))
        for j, t in enumerate(times):
            if onset - timedelta(hours=1) <= t <= end:
                in_event[j] = True
    # The day after an event's nominal end (intensity below 10 % of its peak) is its tail: counts there are
    # often still above the usual level, so flags there are reported apart from flags away from any event.
    tail = [any(hi < t <= hi + timedelta(hours=24) for _, _, hi, _ in spans) for t in times]
    result = {}
    for name in names:
        method = METHODS[name]
        began = time.perf_counter()
        flags = method(times, counts)
        seconds = time.perf_counter() - began
        starts = [j for j, f in enumerate(flags) if f and not in_event[j] and (j == 0 or not flags[j - 1])]
        r = {"bad": [0, 0], "positive": [0, 0], "leads": [], "outside": 0, "flagged": 0, "seconds": seconds,
             "episodes": len(starts), "episodes_away": sum(not tail[j] for j in starts),
             "weeks": len(times) / (7 * DAY)}
        for lo, peak, hi, kind in spans:
            hits = [t for t, f in zip(times, flags) if f and lo <= t <= hi]
            r[kind][1] += 1
            if hits:
                r[kind][0] += 1
                if kind == "bad":
                    r["leads"].append((peak - hits[0]).total_seconds() / 60)
        for f, inside in zip(flags, in_event):
            if not inside:
                r["outside"] += 1
                r["flagged"] += f
        result[name] = r
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10, help="suite scenarios (seeds 1000+i)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--methods", default="all",
                        help="comma-separated prefixes of method names (e.g. 'vigie,river'), default all")
    args = parser.parse_args()
    wanted = [m.strip().lower() for m in args.methods.split(",")] if args.methods != "all" else [""]
    names = [n for n in METHODS if any(n.lower().startswith(w) for w in wanted)]
    if not names:
        parser.error(f"no method matches {args.methods!r}; methods: {', '.join(METHODS)}")
    began = time.perf_counter()
    totals: dict[str, dict] = {}
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        for result in pool.map(evaluate, [(i, names) for i in range(args.n)]):
            for name, r in result.items():
                t = totals.setdefault(name, {"bad": [0, 0], "positive": [0, 0], "leads": [], "outside": 0,
                                              "flagged": 0, "seconds": 0.0, "episodes": 0, "episodes_away": 0,
                                              "weeks": 0.0})
                for k in ("bad", "positive"):
                    t[k] = [t[k][0] + r[k][0], t[k][1] + r[k][1]]
                t["leads"] += r["leads"]
                for k in ("outside", "flagged", "seconds", "episodes", "episodes_away", "weeks"):
                    t[k] += r[k]
    print(f"{args.n} scenarios (seeds 1000+i), brand topic's 5-min negative-post counts (oracle), "
          f"{time.perf_counter() - began:.0f} s wall on {args.jobs} process(es)")
    print("| method | negative events flagged | median lead before peak (min) | positive events flagged | "
          "out-of-event points flagged | false-alarm episodes per week | of which away from events "
          "(not in the 24 h after one) | cost for the suite (s) |")
    print("|---|---|---|---|---|---|---|---|")
    for name, t in totals.items():
        med = f"{statistics.median(t['leads']):.0f}" if t["leads"] else "-"
        share = 100 * t["flagged"] / max(t["outside"], 1)
        print(f"| {name} | {t['bad'][0]}/{t['bad'][1]} | {med} | {t['positive'][0]}/{t['positive'][1]} | "
              f"{share:.2f} % ({t['flagged']}/{t['outside']}) | {t['episodes'] / max(t['weeks'], 1e-9):.1f} | "
              f"{t['episodes_away'] / max(t['weeks'], 1e-9):.2f} | {t['seconds']:.2f} |")


if __name__ == "__main__":
    main()
