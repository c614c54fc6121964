"""Coordination: one risk driver (its weight and its points); the shared reading of the window is in `signals`."""

from __future__ import annotations

from alerts.drivers.signals import driver, Signals
from alerts.stats import ramp
from vigie.core.drivers import risk_driver
from vigie.core.messages import N_
from vigie.core.models import Driver


@risk_driver("coordination", 10)
def coordination(s: Signals) -> Driver | None:
    """The largest near-duplicate cluster in one bucket against the usual: copy-paste campaigns."""
    dup = max((b.max_dup_cluster for b in s.window), default=0)
    usual = max(s.base.dup_p95, 2.0)
    return driver("coordination", s.cfg.weights.coordination, ramp(dup - usual, 3, 20) * s.gate, dup, s.base.dup_p95,
                  N_("largest near-duplicate cluster {dup} posts in one bucket (usual ≤{usual})", dup=dup,
                     usual=f"{usual:.0f}") + s.damped)
