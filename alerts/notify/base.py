"""What every notifier shares: the `Notifier` base class, the send error, retries with back-off, secret redaction.

A notifier turns one alert event into one provider call and reports it as a `Delivery`; it never raises
for a provider problem (the error goes in `Delivery.error`, redacted), so `deliver` can move on to the
next channel. Policy (levels, quiet hours, rate limits, dedup) lives in `alerts.notify.rules` and
`alerts.notify.delivery`, not here.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Literal

from alerts.notify.rules import Rules
from vigie.core.models import Alert, Delivery, Level
from vigie.core.secrets import register, scrub

log = logging.getLogger("vigie.notify")


class Notifier:
    """The contract between a channel and the delivery code (alerts/notify/delivery.py, vigie/pipeline/outbox.py),
    every attribute declared here with its default; a channel's notifier subclasses it and overrides what differs.

    - `channel`: the channel name in the delivery log (the type, or `options.name`); `min_level`: lowest level sent;
    - `kinds`: alert kinds it takes ("risk", "coverage"); `rules`: its delivery rules (alerts.notify.rules), both
      given at construction (from the configuration by alerts/notify/build.py);
    - `pager = True`: acknowledged alerts are not re-paged on updates (alerts.notify.rules);
    - after a crash between sending and recording (README "Delivery guarantees"): `idempotent = True` means the
      provider drops a repeat (PagerDuty dedup_key, the webhook's X-Vigie-Delivery id), so it is sent again;
      `after_interruption = "resend"`: not idempotent but a repeat is harmless (console), sent again;
      `resume_possible(alert)` true: `resume(alert, event)` instead of a repeat (Slack bot: rewrite the thread's
      parent, an idempotent `chat.update`); otherwise the delivery is marked `unknown` and reported, never repeated;
    - `digest = True`: `send_digest(items)` sends one message for many topics;
    - `notes = True`: human actions are sent as `note` events (Slack bot threads);
    - `notice(text)`: the ops path (a delivery given up); only the console prints it.
    """

    channel: str = ""
    min_level: Level = Level.WARNING
    default_kinds: tuple[str, ...] = ("risk",)
    pager: bool = False
    idempotent: bool = False
    after_interruption: Literal["skip", "resend"] = "skip"
    digest: bool = False
    notes: bool = False

    def __init__(self, *, channel: str, min_level: Level, rules: Rules | None = None,
                 kinds: Iterable[str] | None = None):
        self.channel = channel
        self.min_level = min_level
        self.rules: Rules = rules if rules is not None else Rules()
        self.kinds: tuple[str, ...] = tuple(kinds) if kinds is not None else self.default_kinds

    def send(self, alert: Alert, event: str) -> Delivery:
        """Deliver one event of one alert. Never raises for provider errors: returns a failed Delivery."""
        raise NotImplementedError

    def send_digest(self, items: list[tuple[Alert, str]]) -> Delivery:
        """One message for many alerts' events (only called when `digest` is true)."""
        raise NotImplementedError(f"channel {self.channel} sends no digest")

    def resume_possible(self, alert: Alert) -> bool:
        return False

    def resume(self, alert: Alert, event: str) -> Delivery:
        raise NotImplementedError(f"channel {self.channel} cannot resume a delivery")

    def notice(self, text: str) -> None:
        """The ops path; channels that are not it ignore it."""


class SendError(Exception):
    """A provider call that did not succeed. `retryable` says whether trying again can help."""

    def __init__(self, message: str, *, retryable: bool, status: int | None = None, retry_after: float | None = None):
        super().__init__(message)
        self.retryable = retryable
        self.status = status
        self.retry_after = retry_after
        self.attempts = 0


def parse_retry_after(value: str | None) -> float | None:
    """`Retry-After` in seconds (the HTTP-date form is not used by Slack, PagerDuty or Teams)."""
    if value is None:
        return None
    try:
        return max(0.0, float(value.strip()))
    except ValueError:
        return None


def classify_http(status: int, body: str, retry_after: str | None = None) -> SendError | None:
    """Map an HTTP status to success (None) or a SendError: 429 and 5xx retry, other 4xx never will."""
    if 200 <= status < 300:
        return None
    # Scrubbed before it is cut: a secret cut in half by the limit would no longer be recognised.
    snippet = scrub(" ".join(body.split()))[:200]
    if status == 429:
        return SendError(f"HTTP 429 rate limited: {snippet}", retryable=True, status=status,
                         retry_after=parse_retry_after(retry_after))
    if status >= 500:
        return SendError(f"HTTP {status} server error: {snippet}", retryable=True, status=status,
                         retry_after=parse_retry_after(retry_after))
    return SendError(f"HTTP {status} refused (will not succeed on retry): {snippet}", retryable=False, status=status)


@dataclass
class RetryPolicy:
    """Exponential back-off; `Retry-After` from the provider wins when it is longer (capped at `max_wait`).

    `sleep` is a parameter so tests (and the demo) can record waits instead of spending them.
    """

    attempts: int = 4
    base_delay: float = 1.0
    max_delay: float = 20.0
    max_wait: float = 60.0
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)

    def delay(self, attempt: int, error: SendError) -> float:
        backoff = min(self.max_delay, self.base_delay * (2 ** (attempt - 1)))
        if error.retry_after is not None:
            return min(self.max_wait, max(error.retry_after, 0.0))
        return backoff


