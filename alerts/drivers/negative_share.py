"""Negative share: one risk driver (its weight and its points); the shared reading of the window is in `signals`."""

from __future__ import annotations

from alerts.drivers import signals
from alerts.drivers.signals import driver, SHARE_ALPHA, Signals
from alerts.stats import nb_log10_sf, ramp
from vigie.core.drivers import risk_driver
from vigie.core.messages import N_
from vigie.core.models import Driver


@risk_driver("negative_share", 25)  # composition carries the risk on bursty traffic (was 15)
def negative_share(s: Signals) -> Driver | None:
    """Negative share, over the same spans: a share needs posts to mean something (full weight from 30),
    and a small topic gathers them only over an hour or more. Longer spans fade like the volume."""
    count = sum(b.count for b in s.window)
    best: tuple[float, float, int, int] = (0.0, sum(b.negative for b in s.window) / count if count else 0.0,
                                           count, len(s.window))
    for span in s.short + s.spans:
        n = s.total("count", span)
        neg = s.total("negative", span)
        share = neg / n if n else 0.0
        # The excess must also be significant given the posts: negatives against what the volume alone
        # predicts (n x usual share). Given the volume, the mix is far less bursty than the counts (a
        # cascade multiplies every kind of post), hence a small fixed overdispersion, not the counts'.
        strength = ramp(share - s.base.negative_share, 0.05, 0.35) * ramp(n, *signals.SHARE_POSTS)
        if strength > 0:  # the tail only where it can matter (the same strength, cheaper)
            strength *= ramp(nb_log10_sf(neg, n * s.base.negative_share, SHARE_ALPHA), 1.0, 3.0)
        if span > len(s.window):
            strength *= s.fade(span)[0]
        if strength > best[0] + 1e-9:
            best = (strength, share, n, span)
    strength, share, n, span = best
    return driver("negative_share", s.cfg.weights.negative_share, strength, share, s.base.negative_share,
                  N_("negative share {share} vs usual {usual} ({posts} posts{span})", share=f"{share:.0%}",
                     usual=f"{s.base.negative_share:.0%}", posts=n, span=s.over(span)))
