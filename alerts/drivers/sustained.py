"""Sustained excess: one risk driver (its weight and its points); the shared reading of the window is in `signals`."""

from __future__ import annotations

from alerts.drivers.signals import driver, negative_cusum, negativity_gate, Signals
from alerts.stats import ramp
from vigie.core.drivers import risk_driver
from vigie.core.messages import N_
from vigie.core.models import Driver


@risk_driver("sustained", 15)  # CUSUM of negative posts over the last hours (slow burns, low-volume topics)
def sustained(s: Signals) -> Driver | None:
    """The sequential detector: a CUSUM of the negative excess over the look-back (slow burns, low-volume
    topics), gated by the look-back's balance and faded once the last hour no longer carries its pace."""
    span = len(s.recent)
    cusum, run = negative_cusum(s.recent, s.base, s.expectations("negative", span) if span != len(s.window) else None)
    g, note = s.gate_of(span) if span != len(s.window) else negativity_gate(s.recent, s.base)
    active, fading = s.fade(len(s.recent))
    return driver("sustained", s.cfg.weights.sustained, ramp(cusum, 5.0, 20.0) * g * active, cusum, None,
                  N_("sustained negative excess over the last {hours} h (CUSUM {cusum}, {run} negative posts)",
                     hours=f"{len(s.recent) * s.cfg.bucket_minutes / 60:g}", cusum=f"{cusum:.1f}", run=run) + note + fading)
