"""The Airflow side of the pipeline steps: what every DAG task does around a step, importable and tested
without Airflow. The DAGs (`dags/`) import this, the other pipeline modules and the config, nothing else.

No business logic here: where a task's config comes from (the Airflow Variable, else $VIGIE_CONFIG, loaded
with the secret log filter on), what "now" a run stands for (Airflow's context holds pendulum times, the
pipeline plain UTC datetimes), the task defaults and cron ticks, and the small JSON summaries tasks print and
hand each other through XCom. What a task *does* is a pipeline step (`steps`, `ingest_units`, `maintenance`, `replay`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from vigie.core.config import ConfigError, VigieConfig, load_config
from vigie.core.models import iso, utc

CONFIG_VARIABLE = "vigie_config"  # Airflow Variable holding the config path (also AIRFLOW_VAR_VIGIE_CONFIG)
CONFIG_ENV = "VIGIE_CONFIG"  # fallback environment variable
POSTS_ASSET_URI = "vigie://store/posts"  # the Asset ingestion emits when it stored new posts


# -- DAG settings -------------------------------------------------------------------------------

def default_args(*, retries: int = 3, timeout_minutes: int = 15) -> dict[str, Any]:
    """Task defaults shared by the DAGs: retries with exponential back-off (30 s, 60 s, 120 s... capped
    at 10 min) so a rate-limited or flaky platform gets time to recover, and a hard execution timeout
    so a hung HTTP call cannot hold a pool slot forever."""
    return {
        "owner": "vigie",
        "retries": retries,
        "retry_delay": timedelta(seconds=30),
        "retry_exponential_backoff": 2.0,
        "max_retry_delay": timedelta(minutes=10),
        "execution_timeout": timedelta(minutes=timeout_minutes),
    }


def every_minutes_from_env(name: str, default: int, environ: Mapping[str, str] | None = None) -> int:
    """A DAG's tick, read at parse time from the environment (never from the metadata DB or config file,
    which would slow down every DAG parse). Must divide 60 so `*/N` cron ticks are evenly spaced."""
    environ = os.environ if environ is None else environ
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r}: expected a whole number of minutes that divides 60") from None
    if value < 1 or 60 % value:
        raise ConfigError(f"{name}={value}: expected a whole number of minutes that divides 60 (1, 2, 5, 10, 15...)")
    return value


def minute_cron(every: int) -> str:
    return "* * * * *" if every == 1 else f"*/{every} * * * *"


# -- configuration ------------------------------------------------------------------------------

def resolve_config_path(variable_value: str | None, environ: Mapping[str, str] | None = None) -> Path:
    """The config path: the Airflow Variable `vigie_config` if set, else $VIGIE_CONFIG.

    The DAG passes the Variable's value (read at run time, never at parse time, so the scheduler does
    not hit the metadata database on every parse).
    """
    environ = os.environ if environ is None else environ
    value = (variable_value or "").strip() or environ.get(CONFIG_ENV, "").strip()
    if not value:
        raise ConfigError(
            f"no Vigie configuration: set the Airflow Variable `{CONFIG_VARIABLE}` "
            f"(airflow variables set {CONFIG_VARIABLE} /path/to/vigie.yml) or the environment variable "
            f"{CONFIG_ENV} on the scheduler and workers"
        )
    return Path(value).expanduser()


def load(variable_value: str | None, environ: Mapping[str, str] | None = None) -> VigieConfig:
    """The config every task starts from (the Variable, else $VIGIE_CONFIG): see `load_path`."""
    return load_path(resolve_config_path(variable_value, environ))


def load_path(path: str | Path) -> VigieConfig:
    """Load a config the way every task must: install the process's secret log filter and register every
    secret the config names first, so no task log (Airflow's handlers included) can carry one."""
    from vigie.core.secrets import install_log_filter, register_config

    install_log_filter()
    config = load_config(path)
    register_config(config)
    return config


@contextmanager
def runtime(config: VigieConfig, **overrides: Any) -> Iterator[Any]:
    """A pipeline `Runtime` for one task, always closed (a worker process runs many tasks)."""
    from vigie.pipeline.steps import Runtime  # not at import: DAG files are parsed often, keep them light

    rt = Runtime.from_config(config, **overrides)
    try:
        yield rt
    finally:
        rt.close()


# -- the run's clock ----------------------------------------------------------------------------

def plain_utc(value: Any) -> datetime:
    """A stdlib UTC datetime. Airflow's context holds pendulum DateTimes, whose arithmetic with stdlib
    timedeltas differs (pendulum Durations): the pipeline only ever sees plain datetimes."""
    dt = utc(value).astimezone(timezone.utc)
    return datetime(dt.year, dt.month, dt.day, dt.hour, dt.minute, dt.second, dt.microsecond, tzinfo=timezone.utc)


def run_clock(context: Mapping[str, Any], override: str | None = None, default: datetime | None = None) -> datetime:
    """The instant a DAG run stands for ("now" for listeners and detection).

    An explicit `now` param (replays, tests) wins. An Asset-triggered run stands for the clock the
    triggering ingestion ran at (carried in the event). A scheduled run stands for the end of its data
    interval (its trigger time), so a late or re-run task covers exactly the same window. Manual runs
    may have no logical date in Airflow 3: they stand for `run_after`.
    """
    if override:
        return plain_utc(override)
    from_assets = clock_from_asset_events(context.get("triggering_asset_events"))
    if from_assets is not None:
        return from_assets
    for key in ("data_interval_end", "logical_date"):
        value = context.get(key)
        if value is not None:
            return plain_utc(value)
    run = context.get("dag_run")
    run_after = getattr(run, "run_after", None)
    if run_after is not None:
        return plain_utc(run_after)
    return plain_utc(default) if default else datetime.now(timezone.utc)


def clock_from_asset_events(events: Any) -> datetime | None:
    """The latest `now` carried by the posts-Asset events that triggered a run (ingestion puts its run
    clock in the event's extra), so detection assesses the time the posts were fetched for (replays
    run in simulated time)."""
    latest = None
    for event_list in (events or {}).values():
        for event in event_list:
            value = (getattr(event, "extra", None) or {}).get("now")
            if value:
                t = plain_utc(value)
                latest = t if latest is None or t > latest else latest
    return latest


def posts_event_extra(inserted: int, now: datetime) -> dict[str, Any]:
    """The extra of the posts Asset event ingestion emits: how many posts it stored and the clock it ran at
    (read back by `clock_from_asset_events` in the detection run the event triggers)."""
    return {"inserted": inserted, "now": iso(now)}


def is_manual(context: Mapping[str, Any]) -> bool:
    run = context.get("dag_run")
    return str(getattr(run, "run_type", "")).lower().endswith("manual")


# -- detection ------------------------------------------------------------------------------------

def detect_summary(events: list[Any]) -> list[dict[str, Any]]:
    """Alert events as small JSON (what changed, for the task log and XCom)."""
    return [
        {
            "kind": ev.kind,
            "topic": ev.alert.topic_id,
            "level": getattr(ev.alert.level, "value", ev.alert.level),
            "risk": round(float(ev.alert.risk), 1),
            "dedup_key": ev.alert.dedup_key,
        }
        for ev in events
    ]