def with_retries(call: Callable[[], str | None], policy: RetryPolicy) -> tuple[str | None, int]:
    """Run `call` until it succeeds, a non-retryable error occurs, or attempts run out.

    Returns (provider response id, attempts). Raises the last SendError, with `.attempts` set.
    """
    attempt = 0
    while True:
        attempt += 1
        try:
            return call(), attempt
        except SendError as err:
            err.attempts = attempt
            if not err.retryable or attempt >= policy.attempts:
                raise
            wait = policy.delay(attempt, err)
            log.warning("delivery attempt %d failed (%s); retrying in %.1fs", attempt, err, wait)
            policy.sleep(wait)


def redact(text: str, secrets: Iterable[str | None]) -> str:
    """Remove every secret (webhook URL, token, routing key, password) from a message before it is
    stored or logged, with its URL path and query (an endpoint answering 404 quotes the path it was
    called on; Teams quotes `sig=`), and every other secret the process registered (`vigie.core.secrets`)."""
    return scrub(text, secrets)


def attempt(
    channel: str,
    event: str,
    alert: Alert,
    call: Callable[[], str | None],
    retry: RetryPolicy,
    secrets: Iterable[str | None] = (),
) -> Delivery:
    """Run one provider call with retries and turn the outcome into a Delivery (never raises)."""
    secrets = list(secrets)
    register(*secrets)  # known to the log filter and to `classify_http` before any answer is read
    try:
        response, attempts = with_retries(call, retry)
    except SendError as err:
        message = redact(str(err), secrets)
        # Loud: a 4xx means a configuration problem (revoked webhook, bad routing key) a human must fix.
        level = logging.ERROR if not err.retryable else logging.WARNING
        log.log(level, "channel %s: %s of alert %s failed after %d attempt(s): %s",
                channel, event, alert.id, err.attempts, message)
        return Delivery(channel, event, "failed", attempts=err.attempts, error=message, at=alert.updated_at,
                        retryable=err.retryable, retry_after=err.retry_after)
    except Exception as exc:  # a bug or an unexpected library error must not stop the other channels
        message = redact(f"{type(exc).__name__}: {exc}", secrets)
        log.error("channel %s: %s of alert %s crashed: %s", channel, event, alert.id, message)
        return Delivery(channel, event, "failed", attempts=1, error=message, at=alert.updated_at)
    return Delivery(channel, event, "sent", attempts=attempts, response=response, at=alert.updated_at)
