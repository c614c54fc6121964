"""`deliver`: one alert event to every channel that wants it, exactly once per channel, crash-safe.

Which channels: `open`/`escalate`/`update` go to channels whose `min_level` ≤ the alert's level;
`resolve` and `acknowledge` go to the channels that already received something for this alert (whoever
was told about an incident is told it is over, nobody else).

Dedup key (`Delivery.key`), per channel, within an alert:
  open → "open" · escalate → "escalate:<level>" (watch→warning and warning→crisis are two messages) ·
  update → "update:<level>:<risk rounded to an integer>" (the same state told twice is one message; a new
  level or risk is a new one) · resolve → "resolve" · acknowledge → "acknowledge".
A key already `sent` is never sent again, so a retried task or a re-run over the same window is silent.

Crash safety (write-ahead): before calling a provider we record the delivery as `pending` and save the
alert; after the call we record the outcome and save again (after *each* channel). If a process dies
in between, the next run finds `pending`: an idempotent channel (PagerDuty dedup_key, signed webhook
with a delivery id, Slack parent update) is simply called again; a non-idempotent one (Slack webhook,
e-mail, Teams) is marked `unknown` and not re-sent — a missing duplicate is better than a second page.
A `failed` delivery is retried on the next run (attempts accumulate).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from alerts.notify.base import Notifier
from alerts.notify.rules import Rules, skip_reason
from vigie.core.models import Alert, Delivery
from vigie.store.base import Store

log = logging.getLogger("vigie.notify")

INTERRUPTED = "interrupted between sending and recording; not re-sent to avoid a duplicate (check the channel)"


def event_key(alert: Alert, event: str) -> str:
    if event == "escalate":
        return f"escalate:{alert.level.value}"
    if event == "update":
        return f"update:{alert.level.value}:{round(alert.risk)}"
    if event == "note":  # one per recorded human action (vigie/core/actions.py): each is its own message
        return f"note:{len(alert.history)}"
    return event


def wants(notifier: Notifier, alert: Alert, event: str) -> bool:
    if event in ("resolve", "acknowledge"):
        # "unknown" (interrupted, maybe sent) counts as told: closing an incident nobody saw is harmless.
        return any(d.channel == notifier.channel and d.status in ("sent", "unknown") for d in alert.deliveries)
    return alert.level.rank >= notifier.min_level.rank


def _record(alert: Alert, channel: str, key: str) -> Delivery | None:
    for d in reversed(alert.deliveries):
        if d.channel == channel and (d.key or d.event) == key:
            return d
    return None


def _replace(alert: Alert, old: Delivery | None, new: Delivery) -> None:
    if old is not None:
        for i, d in enumerate(alert.deliveries):
            if d is old:
                alert.deliveries[i] = new
                return
    alert.deliveries.append(new)


def _recent_alerts(store: Store, alert: Alert) -> list[Alert]:
    try:
        return store.open_alerts(alert.topic_id) + store.alert_history(alert.topic_id, since=alert.updated_at - timedelta(days=1))
    except Exception as exc:  # rate limiting must not stop delivery if the history cannot be read
        log.warning("could not read recent alerts of %s for rate limiting: %s", alert.topic_id, exc)
        return []


def deliver(alert: Alert, event: str, notifiers: list[Notifier], store: Store) -> list[Delivery]:
    """Send `event` of `alert` to each channel that wants it; returns the deliveries made or recorded
    by this call (already-sent ones are not repeated and not returned). Never raises."""
    out: list[Delivery] = []
    recent: list[Alert] | None = None
    for notifier in notifiers:
        try:
            if not wants(notifier, alert, event):
                continue
            rules = notifier.rules
            if recent is None and rules.max_per_topic_per_hour is not None:
                recent = _recent_alerts(store, alert)
            delivery = _deliver_one(alert, event, notifier, store, rules, recent or [])
        except Exception as exc:  # a broken channel (or store hiccup) never blocks the others
            log.error("channel %s: delivering %s of alert %s failed: %s",
                      notifier.channel, event, alert.id, type(exc).__name__)
            continue
        if delivery is not None:
            out.append(delivery)
    return out


def _deliver_one(alert: Alert, event: str, notifier: Notifier, store: Store, rules: Rules,
                 recent: list[Alert]) -> Delivery | None:
    channel, key = notifier.channel, event_key(alert, event)
    prior = _record(alert, channel, key)
    if prior is not None and prior.status in ("sent", "unknown"):
        return None
    if prior is not None and prior.status == "pending" and not notifier.idempotent:
        marked = Delivery(channel, event, "unknown", attempts=prior.attempts, error=INTERRUPTED, at=prior.at, key=key)
        _replace(alert, prior, marked)
        store.save_alert(alert)
        log.warning("channel %s: %s of alert %s %s", channel, event, alert.id, INTERRUPTED)
        return marked
    reason = skip_reason(rules, alert, event, channel, recent, pager=notifier.pager)
    if reason is not None:
        if prior is not None and prior.status == "skipped":
            return None
        skipped = Delivery(channel, event, "skipped", error=reason, at=alert.updated_at, key=key)
        _replace(alert, prior, skipped)
        store.save_alert(alert)
        log.info("channel %s: %s of alert %s skipped: %s", channel, event, alert.id, reason)
        return skipped
    before = prior.attempts if prior is not None else 0
    pending = Delivery(channel, event, "pending", attempts=before, at=alert.updated_at, key=key)
    _replace(alert, prior, pending)
    store.save_alert(alert)
    try:
        result = notifier.send(alert, event)
    except Exception as exc:  # notifiers should not raise; if one does, it is a failed delivery
        # Only the exception type: its message could quote a secret the notifier failed to redact.
        log.error("channel %s: notifier raised %s (a bug: notifiers report failures as deliveries)",
                  channel, type(exc).__name__)
        result = Delivery(channel, event, "failed", attempts=1, error=f"notifier crashed: {type(exc).__name__}")
    result.channel, result.event, result.key = channel, event, key
    result.attempts = before + (result.attempts or 1)
    result.at = result.at or alert.updated_at
    _replace(alert, pending, result)
    store.save_alert(alert)
    return result


DIGEST_MIN_TOPICS = 3
DIGEST_EVENTS = ("open", "escalate")


def deliver_many(items: list[tuple[Alert, str]], notifiers: list[Notifier], store: Store, *,
                 digest_min: int = DIGEST_MIN_TOPICS) -> list[Delivery]:
    """Deliver the events of one cycle. When `digest_min` or more topics open/escalate at once, a channel
    that can (`digest`: console, Slack webhook, Teams, e-mail) gets ONE digest message instead of a
    burst; each alert still gets its own Delivery record (response "digest"), with the usual keys, so
    dedup, re-runs and later resolutions work exactly as for single messages. Pagers, the generic webhook
    and Slack bot threads always get one message per alert (incidents and threads are per alert)."""
    out: list[Delivery] = []
    for notifier in notifiers:
        batch: list[tuple[Alert, str]] = []
        if notifier.digest:
            try:
                batch = [(a, e) for a, e in items if e in DIGEST_EVENTS and _digestible(a, e, notifier, store)]
            except Exception as exc:
                log.error("channel %s: digest selection failed: %s", notifier.channel, type(exc).__name__)
                batch = []
            rules = notifier.rules
            if len({a.topic_id for a, _ in batch}) < (rules.digest_min_topics or digest_min):
                batch = []
        if batch:
            out += _deliver_digest(batch, notifier, store)
        in_digest = {(id(a), e) for a, e in batch}
        for alert, event in items:
            if (id(alert), event) not in in_digest:
                out += deliver(alert, event, [notifier], store)
    return out


def _digestible(alert: Alert, event: str, notifier: Notifier, store: Store) -> bool:
    if not wants(notifier, alert, event) or _record(alert, notifier.channel, event_key(alert, event)) is not None:
        return False
    rules = notifier.rules
    recent = _recent_alerts(store, alert) if rules.max_per_topic_per_hour is not None else []
    return skip_reason(rules, alert, event, notifier.channel, recent, pager=notifier.pager) is None


def _deliver_digest(batch: list[tuple[Alert, str]], notifier: Notifier, store: Store) -> list[Delivery]:
    channel = notifier.channel
    for alert, event in batch:  # write-ahead, as for single messages
        alert.deliveries.append(Delivery(channel, event, "pending", at=alert.updated_at, key=event_key(alert, event)))
        store.save_alert(alert)
    try:
        sent = notifier.send_digest(batch)
    except Exception as exc:
        log.error("channel %s: digest crashed: %s", channel, type(exc).__name__)
        sent = Delivery(channel, "digest", "failed", attempts=1, error=f"notifier crashed: {type(exc).__name__}")
    out = []
    for alert, event in batch:
        key = event_key(alert, event)
        pending = _record(alert, channel, key)
        record = Delivery(channel, event, sent.status, attempts=sent.attempts, error=sent.error,
                          response=f"digest of {len(batch)}" + (f" {sent.response}" if sent.response else ""),
                          at=alert.updated_at, key=key)
        _replace(alert, pending, record)
        store.save_alert(alert)
        out.append(record)
    return out


def summary(deliveries: list[Delivery]) -> dict[str, Any]:
    """Counts by status, for CLI output and Airflow task logs."""
    out: dict[str, Any] = {}
    for d in deliveries:
        out[d.status] = out.get(d.status, 0) + 1
    return out
