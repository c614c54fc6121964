"""Replays in simulated time: the clock walks bucket by bucket, ingesting what was created before each bucket
end, then detecting (`vigie demo`, the replay / backfill DAG, `vigie.sim`).

A backfill feeds the configured topics from one replay file (`replay_config`), by default into a sandbox
SQLite file beside the config, never the production store.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vigie.core.config import ConfigError, VigieConfig
from vigie.core.platform import PLATFORMS
from vigie.core.models import iso, utc
if TYPE_CHECKING:
    from vigie.pipeline.steps import Runtime


@dataclass
class SimulationResult:
    posts_inserted: int = 0
    posts_updated: int = 0
    quarantined: int = 0
    alert_events: int = 0
    ticks: int = 0
    seconds: float = 0.0


def simulate(
    rt: Runtime,
    start: datetime,
    end: datetime,
    *,
    progress: Any = None,
) -> SimulationResult:
    """Advance the simulated clock bucket by bucket from `start` to `end`: ingest, then detect."""
    # Not at import: the DAG files import this module, and detection pulls numpy/scipy.
    from vigie.pipeline.loop import bucket_floor, bucket_times
    from vigie.pipeline.steps import detect_and_alert, ingest_all

    result = SimulationResult()
    step = timedelta(minutes=rt.config.detection.bucket_minutes)
    began = time.perf_counter()
    for t in bucket_times(bucket_floor(start, rt.config.detection.bucket_minutes) + step, end, step):
        for report in ingest_all(rt, t):
            result.posts_inserted += report.inserted
            result.posts_updated += report.updated
            result.quarantined += report.quarantined
        result.alert_events += len(detect_and_alert(rt, t))
        result.ticks += 1
        if progress is not None:
            progress(t)
    result.seconds = time.perf_counter() - began
    return result


REPLAY_SOURCE = "replay_backfill"


def replay_config(config: VigieConfig, path: str | Path, topic_id: str | None = None,
                  sqlite_path: str | Path | None = None) -> VigieConfig:
    """The config of a backfill: the topics (one, or all) fed by a single replay source reading `path`.

    The other sources are dropped (a backfill never calls live APIs). With `sqlite_path` the replay
    writes to a sandbox SQLite file instead of the configured store (analysts' what-if runs).
    """
    from vigie.store import file_store_config

    file = Path(path).expanduser()
    if not file.is_file():
        raise ConfigError(f"replay file not found: {file}")
    if topic_id is not None and topic_id not in [t.id for t in config.topics]:
        raise ConfigError(f"unknown topic {topic_id!r} (configured: {', '.join(t.id for t in config.topics)})")
    data = config.model_copy(deep=True)
    data.topics = [t.model_copy(update={"sources": []}) for t in data.topics if topic_id is None or t.id == topic_id]
    data.sources = {REPLAY_SOURCE: PLATFORMS.get("replay").config(type="replay", path=file.resolve())}
    if sqlite_path:
        data.store = file_store_config(Path(sqlite_path).expanduser())
    return data


def replay_span(path: str | Path, start: str | None = None, end: str | None = None) -> tuple[datetime, datetime]:
    """The simulated-time window of a replay: [start, end] if given, else the file's first/last post.

    Reads only `created_at` of each line; bad lines are skipped here (the replay quarantines them).
    """
    if start and end:
        lo, hi = utc(start), utc(end)
    else:
        first = last = None
        with Path(path).expanduser().open("rb") as fh:
            for raw in fh:
                try:
                    created = utc(json.loads(raw)["created_at"])
                except (ValueError, KeyError, TypeError):
                    continue
                first = created if first is None or created < first else first
                last = created if last is None or created > last else last
        if first is None or last is None:
            raise ConfigError(f"{path}: no post with a valid created_at; nothing to replay")
        lo = utc(start) if start else first
        hi = utc(end) if end else last + timedelta(minutes=1)
    if hi <= lo:
        raise ConfigError(f"replay window is empty: start {iso(lo)} is not before end {iso(hi)}")
    return lo, hi


def backfill(rt: Runtime, start: datetime, end: datetime) -> dict[str, Any]:
    """Replay [start, end] in simulated time, bucket by bucket: ingest what was created before each
    bucket end, then detect (the code path of `vigie demo`). Idempotent: a second run adds nothing."""
    step = timedelta(minutes=rt.config.detection.bucket_minutes)
    # simulate() stops at the last bucket end <= its end: go one bucket further so the last posts count.
    result = simulate(rt, start, end + step)
    return {
        "start": iso(start),
        "end": iso(end),
        "ticks": result.ticks,
        "inserted": result.posts_inserted,
        "updated": result.posts_updated,
        "quarantined": result.quarantined,
        "alert_events": result.alert_events,
        "open_alerts": [a.dedup_key for a in rt.store.open_alerts()],
    }


def sandbox_path(config_path: Path, replay_file: str | Path) -> Path:
    """Default store of a backfill: a SQLite file beside the config, one per replayed file, so re-running
    the same replay is idempotent and never touches the production store."""
    return config_path.parent / "out" / f"replay-{Path(replay_file).stem}.db"
