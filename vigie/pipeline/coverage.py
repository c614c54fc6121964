"""Is Vigie blind on a source? The pipeline's reads of it, for detection, `vigie status`, `/metrics` and the report.

The judgement is detection's (`alerts/coverage.py`: collapse, failing streak, quota); the record of what a
source fetched is the store's (`vigie/store/health.py`). The app layer asks here, so it depends on the
pipeline, not on detection's internals.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from alerts import coverage
from alerts.coverage import Reason
from vigie.core.config import VigieConfig
from vigie.core.models import utc
from vigie.store import health as collection
from vigie.store.base import Store

__all__ = ["Reason", "blind_alert_topic", "blind_periods", "health_reasons", "source_reasons"]


def health_reasons(config: VigieConfig, health: collection.SourceHealth, now: datetime) -> list[Reason]:
    """A source's blind (or warning) reasons at `now`, from its collection health record; empty: it sees."""
    return coverage.assess(health, now, config.coverage)


def source_reasons(config: VigieConfig, store: Store, now: datetime) -> dict[str, list[Reason]]:
    """Every configured source's reasons at `now` (`health_reasons`)."""
    return {name: health_reasons(config, collection.load(store, name), now) for name in config.sources}


def blind_alert_topic(source: str) -> str:
    """The `topic_id` under which a source's blind (coverage) alerts are stored."""
    return coverage.alert_topic(source)


def blind_periods(store: Store, source: str, now: datetime) -> Iterator[tuple[datetime, datetime, str]]:
    """(since, until, text) of every blind period the source's coverage alerts recorded, oldest alert
    first; an alert still open lasts until `now`."""
    for a in store.alert_history(blind_alert_topic(source)):
        since = utc(a.coverage.get("since") or a.opened_at)
        until = utc(a.coverage["until"]) if a.coverage.get("until") else (a.resolved_at or now)
        yield since, until, coverage.gap_text(a) or f"{source} blind"
