"""The risk drivers Vigie knows, by name: the one list the weights config, the store's schema (one mapped
field per driver in the risk index), the Kibana charts and the notebooks read.

A driver is one module of `alerts/drivers/` that declares itself with `@risk_driver(name, weight)` on the
function that computes its points: its name, its default weight (the most points it can add) and what it
measures live beside the code that computes it, so a new driver is that module plus its tests, and nothing
else is edited. Core holds only the descriptors' registry: the store and the app read names and default
weights from here and never import detection (the registry imports `alerts.drivers` by name, on first use,
like every other plugin package).

The order of the registry is the order users see (config, ES mapping, the stacked Kibana chart and its
colours, notebook columns); `alerts/drivers/__init__.py` imports the built-in drivers in that order, and a
driver added later comes after them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from vigie.core.models import Driver
from vigie.core.registry import Registry

# What a driver computes from: `alerts.drivers.signals.Signals` (the window, the look-back, the baseline,
# the config); typed loosely here so core stays free of detection.
Compute = Callable[[Any], "Driver | None"]


@dataclass(frozen=True)
class RiskDriver:
    name: str  # the driver's id: its weight's key in `detection.weights`, its field in the risk index
    weight: float  # default maximum points it adds to the risk index
    compute: Compute
    description: str = ""  # what it measures, in a line (the function's docstring's first line by default)


DRIVERS: Registry[RiskDriver] = Registry("risk driver", "alerts.drivers", "vigie.drivers")


def risk_driver(name: str, weight: float, description: str | None = None) -> Callable[[Compute], Compute]:
    """Decorator: register the function as the driver `name` with default weight `weight`."""

    def register(compute: Compute) -> Compute:
        doc = description if description is not None else (compute.__doc__ or "").strip().split("\n")[0]
        DRIVERS.register(name, RiskDriver(name, weight, compute, doc))
        return compute

    return register


def driver_names() -> list[str]:
    return DRIVERS.names()


def default_weights() -> dict[str, float]:
    """{driver name: default weight}, in the registry's order."""
    return {name: d.weight for name, d in DRIVERS.items()}
