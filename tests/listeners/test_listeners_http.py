"""The shared rate-limit / retry logic (listeners/http.py) on its own: header formats, caps, back-off."""

from __future__ import annotations

import random
from email.utils import format_datetime
from datetime import datetime, timezone

import pytest
from fakes.clock import FakeClock

from listeners.base import SourceError
from listeners.http import RateLimited, RateLimitStop, Retrier, RetryPolicy, Transient, remaining, reset_wait

NOW = 1_800_000_000.0


@pytest.mark.parametrize(
    "headers, wait",
    [
        ({"Retry-After": "12"}, 12.0),  # seconds (HTTP, Discourse)
        ({"Retry-After": format_datetime(datetime.fromtimestamp(NOW + 90, tz=timezone.utc), usegmt=True)}, 90.0),  # HTTP date
        ({"x-rate-limit-reset": str(int(NOW) + 300)}, 300.0),  # X: epoch seconds
        ({"X-Ratelimit-Reset": "45"}, 45.0),  # Reddit: seconds until reset
        ({"X-RateLimit-Reset": "2027-01-15T08:00:30.000Z"}, datetime(2027, 1, 15, 8, 0, 30, tzinfo=timezone.utc).timestamp() - NOW),  # Mastodon
        ({"ratelimit-reset": str(int(NOW) + 7)}, 7.0),  # Bluesky: epoch seconds
        ({"x-rate-limit-reset": str(int(NOW) - 50)}, 0.0),  # already past
        ({"Retry-After": "soon"}, None),
        ({}, None),
    ],
)
def test_reset_wait_reads_every_platform_format(headers, wait):
    assert reset_wait(headers, NOW) == (pytest.approx(wait) if wait is not None else None)


def test_remaining():
    assert remaining({"X-Rate-Limit-Remaining": "0"}) == 0
    assert remaining({"x-ratelimit-remaining": "598.0"}) == 598  # Reddit sends a float
    assert remaining({}) is None


def test_window_used_up_pauses_before_next_call():
    clock = FakeClock(NOW)
    retrier = Retrier("t", sleep=clock.sleep, clock=clock.time)
    retrier.observe({"x-rate-limit-remaining": "0", "x-rate-limit-reset": str(int(NOW) + 20)})
    assert retrier.call(lambda: "ok") == "ok"
    # The quota the platform announced is reported with the page (collection health, vigie/store/health.py).
    assert clock.sleeps == [20.0] and retrier.info() == {"rate_limit_waits": 1, "waited_s": 20.0,
                                                         "quota_remaining": 0, "quota_reset_at": int(NOW) + 20}
    assert retrier.info() == {}  # reset after reading


def test_backoff_is_bounded_exponential_with_jitter():
    retrier = Retrier("t", RetryPolicy(base_s=1, cap_s=8), rng=random.Random(3))
    for attempt in range(6):
        delays = [retrier.backoff(attempt) for _ in range(200)]
        assert 0 <= min(delays) and max(delays) <= min(8, 2**attempt)
        assert max(delays) > 0.7 * min(8, 2**attempt)  # really spread over the interval


def test_rate_limit_without_reset_waits_a_backoff_and_gives_up_after_limit():
    clock = FakeClock(NOW)
    retrier = Retrier("t", RetryPolicy(base_s=2, rate_limit_retries=2), sleep=clock.sleep, clock=clock.time)

    def always_limited():
        raise RateLimited(None)

    with pytest.raises(RateLimitStop, match="still rate limited after 2 waits"):
        retrier.call(always_limited)
    assert len(clock.sleeps) == 2 and all(s >= 2 for s in clock.sleeps)  # never zero: no hammering


def test_transient_then_success_and_exhaustion():
    clock = FakeClock(NOW)
    outcomes = iter([Transient("HTTP 502"), Transient("timeout"), "done"])

    def flaky():
        item = next(outcomes)
        if isinstance(item, Exception):
            raise item
        return item

    retrier = Retrier("src", RetryPolicy(retries=2, base_s=0.5), sleep=clock.sleep, clock=clock.time)
    assert retrier.call(flaky) == "done"
    assert retrier.info()["errors"] == ["HTTP 502", "timeout"]

    def broken():
        raise Transient("HTTP 500")

    with pytest.raises(SourceError, match="src: HTTP 500 \\(gave up after 3 attempts; cursor kept\\)"):
        retrier.call(broken)
