"""Backtesting: an anomaly score for any count series, and the live detector replayed over a store.

`score_series` is the detector's little sibling for plain `timestamp,value` series (e.g. public labelled
benchmarks): a robust seasonal level (hour of week / hour of day, clipped updates), negative-binomial
tails with overdispersion learnt from the series' own residuals at several time scales, and a calibrated
score (1 - F0 of the smallest p-value over the scales, F0 its null distribution given the point's expected
count and dispersion: vigie/sim/series_calibration.py). It is strictly causal (the score at t is computed
before the value at t updates any state, from values <= t only; the sampling step is inferred from the
first timestamps only) and linear in the series length.

`backtest_posts` runs `Detector` + `AlertPolicy` bucket by bucket over a store filled by a replay and,
given the ground truth, measures lead time before the peak, false alerts and alerts on positive events.
"""

from __future__ import annotations

import csv
import io
import math
import statistics
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

from alerts import story
from alerts.feedback import Verdict
from alerts.policy import AlertEvent, AlertPolicy
from alerts.stats import nb_tail

import numpy as np
from scipy import special
from vigie.core.config import Topic, VigieConfig
from vigie.core.models import Alert, AlertState, Level, iso, utc
from vigie.pipeline.loop import Assessment, BucketSink, bucket_floor, bucket_times, new_detector, run_buckets
from vigie.sim.series_calibration import calibrated_counts
from vigie.store.base import Store

# -- series scoring ---------------------------------------------------------------------------------

WARMUP = 12  # points before any score is given (the level and scale are still being learnt)
STEP_SAMPLE = 16  # the sampling step is the median of the first diffs (never of future ones)
LEVEL_RATE = 0.02  # non-seasonal series: level memory ~50 points
SEASON_RATE = 0.025  # seasonal slots: memory ~40 samples (3-4 visits of an hour slot of a 5-minute series)
DISPERSION_RATE = 0.003  # memory of the dispersion estimates (~330 points, a day of a 5-minute series)
# Scales (in points) the score looks at: one point (a spike), 15 min, 1 h and 3 h of a 5-minute series
# (a burst builds up, a shift lasts); each scale learns its own dispersion of sums.
SCALES = (1, 3, 12, 36)
ALPHA_PRIOR = 0.3  # prior NB overdispersion of a count series until its residuals say more
PRIOR_WEIGHT = 20.0  # ... worth this many points of evidence
CLIP_SD = 8.0  # residuals beyond 8 model sds are clipped before they update any estimate
# While the 1-hour scale says "unusually high" (p < EXCURSION_P), values above the expectation do not
# update the level: an event that lasts hours is not learnt as normal, so its end is not read as a drop.
# A rise that lasts longer than FREEZE_MAX_POINTS is a new normal: the levels re-learn at full speed.
EXCURSION_P = 1e-5
FREEZE_MAX_POINTS = 288
# Calibration of non-count series (count series use the conditional table of vigie/sim/series_calibration.py):
# the score is 1 - F0(p_min), where p_min is the smallest two-sided p-value over SCALES and
# F0 its distribution on null traffic, tabulated as (p_min, F0) anchors: the median over 27 simulated null
# series (9 settings of mean and index of dispersion from 1 to 375, 3 seeds, daily rhythm, 8 days, the
# first day left out) of the p_min quantile at each F0 level (`bench/series_scoring.py` prints the
# resulting table). F0 is interpolated linearly in log-log between anchors (the tests are correlated:
# about 4.5 effective tests at the 10 % level, 6-8 in the far tail).
CALIBRATION = ((1.0, 1.0), (0.1729, 0.5), (0.02347, 0.1), (0.00172, 0.01), (0.000130, 0.001))


