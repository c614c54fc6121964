"""Authors: one risk driver (its weight and its points); the shared reading of the window is in `signals`."""

from __future__ import annotations

from alerts.drivers.signals import count_strength, driver, shown, Signals
from vigie.core.drivers import risk_driver
from vigie.core.messages import N_
from vigie.core.models import Driver


@risk_driver("authors", 10)
def authors(s: Signals) -> Driver | None:
    """Distinct authors against the usual: many people, not a few loud ones."""
    value = sum(b.authors for b in s.window)
    strength, ratio = count_strength(value, s.exp["authors"], s.base.dispersion("authors", len(s.window)))
    return driver("authors", s.cfg.weights.authors, strength * s.gate, value, s.exp["authors"],
                  N_("distinct authors ×{ratio} over baseline ({value} vs {usual})", ratio=f"{ratio:.1f}", value=value,
                     usual=shown(s.exp["authors"])) + s.damped)
