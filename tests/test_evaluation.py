"""The detection evaluation on generated scenarios: a low-volume topic's event is caught, a positive
viral moment is not an alarm, and a backtest is deterministic for a seed."""

from __future__ import annotations

from dataclasses import asdict

from vigie.sim.evaluation import evaluate
from vigie.sim.scenario import generate


def test_low_volume_event_caught_positive_moment_quiet_and_deterministic():
    # The calm background (the realistic one is measured by bench/detection.py): the brand topic has ~12
    # posts a day.
    scenario = generate(1009, shapes=("low_volume", "positive_viral"), background="poisson")
    first = evaluate(scenario, "oracle", ["default"])["default"]
    assert first.events == 1 and first.caught_severity == 1  # warning-level event reached warning
    assert first.positive == 1 and first.positive_warning == 0
    assert first.false_warning == 0
    again = evaluate(generate(1009, shapes=("low_volume", "positive_viral"), background="poisson"), "oracle",
                     ["default"])["default"]
    strip = lambda t: {k: v for k, v in asdict(t).items() if k != "seconds"}  # noqa: E731
    assert strip(again) == strip(first)