def _nb_two_sided_many(observed: np.ndarray, expected: np.ndarray, alpha: np.ndarray, v: np.ndarray) -> np.ndarray:
    """`_nb_two_sided` for arrays (one scipy call per tail for the whole series)."""
    k = np.rint(observed)
    upper = np.empty_like(expected)
    at_least = np.ones_like(expected)
    pois = alpha <= 1e-9
    positive = k > 0
    if pois.any():
        upper[pois] = special.gammainc(k[pois] + 1, expected[pois])
        sel = pois & positive
        at_least[sel] = special.gammainc(k[sel], expected[sel])
    nb = ~pois
    if nb.any():
        r = 1.0 / alpha[nb]
        q = expected[nb] / (expected[nb] + r)
        upper[nb] = special.betainc(k[nb] + 1, r, q)
        sel = nb & positive
        r_sel = 1.0 / alpha[sel]
        at_least[sel] = special.betainc(k[sel], r_sel, expected[sel] / (expected[sel] + r_sel))
    u = upper + v * np.maximum(at_least - upper, 0.0)
    return np.minimum(1.0, 2 * np.minimum(u, 1.0 - u))


def _nb_two_sided(observed: float, expected: float, alpha: float, v: float) -> float:
    """Two-sided randomized p-value of a count under NB(expected, alpha): with U = P(X > x) + v P(X = x),
    2 * min(U, 1 - U). `v` in [0, 1) comes from a hash of the timestamp (deterministic): a count of 0 or
    1 then gets a p-value spread like any other, so sparse series are calibrated too."""
    upper, at = nb_tail(int(round(observed)), expected, alpha)
    u = upper + v * at
    return min(1.0, 2 * min(u, 1.0 - u))


