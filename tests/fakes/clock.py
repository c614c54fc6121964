"""A clock the listener tests inject (`sleep=clock.sleep, clock=clock.time`), so back-off waits are recorded,
not spent."""

from __future__ import annotations


class FakeClock:
    """Injectable sleep + clock: `sleep` advances time instead of blocking, and records each wait."""

    def __init__(self, start: float = 1_800_000_000.0):
        self.now = start
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def time(self) -> float:
        return self.now
