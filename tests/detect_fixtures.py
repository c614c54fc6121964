"""Synthetic, seeded topic traffic for the detection, policy and backtest tests (written by us).

Posts carry a ready-made `Analysis` so the tests exercise detection on a real SQLite store without the
NLP layer. Traffic follows a day/night rhythm; bursts are added on top.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

from vigie.core.models import Analysis, Author, Crisis, Engagement, Post, Sentiment
from vigie.sim.scenario.rhythm import poisson

TOPIC = "acme"
T0 = datetime(2026, 3, 2, 0, 0, tzinfo=timezone.utc)  # a Monday, midnight UTC


def day_rate(t: datetime, day: float = 3.0, night: float = 0.2) -> float:
    """Posts per 5-minute bucket: quiet at night, busy around 13:00 UTC."""
    phase = math.cos((t.hour + t.minute / 60 - 13) / 24 * 2 * math.pi)  # 1 at 13:00, -1 at 01:00
    return night + (day - night) * (phase + 1) / 2


def make_post(
    n: int,
    at: datetime,
    label: str,
    *,
    topic: str = TOPIC,
    followers: int = 200,
    author: str | None = None,
    categories: list[str] | None = None,
    cluster: str | None = None,
    source: str = "x",
    likes: int = 1,
) -> Post:
    score = {"neg": -0.8, "neu": 0.0, "pos": 0.8}[label]
    return Post(
        id=f"{source}:{topic}-{n}",
        source=source,
        text=f"synthetic post {n} ({label})",
        created_at=at,
        author=Author(id=author or f"user{n}", handle=author or f"user{n}", followers=followers),
        engagement=Engagement(likes=likes),
        analysis=Analysis(
            lang="en",
            sentiment=Sentiment(label, score, "test"),
            crisis=Crisis(risk=0.8 if categories else 0.0, categories=list(categories or []), terms=[]),
            topic_ids=[topic],
            near_dup_cluster=cluster,
        ),
        topic_ids=[topic],
    )


def background(
    start: datetime,
    hours: float,
    *,
    seed: int = 1,
    topic: str = TOPIC,
    rate: Callable[[datetime], float] = day_rate,
    neg_share: float = 0.15,
    pos_share: float = 0.45,
    first_id: int = 0,
    sources: tuple[str, ...] = ("x",),
) -> list[Post]:
    """Ordinary chatter: Poisson counts per 5-minute bucket, mostly neutral/positive, some complaints,
    spread evenly over `sources`."""
    rng = random.Random(seed)
    posts: list[Post] = []
    n = first_id
    t = start
    end = start + timedelta(hours=hours)
    while t < end:
        for _ in range(poisson(rng, rate(t))):
            u = rng.random()
            label = "neg" if u < neg_share else "pos" if u < neg_share + pos_share else "neu"
            at = t + timedelta(seconds=rng.randrange(300))
            posts.append(make_post(n, at, label, topic=topic, followers=rng.choice([50, 200, 800, 3000]),
                                   source=sources[n % len(sources)]))
            n += 1
        t += timedelta(minutes=5)
    return posts


def burst(
    start: datetime,
    per_bucket: list[int],
    *,
    topic: str = TOPIC,
    label: str = "neg",
    categories: list[str] | None = None,
    big_account_at: int | None = None,
    cluster_every: int = 0,
    first_id: int = 100_000,
    sources: tuple[str, ...] = ("x",),
    likes: int = 1,
) -> list[Post]:
    """`per_bucket[i]` extra posts in the i-th 5-minute bucket from `start`, all of `label`."""
    posts: list[Post] = []
    n = first_id
    for i, k in enumerate(per_bucket):
        b = start + timedelta(minutes=5 * i)
        for j in range(k):
            at = b + timedelta(seconds=(j * 7) % 300)
            followers = 250_000 if big_account_at == i and j == 0 else 300
            cluster = f"dup-{i}" if cluster_every and j % cluster_every == 0 else None
            posts.append(make_post(n, at, label, topic=topic, followers=followers, categories=categories, cluster=cluster,
                                   source=sources[j % len(sources)], likes=likes))
            n += 1
    return posts
