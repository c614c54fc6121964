"""Ingestion units for the Airflow DAGs (`dags/vigie_ingest.py`), importable and tested without Airflow: which
source×topic units a run maps over, which pool (platform rate limit) a unit runs in, when a source is due,
and the small JSON summaries tasks hand each other through XCom (posts never travel through XCom: they go
from the listener to the store inside one task).

What every task does around a step (its config, its clock, its defaults) is `vigie.pipeline.airflow`.

`python -m vigie.pipeline.ingest_units pools > dags/pools.json` regenerates the pools file.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from vigie.core.config import ConfigError, VigieConfig
from vigie.core.models import iso, utc
from vigie.core.platform import PLATFORMS, Pool

# The platforms come from the platform registry (`listeners/<platform>/__init__.py`: pool, default interval).
# The ingestion DAG has one mapped task per platform so that each runs in its own pool; adding a *topic* or a
# *source* is config only, adding a platform is one folder.


def platforms() -> tuple[str, ...]:
    """Every platform a listener exists for, in registry order."""
    return tuple(PLATFORMS.names())


def pools() -> dict[str, Pool]:
    """Platform -> its Airflow pool. One pool per platform caps concurrent calls to it across *all* workers
    (Celery/Kubernetes), which is what the platforms' rate limits are about."""
    return {name: platform.pool for name, platform in PLATFORMS.items()}


def pool_name(platform: str) -> str:
    return PLATFORMS.get(platform).pool.name


def pools_document() -> dict[str, dict[str, Any]]:
    """The pools in the format of `airflow pools import FILE` (dags/pools.json is this, serialised:
    `python -m vigie.pipeline.ingest_units pools > dags/pools.json`)."""
    return {
        spec.name: {"slots": spec.slots, "description": spec.description, "include_deferred": False}
        for spec in pools().values()
    }


# -- ingestion units ----------------------------------------------------------------------------

def every_minutes(source_cfg: Any) -> int:
    """The source's `every_minutes`, else its platform's default (`Platform.every_minutes`)."""
    default = PLATFORMS.get(source_cfg.type).every_minutes if source_cfg.type in PLATFORMS else 5
    return getattr(source_cfg, "every_minutes", None) or default


def is_due(every: int, at: datetime, tick_minutes: int) -> bool:
    """Is a source fetched every `every` minutes due in the tick ending at `at`?

    The ingestion DAG ticks every `tick_minutes`; a source is due in the tick during which a multiple
    of its interval (counted from the epoch, so the same on every worker) elapsed. A source with an
    interval shorter than the tick runs every tick.
    """
    if every <= tick_minutes:
        return True
    end = int(utc(at).timestamp()) // 60
    start = end - tick_minutes
    return end // every != start // every


def ingest_units(
    config: VigieConfig,
    *,
    sources: list[str] | None = None,
    topics: list[str] | None = None,
    at: datetime | None = None,
    tick_minutes: int | None = None,
) -> list[dict[str, str]]:
    """One unit per configured source×topic (topics restricted by `Topic.sources`), config order.

    With `at` and `tick_minutes`, only the sources due in that tick; `sources`/`topics` restrict further
    (a manual run for one source). Unknown names are errors: a typo must not make an empty run.
    """
    for name in sources or []:
        if name not in config.sources:
            raise ConfigError(f"unknown source {name!r} (configured: {', '.join(sorted(config.sources)) or 'none'})")
    known_topics = [t.id for t in config.topics]
    for topic_id in topics or []:
        if topic_id not in known_topics:
            raise ConfigError(f"unknown topic {topic_id!r} (configured: {', '.join(known_topics)})")
    units = []
    for name, cfg in config.sources.items():
        if sources and name not in sources:
            continue
        if cfg.type not in PLATFORMS:
            raise ConfigError(f"source {name!r}: platform {cfg.type!r} has no Airflow pool (known: {', '.join(platforms())})")
        if at is not None and tick_minutes and not is_due(every_minutes(cfg), at, tick_minutes):
            continue
        for topic in config.topics_for_source(name):
            if topics and topic.id not in topics:
                continue
            units.append({"source": name, "platform": cfg.type, "topic": topic.id})
    return units


def units_by_platform(units: list[dict[str, str]]) -> dict[str, list[dict[str, str]]]:
    """Units split per platform, every platform present (an empty list makes Airflow skip its task)."""
    out: dict[str, list[dict[str, str]]] = {p: [] for p in platforms()}
    for unit in units:
        out[unit["platform"]].append(unit)
    return out


def unit_label(unit: Mapping[str, str]) -> str:
    return f"{unit['source']}/{unit['topic']}"


class IngestFailed(RuntimeError):
    """A unit could not be fully fetched; raised so Airflow retries it (what was stored stays stored)."""


def ingest_unit(rt: Any, unit: Mapping[str, str], now: datetime) -> dict[str, Any]:
    """Fetch one source for one topic since its cursor, analyse, store. Returns a JSON summary.

    Raises IngestFailed when the source reported errors: pages stored before the error keep their
    cursor, so the retry resumes where it stopped and never duplicates a post.
    """
    from vigie.pipeline.steps import ingest_source

    report = ingest_source(rt, unit["source"], now, topic_ids=[unit["topic"]])
    summary = source_summary(report, unit, now)
    if report.errors:
        # Error texts come from listeners, which never put secrets in them (house rule).
        raise IngestFailed(f"{unit_label(unit)}: " + "; ".join(report.errors))
    return summary


def source_summary(report: Any, unit: Mapping[str, str], now: datetime) -> dict[str, Any]:
    return {
        "source": unit["source"],
        "platform": unit["platform"],
        "topic": unit["topic"],
        "now": iso(now),
        "queries": report.queries,
        "pages": report.pages,
        "fetched": report.fetched,
        "inserted": report.inserted,
        "updated": report.updated,
        "quarantined": report.quarantined,
        "errors": list(report.errors),
    }


def total_inserted(summaries: Any) -> int:
    """Posts inserted by a run, from the units' summaries (None entries are units that failed)."""
    return sum(int(s.get("inserted", 0)) for s in summaries or [] if isinstance(s, Mapping))


if __name__ == "__main__":  # `python -m vigie.pipeline.ingest_units pools > dags/pools.json`
    import json
    import sys

    if sys.argv[1:] != ["pools"]:
        sys.exit("usage: python -m vigie.pipeline.ingest_units pools   (prints dags/pools.json)")
    print(json.dumps(pools_document(), indent=2, ensure_ascii=False))
