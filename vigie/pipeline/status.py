"""What Vigie sees, per source and query: the pipeline step behind `vigie status`, `/metrics` and the Airflow
health task. Reads the store only (collection health, gaps, open blind alerts); never calls a platform."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from vigie.pipeline.coverage import blind_alert_topic, health_reasons
from vigie.store import health as collection
from vigie.core.config import VigieConfig
from vigie.core.models import iso, utc
from vigie.store.base import Store


class SourcesBlind(RuntimeError):
    """At least one source is blind (the Airflow health task fails with this, visibly)."""


def collection_status(config: VigieConfig, store: Store, now: datetime) -> dict[str, Any]:
    """One entry per configured source: its state ("ok", "blind", "warning", "never run"), why, its
    health record, its permanent gaps and its open blind alert."""
    now = utc(now)
    sources = []
    for name, cfg in config.sources.items():
        h = collection.load(store, name)
        reasons = health_reasons(config, h, now)
        alert = store.last_alert(blind_alert_topic(name))
        state = ("never run" if h.last_attempt is None else "blind" if any(r.blind for r in reasons)
                 else "warning" if reasons else "ok")
        last_hour = collection.hour_key(now - timedelta(hours=1))
        sources.append({
            "source": name, "type": cfg.type, "state": state,
            "reasons": [r.to_dict() for r in reasons],
            "last_attempt": h.last_attempt, "last_success": h.last_success, "failing_since": h.failing_since,
            "last_error": h.last_error, "quota": h.quota,
            "posts_this_hour": (h.hours.get(collection.hour_key(now)) or [0, 0, 0])[2],
            "posts_last_hour": (h.hours.get(last_hour) or [0, 0, 0])[2],
            "queries": {k: vars(q) for k, q in h.queries.items()},
            "gaps": [g.to_dict() for g in collection.gaps(store, name)],
            "coverage_alert": ({"id": alert.id, "state": alert.state.value, "opened_at": iso(alert.opened_at),
                                "kinds": alert.coverage.get("kinds")}
                               if alert is not None and alert.state.value != "resolved" else None),
        })
    return {"now": iso(now), "sources": sources, "blind": [s["source"] for s in sources if s["state"] == "blind"]}


def check_collection(config: VigieConfig, store: Store, now: datetime) -> dict[str, Any]:
    """`collection_status`, raising `SourcesBlind` when a source is blind (Airflow: a red task)."""
    status = collection_status(config, store, now)
    if status["blind"]:
        why = "; ".join(f"{s['source']}: {s['reasons'][0]['message']}" for s in status["sources"]
                        if s["state"] == "blind" and s["reasons"])
        raise SourcesBlind(f"{len(status['blind'])} source(s) blind: {why}")
    return status
