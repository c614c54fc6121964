"""Influencer: one account far bigger than the topic's usual complainer relays a grievance of a rare kind.

Dell Hell, United Breaks Guitars, the Kryptonite lock: a story is a handful of angry posts until one account
with a large audience takes it up, and from then on it has hours to grow. That post is the earliest sign a
listening team can act on (answer it, check the facts, brief the crisis team), and the other drivers see it
late: it is one post, so no count moves, and its reach is one figure among the window's.

The driver looks at the last hour for a **negative** post (or repost) whose author has at least
`MIN_FOLLOWERS` followers and far more than the usual author of a negative post on the topic (×10 starts, ×100
is full: `Baseline.reach_per_negative`), and which carries a crisis category the topic rarely sees (safety,
boycott, legal; the rarity of `signals.rarity`: an everyday "service" complaint from a big account is customer
care, not a crisis). Strength = reach ramp × rarity, for the strongest such post.

Its weight (25) is set so that the post alone stays under warning (with reach and engagement: 50 points) and
a warning needs something more: a few other posts of rare crisis vocabulary, a rising negative share.
Measured on the tune split (issue 14h, trained NLP, with the other changes of 14h): the median first warning
went from 38 % to 77 % of the onset-to-peak time ahead of the peak, with no false warning+ added (0.017 per
topic-week; alerts/DETECTION.md "Issue 14h" has the ablation). Not gated by the window's net negativity: the
post's own words say what it is, and a giveaway storm around it (a weekend event of the tune split) does not
make it less of a grievance.

A composition driver (amplification, `signals.AMPLIFICATION_DRIVERS`). Cost: the last hour's buckets are checked
first (a negative reach above the threshold and a rare category in the same bucket); only then are the
posts read from the store, once.
"""

from __future__ import annotations

import math
from datetime import timedelta

from alerts.drivers.signals import driver, human, rarity, Signals
from alerts.stats import ramp
from vigie.core.drivers import risk_driver
from vigie.core.messages import N_
from vigie.core.models import Driver, Post

LOOK_BACK_MINUTES = 60  # an influencer's post keeps being read and shared for about that long at full pace
MIN_FOLLOWERS = 10_000  # below that an account is not an influencer, whatever the topic's usual complainer
REACH_RATIO = (10.0, 100.0)  # followers over the usual negative post's: where the driver starts / is full
MIN_USUAL = 100.0  # floor on the usual followers of a negative post (a young or tiny topic's baseline)


@risk_driver("influencer", 25)  # a big account relaying a grievance of a rare kind (issue 14h)
def influencer(s: Signals) -> Driver | None:
    """The strongest negative post of the last hour from an account far bigger than the usual complainer and
    about a crisis category the topic rarely sees."""
    if s.posts is None or not s.recent:
        return None  # no store (a driver test on buckets)
    usual = max(s.base.reach_per_negative, MIN_USUAL)
    threshold = max(MIN_FOLLOWERS, REACH_RATIO[0] * usual)
    hour = max(1, LOOK_BACK_MINUTES // s.cfg.bucket_minutes)
    look_back = s.recent[-hour:]

    def rare(category: str) -> float:
        return rarity(s.base.category_rate.get(category, 0.0))

    # From the buckets first: a bucket whose negative posts together reach the threshold, with a rare category
    # among its posts (a superset of the posts that can score: a post's followers are part of its bucket's sum).
    if not any(b.negative_reach >= threshold and any(rare(c) > 0 for c in b.crisis_categories) for b in look_back):
        return None
    end = s.recent[-1].start + timedelta(minutes=s.cfg.bucket_minutes)
    best: tuple[float, Post | None, float, str] = (0.0, None, 0.0, "")
    for post in s.read_posts(look_back[0].start):
        if post.analysis is None or post.analysis.sentiment.label != "neg":
            continue
        followers = post.reach
        if followers < threshold:
            continue
        weights = {c: rare(c) for c in post.analysis.crisis.categories}
        category = max(weights, key=lambda c: (weights[c], c), default="")
        ratio = followers / usual
        strength = ramp(math.log10(ratio), *map(math.log10, REACH_RATIO)) * weights.get(category, 0.0)
        if strength > best[0] + 1e-9:  # posts come oldest first: on a tie, the first one to post
            best = (strength, post, ratio, category)
    strength, post, ratio, category = best
    if post is None or strength <= 0:
        return None
    minutes = max(0, int((end - post.created_at).total_seconds() // 60))
    author = post.author.handle or post.author.name or post.author.id or post.source
    return driver("influencer", s.cfg.weights.influencer, strength, post.reach, usual,
                  N_("negative post about {category} by {author} ({followers} followers, ×{ratio} the usual negative post's), {minutes} min ago",  # noqa: E501  (one literal: the catalogue reads it)
                     category=category, author=author, followers=human(post.reach), ratio=f"{ratio:.0f}",
                     minutes=minutes))
