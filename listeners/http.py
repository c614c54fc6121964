"""What every networked listener shares, in one place: reading rate-limit signals, waiting with a cap,
bounded retries with exponential back-off and jitter on 5xx/timeouts, and a JSON GET over `requests`.

Platform modules translate their client library's errors into three outcomes — `RateLimited` (wait
until reset, then retry), `Transient` (back off, then retry) or `SourceError` (stop this source, with
a message naming the environment variable to fix) — and `Retrier.call` does the rest.

The sleep function, clock and random generator are constructor arguments so that tests run the real
logic without sleeping (dependency injection; nothing is patched).
"""

from __future__ import annotations

import email.utils
import json
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, TypeVar

import requests
from requests.adapters import HTTPAdapter

from listeners.base import SourceError

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """How patient a listener is. `max_wait_s` caps a single rate-limit wait: beyond it the source
    stops for this run (its cursor is intact) instead of blocking the whole cycle."""

    retries: int = 4  # attempts after the first, for 5xx / timeouts / malformed bodies
    base_s: float = 1.0  # first back-off; doubles each retry
    cap_s: float = 30.0  # longest single back-off
    max_wait_s: float = 900.0  # longest rate-limit wait honoured
    rate_limit_retries: int = 3  # rate-limit waits per call before giving up for this run
    timeout_s: float = 20.0  # HTTP timeout (connect and read)


class RateLimited(Exception):
    """The platform said "not now": `wait_s` until the window resets (None when it did not say)."""

    def __init__(self, wait_s: float | None, detail: str = "rate limited"):
        super().__init__(detail)
        self.wait_s = wait_s
        self.detail = detail


class Transient(Exception):
    """A failure worth retrying after a back-off: 5xx, timeout, connection reset, truncated body.
    `kind` is what the failure is reported as once retries are spent (`listeners.base.KINDS`)."""

    def __init__(self, message: str = "", kind: str = "network"):
        super().__init__(message)
        self.kind = kind


class RateLimitStop(SourceError):
    """The rate-limit reset is further away than `max_wait_s`: stop this source until the next run."""

    def __init__(self, message: str = "", kind: str = "rate_limit"):
        super().__init__(message, kind)


# -- reading rate-limit headers ----------------------------------------------------------------

_RESET_HEADERS = ("retry-after", "x-rate-limit-reset", "x-ratelimit-reset", "ratelimit-reset")
_REMAINING_HEADERS = ("x-rate-limit-remaining", "x-ratelimit-remaining", "ratelimit-remaining")


def _lower(headers: Mapping[str, Any] | None) -> dict[str, str]:
    return {str(k).lower(): str(v) for k, v in (headers or {}).items()}


def _seconds_until(value: str, now: float) -> float | None:
    """One reset header value as seconds from `now`. Platforms disagree on the unit: X and Bluesky send
    epoch seconds, Reddit and Retry-After seconds to wait, Mastodon an ISO time, Retry-After may be an
    HTTP date. A number above 1e9 can only be an epoch."""
    text = value.strip()
    try:
        number = float(text)
    except ValueError:
        number = None
    if number is not None:
        return max(0.0, number - now) if number > 1e9 else max(0.0, number)
    try:
        at = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            at = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return None
    if at.tzinfo is None:
        at = at.replace(tzinfo=timezone.utc)
    return max(0.0, at.timestamp() - now)


def reset_wait(headers: Mapping[str, Any] | None, now: float) -> float | None:
    """Seconds until the rate-limit window resets, from whichever header the platform sent."""
    h = _lower(headers)
    for name in _RESET_HEADERS:
        if name in h:
            wait = _seconds_until(h[name], now)
            if wait is not None:
                return wait
    return None


def remaining(headers: Mapping[str, Any] | None) -> int | None:
    h = _lower(headers)
    for name in _REMAINING_HEADERS:
        if name in h:
            try:
                return int(float(h[name]))
            except ValueError:
                return None
    return None


