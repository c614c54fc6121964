"""What is rising: entities (hashtags, mentions, links, domains, accounts) ranked by how much more often they
appear in a window than in the topic's baseline, as BotSlayer's trends do.

The score is the log-odds ratio with an informative Dirichlet prior of Monroe, Colaresi & Quinn, "Fightin'
Words" (Political Analysis, 2008, §3.5.1): with `y_w` the count of entity `w` in the window (total `n`),
`b_w` in the baseline (total `m`), and a prior `a_w = a0 * (y_w + b_w) / (n + m)` (the pooled frequency, `a0`
its strength in pseudo-counts; by default `a0 = n + m`, i.e. the prior is the pooled counts themselves, the
"whole corpus as background" choice of Monroe et al.),

    delta_w = log((y_w + a_w) / (n + a0 - y_w - a_w)) - log((b_w + a_w) / (m + a0 - b_w - a_w))
    var_w  ~= 1 / (y_w + a_w) + 1 / (b_w + a_w)
    z_w     = delta_w / sqrt(var_w)

The prior shrinks rare entities towards "no change" (one new hashtag seen twice is not a trend) while a
frequent entity that doubles scores high; z accounts for how much evidence each count carries. Ranked by z,
rising first. A weak prior (small `a0`) gives an entity absent from the baseline a tiny `b_w + a_w`, hence a
huge variance: a brand-new crisis hashtag would rank below a known one that ticked up. On the demo
(window 11:00-13:00 on the crisis day, 2-day baseline) `a0 = 10` ranked #boycottbrivolle (7 vs 0) second
behind #mijoteo3 (3 vs 1); the pooled prior ranks it first.

Pure functions over counters (`rising`), plus `entity_counts`, which reads posts through the store protocol:
story-level alerts can reuse both. Reposts are left out of the counts, as everywhere in detection: they are
amplification of their original, whose entities are already counted.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from vigie.core.models import Post
from vigie.store.base import Store

KINDS = ("hashtags", "mentions", "links", "domains", "accounts")
DEFAULT_PRIOR: float | None = None  # a0: None = the pooled counts themselves (n + m pseudo-counts)


@dataclass(frozen=True)
class Trend:
    kind: str
    key: str
    window: int  # posts in the window that carry it
    baseline: int  # posts in the baseline that carry it
    log_odds: float  # delta_w
    z: float  # delta_w / sd

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def rising(window: Mapping[str, int], baseline: Mapping[str, int], *, kind: str = "", window_total: int | None = None,
           baseline_total: int | None = None, prior: float | None = DEFAULT_PRIOR, min_count: int = 2,
           limit: int | None = 20) -> list[Trend]:
    """Entities of `window` ranked by z (rising first), those seen fewer than `min_count` times in the window
    left out. Totals default to the sums of the counters; pass the number of posts when an entity can be
    absent from most posts (then the odds are "posts with it" against "posts without it")."""
    if prior is not None and prior <= 0:
        raise ValueError("prior must be positive")
    n = window_total if window_total is not None else sum(window.values())
    m = baseline_total if baseline_total is not None else sum(baseline.values())
    pooled = n + m
    out: list[Trend] = []
    if pooled <= 0:
        return out
    prior = float(pooled) if prior is None else prior
    for key, y in window.items():
        if y < min_count:
            continue
        b = baseline.get(key, 0)
        a = prior * (y + b) / pooled
        # Totals can be post counts (an entity in every post): keep the "without" side positive.
        rest_w = max(n + prior - y - a, 1e-9)
        rest_b = max(m + prior - b - a, 1e-9)
        delta = math.log((y + a) / rest_w) - math.log((b + a) / rest_b)
        var = 1.0 / (y + a) + 1.0 / (b + a)
        out.append(Trend(kind, key, int(y), int(b), delta, delta / math.sqrt(var)))
    out.sort(key=lambda t: (-t.z, -t.window, t.key))
    return [t for t in out if t.z > 0][:limit] if limit is not None else [t for t in out if t.z > 0]


def post_entities(post: Post) -> dict[str, set[str]]:
    """The entities a post carries, per kind (a post counts once per entity, however often it repeats it)."""
    e = post.entities
    account = post.author.handle or post.author.id
    return {
        "hashtags": set(e.hashtags) if e else set(),
        "mentions": set(e.mentions) if e else set(),
        "links": set(e.links) if e else set(),
        "domains": set(e.domains) if e else set(),
        "accounts": {f"{post.source}:{account.lstrip('@').lower()}"} if account else set(),
    }


@dataclass
class EntityCounts:
    posts: int
    counts: dict[str, Counter]


def count_entities(posts: Iterable[Post]) -> EntityCounts:
    counts: dict[str, Counter] = {kind: Counter() for kind in KINDS}
    total = 0
    for post in posts:
        if post.is_repost:
            continue
        total += 1
        for kind, keys in post_entities(post).items():
            counts[kind].update(keys)
    return EntityCounts(total, counts)


def entity_counts(store: Store, topic_id: str, start: datetime, end: datetime) -> EntityCounts:
    """Entity counts of a topic's posts in [start, end), read a page at a time."""
    return count_entities(store.iter_posts(topic_id, start, end))


def trends(store: Store, topic_id: str, window_start: datetime, end: datetime, baseline_start: datetime, *,
           prior: float | None = DEFAULT_PRIOR, min_count: int = 2, limit: int = 10) -> dict[str, list[Trend]]:
    """Per kind, the entities rising in [window_start, end) against [baseline_start, window_start)."""
    if not baseline_start < window_start < end:
        raise ValueError("expected baseline start < window start < end")
    window = entity_counts(store, topic_id, window_start, end)
    base = entity_counts(store, topic_id, baseline_start, window_start)
    return {kind: rising(window.counts[kind], base.counts[kind], kind=kind, window_total=window.posts,
                         baseline_total=base.posts, prior=prior, min_count=min_count, limit=limit)
            for kind in KINDS}
