"""Benchmark: what Airflow costs on top of the pipeline, on the demo scenario.

Prints the DagBag parse time of dags/ (the scheduler re-parses every 30 s), and the wall time of
`dag.test()` runs of the ingestion DAG (first run: all demo posts up to the middle of the bad buzz; second run:
nothing new) and of the detection DAG, in a scratch AIRFLOW_HOME with the SQLite store.

    .venv/bin/python bench/airflow_dags.py
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the checkout's packages


def main() -> None:
    scratch = Path(tempfile.mkdtemp(prefix="vigie-airflow-bench-"))
    os.environ.update({
        "AIRFLOW_HOME": str(scratch / "airflow"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
    })
    began = time.perf_counter()
    subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], check=True, capture_output=True)
    print(f"airflow db migrate:          {time.perf_counter() - began:6.2f} s")

    from vigie.sim.demo_files import demo_config, demo_crisis_time  # the demo config with absolute paths

    os.environ["VIGIE_CONFIG"] = str(demo_config(scratch))
    _topic, at = demo_crisis_time()

    began = time.perf_counter()
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(ROOT / "dags"))
    print(f"import airflow + DagBag:     {time.perf_counter() - began:6.2f} s ({len(bag.dag_ids)} DAGs, "
          f"{len(bag.import_errors)} import errors)")
    for stat in bag.dagbag_stats:
        print(f"  parse {Path(stat.file).name:<24} {stat.duration.total_seconds():6.3f} s")
    for label, dag_id in (("ingest (demo up to crisis)", "vigie_ingest"), ("detect", "vigie_detect"),
                          ("ingest again (nothing new)", "vigie_ingest"), ("detect again", "vigie_detect")):
        began = time.perf_counter()
        run = bag.get_dag(dag_id).test(logical_date=at)
        print(f"dag.test {label:<27} {time.perf_counter() - began:6.2f} s  state={run.state}")
    print(f"scratch folder: {scratch}")


if __name__ == "__main__":
    main()
