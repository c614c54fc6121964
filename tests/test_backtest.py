"""`vigie backtest`: series scoring (format, causality, determinism, cost) and the detector backtest."""

from __future__ import annotations

import io
import math
import random
import time
from datetime import datetime, timedelta, timezone

import pytest
from click.testing import CliRunner
from detect_fixtures import T0, TOPIC, background, burst

from vigie.sim.backtest import SeriesFormatError, backtest_posts, read_series_csv, score_series, write_scores_csv
from vigie.app.cli.backtest import backtest
from vigie.core.config import config_from_dict
from vigie.store.sqlite import SqliteStore

S0 = datetime(2026, 1, 5, tzinfo=timezone.utc)


def count_series(n: int, seed: int = 1, spike_at: int | None = None) -> tuple[list[datetime], list[float]]:
    """5-minute counts with a daily rhythm (Poisson), optionally a 1-hour burst of +40."""
    rng = random.Random(seed)
    times, values = [], []
    for i in range(n):
        t = S0 + timedelta(minutes=5 * i)
        lam = 1 + 8 * (1 + math.cos((t.hour - 13) / 24 * 2 * math.pi)) / 2
        # Poisson by inversion (small rates): deterministic for a seed.
        k, p, u = 0, math.exp(-lam), rng.random()
        acc = p
        while u > acc:
            k += 1
            p *= lam / k
            acc += p
        times.append(t)
        values.append(float(k + (40 if spike_at is not None and spike_at <= i < spike_at + 12 else 0)))
    return times, values


def test_scores_are_in_range_quiet_on_rhythm_and_high_on_a_burst():
    times, values = count_series(4000, spike_at=3500)
    scores = score_series(times, values)
    assert len(scores) == len(values) and all(0.0 <= s <= 1.0 for s in scores)
    settled = scores[2 * 288 : 3500]  # after two days of learning the daily rhythm
    # Calibrated: on ordinary traffic ~10 % of points score >= 0.9 and ~1 % >= 0.99; night is
    # compared with nights (an uncalibrated night would flag far more).
    assert 0.05 <= sum(s >= 0.9 for s in settled) / len(settled) <= 0.15
    assert sum(s >= 0.99 for s in settled) <= 0.025 * len(settled)
    assert min(scores[3500:3512]) > 0.999


def test_scores_are_causal_appending_the_future_changes_nothing():
    times, values = count_series(1500, seed=3)
    full = score_series(times, values)
    for cut in (20, 400, 1000):
        assert score_series(times[:cut], values[:cut]) == full[:cut]
    # A wild future (a huge spike, a different step) does not leak into past scores either.
    future_t = times + [times[-1] + timedelta(seconds=s) for s in (1, 2, 3)]
    assert score_series(future_t, values + [1e9, 0, 1e9])[:1500] == full
    # Nor does a future value that makes it a non-count series (the kind of series is decided point by point).
    assert score_series(future_t, values + [0.5, 2.25, 1e9])[:1500] == full


def test_scores_are_deterministic_and_linear_in_cost():
    times, values = count_series(16_000, seed=9, spike_at=12_000)
    began = time.perf_counter()
    a = score_series(times, values)
    elapsed = time.perf_counter() - began
    assert a == score_series(times, values)
    # 4 negative-binomial scales per point (~0.6 s on an idle 2-core machine); the bound leaves room
    # for a busy CI runner
    assert elapsed < 6.0, f"16k points took {elapsed:.2f} s"


def test_a_long_burst_is_not_learnt_so_its_end_is_not_an_anomaly():
    # A 4-hour burst (+15 per 5 min) on the third day: flagged while it lasts, and the day after it is quiet
    # again (the level did not learn the burst, so the return to normal is not read as a drop).
    times, values = count_series(5 * 288, seed=4)
    burst = range(3 * 288 + 120, 3 * 288 + 168)
    values = [v + 15 if i in burst else v for i, v in enumerate(values)]
    scores = score_series(times, values)
    assert sum(scores[i] >= 0.99 for i in burst) >= 0.9 * len(burst)
    # Once the 1-hour sums no longer hold the burst, the day after looks like any ordinary day (about 1 %
    # of points >= 0.99 by calibration), not like a drop.
    after = scores[burst.stop + 14 : burst.stop + 288]
    assert sum(s >= 0.99 for s in after) <= 0.02 * len(after), [round(s, 2) for s in after if s >= 0.99][:10]


def test_a_lasting_shift_becomes_the_new_normal():
    # Counts triple for good on day 3: flagged at first, learnt as normal after the freeze limit (a day).
    times, values = count_series(7 * 288, seed=6)
    values = [v * 3 if i >= 2 * 288 else v for i, v in enumerate(values)]
    scores = score_series(times, values)
    assert max(scores[2 * 288 : 2 * 288 + 24]) >= 0.99
    assert sum(s >= 0.99 for s in scores[2 * 288 : 3 * 288]) >= 0.9 * 288
    # Learnt: an ordinary rate of high scores again (x3 Poisson is quasi-Poisson, not NB: a little above 1 %).
    assert sum(s >= 0.99 for s in scores[5 * 288 :]) <= 0.05 * 2 * 288


