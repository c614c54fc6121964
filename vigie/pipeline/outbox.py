"""The transactional outbox: every message an alert change owes is stored with that change, then drained.

Detection (vigie/pipeline/steps.py) turns a bucket's alert events into outbox entries with `plan` (one per
channel that wants the event) and commits them together with the alert change and the detection cursor
(`Store.commit_bucket`). `drain` then sends what is due, channel by channel, and records each outcome
(`Store.record_delivery`): the entry's state and the alert's delivery log. It runs after every bucket,
at every run, and between runs in a long-running process (`vigie deliver --every`), so:

- a crash anywhere loses nothing: what was committed is in the outbox, what was not is re-detected;
- a failed delivery (503, 429, timeout) is retried at the next pass, with per-channel exponential
  back-off (`retry_base_s`, doubling, at most `retry_max_s`) and the provider's `Retry-After` honoured;
  a channel in back-off holds its later messages too, so they keep their order;
- a message not delivered after `expire_after_minutes`, or refused for good (a 4xx), is given up, and
  that is itself reported: an ERROR log line, the entry and the alert's delivery log (`expired` /
  `failed`), and a notice on the ops path (the console channel);
- several topics opening/escalating in one bucket still make one digest on the channels that can.

Interrupted deliveries: an entry found `sending` was being sent when a process died. Whether the provider
got it is unknown. The rule, per channel (README "Delivery guarantees"):
- idempotent channels (`idempotent = True`: PagerDuty's dedup_key, the webhook's X-Vigie-Delivery id) are
  sent again: exactly once at the receiver;
- the Slack bot (`resume`): if the alert's thread is known, only the parent message is rewritten
  (`chat.update`, idempotent) to the current state; without a thread, the at-most-once rule below;
- `after_interruption = "resend"` (console): sent again, at-least-once (a repeated local line costs nothing);
- the others (Slack incoming webhook, Teams, e-mail): at-most-once. Marked `unknown`, not re-sent (a
  broadcast to people cannot be taken back or deduplicated), and reported on the ops path so a human
  checks the channel. The window is the time of one provider call.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from alerts.notify.base import Notifier
from alerts.notify.delivery import DIGEST_EVENTS, DIGEST_MIN_TOPICS, _recent_alerts, _record, _replace, event_key
from alerts.notify.rules import skip_reason
from vigie.core.faults import crash_point
from vigie.core.models import Alert, Delivery, OutboxEntry
from vigie.store.base import Store

log = logging.getLogger("vigie.notify.outbox")

CLOSING_EVENTS = ("resolve", "acknowledge")
RETRY_AFTER_CAP_S = 3600.0  # a Retry-After longer than this is a provider bug, not a plan


@dataclass
class OutboxPolicy:
    retry_base_s: float = 30.0
    retry_max_s: float = 300.0
    expire_after_s: float = 12 * 3600.0

    @classmethod
    def from_config(cls, cfg: Any) -> "OutboxPolicy":
        return cls(cfg.retry_base_s, cfg.retry_max_s, cfg.expire_after_minutes * 60.0)

    def delay(self, rounds: int, retry_after: float | None) -> float:
        backoff = min(self.retry_max_s, self.retry_base_s * 2 ** max(0, rounds - 1))
        if retry_after is not None:
            return max(backoff, min(retry_after, RETRY_AFTER_CAP_S))
        return backoff


@dataclass
class DrainReport:
    sent: int = 0
    retrying: int = 0
    waiting: int = 0  # in back-off, behind an earlier message, or for a channel not configured here
    skipped: int = 0
    unknown: int = 0
    gave_up: list[str] = field(default_factory=list)  # one line per message given up
    # (alert id, channel, error) of every message that failed in this pass (to be retried, or given up):
    # what an exit code for "partial failure" counts.
    failures: list[tuple[str, str, str]] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)
    lease_lost: bool = False

    def summary(self) -> str:
        parts = [f"{self.sent} sent"]
        for name in ("retrying", "waiting", "skipped", "unknown"):
            if getattr(self, name):
                parts.append(f"{getattr(self, name)} {name}")
        if self.gave_up:
            parts.append(f"{len(self.gave_up)} given up")
        return ", ".join(parts)


def _now(clock: Callable[[], datetime] | None) -> datetime:
    return clock() if clock is not None else datetime.now(timezone.utc)


# -- planning: which channels owe a message -------------------------------------------------------

def told(channel: str, alert: Alert, entries: Iterable[OutboxEntry]) -> bool:
    """Whether `channel` was told about `alert`, or has a message about it on the way: then it must hear
    the resolution too (whoever was told about an incident is told it is over, nobody else)."""
    if any(d.channel == channel and d.status in ("sent", "unknown") for d in alert.deliveries):
        return True
    return any(e.channel == channel and e.event not in CLOSING_EVENTS and e.status in ("sent", "unknown", "pending", "sending")
               for e in entries)


def plan(items: list[tuple[Alert, str]], notifiers: list[Notifier], store: Store, policy: OutboxPolicy,
         now: datetime | None = None, bucket_at: datetime | None = None) -> list[OutboxEntry]:
    """The outbox entries owed by these alert events (one per channel that wants each)."""
    now = now or datetime.now(timezone.utc)
    out: list[OutboxEntry] = []
    for alert, event in items:
        known = store.outbox_entries(alert.id) if event in CLOSING_EVENTS else []
        snapshot = alert.to_dict()
        snapshot["deliveries"] = []  # the log is read fresh at send time
        key = event_key(alert, event)
        for notifier in notifiers:
            if alert.kind not in notifier.kinds:
                continue  # a coverage alert goes to the ops channels, a bad buzz to the crisis ones
            if event in CLOSING_EVENTS:
                if not told(notifier.channel, alert, known):
                    continue
            elif alert.level.rank < notifier.min_level.rank:
                continue
            out.append(OutboxEntry(
                id=OutboxEntry.make_id(alert.dedup_key, key, notifier.channel), alert_id=alert.id,
                topic_id=alert.topic_id, channel=notifier.channel, event=event, key=key,
                bucket_at=bucket_at or alert.updated_at, enqueued_at=now, next_attempt_at=now,
                expires_at=now + timedelta(seconds=policy.expire_after_s), alert=snapshot, seq=len(out)))
    return out


# -- draining ----------------------------------------------------------------------------------

class _Drain:
    def __init__(self, store: Store, notifiers: list[Notifier], policy: OutboxPolicy,
                 clock: Callable[[], datetime] | None, keep_lease: Callable[[], bool] | None, digest_min: int):
        self.store, self.notifiers, self.policy = store, notifiers, policy
        self.clock = clock
        self.now = _now(clock)  # what is due is decided once per pass
        self.keep_lease = keep_lease
        self.digest_min = digest_min
        self.report = DrainReport()

    # One channel's queue, in commit order.
    def channel(self, name: str, queue: list[OutboxEntry]) -> None:
        notifier = next((n for n in self.notifiers if n.channel == name), None)
        down = False  # the channel is in back-off: its later messages wait, in order
        blocked: set[str] = set()  # alerts with an earlier message still on the way on this channel
        digest = self._digest(notifier, queue) if notifier is not None else []
        handled: set[str] = set()
        for e in queue:
            if e.id in handled:
                continue
            if self.now >= e.expires_at:
                self._give_up(e, notifier, "expired", f"not delivered within {self.policy.expire_after_s / 60:.0f} min"
                              + (f" (last error: {e.last_error})" if e.last_error else ""))
                continue
            if notifier is None or down or e.alert_id in blocked or e.next_attempt_at > self.now:
                down = down or (notifier is not None and e.next_attempt_at > self.now)
                blocked.add(e.alert_id)
                self.report.waiting += 1
                continue
            if self.keep_lease is not None and not self.keep_lease():
                self.report.lease_lost = True
                return
            if any(d.id == e.id for d in digest):
                handled.update(d.id for d in digest)
                ok = self._send_digest(notifier, digest)
            else:
                ok = self._send(notifier, e)
            if not ok:
                down = True
                blocked.add(e.alert_id)

    def _digest(self, notifier: Notifier, queue: list[OutboxEntry]) -> list[OutboxEntry]:
        """The first bucket's fresh open/escalate messages, if enough topics fire at once for one digest."""
        if not notifier.digest:
            return []
        rules = notifier.rules
        seen_alerts: set[str] = set()
        groups: dict[datetime, list[OutboxEntry]] = {}
        for e in queue:
            fresh = (e.status == "pending" and e.rounds == 0 and e.event in DIGEST_EVENTS
                     and e.alert_id not in seen_alerts and e.next_attempt_at <= self.now < e.expires_at)
            seen_alerts.add(e.alert_id)
            if fresh:
                alert = self._message_alert(e)[0]
                recent = _recent_alerts(self.store, alert) if rules.max_per_topic_per_hour is not None else []
                if skip_reason(rules, alert, e.event, e.channel, recent, pager=notifier.pager) is None:
                    groups.setdefault(e.bucket_at, []).append(e)
        for batch in groups.values():
            if len({e.topic_id for e in batch}) >= (rules.digest_min_topics or self.digest_min):
                return batch
        return []

    def _message_alert(self, e: OutboxEntry) -> tuple[Alert, Alert | None]:
        """The alert as it was at the event (what the message tells), with the current delivery log (the
        Slack bot finds its thread there), and the current stored alert (None if not committed yet)."""
        current = self.store.get_alert(e.alert_id)
        message = Alert.from_dict(e.alert)
        message.deliveries = list(current.deliveries) if current is not None else []
        return message, current

    def _send(self, notifier: Notifier, e: OutboxEntry) -> bool:
        """Send one entry; False if the channel failed and should be left alone for this pass."""
        message, current = self._message_alert(e)
        channel = e.channel
        resume = None
        if e.status == "sending":
            logged = _record(current, channel, e.key) if current is not None else None
            if logged is not None and logged.status == "sent":  # crashed between the alert log and the entry
                self._settle(e, logged, current, record_alert=False)
                return True
            if notifier.idempotent:
                log.warning("channel %s: %s of alert %s was interrupted; sending again (the receiver drops a repeat)",
                            channel, e.key, e.alert_id)
            elif notifier.resume_possible(message):
                resume = notifier.resume
            elif notifier.after_interruption != "resend":
                e.status, e.done_at = "unknown", self.now
                e.last_error = ("interrupted between sending and recording: maybe delivered, not re-sent "
                                "(at-most-once channel; check it)")
                self._record_final(e, current, "unknown", notifier)
                self.report.unknown += 1
                return True
        if e.event in CLOSING_EVENTS and current is not None and not told(channel, current, []):
            e.status, e.done_at, e.last_error = "skipped", self.now, "nobody on this channel was told about this alert"
            self._record_final(e, current, "skipped", notifier, quiet=True)
            self.report.skipped += 1
            return True
        rules = notifier.rules
        recent = _recent_alerts(self.store, message) if rules.max_per_topic_per_hour is not None else []
        reason = skip_reason(rules, message, e.event, channel, recent, pager=notifier.pager)
        if reason is not None and resume is None:
            e.status, e.done_at, e.last_error = "skipped", self.now, reason
            self._record_final(e, current, "skipped", notifier, quiet=True)
            log.info("channel %s: %s of alert %s skipped: %s", channel, e.key, e.alert_id, reason)
            self.report.skipped += 1
            return True
        e.status = "sending"  # write-ahead: a crash from here on leaves `sending`, handled above
        self.store.record_delivery(e)
        crash_point("before_send", channel)
        try:
            result = resume(message, e.event) if resume is not None else notifier.send(message, e.event)
        except Exception as exc:  # notifiers report failures as deliveries; a raise is a bug, kept to one channel
            log.error("channel %s: notifier raised %s (a bug: notifiers report failures as deliveries)",
                      channel, type(exc).__name__)
            result = Delivery(channel, e.event, "failed", attempts=1, error=f"notifier crashed: {type(exc).__name__}")
        crash_point("after_send", channel)
        ok = self._settle(e, result, current)
        crash_point("after_record", channel)
        return ok

    def _send_digest(self, notifier: Notifier, batch: list[OutboxEntry]) -> bool:
        items = []
        for e in batch:
            e.status = "sending"
            self.store.record_delivery(e)
            items.append((self._message_alert(e)[0], e.event))
        crash_point("before_send", notifier.channel)
        try:
            result = notifier.send_digest(items)  # type: ignore[attr-defined]
        except Exception as exc:
            log.error("channel %s: digest crashed: %s", notifier.channel, type(exc).__name__)
            result = Delivery(notifier.channel, "digest", "failed", attempts=1, error=f"notifier crashed: {type(exc).__name__}")
        crash_point("after_send", notifier.channel)
        ok = True
        for e in batch:
            one = Delivery(notifier.channel, e.event, result.status, attempts=result.attempts, error=result.error,
                           response=f"digest of {len(batch)}" + (f" {result.response}" if result.response else ""),
                           retryable=result.retryable, retry_after=result.retry_after)
            ok = self._settle(e, one, self.store.get_alert(e.alert_id)) and ok
        crash_point("after_record", notifier.channel)
        return ok

    def _settle(self, e: OutboxEntry, result: Delivery, current: Alert | None, record_alert: bool = True) -> bool:
        """Record the outcome of one call: sent, retry later (back-off), or given up."""
        e.attempts += max(1, result.attempts or 1) if record_alert else 0
        e.rounds += 1 if record_alert else 0
        e.response, e.last_error = result.response, result.error
        if result.status == "sent":
            e.status, e.done_at = "sent", _now(self.clock)  # when the provider took it (bench/notify.py)
            self.report.sent += 1
            self._record(e, current, "sent")
            return True
        if result.status == "skipped":
            e.status, e.done_at = "skipped", self.now
            self.report.skipped += 1
            self._record(e, current, "skipped")
            return True
        if result.retryable is False:
            self._give_up(e, None, "failed", f"refused by the provider: {result.error}", current=current)
            return True
        delay = self.policy.delay(e.rounds, result.retry_after)
        retry_at = _now(self.clock) + timedelta(seconds=delay)  # Retry-After counts from the answer
        if retry_at >= e.expires_at:
            self._give_up(e, None, "expired", f"still failing when it expires: {result.error}", current=current)
            return False
        e.status, e.next_attempt_at = "pending", retry_at
        self.report.retrying += 1
        self.report.failures.append((e.alert_id, e.channel, result.error or "failed"))
        log.warning("channel %s: %s of alert %s failed (%s); retry in %.0fs (attempt %d so far)",
                    e.channel, e.key, e.alert_id, result.error, delay, e.attempts)
        self._record(e, current, "retrying")
        return False

    def _record(self, e: OutboxEntry, current: Alert | None, status: str) -> None:
        delivery = Delivery(e.channel, e.event, status, attempts=e.attempts, response=e.response, error=e.last_error,
                            at=utc_or(e.alert.get("updated_at")), key=e.key)
        if status == "retrying":
            delivery.error = f"{e.last_error} (next attempt {e.next_attempt_at:%Y-%m-%d %H:%M:%S}Z)"
        self.report.deliveries.append(delivery)
        if current is not None:
            _replace(current, _record(current, e.channel, e.key), delivery)
        self.store.record_delivery(e, current)

    def _record_final(self, e: OutboxEntry, current: Alert | None, status: str, notifier: Notifier | None,
                      quiet: bool = False) -> None:
        self._record(e, current, status)
        if not quiet:
            self._ops(f"{e.key} of alert {e.alert_id} ({e.topic_id}) on channel {e.channel}: {status}: {e.last_error}",
                      exclude=e.channel)

    def _give_up(self, e: OutboxEntry, notifier: Notifier | None, status: str, why: str,
                 current: Alert | None = None) -> None:
        if current is None:
            current = self.store.get_alert(e.alert_id)
        e.status, e.done_at, e.last_error = status, self.now, why
        line = f"gave up {e.key} of alert {e.alert_id} ({e.topic_id}) on channel {e.channel} after {e.attempts} attempt(s): {why}"
        log.error("delivery %s", line)
        self.report.gave_up.append(line)
        self.report.failures.append((e.alert_id, e.channel, why))
        self._record(e, current, status)
        self._ops(line, exclude=e.channel)

    def _ops(self, text: str, exclude: str) -> None:
        """Tell the ops path (`notice`: the console prints it, other channels ignore it), except the failing one."""
        for n in self.notifiers:
            if n.channel != exclude:
                try:
                    n.notice(f"Vigie delivery: {text}")
                except Exception as exc:  # the ops path must not stop delivery
                    log.error("channel %s: notice failed: %s", n.channel, type(exc).__name__)


def utc_or(value: Any) -> datetime | None:
    from vigie.core.models import utc

    return utc(value) if value else None


def drain(store: Store, notifiers: list[Notifier], policy: OutboxPolicy | None = None, *,
          clock: Callable[[], datetime] | None = None, keep_lease: Callable[[], bool] | None = None,
          digest_min: int = DIGEST_MIN_TOPICS) -> DrainReport:
    """Send every outbox entry that is due, channel by channel (a slow or failing channel never holds up
    the others' order, only its own). Never raises for a channel problem; store errors propagate."""
    work = _Drain(store, notifiers, policy or OutboxPolicy(), clock, keep_lease, digest_min)
    queues: dict[str, list[OutboxEntry]] = {}
    for e in store.outbox_open():
        queues.setdefault(e.channel, []).append(e)
    for name, queue in queues.items():
        work.channel(name, queue)
        if work.report.lease_lost:
            log.error("delivery stopped: the detect-and-deliver lease was taken by another process")
            break
    return work.report
