"""Backtesting: an anomaly score for any count series, and the live detector replayed over a store.

`score_series` is the detector's little sibling for plain `timestamp,value` series (e.g. public labelled
benchmarks): a robust additive seasonal level (Holt-Winters-like, Huber-clipped updates) and a two-sided
CUSUM on the standardised residuals. It is strictly causal (the score at t is computed before the value
at t updates any state, from values <= t only; the sampling step is inferred from the first timestamps
only) and linear in the series length.

`backtest_posts` runs `Detector` + `AlertPolicy` bucket by bucket over a store filled by a replay and,
given the ground truth, measures lead time before the peak, false alerts and alerts on positive events.
"""

from __future__ import annotations

import csv
import io
import math
import statistics
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

from alerts.detect import Assessment, Detector, floor_time
from alerts.policy import AlertEvent, AlertPolicy
from vigie.config import VigieConfig
from vigie.models import Alert, AlertState, Level, iso, utc
from vigie.store.base import Store

# -- series scoring ---------------------------------------------------------------------------------

WARMUP = 12  # points before any score is given (the level and scale are still being learnt)
STEP_SAMPLE = 16  # the sampling step is the median of the first diffs (never of future ones)
LEVEL_RATE = 0.02  # non-seasonal series: level memory ~50 points
SEASON_RATE = 0.05  # hour-of-day slots: a 5-minute series visits a slot 12 times a day, memory ~2 days
SCALE_RATE = 0.03
HUBER_K = 3.0  # residuals are clipped at 3 scales before they update anything: a burst is not learnt at once
CUSUM_SLACK = 0.5
CUSUM_CAP = 25.0  # bounds how long a past shift keeps scoring high after the level has adapted
# While the upward CUSUM says "sustained rise" (above CUSUM_ALARM), values above the expectation do not
# update the level or the scale: an event that lasts hours is not learnt as normal, so its end is not read
# as an anomalous *drop* (without this, 80 % of the false flags came from the downward CUSUM in the day
# after an event). A rise that lasts longer than FREEZE_MAX_POINTS is a new normal and is learnt again.
CUSUM_ALARM = 6.0
FREEZE_MAX_POINTS = 288


def _squash(value: float, start: float, softness: float) -> float:
    """0 up to `start`, then rising smoothly towards 1."""
    return 0.0 if value <= start else 1.0 - math.exp(-(value - start) / softness)