# -- retrying --------------------------------------------------------------------------------------


class Retrier:
    """Runs one platform call with bounded retries, honouring rate limits; records what it waited.

    `info()` returns (and resets) what happened since the last page, for `Page.info`."""

    def __init__(
        self,
        what: str,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
    ):
        self.what = what
        self.policy = policy or RetryPolicy()
        self.sleep = sleep
        self.clock = clock
        self.rng = rng or random.Random()
        self._info: dict[str, Any] = {}
        self._pause_until: float | None = None

    def info(self) -> dict[str, Any]:
        out, self._info = self._info, {}
        return out

    def _note(self, key: str, amount: float = 1) -> None:
        self._info[key] = round(self._info.get(key, 0) + amount, 3)

    def backoff(self, attempt: int) -> float:
        """Full jitter (AWS style): uniform in [0, min(cap, base * 2**attempt)]; spreads retries out."""
        return self.rng.uniform(0, min(self.policy.cap_s, self.policy.base_s * (2**attempt)))

    def _wait(self, seconds: float, reason: str) -> None:
        if seconds > self.policy.max_wait_s:
            raise RateLimitStop(
                f"{self.what}: {reason}; the limit resets in {seconds:.0f} s, more than the maximum wait of "
                f"{self.policy.max_wait_s:.0f} s. Stopped until the next run (nothing lost: the cursor is kept)."
            )
        if seconds > 0:
            self._note("rate_limit_waits")
            self._note("waited_s", seconds)
            self.sleep(seconds)

    def observe(self, headers: Mapping[str, Any] | None) -> None:
        """After a successful response: when the window is used up, pause before the next call rather
        than spend a request on a certain 429. The quota the platform announces is reported with the page
        (`quota_remaining`, `quota_reset_at` epoch seconds) for collection health (vigie/store/health.py)."""
        left = remaining(headers)
        if left is not None:
            self._info["quota_remaining"] = left
            reset = reset_wait(headers, self.clock())
            if reset is not None:
                self._info["quota_reset_at"] = round(self.clock() + reset)
        if left == 0:
            wait = reset_wait(headers, self.clock())
            if wait:
                self._pause_until = self.clock() + wait

    def call(self, fn: Callable[[], T]) -> T:
        attempt = 0
        limited = 0
        while True:
            if self._pause_until is not None:
                pause, self._pause_until = self._pause_until - self.clock(), None
                if pause > 0:
                    self._wait(pause, "rate-limit window used up")
            try:
                return fn()
            except RateLimited as exc:
                limited += 1
                if limited > self.policy.rate_limit_retries:
                    raise RateLimitStop(f"{self.what}: still rate limited after {limited - 1} waits; stopped until the next run") from None
                # No reset given: wait a back-off, never zero (hammering is what the platform punishes).
                wait = exc.wait_s if exc.wait_s is not None else max(self.backoff(limited), self.policy.base_s)
                self._wait(wait, exc.detail)
            except Transient as exc:
                if attempt >= self.policy.retries:
                    raise SourceError(f"{self.what}: {exc} (gave up after {attempt + 1} attempts; cursor kept)", exc.kind) from None
                delay = self.backoff(attempt)
                attempt += 1
                self._note("retries")
                self._info.setdefault("errors", []).append(str(exc)[:200])
                self.sleep(delay)


# -- plain JSON / bytes over requests ------------------------------------------------------------


class TimeoutAdapter(HTTPAdapter):
    """Caps every request's timeout (tweepy sends none and could hang forever; prawcore always asks for
    16 s whatever praw's `timeout` setting says) and,
    when `base_url` is set, sends requests for `origin` there instead: how a source is pointed at a
    mirror, a proxy or a local fixture server by configuration."""

    def __init__(self, timeout: float, origin: str | None = None, base_url: str | None = None):
        super().__init__()
        self.timeout = timeout
        self.origin = origin.rstrip("/") if origin else None
        self.base_url = base_url.rstrip("/") if base_url else None

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        given = kwargs.get("timeout")
        if given is None or (isinstance(given, (int, float)) and given > self.timeout):
            kwargs["timeout"] = self.timeout  # a cap: prawcore always asks for 16 s, tweepy for none
        if self.base_url and self.origin and request.url and request.url.startswith(self.origin):
            request.url = self.base_url + request.url[len(self.origin):]
        return super().send(request, **kwargs)


