"""Benchmark: wall time of the demo (the main job on the embedded default), after installation.

Runs `vigie demo` as a user would (a subprocess, in a scratch folder so out/ of the checkout is left
alone) and prints the wall time and the figures the demo itself reports.

    .venv/bin/python bench/demo_time.py [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    vigie = Path(sys.executable).with_name("vigie")
    times = []
    summary = ""
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory() as tmp:
            shutil.copytree(ROOT / "samples", Path(tmp) / "samples")
            began = time.perf_counter()
            proc = subprocess.run(
                [str(vigie), "demo"], cwd=tmp, capture_output=True, text=True, env={**os.environ, "NO_COLOR": "1"}
            )
            times.append(time.perf_counter() - began)
            if proc.returncode != 0:
                sys.exit(f"vigie demo failed:\n{proc.stdout}\n{proc.stderr}")
            summary = next((ln for ln in proc.stdout.splitlines() if ln.startswith("Replay done")), "")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"vigie demo wall time over {args.runs} runs: median {statistics.median(times):.1f} s, "
          f"min {min(times):.1f} s, max {max(times):.1f} s")
    print(re.sub(r"\s+", " ", summary))


if __name__ == "__main__":
    main()