def test_non_seasonal_series_level_shift_is_scored():
    times = [S0 + timedelta(days=i) for i in range(300)]  # daily sampling: no time-of-day slots
    values = [100.0 + (i % 3) for i in range(200)] + [160.0 + (i % 3) for i in range(100)]
    scores = score_series(times, values)
    assert max(scores[20:200]) < 0.3 and scores[200] > 0.5 and max(scores[200:210]) > 0.9  # CUSUM builds up


def test_csv_round_trip_with_header_without_header_and_epochs(tmp_path):
    src = tmp_path / "in.csv"
    src.write_text("timestamp,value,label\n2026-01-05 00:00:00,3,0\n2026-01-05T00:05:00Z,4.5,0\n\n", encoding="utf-8")
    times, values = read_series_csv(src)
    assert values == [3.0, 4.5] and times[1] == S0 + timedelta(minutes=5)
    plain = tmp_path / "plain.csv"
    plain.write_text(f"{int(S0.timestamp())},1\n{int(S0.timestamp()) + 300},2\n", encoding="utf-8")
    assert read_series_csv(plain) == ([S0, S0 + timedelta(minutes=5)], [1.0, 2.0])
    out = io.StringIO()
    write_scores_csv(out, times, values, [0.0, 0.25])
    assert out.getvalue() == (
        "timestamp,value,anomaly_score\n2026-01-05T00:00:00Z,3,0.000000\n2026-01-05T00:05:00Z,4.5,0.250000\n"
    )


@pytest.mark.parametrize(
    "body, message",
    [
        ("timestamp,value\n2026-01-05T00:00:00Z,1\n2026-01-05T00:05:00Z,lots\n", "line 3: bad value 'lots'"),
        ("timestamp,value\nyesterday,1\n", "line 2: bad timestamp 'yesterday'"),
        ("2026-01-05T00:05:00Z,1\n2026-01-05T00:00:00Z,2\n", "line 2: timestamp '2026-01-05T00:00:00Z' goes back in time"),
        ("2026-01-05T00:00:00Z,1\n2026-01-05T00:05:00Z\n", "line 2: expected `timestamp,value`"),
        ("time,count\n2026-01-05T00:00:00Z,1\n", "line 1: header must name `timestamp` and `value`"),
        ("2026-01-05T00:00:00Z,nan\n", "line 1: value 'nan' is not a finite number"),
    ],
)
def test_bad_rows_are_errors_naming_the_line(tmp_path, body, message):
    src = tmp_path / "bad.csv"
    src.write_text(body, encoding="utf-8")
    with pytest.raises(SeriesFormatError) as err:
        read_series_csv(src)
    assert message in str(err.value) and "bad.csv" in str(err.value)


def test_cli_series_writes_scores_and_reports_bad_rows(tmp_path):
    times, values = count_series(300, seed=5)
    src, out = tmp_path / "counts.csv", tmp_path / "scored.csv"
    src.write_text("timestamp,value\n" + "".join(f"{t.isoformat()},{int(v)}\n" for t, v in zip(times, values)))
    runner = CliRunner()
    res = runner.invoke(backtest, ["--series", str(src), "--out", str(out)])
    assert res.exit_code == 0, res.output
    lines = out.read_text().splitlines()
    assert lines[0] == "timestamp,value,anomaly_score" and len(lines) == 301
    for line in lines[1:]:
        ts, value, score = line.split(",")
        assert ts.endswith("Z") and 0.0 <= float(score) <= 1.0
    res = runner.invoke(backtest, ["--series", str(src)])  # stdout
    assert res.exit_code == 0 and res.output.splitlines()[0] == "timestamp,value,anomaly_score"
    src.write_text("timestamp,value\n2026-01-05T00:00:00Z,1\n2026-01-05T00:05:00Z,x\n")
    res = runner.invoke(backtest, ["--series", str(src)])
    assert res.exit_code == 1 and "line 3: bad value 'x'" in res.output
    res = runner.invoke(backtest, [])
    assert res.exit_code == 2 and "exactly one of --series" in res.output
    res = runner.invoke(backtest, ["--series", "-"], input="2026-01-05T00:00:00Z,1\n2026-01-05T00:05:00Z,2\n")
    assert res.exit_code == 0 and res.output.splitlines()[1:] == [
        "2026-01-05T00:00:00Z,1,0.000000", "2026-01-05T00:05:00Z,2,0.000000"
    ]


def make_config(**detection):
    return config_from_dict({"topics": [{"id": TOPIC, "name": "Acme", "query": "acme"}], "detection": detection})


