"""Crisis terms: one risk driver (its weight and its points); the shared reading of the window is in `signals`."""

from __future__ import annotations

from alerts.baseline import COLD_START_HOURS
from alerts.drivers import signals
from alerts.drivers.signals import (COLD_CATEGORY_RATE, COUNT_SURPRISE, count_strength, driver,
                                    MIN_EXPECTED_PER_WINDOW, rarity, SHARE_ALPHA, shown, Signals)
from vigie.core.drivers import risk_driver
from vigie.core.messages import N_
from vigie.core.models import Driver

RARE_TOGETHER = "+"  # the pseudo-category of the rare categories counted together


@risk_driver("crisis_terms", 25)  # rare crisis categories given the volume (was 20)
def crisis_terms(s: Signals) -> Driver | None:
    """Crisis categories above their usual rate per post, the strongest category counting (not gated: the
    words themselves say what kind of story it is). Each category is expected at its usual rate times the
    posts (or the usual volume if higher): an everyday category ("service client injoignable") grows with
    any crowd and scores only beyond that, a category the topic rarely or never sees (safety, boycott,
    legal) scores on a handful of posts. Judged over the window and, like negative volume, over 1 h and
    3 h (a small topic gathers a handful of such posts only over an hour or more; longer spans fade)."""
    # Given the posts, a category's count is far less bursty than the counts themselves (a cascade
    # multiplies every kind of post): judged like the share, with a small overdispersion.
    alpha = SHARE_ALPHA
    # A young topic has not shown its everyday categories yet: an unseen category is not "rare" until the
    # history says so (trust grows with the hours of history, as the cold-start priors fade).
    trust = 1.0 if not s.base.cold else s.base.history_hours / COLD_START_HOURS
    # A category the topic rarely shows is expected at a fraction of a post (CATEGORY_FLOOR) once the
    # baseline has learnt the topic's usual mix from enough posts; before that (a tiny or young topic,
    # whose everyday categories are unknown) at one post, like any count.
    # Judged like the share then too (its tail ramp, `signals.CATEGORY_SURPRISE`); before, like any count.
    learnt = s.base.mix_posts >= signals.MIN_MIX_POSTS
    floor = signals.CATEGORY_FLOOR if learnt else MIN_EXPECTED_PER_WINDOW
    surprise = signals.CATEGORY_SURPRISE if learnt else COUNT_SURPRISE
    best, best_cat, best_exp, best_n, best_span = 0.0, "", 0.0, 0, len(s.window)
    window_cats: dict[str, int] = {}
    for span in s.spans:
        part = s.part(span)
        posts = max(s.total("count", span), sum(s.expectations("count", span)))
        active = 1.0 if span == len(s.window) else s.fade(span)[0]
        cats: dict[str, int] = {}
        for b in part:
            for cat, n in b.crisis_categories.items():
                cats[cat] = cats.get(cat, 0) + n
        if span == len(s.window):
            window_cats = cats
        rare_n = rare_expected = 0.0
        for cat, n in cats.items():
            rate = s.base.category_rate.get(cat, 0.0)
            if s.base.cold:
                rate = trust * rate + (1 - trust) * max(rate, COLD_CATEGORY_RATE)
            # A category never seen in the N posts of the usual mix may still come once in N posts: a
            # crowd of posts brings a few of any category (3 "legal" posts among 300 is no rare event).
            expected = max(rate, 1.0 / max(s.base.mix_posts, 1)) * posts
            strength, _ = count_strength(n, expected, alpha, surprise, floor)
            weight = rarity(rate)
            strength *= weight * trust * active
            if strength > best + 1e-9:
                best, best_cat, best_exp, best_n, best_span = strength, cat, expected, n, span
            rare_n += weight * n
            rare_expected += weight * expected
        # The rare categories together: safety, boycott and legal words in the same hour are more evidence than
        # the strongest of them alone (each weighted by its rarity, so everyday "service" adds nothing).
        if len(cats) > 1 and rare_n >= 1:
            strength, _ = count_strength(round(rare_n), rare_expected, alpha, surprise, floor)
            strength *= trust * active
            if strength > best + 1e-9:
                best, best_cat, best_exp, best_n, best_span = strength, RARE_TOGETHER, rare_expected, round(rare_n), span
    crisis = sum(b.crisis_terms for b in s.window)
    top = ", ".join(f"{c} ×{n}" for c, n in sorted(window_cats.items(), key=lambda kv: (-kv[1], kv[0]))[:3])
    if best_cat == RARE_TOGETHER:
        usual = N_("; rare categories together ×{count}{span} vs {expected} expected at their usual rates",
                   count=best_n, span=s.over(best_span), expected=shown(best_exp))
    else:
        usual = (N_("; {category} ×{count}{span} vs {expected} expected at its usual rate", category=best_cat,
                    count=best_n, span=s.over(best_span), expected=shown(best_exp)) if best_cat else [])
    return driver("crisis_terms", s.cfg.weights.crisis_terms, best, crisis, s.exp["crisis_terms"],
                  N_("crisis vocabulary in {posts} posts vs {usual} usual", posts=crisis, usual=shown(s.exp["crisis_terms"]))
                  + (N_(" ({categories}{usual})", categories=top, usual=usual) if top or usual else []))
