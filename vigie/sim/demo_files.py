"""The bundled demo (samples/demo in the checkout), ready to run from another folder: its config rewritten with
absolute paths and a store of the caller's own, and the time at which the DAGs must have raised its bad buzz.
Used by bench/airflow_dags.py and tests/test_dags.py; never by production code."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

DEMO = Path(__file__).resolve().parents[2] / "samples" / "demo"


def demo_config(folder: Path, store: dict[str, Any] | None = None) -> Path:
    """The bundled demo config, with absolute paths and a store of the test's own."""
    config = yaml.safe_load((DEMO / "vigie.yml").read_text(encoding="utf-8"))
    for source in config["sources"].values():
        if source["type"] == "replay":
            source["path"] = str((DEMO / source["path"]).resolve())
    config["store"] = store or {"type": "sqlite", "path": str(folder / "demo.db")}
    config["report"] = {"path": str(folder / "out" / "report.html")}
    path = folder / "vigie.yml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return path


def demo_crisis_time() -> tuple[str, datetime]:
    truth = json.loads((DEMO / "truth.json").read_text(encoding="utf-8"))
    event = next(e for e in truth["events"] if e["kind"] == "bad_buzz")
    onset, peak = (datetime.fromisoformat(event[k].replace("Z", "+00:00")) for k in ("onset", "peak"))
    # 75 % of the way from onset to peak. On the realistic demo background, with
    # the trained sentiment model, the first warning comes about 1 h 55 min before the peak, a third of the
    # rise (README, demo timeline); the DAGs must have raised it by three quarters of the way.
    at = onset + (peak - onset) * 0.75
    return event["topic_id"], at.replace(minute=at.minute - at.minute % 5, second=0, microsecond=0)