def classify_status(what: str, status: int, headers: Mapping[str, Any] | None, clock: Callable[[], float], auth_hint: str) -> None:
    """Raise the outcome for a non-2xx status (the one mapping shared by requests-based sources)."""
    if 200 <= status < 300 or status == 304:
        return
    if status in (401, 403):
        raise SourceError(f"{what}: access refused (HTTP {status}). {auth_hint}", "auth")
    if status == 429:
        raise RateLimited(reset_wait(headers, clock()), f"HTTP 429 from {what}")
    if status >= 500 or status == 408:
        raise Transient(f"HTTP {status} from {what}")
    raise SourceError(f"{what}: unexpected HTTP {status}", "schema" if status < 400 else "config")


def transport_errors(what: str, exc: Exception) -> Transient:
    """A timeout or connection failure as a retryable outcome (message without URLs' query strings)."""
    kind = "timeout" if isinstance(exc, requests.Timeout) else type(exc).__name__
    return Transient(f"{what}: {kind}")


class JsonHttp:
    """GET JSON with a timeout, mapped onto `RateLimited`/`Transient`/`SourceError` and retried by a
    `Retrier`. Used by the sources that have no dedicated client library (Mastodon, Discourse, feeds)."""

    def __init__(self, what: str, retrier: Retrier, timeout_s: float, headers: dict[str, str] | None = None, auth_hint: str = ""):
        self.what = what
        self.retrier = retrier
        self.timeout_s = timeout_s
        self.session = requests.Session()
        self.session.headers.update(headers or {})
        self.session.headers.setdefault("User-Agent", "vigie/0.1 (social listening)")
        self.auth_hint = auth_hint or "Check the source's credentials."

    def get(self, url: str, params: dict[str, Any] | None = None, headers: dict[str, str] | None = None) -> requests.Response:
        """The raw response (2xx or 304), after retries."""
        return self._call(url, params, headers, parse=False)[1]

    def get_json(self, url: str, params: dict[str, Any] | None = None) -> tuple[Any, requests.Response]:
        """The decoded body and the response; a body that is not JSON is retried like a 5xx."""
        return self._call(url, params, None, parse=True)

    def _call(self, url: str, params: Any, headers: Any, parse: bool) -> tuple[Any, requests.Response]:
        def once() -> tuple[Any, requests.Response]:
            try:
                response = self.session.get(url, params=params, headers=headers, timeout=self.timeout_s)
            except (requests.Timeout, requests.ConnectionError) as exc:
                raise transport_errors(self.what, exc) from None
            classify_status(self.what, response.status_code, response.headers, self.retrier.clock, self.auth_hint)
            body = None
            if parse:
                try:
                    body = json.loads(response.content)
                except ValueError:
                    # A truncated or garbled body: the server may do better next time; never skip the page.
                    raise Transient("response is not valid JSON", "parse") from None
            self.retrier.observe(response.headers)
            return body, response

        return self.retrier.call(once)


def policy_from(cfg: Any) -> RetryPolicy:
    """The retry policy a source config asks for (its `timeout_s` / `max_wait_s` / `retries`, defaults otherwise)."""
    defaults = RetryPolicy()
    retries = getattr(cfg, "retries", None)
    return RetryPolicy(
        retries=defaults.retries if retries is None else retries,
        timeout_s=getattr(cfg, "timeout_s", None) or defaults.timeout_s,
        max_wait_s=getattr(cfg, "max_wait_s", None) if getattr(cfg, "max_wait_s", None) is not None else defaults.max_wait_s,
    )
