"""Vigie ingestion: every configured source×topic, fetched since its cursor, analysed and stored.

Thin wiring over `vigie.pipeline.ingest_units` and `vigie.pipeline.airflow` (DESIGN.md §1): the config is read at run
time (Airflow Variable `vigie_config` or $VIGIE_CONFIG), so adding a topic or a source is a config change.

- `plan` lists the source×topic units due in this tick (each source has its own interval, `every_minutes`
  in the config, default per platform); a manual run takes every unit, or those named in the params.
- `ingest_<platform>` is mapped over that platform's units (picked by `units_<platform>`) and runs in the platform's pool (`vigie_x`,
  ...), which caps concurrent calls to a platform across all workers. Posts go listener → NLP → store
  inside the task; only a few counters go through XCom.
- `announce` emits the `vigie://store/posts` Asset when new posts were stored, which triggers detection;
  `all_units_ok` fails the run if any unit failed after its retries (announce alone would hide it).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from airflow.sdk import Asset, CronTriggerTimetable, Param, TriggerRule, Variable, dag, get_current_context, task
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

from vigie.core.config import ConfigError
from vigie.pipeline import airflow as af
from vigie.pipeline.ingest_units import (
    ingest_unit, ingest_units, platforms, pool_name, total_inserted, unit_label, units_by_platform,
)

TICK_MINUTES = af.every_minutes_from_env("VIGIE_INGEST_TICK_MINUTES", 2)
POSTS = Asset(af.POSTS_ASSET_URI)


def _config():
    try:
        return af.load(Variable.get(af.CONFIG_VARIABLE, default=None))
    except ConfigError as exc:
        raise AirflowFailException(str(exc)) from None  # a retry cannot fix a config error


def _clock(context: Any) -> datetime:
    return af.run_clock(context, context["params"].get("now") or None)


@dag(
    dag_id="vigie_ingest",
    description="Fetch every source×topic since its cursor, analyse, store (posts never go through XCom)",
    schedule=CronTriggerTimetable(af.minute_cron(TICK_MINUTES), timezone="UTC"),
    start_date=datetime(2026, 1, 1),
    catchup=False,  # a missed tick is caught up by the cursors, not by replaying past ticks
    max_active_runs=1,
    default_args=af.default_args(retries=3, timeout_minutes=15),
    tags=["vigie", "ingestion"],
    params={
        "sources": Param([], type="array", description="Only these sources (default: every due source)"),
        "topics": Param([], type="array", description="Only these topic ids (default: all)"),
        "now": Param("", type="string", description="ISO-8601 clock of the run (replays); default: the run's time"),
    },
    doc_md=__doc__,
)
def vigie_ingest():
    @task
    def plan() -> dict[str, list[dict[str, str]]]:
        context = get_current_context()
        params = context["params"]
        config = _config()
        scheduled = not (af.is_manual(context) or params["sources"] or params["topics"])
        try:
            units = ingest_units(
                config,
                sources=params["sources"] or None,
                topics=params["topics"] or None,
                at=_clock(context) if scheduled else None,
                tick_minutes=TICK_MINUTES,
            )
        except ConfigError as exc:
            raise AirflowFailException(str(exc)) from None
        print(f"{len(units)} unit(s): " + ", ".join(unit_label(u) for u in units))
        return units_by_platform(units)

    def ingest(unit: dict[str, str]) -> dict[str, Any]:
        context = get_current_context()
        context["unit_label"] = unit_label(unit)  # rendered as the mapped task's name in the UI
        now = _clock(context)
        # Ingestion never delivers: it needs no channel secret (a missing one fails detection, not this).
        with af.runtime(_config(), notifiers=[]) as rt:
            summary = ingest_unit(rt, unit, now)
        print(summary)
        return summary

    def pick(planned: dict[str, list[dict[str, str]]], platform: str) -> list[dict[str, str]]:
        return planned.get(platform, [])

    # Airflow maps only over a task's whole return value: one small `units_<platform>` task per platform
    # picks that platform's units out of the plan, and `ingest_<platform>` expands over them.
    planned = plan()
    results = [
        task(task_id=f"ingest_{platform}", pool=pool_name(platform), map_index_template="{{ unit_label }}")(
            ingest
        ).expand(unit=task(task_id=f"units_{platform}", retries=0)(pick)(planned, platform))
        for platform in platforms()
    ]

    # all_done: posts stored by the units that succeeded must still wake detection up.
    @task(outlets=[POSTS], trigger_rule=TriggerRule.ALL_DONE, retries=0)
    def announce() -> int:
        context = get_current_context()
        # No map_indexes: every mapped instance's summary, None for a unit that failed or a skipped platform.
        summaries = context["ti"].xcom_pull(task_ids=[f"ingest_{p}" for p in platforms()])
        inserted = total_inserted(summaries)
        if not inserted:
            raise AirflowSkipException("no new post: detection is not triggered (its own schedule still runs)")
        context["outlet_events"][POSTS].extra = af.posts_event_extra(inserted, _clock(context))
        return inserted

    # announce always succeeds, so on its own it would paint a run with a failed unit green. This leaf
    # fails the run (upstream_failed) when any unit failed; skipped platforms are fine.
    @task(trigger_rule=TriggerRule.NONE_FAILED, retries=0)
    def all_units_ok() -> None:
        return None

    results >> announce()
    results >> all_units_ok()


vigie_ingest()
