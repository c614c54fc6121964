"""Generic webhook channel (`type: webhook`): JSON (n8n, Zapier, in-house tools), signed with HMAC-SHA256.

Request:
    POST <url>
    Content-Type: application/json
    X-Vigie-Event: open|escalate|update|resolve|acknowledge
    X-Vigie-Delivery: <alert id>:<dedup key of the event>   (same value on every retry: receivers dedup on it)
    X-Vigie-Timestamp: <unix seconds>
    X-Vigie-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>

Receivers verify with `verify_signature` (or its few lines in any language) and reject timestamps
older than 5 minutes (replay protection). The body is data, not markup: receivers that render it in
HTML must escape it. Because of the delivery id, a repeat after a crash is safe: `idempotent = True`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Any

from pydantic import Field

from alerts.notify import content
from alerts.notify.base import Notifier, RetryPolicy, attempt
from alerts.notify.build import CommonOptions
from alerts.notify.delivery import event_key
from alerts.notify.http import post_json
from alerts.notify.rules import Rules
from vigie.core.config import CHANNELS, ChannelConfig
from vigie.core.models import Alert, Delivery, Level, iso

TOLERANCE_S = 300
# 2: `alert.story` (what the alert is about: alerts/story.py; null when none was told, e.g. a coverage alert).
SCHEMA = "vigie.alert/2"


def sign(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify_signature(secret: str, timestamp: str, body: bytes, signature: str, *, now: float | None = None,
                     tolerance_s: int = TOLERANCE_S) -> bool:
    """What a receiver runs: constant-time comparison, and a timestamp within `tolerance_s`."""
    try:
        age = abs((now if now is not None else time.time()) - int(timestamp))
    except ValueError:
        return False
    return age <= tolerance_s and hmac.compare_digest(sign(secret, timestamp, body), signature)


def payload(alert: Alert, event: str, evidence_posts: int = 5) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "event": event,
        "delivery_id": f"{alert.id}:{event_key(alert, event)}",
        "alert": {
            "id": alert.id,
            "dedup_key": alert.dedup_key,
            "topic_id": alert.topic_id,
            "level": alert.level.value,
            "state": alert.state.value,
            "risk": round(alert.risk, 1),
            "peak_risk": round(alert.peak_risk, 1),
            "opened_at": iso(alert.opened_at),
            "updated_at": iso(alert.updated_at),
            "resolved_at": iso(alert.resolved_at),
            "acknowledged_by": alert.acknowledged_by,
            "drivers": [{"name": d.name, "points": round(d.points, 1), "explanation": d.explanation}
                        for d in content.top_drivers(alert, 5)],
            "evidence": [
                {"author": p.author, "followers": item.followers, "engagement": item.engagement,
                 "sentiment": item.sentiment, "text": p.excerpt, "url": p.url, "created_at": iso(item.created_at)}
                for p, item in zip(content.evidence(alert, evidence_posts, excerpt_chars=1000), alert.evidence)
            ],
            "links": dict(alert.links),
            "trend": content.risk_trend(alert),
            "story": alert.story.to_dict() if alert.story is not None else None,
        },
    }


class WebhookOptions(CommonOptions):
    headers: dict[str, str] = Field(default_factory=dict, description="Extra non-secret headers")


@CHANNELS.decorator("webhook")
class WebhookConfig(ChannelConfig):
    """Reads `url` (the receiver's https URL, required) and `secret_env` (the variable holding the signing secret)."""

    secret_key = "secret_env"
    secret_default = "VIGIE_WEBHOOK_SECRET"
    options_model = WebhookOptions

    def notifier(self, setup: Any) -> "WebhookNotifier":
        url = setup.require(self.url, "url", "the receiver's https URL")
        secret = setup.secret("webhook signing secret")
        return WebhookNotifier(url, secret, retry=setup.retry, timeout=setup.options.timeout_s,
                               headers=setup.options.headers, evidence_posts=setup.options.evidence_posts,
                               **setup.common())


class WebhookNotifier(Notifier):
    idempotent = True  # X-Vigie-Delivery lets the receiver drop a repeat

    def __init__(self, url: str, secret: str, *, min_level: Level = Level.WARNING, channel: str = "webhook",
                 retry: RetryPolicy | None = None, timeout: float = 10, headers: dict[str, str] | None = None,
                 evidence_posts: int = 5, clock: Callable[[], float] = time.time, rules: Rules | None = None,
                 kinds: Any = None):
        super().__init__(channel=channel, min_level=min_level, rules=rules, kinds=kinds)
        self.retry = retry or RetryPolicy()
        self.timeout = timeout
        self.headers = dict(headers or {})
        self.evidence_posts = evidence_posts
        self.url = url
        self._secret = secret
        self._clock = clock  # the signature's timestamp is real time (replay protection), not event time

    def send(self, alert: Alert, event: str) -> Delivery:
        body = json.dumps(payload(alert, event, self.evidence_posts), ensure_ascii=False, sort_keys=True).encode("utf-8")
        delivery_id = f"{alert.id}:{event_key(alert, event)}"

        def call() -> str:
            ts = str(int(self._clock()))  # re-signed on each attempt: a retry after a long wait stays fresh
            headers = {**self.headers, "X-Vigie-Event": event, "X-Vigie-Delivery": delivery_id,
                       "X-Vigie-Timestamp": ts, "X-Vigie-Signature": sign(self._secret, ts, body)}
            post_json(self.url, None, data=body, headers=headers, timeout=self.timeout, what="webhook")
            return delivery_id

        return attempt(self.channel, event, alert, call, self.retry, [self._secret])