def score_series(timestamps: list[datetime], values: list[float]) -> list[float]:
    """Anomaly score in [0, 1] per point, strictly causal, O(n).

    The expectation at t is the robust running mean of its hour-of-day slot when the sampling step is at
    most an hour and divides a day (sub-daily series: night is compared with nights), else of the whole
    series; a slot not seen for a full hour yet falls back on a fast global level. The score is the
    larger of a spike score (|residual| / robust scale, with a Poisson floor on count series) and a
    sustained-shift score (two-sided CUSUM on the standardised residuals).
    """
    if len(timestamps) != len(values):
        raise ValueError(f"{len(timestamps)} timestamps but {len(values)} values")
    n = len(values)
    scores = [0.0] * n
    if n == 0:
        return scores
    fast = float(values[0])  # fast global level, for slots not learnt yet
    slot_mean: dict[int, float] = {}
    slot_seen: dict[int, int] = {}
    scale = 0.0
    mean_abs = abs(fast)
    integers = True
    step: float | None = None
    per_hour = 1
    cplus = cminus = 0.0
    rising = 0  # consecutive points with the upward CUSUM above CUSUM_ALARM
    epochs = [utc(t).timestamp() for t in timestamps]
    for i, x in enumerate(values):
        x = float(x)
        integers = integers and x == int(x) and x >= 0
        if step is None and i == STEP_SAMPLE:
            diffs = [b - a for a, b in zip(epochs[:i], epochs[1 : i + 1]) if b > a]
            med = statistics.median(diffs) if diffs else 0.0
            step = med if 0 < med <= 3600 and 86400 % med == 0 else 0.0
            per_hour = int(3600 // step) if step else 1
        slot = int(epochs[i] % 86400 // 3600) if step else -1
        seen = slot_seen.get(slot, 0)
        learnt = seen >= (per_hour if slot >= 0 else WARMUP)
        pred = slot_mean[slot] if learnt else fast
        r = x - pred
        # Scale floor: 5 % of the typical magnitude, and for count series a Poisson sd with a mean of at
        # least 1 (one post where ~0 were expected, e.g. at night, is not an anomaly).
        floor = max(1e-9, 0.05 * mean_abs, math.sqrt(max(pred, 1.0)) if integers else 0.0)
        sigma = max(scale, floor)
        z = r / sigma
        if i >= WARMUP:
            cplus = min(CUSUM_CAP, max(0.0, cplus + z - CUSUM_SLACK))
            cminus = min(CUSUM_CAP, max(0.0, cminus - z - CUSUM_SLACK))
            scores[i] = round(max(_squash(abs(z), 3.0, 3.0), _squash(max(cplus, cminus), 6.0, 8.0)), 6)
        # Update the state with a clipped residual, after scoring: a score never sees its own point, and
        # a burst is not learnt as the new normal in one step.
        clip = HUBER_K * sigma if i >= WARMUP else math.inf
        rc = max(-clip, min(clip, r))
        # Only once the slot is learnt: while the level is still being found, a rise is learning, not an event.
        rising = rising + 1 if cplus > CUSUM_ALARM and learnt else 0
        if rising > FREEZE_MAX_POINTS:
            # A rise that outlived the freeze is a change of regime, not an event (as PageHinkley resets
            # after a detection): forget the levels' history so every slot re-learns at full speed.
            slot_seen.clear()
            fast, cplus, cminus, rising = x, 0.0, 0.0, 0
        elif rising and rc > 0:
            rc = 0.0
        xc = pred + rc
        fast += max(0.1, 1.0 / (i + 1)) * (xc - fast)
        base_rate = SEASON_RATE if slot >= 0 else LEVEL_RATE
        old = slot_mean.get(slot, xc)
        slot_mean[slot] = old + max(base_rate, 1.0 / (seen + 1)) * (xc - old)
        slot_seen[slot] = seen + 1
        if i < WARMUP:
            scale = max(scale, 1.25 * abs(r))  # warm-up: do not start over-confident
        else:
            scale = (1 - SCALE_RATE) * scale + SCALE_RATE * 1.25 * abs(rc)
        mean_abs += (abs(x) - mean_abs) / min(i + 1, 200)
    return scores


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
    outcomes: list[Any] = field(default_factory=list)  # vigie.truth.EventOutcome per truth event
    false_alerts: list[Alert] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)


def backtest_posts(
    config: VigieConfig,
    store: Store,
    start: datetime,
    end: datetime,
    truth: dict[str, Any] | None = None,
    on_assessment: Any = None,
) -> BacktestResult:
    """Run detection and the alert policy at every bucket boundary in (start, end], in memory.

    The store is only read (alerts are kept in the result, not saved), so a backtest never disturbs the
    alerts of a live or demo store. Deterministic: same store and config, same result.
    """
    cfg = config.detection
    det, pol = Detector(cfg), AlertPolicy(cfg)
    width = timedelta(minutes=cfg.bucket_minutes)
    state: dict[str, tuple[Alert | None, Alert | None]] = {t.id: (None, None) for t in config.topics}
    alerts: dict[str, Alert] = {}
    events: list[AlertEvent] = []
    max_risk = {t.id: 0.0 for t in config.topics}
    n = 0
    began = time.perf_counter()
    t = floor_time(utc(start), width) + width
    end = utc(end)
    while t <= end + width:
        for topic in config.topics:
            a: Assessment = det.assess(topic, store, t)
            n += 1
            max_risk[topic.id] = max(max_risk[topic.id], a.risk)
            if on_assessment is not None:
                on_assessment(a)
            current, last = state[topic.id]
            ev = pol.step(topic, a, current, last, t)
            if ev is None:
                continue
            alerts[ev.alert.id] = ev.alert
            state[topic.id] = (None, ev.alert) if ev.alert.state == AlertState.RESOLVED else (ev.alert, last)
            if ev.notify:
                events.append(ev)
        t += width
    result = BacktestResult(
        alerts=sorted(alerts.values(), key=lambda a: (a.opened_at, a.topic_id)),
        events=events,
        assessments=n,
        seconds=time.perf_counter() - began,
        start=utc(start),
        end=end,
        max_risk=max_risk,
    )
    if truth is not None:
        score_against_truth(result, truth, len(config.topics))
    return result


def score_against_truth(result: BacktestResult, truth: dict[str, Any], topics: int) -> None:
    """Lead times before the peak, misses, false alerts (per topic-week) and alerts on positive events."""
    from vigie.truth import compare_with_truth

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