def test_backtest_posts_measures_lead_time_and_is_deterministic(tmp_path):
    store = SqliteStore(tmp_path / "t.db")
    bad = T0 + timedelta(days=3, hours=13)
    good = T0 + timedelta(days=4, hours=12)
    store.upsert_posts(background(T0, 5 * 24, seed=21))
    store.upsert_posts(burst(bad, [3] * 6 + [5] * 6, first_id=100_000))
    store.upsert_posts(burst(bad + timedelta(hours=1), [8, 15, 25, 40, 60, 60], categories=["boycott"],
                             big_account_at=1, first_id=200_000))
    store.upsert_posts(burst(good, [20, 60, 120, 120, 60, 20], label="pos", first_id=300_000))
    peak = bad + timedelta(hours=1, minutes=25)
    truth = {"events": [
        {"topic_id": TOPIC, "kind": "bad_buzz", "onset": bad.isoformat(), "peak": peak.isoformat(),
         "end": (bad + timedelta(hours=3)).isoformat()},
        {"topic_id": TOPIC, "kind": "positive_viral", "onset": good.isoformat(),
         "peak": (good + timedelta(minutes=15)).isoformat(), "end": (good + timedelta(hours=2)).isoformat()},
    ]}
    config = make_config()
    start, end = T0 + timedelta(days=3), T0 + timedelta(days=5)
    result = backtest_posts(config, store, start, end, truth=truth)
    m = result.metrics
    assert m["events"] == 1 and m["detected_crisis"] == 1 and m["detected_warning"] == 1
    # warning no later than crisis (the boycott explosion may go from watch to crisis in one
    # bucket), both before the peak
    assert m["lead_warning_min"][0] >= m["lead_crisis_min"][0] > 0
    assert m["positive_crisis"] == 0 and m["positive_warning_or_more"] == 0
    assert m["false_alerts"] == 0
    assert result.assessments == 2 * 24 * 12 + 1
    assert store.alert_history() == []  # a backtest only reads the store
    again = backtest_posts(config, store, start, end, truth=truth)
    assert [a.to_dict() for a in again.alerts] == [a.to_dict() for a in result.alerts]
    assert again.metrics == {**m, "ms_per_assessment": again.metrics["ms_per_assessment"]}
    store.close()


def test_cli_posts_replays_through_nlp_and_detection_against_the_truth(tmp_path):
    import json

    from vigie.sim.scenario import config_yaml, generate, write

    scenario = generate(11, days=4, shapes=("bad_buzz",))
    write(scenario, tmp_path)  # posts.jsonl (with 2 malformed lines) + truth.json
    (tmp_path / "vigie.yml").write_text(config_yaml(scenario), encoding="utf-8")
    runner = CliRunner()
    args = ["--posts", str(tmp_path / "posts.jsonl"), "--config", str(tmp_path / "vigie.yml")]
    res = runner.invoke(backtest, args + ["--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["quarantined"] == 2 and out["posts"] == len(scenario.posts)
    m = out["metrics"]
    assert m["events"] == 1 and m["detected_crisis"] == 1 and m["lead_crisis_min"][0] > 0
    assert any(a["peak_level"] == "crisis" for a in out["alerts"])
    # Each alert carries its story and evidence, told as live detection tells them (alerts/story.py): the
    # crisis names the scenario's amplifier (its generator role), whose post leads the evidence.
    crisis = next(a for a in out["alerts"] if a["peak_level"] == "crisis")
    amplifier = next(p for p, role in zip(scenario.posts, scenario.roles) if role == "amplifier")
    assert crisis["story"]["amplifiers"][0]["id"] == f"{amplifier['source']}:{amplifier['id']}"
    assert crisis["evidence"][0]["id"] == crisis["story"]["amplifiers"][0]["id"]
    assert all(a["story"] is not None for a in out["alerts"])
    res = runner.invoke(backtest, args + ["--truth", str(tmp_path / "missing.json")])
    assert res.exit_code == 1 and "missing.json: file not found" in res.output
    res = runner.invoke(backtest, ["--posts", str(tmp_path / "posts.jsonl")])
    assert res.exit_code == 2 and "--posts needs --config" in res.output


def test_cli_posts_with_a_simulated_analyst_needs_a_truth_and_keeps_the_crisis(tmp_path):
    import json

    from vigie.sim.scenario import config_yaml, generate, write

    scenario = generate(11, days=4, shapes=("bad_buzz",))
    write(scenario, tmp_path)
    (tmp_path / "vigie.yml").write_text(config_yaml(scenario), encoding="utf-8")
    args = ["--posts", str(tmp_path / "posts.jsonl"), "--config", str(tmp_path / "vigie.yml")]
    res = CliRunner().invoke(backtest, args + ["--json", "--analyst"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["metrics"]["detected_crisis"] == 1
    res = CliRunner().invoke(backtest, args + ["--analyst", "--truth", str(tmp_path / "missing.json")])
    assert res.exit_code == 1 and "missing.json: file not found" in res.output
