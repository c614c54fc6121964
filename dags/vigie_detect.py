"""Vigie detection and alerting: risk per topic, alert lifecycle, deliveries.

Runs every bucket (5 min by default, `VIGIE_DETECT_EVERY_MINUTES` to change it; keep it equal to
`detection.bucket_minutes`) *and* as soon as an ingestion run stored new posts (the `vigie://store/posts`
Asset), whichever comes first. Detection keeps its own cursor (the last bucket it assessed) and alerts have
stable dedup keys, so the extra runs cost little and never page twice.

The task runs the same detect-and-deliver step as `vigie run` (vigie.pipeline.steps.detect_and_deliver): alert
changes and the messages they owe are committed together (the outbox), failed deliveries are retried at the
next run, and a per-store lease keeps an overlapping `vigie run` (or a second deployment) from assessing
and sending the same thing (README "Delivery guarantees").
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from airflow.sdk import (
    Asset,
    AssetOrTimeSchedule,
    CronTriggerTimetable,
    Param,
    Variable,
    dag,
    get_current_context,
    task,
)
from airflow.sdk.exceptions import AirflowFailException

from vigie.pipeline import airflow as af
from vigie.core.config import ConfigError

EVERY_MINUTES = af.every_minutes_from_env("VIGIE_DETECT_EVERY_MINUTES", 5)
POSTS = Asset(af.POSTS_ASSET_URI)


@dag(
    dag_id="vigie_detect",
    description="Risk index per topic vs baseline, alert levels, deliveries to the configured channels",
    schedule=AssetOrTimeSchedule(
        timetable=CronTriggerTimetable(af.minute_cron(EVERY_MINUTES), timezone="UTC"), assets=[POSTS]
    ),
    start_date=datetime(2026, 1, 1),
    catchup=False,  # detection catches up missed buckets itself, from its cursor
    max_active_runs=1,  # two runs at once would assess the same bucket twice
    default_args=af.default_args(retries=3, timeout_minutes=10),
    tags=["vigie", "detection", "alerting"],
    params={
        "topics": Param([], type="array", description="Only these topic ids (default: all)"),
        "now": Param("", type="string", description="ISO-8601 clock of the run (replays); default: the run's time"),
    },
    doc_md=__doc__,
)
def vigie_detect():
    @task
    def detect() -> list[dict[str, Any]]:
        context = get_current_context()
        params = context["params"]
        try:
            config = af.load(Variable.get(af.CONFIG_VARIABLE, default=None))
        except ConfigError as exc:
            raise AirflowFailException(str(exc)) from None
        # An Asset-triggered run assesses the clock the posts were fetched for (simulated in replays).
        now = af.run_clock(context, params.get("now") or None)
        with af.runtime(config) as rt:
            from vigie.pipeline.steps import detect_and_deliver

            report = detect_and_deliver(rt, now, topic_ids=params["topics"] or None)
        summary = af.detect_summary(report.events)
        print(f"{len(summary)} alert event(s) at {now.isoformat()}: {summary}")
        print(report.skipped or f"outbox: {report.delivery.summary()}")
        for line in report.delivery.gave_up:
            print(f"delivery given up: {line}")
        return summary

    detect()


vigie_detect()
