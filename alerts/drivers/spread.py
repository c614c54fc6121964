"""Spread: one risk driver (its weight and its points); the shared reading of the window is in `signals`."""

from __future__ import annotations

from alerts.drivers.signals import driver, Signals, source_surges
from alerts.stats import ramp
from vigie.core.drivers import risk_driver
from vigie.core.messages import N_
from vigie.core.models import Driver


@risk_driver("spread", 10)  # several sources rising at once (the story leaves its platform)
def spread(s: Signals) -> Driver | None:
    """Spread across sources: the same story rising on several platforms at once (X, then Reddit threads,
    then the press) is how a bad buzz leaves its niche. Each source's count is judged against its usual
    share of the topic's expected volume; the strongest source is left out, so one busy platform alone
    scores nothing here (it is already in the volume drivers)."""
    rising = source_surges(s.window, s.base, s.exp["count"], len(s.window))
    if not rising:
        return None
    value = sum(strength for _, strength, _ in rising[1:])
    listed: list = []  # a nested message, so each ratio is written in the channel's language ("×9,3" in French)
    for src, strength, r in rising:
        if strength >= 0.25:
            listed += ([[", ", {}]] if listed else []) + N_("{source} ×{ratio}", source=src, ratio=f"{r:.1f}")
    return driver("spread", s.cfg.weights.spread, ramp(value, 0.5, 2.0) * s.gate, value, None,
                  N_("rising on {n} sources at once ({sources})", n=sum(st >= 0.25 for _, st, _ in rising), sources=listed)
                  + s.damped)
