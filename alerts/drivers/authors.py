"""Authors: one risk driver (its weight and its points); the shared reading of the window is in `signals`."""

from __future__ import annotations

from alerts.drivers.signals import count_strength, driver, shown, Signals
from vigie.core.drivers import risk_driver
from vigie.core.models import Driver


@risk_driver("authors", 10)
def authors(s: Signals) -> Driver | None:
    """Distinct authors against the usual: many people, not a few loud ones."""
    value = sum(b.authors for b in s.window)
    strength, ratio = count_strength(value, s.exp["authors"], s.base.dispersion("authors", len(s.window)))
    return driver("authors", s.cfg.weights.authors, strength * s.gate, value, s.exp["authors"],
                  f"distinct authors ×{ratio:.1f} over baseline ({value} vs {shown(s.exp['authors'])}){s.damped}")
