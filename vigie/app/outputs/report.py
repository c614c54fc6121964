"""The HTML crisis report as a maintenance output (`vigie.pipeline.maintenance.daily_report`)."""

from __future__ import annotations

from vigie.app.report import write_report
from vigie.pipeline.maintenance import OUTPUTS

OUTPUTS.register("report", write_report)
