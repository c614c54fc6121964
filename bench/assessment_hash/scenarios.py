"""Hash of every assessment over suite scenarios (realistic background, oracle labels, default detector): proves a
speed-up changes no risk, level, driver or note without running the whole test suite twice.

    PYTHONPATH=$PWD .venv/bin/python bench/assessment_hash/scenarios.py 0,1,2,3,4,5,6,7,8,9 > /tmp/after.txt

One line per scenario: index, assessments, sha1 of the repr of every assessment in order, alerts opened. Run it on
the base commit (a clean copy of the tree, e.g. `git archive HEAD | tar -x -C /tmp/base`) and on the change, then
`diff` the two outputs."""

from __future__ import annotations

import hashlib
import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path


def one(index: int) -> tuple[int, int, str, int]:
    import alerts.detect as detect
    from vigie.core.models import utc
    from vigie.sim import evaluation as ev
    from vigie.sim.backtest import backtest_posts

    digest, seen = hashlib.sha1(), [0]
    original = detect.Detector.assess

    def assess(self, *args, **kwargs):
        result = original(self, *args, **kwargs)
        digest.update(repr(result).encode())
        seen[0] += 1
        return result

    detect.Detector.assess = assess
    try:
        scenario = ev.generate(1000 + index, shapes=ev.suite_shapes(index), background="realistic")
        with tempfile.TemporaryDirectory() as tmp:
            store = ev.open_file_store(Path(tmp) / "s.db")
            ev.fill_store(scenario, store, "oracle")
            config = ev.scenario_config(scenario, ev.VARIANTS["default"])
            result = backtest_posts(config, store, utc(scenario.truth["start"]), utc(scenario.truth["end"]),
                                    truth=scenario.truth)
    finally:
        detect.Detector.assess = original
    return index, seen[0], digest.hexdigest(), len(result.alerts)


if __name__ == "__main__":
    indices = [int(x) for x in (sys.argv[1] if len(sys.argv) > 1 else "0,3").split(",")]
    with ProcessPoolExecutor(2) as pool:
        for row in pool.map(one, indices):
            print(*row)