def _jitter(epoch: float) -> float:
    """A uniform-looking number in [0, 1) from a timestamp: the same point always gets the same value."""
    h = (int(epoch) * 0x9E3779B97F4A7C15 + 0x632BE59BD9B4E019) & 0xFFFFFFFFFFFFFFFF
    h ^= h >> 31
    h = (h * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    h ^= h >> 29
    return (h & 0xFFFFFFFFFFFF) / float(1 << 48)


SQRT2 = math.sqrt(2)


def _normal_two_sided(z: float) -> float:
    return math.erfc(abs(z) / SQRT2)


def calibrated(p: float) -> float:
    """1 - F0(p): the share of ordinary points whose p_min is above `p` (see CALIBRATION)."""
    if p >= 1.0:
        return 0.0
    if p <= 0.0:
        return 1.0
    lp = math.log(p)
    for (p_hi, f_hi), (p_lo, f_lo) in zip(CALIBRATION, CALIBRATION[1:]):
        if p >= p_lo:
            w = (lp - math.log(p_hi)) / (math.log(p_lo) - math.log(p_hi))
            return 1.0 - math.exp(math.log(f_hi) + w * (math.log(f_lo) - math.log(f_hi)))
    (p_hi, f_hi), (p_lo, f_lo) = CALIBRATION[-2:]  # beyond the last anchor: the last segment's slope
    slope = (math.log(f_lo) - math.log(f_hi)) / (math.log(p_lo) - math.log(p_hi))
    return 1.0 - math.exp(math.log(f_lo) + slope * (lp - math.log(p_lo)))


def score_series(timestamps: list[datetime], values: list[float]) -> list[float]:
    """Calibrated anomaly score in [0, 1] per point (see `series_scan`), strictly causal, O(n).

    Count series: 1 - F0(p_min | expected count, overdispersion), F0 the null distribution of p_min for
    points the scan saw with that expected count and dispersion (vigie/sim/series_calibration.py), so a
    Poisson series and a very bursty one are both calibrated; other series: the pooled table CALIBRATION."""
    scan = series_scan(timestamps, values)
    scores = [calibrated(p) for p in scan.p_min] if not all(scan.counts) else [0.0] * len(scan.p_min)
    at = [i for i, c in enumerate(scan.counts) if c]  # judged as counts so far (decided causally, point by point)
    if at:
        conditional = calibrated_counts(np.array(scan.p_min)[at], np.array(scan.level)[at], np.array(scan.alpha[0])[at])
        for i, s in zip(at, conditional.tolist()):
            scores[i] = s
    return [round(min(1.0, max(0.0, s)), 6) for s in scores]


def series_p_values(timestamps: list[datetime], values: list[float]) -> list[float]:
    """The smallest two-sided p-value over SCALES at each point (1 during the warm-up), strictly causal."""
    return series_scan(timestamps, values).p_min


@dataclass
class SeriesScan:
    """What the causal scan knows at each point, before that point updates any state."""

    p_min: list[float]  # smallest two-sided p-value over SCALES (1 during the warm-up)
    level: list[float]  # expected value of the point
    alpha: list[list[float]]  # NB overdispersion per scale in use at the point (counts; 0 otherwise)
    counts: list[bool]  # judged as counts (every value up to the point a non-negative integer)


def series_scan(timestamps: list[datetime], values: list[float]) -> SeriesScan:
    """The smallest two-sided p-value over SCALES at each point (1 during the warm-up), strictly causal.

    The expectation at t is the robust running mean of its seasonal slot: hour of the week once that slot
    has been seen on two different days, else hour of the day, when the sampling step is at most an hour
    and divides a day; else of the whole series; a slot not learnt yet falls back on a fast global level.
    Count series (non-negative integers) are judged as negative-binomial counts whose overdispersion is
    learnt from the series' own residuals, at each of SCALES (sums over the last k points, so a burst
    that builds up over several points is seen in its first points, not only at its peak); other series
    as Gaussian with a learnt scale. `score_series` turns the p-value into a calibrated score: on
    ordinary traffic of the series' own kind about 10 % of points score >= 0.9 and 1 % >= 0.99
    (alerts/DETECTION.md gives the measured table), and it keeps growing with the evidence.
    """
    if len(timestamps) != len(values):
        raise ValueError(f"{len(timestamps)} timestamps but {len(values)} values")
    n = len(values)
    pvals = [1.0] * n
    levels = [0.0] * n
    alpha_seen = [[0.0] * n for _ in SCALES]
    as_count = [True] * n
    if n == 0:
        return SeriesScan(pvals, levels, alpha_seen, [])
    fast = float(values[0])  # fast global level, for slots not learnt yet
    slot_mean: dict[int, float] = {}
    slot_seen: dict[int, int] = {}
    integers = True
    step: float | None = None
    per_hour = 1
    rising = 0  # consecutive points in an upward excursion at the 1-hour scale
    epochs = [utc(t).timestamp() for t in timestamps]
    # Running (prefix) sums of values and expectations: a k-sum is one subtraction.
    cum_x = [0.0] * (n + 1)
    cum_e = [0.0] * (n + 1)
    # Count series: alpha = EWMA((S - E)^2 - S) / EWMA(E^2) per scale (method of moments, weighted like
    # the batch estimator, so near-empty night points do not make it noisy), started at the prior.
    num = {k: 0.0 for k in SCALES}
    den = {k: 0.0 for k in SCALES}
    slow_num = {k: 0.0 for k in SCALES}  # the same with a 5x longer memory: the model uses the larger
    slow_den = {k: 0.0 for k in SCALES}  # alpha, so a calm afternoon does not make a bursty series look calm
    alphas = {k: ALPHA_PRIOR for k in SCALES}
    # Count p-values are computed after the loop, all at once (scipy's scalar calls cost ~25 us each):
    # (point, observed sum, expected sum, alpha, jitter) per scale. The state needs only the 1-hour one
    # (the excursion rule), computed on the spot.
    deferred: tuple[list[int], list[float], list[float], list[float], list[float]] = ([], [], [], [], [])
    var = {k: 0.0 for k in SCALES}  # EWMA of (S - E)^2 (other series)
    seen_k = {k: 0 for k in SCALES}
    for i, x in enumerate(values):
        x = float(x)
        integers = integers and x == int(x) and x >= 0
        as_count[i] = integers
        if step is None and i == STEP_SAMPLE:
            diffs = [b - a for a, b in zip(epochs[:i], epochs[1 : i + 1]) if b > a]
            med = statistics.median(diffs) if diffs else 0.0
            step = med if 0 < med <= 3600 and 86400 % med == 0 else 0.0
            per_hour = int(3600 // step) if step else 1
        if step:
            day_slot = int(epochs[i] % 86400 // 3600)
            week_slot = 24 + int((epochs[i] // 86400 + 3) % 7) * 24 + day_slot  # 24.. : hours of the week
            slot = week_slot if slot_seen.get(week_slot, 0) >= 2 * per_hour else day_slot
        else:
            day_slot = week_slot = slot = -1
        seen = slot_seen.get(slot, 0)
        learnt = seen >= (per_hour if slot >= 0 else WARMUP)
        pred = max(slot_mean[slot] if learnt else fast, 0.0 if integers else -math.inf)
        levels[i] = pred
        if integers:
            for j, k in enumerate(SCALES):
                alpha_seen[j][i] = alphas[k]
        cum_x[i + 1] = cum_x[i] + x
        cum_e[i + 1] = cum_e[i] + pred
        p_min, p_hour = 1.0, 1.0
        v = _jitter(epochs[i])
        for k in SCALES:
            if i + 1 < k:
                continue
            s_obs, s_exp = cum_x[i + 1] - cum_x[i + 1 - k], cum_e[i + 1] - cum_e[i + 1 - k]
            if integers:
                alpha = alphas[k]
                s_exp = max(s_exp, 1e-3)
                p = 1.0
                up = s_obs > s_exp
                if i >= WARMUP:
                    for store, value in zip(deferred, (i, s_obs, s_exp, alpha, v)):
                        store.append(value)
            else:
                sd = math.sqrt(var[k]) if var[k] > 0 else 0.0
                sd = max(sd, 1e-9, 0.05 * abs(s_exp))
                p = _normal_two_sided((s_obs - s_exp) / sd)
                up = s_obs > s_exp
            if k == 12 or (k == SCALES[-1] and 12 not in SCALES):
                if not up:
                    p_hour = 1.0
                elif integers:  # the exact tail here: a normal approximation freezes sparse series too often
                    p_hour = _nb_two_sided(s_obs, s_exp, alphas[k], 0.5)
                else:
                    p_hour = p
            if i >= WARMUP:
                p_min = min(p_min, p)
            # Learn the dispersion of k-sums from clipped residuals (a burst does not teach it all at once).
            resid = s_obs - s_exp
            if integers:
                model_sd = math.sqrt(s_exp + alphas[k] * s_exp ** 2 + 1e-9)
                resid = max(-CLIP_SD, min(CLIP_SD, resid / model_sd)) * model_sd
                if s_exp > 0 and (p_hour >= EXCURSION_P or resid < 0):
                    if seen_k[k] == 0:
                        num[k], den[k] = ALPHA_PRIOR * s_exp * s_exp, s_exp * s_exp
                        slow_num[k], slow_den[k] = num[k], den[k]
                    sample = resid * resid - s_obs
                    weight = max(DISPERSION_RATE, 1.0 / (seen_k[k] + PRIOR_WEIGHT))
                    num[k] += weight * (sample - num[k])
                    den[k] += weight * (s_exp * s_exp - den[k])
                    slow = max(DISPERSION_RATE / 5, 1.0 / (seen_k[k] + PRIOR_WEIGHT))
                    slow_num[k] += slow * (sample - slow_num[k])
                    slow_den[k] += slow * (s_exp * s_exp - slow_den[k])
                    fast_alpha = num[k] / den[k] if den[k] > 0 else ALPHA_PRIOR
                    slow_alpha = slow_num[k] / slow_den[k] if slow_den[k] > 0 else ALPHA_PRIOR
                    alphas[k] = max(0.0, fast_alpha, slow_alpha)
                    seen_k[k] += 1
            else:
                sd = math.sqrt(var[k]) if var[k] > 0 else abs(resid)
                resid = max(-CLIP_SD * sd, min(CLIP_SD * sd, resid)) if i >= WARMUP and sd > 0 else resid
                weight = max(DISPERSION_RATE, 1.0 / (seen_k[k] + 1))
                var[k] += weight * (resid * resid - var[k])
                seen_k[k] += 1
        pvals[i] = p_min
        # Update the level after scoring (a score never sees its own point), with a clipped residual.
        r = x - pred
        if integers:
            sd1 = math.sqrt(max(pred, 1.0) + alphas[1] * pred * pred)
        else:
            sd1 = math.sqrt(var[1]) if var[1] > 0 else abs(r) + 1e-9
        clip = CLIP_SD * sd1 if i >= WARMUP else math.inf
        rc = max(-clip, min(clip, r))
        rising = rising + 1 if p_hour < EXCURSION_P and learnt else 0
        if rising > FREEZE_MAX_POINTS:
            # A rise that outlived the freeze is a change of regime, not an event (as PageHinkley resets
            # after a detection): forget the levels' history so every slot re-learns at full speed.
            slot_seen.clear()
            fast, rising = x, 0
            # the expectations of the last points become their values: the new regime starts from here
            for j in range(max(0, i + 1 - SCALES[-1]), i + 1):
                cum_e[j + 1] = cum_e[j] + (cum_x[j + 1] - cum_x[j])
        elif rising and rc > 0:
            rc = 0.0
        xc = pred + rc
        fast += max(0.1, 1.0 / (i + 1)) * (xc - fast)
        for sl in {slot, day_slot, week_slot} - {-1} if step else {-1}:
            seen_sl = slot_seen.get(sl, 0)
            rate = SEASON_RATE if sl >= 0 else LEVEL_RATE
            old = slot_mean.get(sl, xc)
            slot_mean[sl] = old + max(rate, 1.0 / (seen_sl + 1)) * (xc - old)
            slot_seen[sl] = seen_sl + 1
    if deferred[0]:
        points = np.array(deferred[0])
        p_counts = _nb_two_sided_many(*(np.array(d, dtype=float) for d in deferred[1:]))
        best = np.ones(n)
        np.minimum.at(best, points, p_counts)
        pvals = np.minimum(np.array(pvals), best).tolist()
    return SeriesScan(pvals, levels, alpha_seen, as_count)


class SeriesFormatError(ValueError):
    """A row of a `timestamp,value` CSV that cannot be read; the message names the line."""


def _parse_time(text: str) -> datetime:
    text = text.strip()
    try:
        number = float(text)
    except ValueError:
        return utc(text)
    return utc(number / 1000 if number > 1e11 else number)  # epoch seconds, or milliseconds


def read_series_csv(path: Path | str | TextIO) -> tuple[list[datetime], list[float]]:
    """Read `timestamp,value` rows (header optional; with a header, extra columns are ignored).

    Timestamps are ISO-8601 (naive = UTC) or epoch seconds/milliseconds, non-decreasing. Any bad row is an
    error naming its line: a backtest on half a file would be silently wrong.
    """
    name = getattr(path, "name", None) or str(path)
    if isinstance(path, (str, Path)):
        try:
            fh: TextIO = open(path, encoding="utf-8", newline="")
        except OSError as exc:
            raise SeriesFormatError(f"{name}: cannot open: {exc.strerror or exc}") from None
        close = True
    else:
        fh, close = path, False
    try:
        return _read_rows(csv.reader(fh), name)
    finally:
        if close:
            fh.close()


def _read_rows(rows: Iterable[list[str]], name: str) -> tuple[list[datetime], list[float]]:
    times: list[datetime] = []
    values: list[float] = []
    t_col, v_col = 0, 1
    first = True
    for line_no, row in enumerate(rows, start=1):
        if not row or all(not c.strip() for c in row):
            continue
        if first and _is_header(row):  # only the first non-blank row may be a header
            first = False
            cols = [c.strip().lower() for c in row]
            if "timestamp" not in cols or "value" not in cols:
                raise SeriesFormatError(
                    f"{name}, line {line_no}: header must name `timestamp` and `value` columns, found {','.join(row)!r}"
                )
            t_col, v_col = cols.index("timestamp"), cols.index("value")
            continue
        first = False
        if len(row) <= max(t_col, v_col):
            raise SeriesFormatError(f"{name}, line {line_no}: expected `timestamp,value`, found {','.join(row)!r}")
        try:
            t = _parse_time(row[t_col])
        except (ValueError, TypeError, OverflowError, OSError):
            raise SeriesFormatError(f"{name}, line {line_no}: bad timestamp {row[t_col]!r} (ISO-8601 or epoch seconds)") from None
        try:
            v = float(row[v_col])
        except ValueError:
            raise SeriesFormatError(f"{name}, line {line_no}: bad value {row[v_col]!r} (a number)") from None
        if not math.isfinite(v):
            raise SeriesFormatError(f"{name}, line {line_no}: value {row[v_col]!r} is not a finite number")
        if times and t < times[-1]:
            raise SeriesFormatError(f"{name}, line {line_no}: timestamp {row[t_col]!r} goes back in time (rows must be sorted)")
        times.append(t)
        values.append(v)
    return times, values


def _is_header(row: list[str]) -> bool:
    try:
        float(row[1] if len(row) > 1 else "x")
        return False
    except ValueError:
        return True


def _fmt_value(v: float) -> str:
    return str(int(v)) if v == int(v) and abs(v) < 1e15 else repr(v)


def write_scores_csv(
    out: Path | str | TextIO, timestamps: list[datetime], values: list[float], scores: list[float]
) -> None:
    """Write `timestamp,value,anomaly_score` (ISO-8601 UTC timestamps, scores with 6 decimals)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["timestamp", "value", "anomaly_score"])
    for t, v, s in zip(timestamps, values, scores):
        writer.writerow([iso(t), _fmt_value(v), f"{s:.6f}"])
    if isinstance(out, (str, Path)):
        Path(out).write_text(buf.getvalue(), encoding="utf-8")
    else:
        out.write(buf.getvalue())


# -- detector backtest over a store ---------------------------------------------------------------

@dataclass
class BacktestResult:
    alerts: list[Alert]  # final state of every alert opened during the run
    events: list[AlertEvent]  # notified events, in order
    assessments: int
    seconds: float  # detection + policy time (excludes ingestion)
    start: datetime
    end: datetime
    max_risk: dict[str, float] = field(default_factory=dict)
    outcomes: list[Any] = field(default_factory=list)  # vigie.sim.truth.EventOutcome per truth event
    false_alerts: list[Alert] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)


class _Replay(BucketSink):
    """The backtest's side of the bucket loop: alerts and marks kept in memory (the store is only read), and
    a simulated analyst who may mark an alert when it first reaches warning."""

    def __init__(self, config: VigieConfig, verdicts: list[Verdict] | None, on_assessment: Any,
                 analyst: Callable[[Alert, datetime], Verdict | None] | None, store: Store | None = None):
        self.on_assessment, self.analyst = on_assessment, analyst
        # Stories (alerts/story.py) are told when a store is given: the same moments as live detection.
        self.store, self.config = store, config
        self.state: dict[str, tuple[Alert | None, Alert | None]] = {t.id: (None, None) for t in config.topics}
        self.opened: dict[str, Alert] = {}  # every alert of the run, by id, in its last state
        self.events: list[AlertEvent] = []
        self.max_risk = {t.id: 0.0 for t in config.topics}
        self.marks: dict[str, list[Verdict]] = {t.id: [] for t in config.topics}
        for v in verdicts or []:
            self.marks.setdefault(v.topic_id, []).append(v)
        self.judged: set[str] = set()
        self.assessments = 0

    def verdicts(self, topic: Topic, t: datetime) -> list[Verdict] | None:
        return self.marks.get(topic.id) or None

    def alerts(self, topic: Topic, t: datetime) -> tuple[Alert | None, Alert | None]:
        return self.state[topic.id]

    def assessed(self, topic: Topic, t: datetime, a: Assessment, ev: AlertEvent | None) -> None:
        self.assessments += 1
        self.max_risk[topic.id] = max(self.max_risk[topic.id], a.risk)
        if self.on_assessment is not None:
            self.on_assessment(a)
        if ev is None:
            return
        current, last = self.state[topic.id]
        if self.store is not None and story.story_due(ev.kind, ev.alert, current):
            self._tell_story(topic, a, ev.alert)
        self.opened[ev.alert.id] = ev.alert
        if (self.analyst is not None and ev.alert.id not in self.judged
                and (ev.alert.peak_level or ev.alert.level).rank >= Level.WARNING.rank):
            self.judged.add(ev.alert.id)
            mark = self.analyst(ev.alert, t)
            if mark is not None:
                self.marks.setdefault(topic.id, []).append(mark)
        self.state[topic.id] = (None, ev.alert) if ev.alert.state == AlertState.RESOLVED else (ev.alert, last)
        if ev.notify:
            self.events.append(ev)


    def _tell_story(self, topic: Topic, a: Assessment, alert: Alert) -> None:
        assert self.store is not None
        reading, window_start = story.story_at(self.store, self.config, alert, a)
        alert.story = reading.story
        top = self.store.top_posts(topic.id, window_start, a.at, by="negative", limit=EVIDENCE_POSTS)
        alert.evidence = story.choose_evidence(reading, top, EVIDENCE_POSTS)


EVIDENCE_POSTS = 5


def backtest_posts(
    config: VigieConfig,
    store: Store,
    start: datetime,
    end: datetime,
    truth: dict[str, Any] | None = None,
    on_assessment: Any = None,
    verdicts: list[Verdict] | None = None,
    analyst: Callable[[Alert, datetime], Verdict | None] | None = None,
    stories: bool = False,
) -> BacktestResult:
    """Run detection and the alert policy at every bucket boundary in (start, end], in memory.

    The store is only read (alerts are kept in the result, not saved), so a backtest never disturbs the
    alerts of a live or demo store. Deterministic: same store and config, same result. `stories`: tell each
    alert's story and choose its evidence when it opens, escalates or peaks, as live detection does (off for
    the benchmarks, which measure detection).
    """
    cfg = config.detection
    detector, policy = new_detector(config), AlertPolicy(cfg)
    width = timedelta(minutes=cfg.bucket_minutes)
    replay = _Replay(config, verdicts, on_assessment, analyst, store if stories else None)
    began = time.perf_counter()
    end = utc(end)
    first = bucket_floor(utc(start), cfg.bucket_minutes) + width
    run_buckets(detector, store, config.topics, bucket_times(first, end + width, width), replay, policy=policy)
    result = BacktestResult(
        alerts=sorted(replay.opened.values(), key=lambda a: (a.opened_at, a.topic_id)),
        events=replay.events,
        assessments=replay.assessments,
        seconds=time.perf_counter() - began,
        start=utc(start),
        end=end,
        max_risk=replay.max_risk,
    )
    if truth is not None:
        score_against_truth(result, truth, len(config.topics))
    return result


def score_against_truth(result: BacktestResult, truth: dict[str, Any], topics: int) -> None:
    """Lead times before the peak, misses, false alerts (per topic-week) and alerts on positive events."""
    from vigie.sim.truth import compare_with_truth

    outcomes, false_alerts = compare_with_truth(result.alerts, truth)
    result.outcomes, result.false_alerts = outcomes, false_alerts

    def lead_min(at: datetime | None, peak: datetime) -> float | None:
        return None if at is None else (peak - at).total_seconds() / 60

    bad = [o for o in outcomes if o.kind != "positive_viral"]
    positive = [o for o in outcomes if o.kind == "positive_viral"]
    weeks = max((result.end - result.start).total_seconds() / (7 * 86400), 1 / 7) * max(topics, 1)
    result.metrics = {
        "events": len(bad),
        "detected_warning": sum(o.first_warning is not None for o in bad),
        "detected_crisis": sum(o.first_crisis is not None for o in bad),
        "lead_warning_min": [lead_min(o.first_warning, o.peak) for o in bad],
        "lead_crisis_min": [lead_min(o.first_crisis, o.peak) for o in bad],
        "positive_events": len(positive),
        "positive_max_level": [o.max_level.value if o.max_level else None for o in positive],
        "positive_crisis": sum(o.max_level == Level.CRISIS for o in positive),
        "positive_warning_or_more": sum(o.max_level is not None and o.max_level.rank >= Level.WARNING.rank for o in positive),
        "false_alerts": len(false_alerts),
        "false_crisis": sum((a.peak_level or a.level) == Level.CRISIS for a in false_alerts),
        "topic_weeks": round(weeks, 3),
        "assessments": result.assessments,
        "ms_per_assessment": round(1000 * result.seconds / max(result.assessments, 1), 3),
    }
