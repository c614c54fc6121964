"""Benchmark: CPU time per assessment of detection over suite scenarios, as a replay and as live detection.

`bench/detection.py` prints wall-clock ms per assessment, which a shared machine inflates at will. This prints
the process's CPU time (`time.process_time`) per assessment too, for one replay of each scenario (realistic
background, oracle labels, default detector, SQLite), each run on a new store connection (no memo left from the
previous run), modes alternated run by run:

* `replay`: what `bench/detection.py` times (`backtest_posts`: detection and the alert policy, nothing written);
* `live`: the same walk with live detection's write between two buckets (`commit_bucket` of the bucket's risk
  points and detection cursors, as `vigie run` commits them), which used to empty the store's memos.

    PYTHONPATH=$PWD .venv/bin/python bench/detection_cost.py --scenarios 0 --runs 3

Prints one line per run and the median per mode.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from alerts.policy import AlertPolicy  # noqa: E402
from vigie.core.models import Cursor, iso, utc  # noqa: E402
from vigie.pipeline.loop import BucketSink, bucket_floor, bucket_times, new_detector, run_buckets  # noqa: E402
from vigie.sim import evaluation as ev  # noqa: E402
from vigie.sim.backtest import backtest_posts  # noqa: E402


class _LiveWrites(BucketSink):
    """Live detection's writes without its reads of alerts: each bucket's risk points and cursors, one commit."""

    def __init__(self, store) -> None:  # noqa: ANN001
        self.store, self.points, self.assessments = store, [], 0

    def assessed(self, topic, t, assessment, event) -> None:  # noqa: ANN001
        self.points.append(assessment.risk_point())
        self.assessments += 1

    def bucket_done(self, t) -> None:  # noqa: ANN001
        cursors = [Cursor(source="detection", query=p.topic_id, value={"at": iso(t)}, updated_at=t) for p in self.points]
        self.store.commit_bucket([], [], self.points, cursors)
        self.points = []


def one_run(scenario, path: Path, mode: str) -> tuple[float, float, int]:
    """(CPU s, wall s, assessments) of one walk over the scenario on a new connection to `path`."""
    store = ev.open_file_store(path)
    config = ev.scenario_config(scenario, ev.VARIANTS["default"])
    start, end = utc(scenario.truth["start"]), utc(scenario.truth["end"])
    try:
        cpu, wall = time.process_time(), time.perf_counter()
        if mode == "replay":
            n = backtest_posts(config, store, start, end).assessments
        else:
            cfg = config.detection
            width = timedelta(minutes=cfg.bucket_minutes)
            sink = _LiveWrites(store)
            run_buckets(new_detector(config), store, config.topics,
                        bucket_times(bucket_floor(start, cfg.bucket_minutes) + width, end + width, width), sink,
                        policy=AlertPolicy(cfg))
            n = sink.assessments
        return time.process_time() - cpu, time.perf_counter() - wall, n
    finally:
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenarios", default="0", help="comma-separated suite indices (seed 1000 + i)")
    parser.add_argument("--runs", type=int, default=3, help="runs per mode and scenario (alternated)")
    parser.add_argument("--modes", default="replay,live")
    args = parser.parse_args()
    modes = [m for m in args.modes.split(",") if m]
    results: dict[str, list[tuple[float, float]]] = {m: [] for m in modes}
    for index in (int(x) for x in args.scenarios.split(",")):
        scenario = ev.generate(1000 + index, shapes=ev.suite_shapes(index), background="realistic")
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "s.db"
            filled = ev.open_file_store(path)
            ev.fill_store(scenario, filled, "oracle")
            filled.close()
            for run in range(args.runs):
                for mode in modes:
                    cpu, wall, n = one_run(scenario, path, mode)
                    results[mode].append((1000 * cpu / n, 1000 * wall / n))
                    print(f"scenario {index} run {run + 1} {mode}: {n} assessments, CPU {1000 * cpu / n:.3f} ms, "
                          f"wall {1000 * wall / n:.3f} ms per assessment (load average {os.getloadavg()[0]:.1f})")
    for mode, values in results.items():
        print(f"{mode}: median CPU {statistics.median(v[0] for v in values):.3f} ms, median wall "
              f"{statistics.median(v[1] for v in values):.3f} ms per assessment over {len(values)} runs")


if __name__ == "__main__":
    main()
