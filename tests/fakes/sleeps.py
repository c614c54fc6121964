"""A sleep the retry policies take (RetryPolicy(sleep=...)) that records its waits instead of spending them."""

from __future__ import annotations


class Sleeps:
    """Records back-off waits instead of spending them (RetryPolicy(sleep=...))."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
