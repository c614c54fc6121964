"""Diagnosis of late warnings: for each negative event of the given suite scenarios, when the drivers' raw sum first
reached the warning threshold and when the risk did (after the composition cap), in minutes before the true peak,
with the drivers and notes at the first raw crossing. Tells a driver that is late from a cap that holds it.

    PYTHONPATH=$PWD .venv/bin/python bench/late_warnings.py 2,3,6,9,22,23,26,29,42,43,46,49   # tune split only

Realistic background, oracle labels, default detector."""

from __future__ import annotations

import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def one(index: int) -> list[str]:
    from vigie.core.models import utc
    from vigie.sim import evaluation as ev
    from vigie.sim.backtest import backtest_posts

    scenario = ev.generate(1000 + index, shapes=ev.suite_shapes(index), background="realistic")
    seen = []
    with tempfile.TemporaryDirectory() as tmp:
        store = ev.open_file_store(Path(tmp) / "s.db")
        ev.fill_store(scenario, store, "oracle")
        config = ev.scenario_config(scenario, ev.VARIANTS["default"])
        backtest_posts(config, store, utc(scenario.truth["start"]), utc(scenario.truth["end"]), truth=scenario.truth,
                       on_assessment=seen.append)
    warning = {t.id: t.thresholds.warning for t in config.topics}
    out = []
    for event in scenario.truth["events"]:
        if event.get("kind") == "positive_viral":
            continue
        onset, peak = utc(event["onset"]), utc(event["peak"])
        assessed = [a for a in seen if a.topic_id == event["topic_id"] and onset <= a.at <= peak + (peak - onset)]
        level = warning[event["topic_id"]]
        raw = next((a for a in assessed if sum(d.points for d in a.drivers) >= level), None)
        capped = next((a for a in assessed if a.risk >= level), None)

        def lead(a):
            return "-" if a is None else f"{(peak - a.at).total_seconds() / 60:.0f}"

        out.append(f"{index} {event.get('shape', event['kind'])}: onset to peak {(peak - onset).total_seconds() / 60:.0f} min, "
                   f"raw sum at warning {lead(raw)} min before the peak, risk at warning {lead(capped)}")
        if raw is not None:
            out.append("    drivers: " + "; ".join(f"{d.name} {d.points}" for d in raw.drivers)
                       + (" | " + " / ".join(raw.notes) if raw.notes else ""))
    return out


if __name__ == "__main__":
    indices = [int(x) for x in (sys.argv[1] if len(sys.argv) > 1 else "2,3,6,9").split(",")]
    with ProcessPoolExecutor(2) as pool:
        for lines in pool.map(one, indices):
            print("\n".join(lines), flush=True)
