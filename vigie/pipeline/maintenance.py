"""Maintenance steps: store setup, Kibana dashboards, the daily report, quarantine review counts, retention.

Called by the maintenance DAG (`dags/vigie_maintenance.py`); idempotent, so also right after a deploy.
The report's HTML and Kibana's saved objects are the app layer's code: the pipeline never imports the app
(DESIGN.md section 5), so they are found by name in `OUTPUTS`, which `vigie/app/outputs/` fills when it is
first asked (the registry imports that package by name, like every plugin).
"""

from __future__ import annotations

import os
from collections import Counter, defaultdict
from collections.abc import Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from vigie.core.config import VigieConfig
from vigie.core.models import iso, utc
from vigie.core.registry import Registry

if TYPE_CHECKING:
    from vigie.pipeline.steps import Runtime

# "report": write_report(store, config, out, *, start, end, risk_curve) -> path of the written HTML file;
# "kibana_dashboards": (config, environ) -> lines saying what was imported (raises RuntimeError on failure).
OUTPUTS: Registry[Callable[..., Any]] = Registry("maintenance output", "vigie.app.outputs")


def es_setup_if_configured(config: VigieConfig) -> list[str]:
    """`vigie es setup` (templates, ILM, aliases; idempotent) when the store is Elasticsearch."""
    from vigie.store import open_store, store_backend

    if not store_backend(config.store).installable:
        return [f"store is {config.store.type}: nothing to set up"]
    store = open_store(config.store)
    try:
        return list(store.setup())
    finally:
        store.close()


def kibana_import_if_configured(config: VigieConfig, environ: Mapping[str, str] | None = None) -> list[str]:
    """Import the dashboards when the store is Elasticsearch and `report.kibana_url` is set.

    Credentials come from the environment only (KIBANA_API_KEY, or KIBANA_USERNAME + KIBANA_PASSWORD),
    e.g. an Airflow Connection exported to the workers' environment; never from the DAG or the config.
    """
    environ = os.environ if environ is None else environ
    from vigie.store import store_backend

    if not store_backend(config.store).dashboards or not config.report.kibana_url:
        return ["kibana: not configured (needs an elasticsearch store and report.kibana_url)"]
    return OUTPUTS.get("kibana_dashboards")(config, environ)


def quarantine_counts(store: Any) -> dict[str, dict[str, int]]:
    """Quarantined records per source and reason, for the review queue (reasons cut at the first ':',
    so "invalid JSON: Expecting value (column 3)" and "(column 9)" count together)."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for item in store.quarantined():
        counts[item.source][item.reason.split(":", 1)[0].strip()] += 1
    return {source: dict(sorted(c.items())) for source, c in sorted(counts.items())}


def retention_days(config: VigieConfig) -> int:
    return config.store.retention_days


def apply_retention(store: Any, config: VigieConfig, now: datetime) -> str:
    """Delete the posts older than the retention period (alerts, cursors and quarantine are kept).

    Elasticsearch with ILM: the policy `vigie es setup` installs does it, by dropping whole rolled-over
    indices; nothing to do here. Elasticsearch without ILM, and SQLite: `Store.purge`.
    """
    days = retention_days(config)
    from vigie.store import store_backend

    if store_backend(config.store).lifecycle_policy and store.ilm_available():
        return f"retention: handled by the ILM policy ({days} days; see `vigie es setup`)"
    cutoff = utc(now) - timedelta(days=days)
    removed = store.purge(cutoff)
    return f"retention: removed {removed} post(s) created before {iso(cutoff)}"


def daily_report(rt: Runtime, now: datetime) -> Path:
    """Write the HTML report of the UTC day before `now`, next to the configured report path
    (`report-YYYY-MM-DD.html`). On a remote store the risk curve is not recomputed bucket by bucket
    (288 detector passes a day, each a round of queries): the chart uses the risk logged at alert events."""
    from vigie.store import store_backend

    end = utc(now).replace(hour=0, minute=0, second=0, microsecond=0)
    start = end - timedelta(days=1)
    base = Path(rt.config.report.path)
    out = base.with_name(f"{base.stem}-{start:%Y-%m-%d}{base.suffix or '.html'}")
    return Path(OUTPUTS.get("report")(rt.store, rt.config, out, start=start, end=end,
                                      risk_curve=store_backend(rt.config.store).embedded))
