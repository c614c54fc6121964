"""`/metrics` for ops, in the Prometheus text format (prometheus_client).

Every scrape reads the store (collection health, detection cursors, the outbox): the exporter keeps no
state of its own, so it can run anywhere the store is reachable and restart freely. `metrics_app` is a
WSGI app a web server (`vigie serve`) can mount; `vigie metrics --port P` serves it alone.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from datetime import datetime, timezone
from typing import Any

from prometheus_client.core import CollectorRegistry, GaugeMetricFamily
from prometheus_client.exposition import generate_latest, make_wsgi_app

from vigie.pipeline.coverage import health_reasons
from vigie.store import health as collection
from vigie.core.config import VigieConfig
from vigie.core.models import utc
from vigie.store.base import Store

DETECTION_CURSOR = "detection"  # vigie.pipeline.steps.DETECTION_CURSOR (not imported: the exporter needs no NLP)


def _ts(value: str | None) -> float | None:
    return utc(value).timestamp() if value else None


class VigieCollector:
    """A prometheus_client custom collector: one consistent read of the store per scrape."""

    def __init__(self, config: VigieConfig, store: Store, clock: Callable[[], datetime] | None = None):
        self.config, self.store = config, store
        self.clock = clock or (lambda: datetime.now(timezone.utc))

    def collect(self) -> Iterable[GaugeMetricFamily]:
        now = utc(self.clock())
        posts = GaugeMetricFamily("vigie_source_posts", "Posts fetched per source over a window", labels=["source", "window"])
        pages = GaugeMetricFamily("vigie_source_pages_last_hour", "Pages fetched in the last hour", labels=["source"])
        errors = GaugeMetricFamily("vigie_source_errors", "Failed queries by kind since the source was added (a counter kept in the store)",
                                   labels=["source", "kind"])
        quota = GaugeMetricFamily("vigie_source_quota_remaining", "Requests left in the platform's window", labels=["source"])
        reset = GaugeMetricFamily("vigie_source_quota_reset_timestamp_seconds", "When the quota window resets", labels=["source"])
        success = GaugeMetricFamily("vigie_source_last_success_timestamp_seconds", "Last run without a failed query", labels=["source"])
        blind = GaugeMetricFamily("vigie_source_blind", "1 when the source is blind (alerts/coverage.py)", labels=["source", "reason"])
        gaps = GaugeMetricFamily("vigie_source_gaps", "Permanent collection gaps recorded", labels=["source"])
        for name in self.config.sources:
            h = collection.load(self.store, name)
            hour = h.hours.get(collection.hour_key(now)) or [0, 0, 0]
            day = sum(v[2] for k, v in h.hours.items() if k >= collection.hour_key(now.replace(hour=0)))
            posts.add_metric([name, "this_hour"], hour[2])
            posts.add_metric([name, "today"], day)
            pages.add_metric([name], hour[1])
            for kind, n in sorted(h.errors.items()):
                errors.add_metric([name, kind], n)
            if h.quota:
                quota.add_metric([name], h.quota["remaining"])
                if h.quota.get("reset_at"):
                    reset.add_metric([name], _ts(h.quota["reset_at"]))
            if h.last_success:
                success.add_metric([name], _ts(h.last_success))
            reasons = [r for r in health_reasons(self.config, h, now) if r.blind]
            blind.add_metric([name, reasons[0].kind if reasons else ""], 1 if reasons else 0)
            gaps.add_metric([name], len(collection.gaps(self.store, name)))
        yield from (posts, pages, errors, quota, reset, success, blind, gaps)

        lag = GaugeMetricFamily("vigie_detection_lag_seconds", "Now minus the last bucket detection assessed", labels=["topic"])
        for topic in self.config.topics:
            cursor = self.store.get_cursor(DETECTION_CURSOR, topic.id)
            if cursor is not None:
                lag.add_metric([topic.id], (now - utc(cursor.value["at"])).total_seconds())
        yield lag

        open_entries = self.store.outbox_open()
        depth = GaugeMetricFamily("vigie_outbox_depth", "Messages still owed (pending, sending)")
        depth.add_metric([], len(open_entries))
        oldest = GaugeMetricFamily("vigie_outbox_oldest_age_seconds", "Age of the oldest message still owed")
        oldest.add_metric([], max(((now - e.enqueued_at).total_seconds() for e in open_entries), default=0.0))
        by_status = Counter((e.channel, e.status) for e in self.store.outbox_entries())
        deliveries = GaugeMetricFamily("vigie_deliveries", "Outbox entries by channel and status", labels=["channel", "status"])
        for (channel, status), n in sorted(by_status.items()):
            deliveries.add_metric([channel, status], n)
        yield from (depth, oldest, deliveries)


def registry(config: VigieConfig, store: Store, clock: Callable[[], datetime] | None = None) -> CollectorRegistry:
    reg = CollectorRegistry(auto_describe=False)
    reg.register(VigieCollector(config, store, clock))
    return reg


def render(config: VigieConfig, store: Store, clock: Callable[[], datetime] | None = None) -> bytes:
    """The metrics page, as bytes in the Prometheus text format."""
    return generate_latest(registry(config, store, clock))


def metrics_app(config: VigieConfig, store: Store, clock: Callable[[], datetime] | None = None) -> Any:
    """A WSGI app serving the metrics page (mount it at /metrics)."""
    return make_wsgi_app(registry(config, store, clock))
