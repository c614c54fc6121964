"""Negative volume: one risk driver (its weight and its points); the shared reading of the window is in `signals`."""

from __future__ import annotations

from alerts.drivers import signals
from alerts.drivers.signals import count_strength, driver, MIN_EXPECTED_PER_WINDOW, shown, Signals
from vigie.core.drivers import risk_driver
from vigie.core.messages import N_
from vigie.core.models import Driver


@risk_driver("negative_volume", 40)
def negative_volume(s: Signals) -> Driver | None:
    """Negative posts at several time scales (the window, and longer spans of `recent`): a burst shows in
    the window, a low-volume topic's steady trickle of complaints only over an hour or more. Each span is
    gated by its own balance, so a long positive surge cannot lend its complaints to a window."""
    best: tuple[float, int, float, int, list] = (0.0, sum(b.negative for b in s.window), s.exp["negative"],
                                                len(s.window), s.damped)
    for span in s.short + s.spans:
        n_obs = s.total("negative", span)
        n_exp = sum(s.expectations("negative", span))
        if span < len(s.window):  # the short span: single-bucket overdispersion, its own tail ramp
            strength, _ = count_strength(n_obs, n_exp, s.base.dispersion("negative", 1), signals.SHORT_SURPRISE)
        else:
            strength, _ = count_strength(n_obs, n_exp, s.base.dispersion("negative", span))
        if span == len(s.window):
            g, note = s.gate, s.damped
        else:
            g, note = s.gate_of(span)
            if span > len(s.window):  # a longer span fades out once the window holds the story
                active, fading = s.fade(span)
                g, note = g * active, note + fading
        if strength * g > best[0] + 1e-9:
            best = (strength * g, n_obs, n_exp, span, note)
    strength, n_obs, n_exp, span, note = best
    ratio = n_obs / max(n_exp, MIN_EXPECTED_PER_WINDOW)
    return driver("negative_volume", s.cfg.weights.negative_volume, strength, n_obs, n_exp,
                  N_("negative volume ×{ratio} over baseline{span} ({observed} vs {expected})", ratio=f"{ratio:.1f}",
                     span=s.over(span), observed=n_obs, expected=shown(n_exp)) + note)
