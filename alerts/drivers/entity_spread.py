"""Entity spread: one hashtag, link domain or mentioned account rising on several sources at once.

The `spread` driver sees a topic's volume rise on several platforms; this one sees *the same thing* carried on
them: #BoycottBrivolle on X, Bluesky and Reddit within the same half hour is one story leaving its platform,
where three platforms each busier than usual may be three unrelated conversations. BotSlayer ranks entities by
rise over baseline; here an entity counts when, in the window, it is

* carried by at least `MIN_POSTS` posts (reposts left out: amplification, not new voices),
* on at least `MIN_SOURCES` sources,
* and rising against the posts of the few hours before the window (log-odds z of `alerts.trends`, with its
  pooled prior: a new entity seen a handful of times is not a trend; the brand's own hashtag or account,
  present every hour, never rises).

Points: ramp(sources, 2, 4) × ramp(z, 2, 4) × the negativity gate, and nothing while the gate is under
`GATE_MIN` (a positive launch hashtag spreading is not a bad buzz). Not a composition driver (`signals.COMPOSITION_DRIVERS`): alone it cannot lift a volume event past
warning. Cost: the window's buckets are checked first (negativity above usual, two sources significantly above
their usual share and a third busier than usual); only then are the posts of the look-back span (3 h) read from
the store, once.
"""

from __future__ import annotations

from collections import Counter, defaultdict

from alerts.drivers.signals import Signals, driver, source_surges
from alerts.stats import ramp
from alerts.trends import post_entities, rising
from vigie.core.drivers import risk_driver
from vigie.core.messages import N_
from vigie.core.models import Driver

MIN_SOURCES = 3
MIN_POSTS = 5
GATE_MIN = 0.5  # negativity gate below which posts are not even read (net negativity < ~8 points above usual)
BUSIER = 1.2  # a source counts as busy above this ratio over its usual share of the topic's expected volume
KINDS = {"hashtags": "#", "domains": "", "mentions": "@"}


@risk_driver("entity_spread", 10)  # one hashtag, domain or account rising on several sources at once
def entity_spread(s: Signals) -> Driver | None:
    """One entity (hashtag, link domain, mentioned account) rising on several sources at once."""
    if s.posts is None or not s.window:
        return None
    # Cheap first, from the buckets alone: posts are read only when the window is more negative than usual
    # (the gate: a positive storm would be damped to nothing anyway), at least two sources are significantly
    # above their usual share of the topic and a third busier than usual. On the demo the unconditioned read
    # doubled the cost of an assessment.
    if s.gate < GATE_MIN or sum(b.count for b in s.window) < MIN_POSTS:
        return None
    surges = source_surges(s.window, s.base, s.exp["count"], len(s.window))
    if sum(1 for _src, strength, _r in surges if strength > 0) < 2 or sum(
            1 for _src, _strength, ratio in surges if ratio >= BUSIER) < MIN_SOURCES:
        return None
    start = s.window[0].start
    window: Counter = Counter()
    before: Counter = Counter()
    sources: dict[str, set[str]] = defaultdict(set)
    n_window = n_before = 0
    for post in s.read_posts():
        if post.is_repost:
            continue
        keys = {f"{kind}:{key}" for kind, found in post_entities(post).items() if kind in KINDS for key in found}
        if post.created_at >= start:
            n_window += 1
            window.update(keys)
            for key in keys:
                sources[key].add(post.source)
        else:
            n_before += 1
            before.update(keys)
    spread = {key: n for key, n in window.items() if n >= MIN_POSTS and len(sources[key]) >= MIN_SOURCES}
    if not spread or not n_before:
        return None
    trends = rising(spread, before, window_total=n_window, baseline_total=n_before, min_count=MIN_POSTS, limit=None)
    if not trends:
        return None
    best = max(trends, key=lambda t: (ramp(len(sources[t.key]), 2, 4) * ramp(t.z, 2, 4), t.z, t.key))
    strength = ramp(len(sources[best.key]), 2, 4) * ramp(best.z, 2, 4) * s.gate
    kind, _, key = best.key.partition(":")
    names = ", ".join(sorted(sources[best.key]))
    return driver("entity_spread", s.cfg.weights.entity_spread, strength, best.z, None,
                  N_("{entity} rising on {n} sources at once ({sources}): {count} posts vs {usual} in the hours before",
                     entity=KINDS.get(kind, "") + key, n=len(sources[best.key]), sources=names, count=best.window,
                     usual=best.baseline) + s.damped)
