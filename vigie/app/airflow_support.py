"""What the Airflow DAGs (`dags/`) need beyond the pipeline steps, importable and tested without Airflow.

The DAG files only wire tasks; every decision lives here: where the config comes from, which
source×topic units a run maps over, which pool (platform rate limit) a unit runs in, when a source is
due, what "now" a run stands for, and the small JSON summaries tasks hand each other through XCom
(posts never travel through XCom: they go from the listener to the store inside one task).
"""

from __future__ import annotations

import json
import os
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from vigie.core.config import ConfigError, VigieConfig, load_config
from vigie.core.platform import PLATFORMS, Pool
from vigie.core.models import iso, utc

CONFIG_VARIABLE = "vigie_config"  # Airflow Variable holding the config path (also AIRFLOW_VAR_VIGIE_CONFIG)
CONFIG_ENV = "VIGIE_CONFIG"  # fallback environment variable
POSTS_ASSET_URI = "vigie://store/posts"  # the Asset ingestion emits when it stored new posts

# The platforms come from the platform registry (`listeners/<platform>/__init__.py`: pool, default interval).
# The ingestion DAG has one mapped task per platform so that each runs in its own pool; adding a *topic* or a
# *source* is config only, adding a platform is one folder.


def platforms() -> tuple[str, ...]:
    """Every platform a listener exists for, in registry order."""
    return tuple(PLATFORMS.names())


def pools() -> dict[str, Pool]:
    """Platform -> its Airflow pool. One pool per platform caps concurrent calls to it across *all* workers
    (Celery/Kubernetes), which is what the platforms' rate limits are about."""
    return {name: platform.pool for name, platform in PLATFORMS.items()}


def pool_name(platform: str) -> str:
    return PLATFORMS.get(platform).pool.name


def pools_document() -> dict[str, dict[str, Any]]:
    """The pools in the format of `airflow pools import FILE` (dags/pools.json is this, serialised:
    `python -m vigie.app.airflow_support pools > dags/pools.json`)."""
    return {
        spec.name: {"slots": spec.slots, "description": spec.description, "include_deferred": False}
        for spec in pools().values()
    }


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
    from vigie.pipeline.steps import Runtime

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


def is_manual(context: Mapping[str, Any]) -> bool:
    run = context.get("dag_run")
    return str(getattr(run, "run_type", "")).lower().endswith("manual")


# -- ingestion units ----------------------------------------------------------------------------

def every_minutes(source_cfg: Any) -> int:
    """The source's `every_minutes`, else its platform's default (`Platform.every_minutes`)."""
    default = PLATFORMS.get(source_cfg.type).every_minutes if source_cfg.type in PLATFORMS else 5
    return getattr(source_cfg, "every_minutes", None) or default


def is_due(every: int, at: datetime, tick_minutes: int) -> bool:
    """Is a source fetched every `every` minutes due in the tick ending at `at`?

    The ingestion DAG ticks every `tick_minutes`; a source is due in the tick during which a multiple
    of its interval (counted from the epoch, so the same on every worker) elapsed. A source with an
    interval shorter than the tick runs every tick.
    """
    if every <= tick_minutes:
        return True
    end = int(utc(at).timestamp()) // 60
    start = end - tick_minutes
    return end // every != start // every


def ingest_units(
    config: VigieConfig,
    *,
    sources: list[str] | None = None,
    topics: list[str] | None = None,
    at: datetime | None = None,
    tick_minutes: int | None = None,
) -> list[dict[str, str]]:
    """One unit per configured source×topic (topics restricted by `Topic.sources`), config order.

    With `at` and `tick_minutes`, only the sources due in that tick; `sources`/`topics` restrict further
    (a manual run for one source). Unknown names are errors: a typo must not make an empty run.
    """
    for name in sources or []:
        if name not in config.sources:
            raise ConfigError(f"unknown source {name!r} (configured: {', '.join(sorted(config.sources)) or 'none'})")
    known_topics = [t.id for t in config.topics]
    for topic_id in topics or []:
        if topic_id not in known_topics:
            raise ConfigError(f"unknown topic {topic_id!r} (configured: {', '.join(known_topics)})")
    units = []
    for name, cfg in config.sources.items():
        if sources and name not in sources:
            continue
        if cfg.type not in PLATFORMS:
            raise ConfigError(f"source {name!r}: platform {cfg.type!r} has no Airflow pool (known: {', '.join(platforms())})")
        if at is not None and tick_minutes and not is_due(every_minutes(cfg), at, tick_minutes):
            continue
        for topic in config.topics_for_source(name):
            if topics and topic.id not in topics:
                continue
            units.append({"source": name, "platform": cfg.type, "topic": topic.id})
    return units


def units_by_platform(units: list[dict[str, str]]) -> dict[str, list[dict[str, str]]]:
    """Units split per platform, every platform present (an empty list makes Airflow skip its task)."""
    out: dict[str, list[dict[str, str]]] = {p: [] for p in platforms()}
    for unit in units:
        out[unit["platform"]].append(unit)
    return out


def unit_label(unit: Mapping[str, str]) -> str:
    return f"{unit['source']}/{unit['topic']}"


class IngestFailed(RuntimeError):
    """A unit could not be fully fetched; raised so Airflow retries it (what was stored stays stored)."""


def ingest_unit(rt: Any, unit: Mapping[str, str], now: datetime) -> dict[str, Any]:
    """Fetch one source for one topic since its cursor, analyse, store. Returns a JSON summary.

    Raises IngestFailed when the source reported errors: pages stored before the error keep their
    cursor, so the retry resumes where it stopped and never duplicates a post.
    """
    from vigie.pipeline.steps import ingest_source

    report = ingest_source(rt, unit["source"], now, topic_ids=[unit["topic"]])
    summary = source_summary(report, unit, now)
    if report.errors:
        # Error texts come from listeners, which never put secrets in them (house rule).
        raise IngestFailed(f"{unit_label(unit)}: " + "; ".join(report.errors))
    return summary


def source_summary(report: Any, unit: Mapping[str, str], now: datetime) -> dict[str, Any]:
    return {
        "source": unit["source"],
        "platform": unit["platform"],
        "topic": unit["topic"],
        "now": iso(now),
        "queries": report.queries,
        "pages": report.pages,
        "fetched": report.fetched,
        "inserted": report.inserted,
        "updated": report.updated,
        "quarantined": report.quarantined,
        "errors": list(report.errors),
    }


def total_inserted(summaries: Any) -> int:
    """Posts inserted by a run, from the units' summaries (None entries are units that failed)."""
    return sum(int(s.get("inserted", 0)) for s in summaries or [] if isinstance(s, Mapping))


# -- detection ----------------------------------------------------------------------------------

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


# -- maintenance --------------------------------------------------------------------------------

def es_setup_if_configured(config: VigieConfig) -> list[str]:
    """`vigie es setup` (templates, ILM, aliases; idempotent) when the store is Elasticsearch."""
    from vigie.store import open_store, store_backend

    if not store_backend(config.store).installable:
        return [f"store is {config.store.type}: nothing to set up"]
    store = open_store(config.store)
    try:
        return list(store.setup())
    finally:
        store.close()


KIBANA_API_KEY_ENV = "KIBANA_API_KEY"
KIBANA_USERNAME_ENV = "KIBANA_USERNAME"
KIBANA_PASSWORD_ENV = "KIBANA_PASSWORD"


def kibana_import_if_configured(config: VigieConfig, environ: Mapping[str, str] | None = None) -> list[str]:
    """Import the dashboards when the store is Elasticsearch and `report.kibana_url` is set.

    Credentials come from the environment only (KIBANA_API_KEY, or KIBANA_USERNAME + KIBANA_PASSWORD),
    e.g. an Airflow Connection exported to the workers' environment; never from the DAG or the config.
    """
    environ = os.environ if environ is None else environ
    url = config.report.kibana_url
    from vigie.store import store_backend

    if not store_backend(config.store).dashboards or not url:
        return ["kibana: not configured (needs an elasticsearch store and report.kibana_url)"]
    from vigie.app.kibana_client import KibanaError, import_saved_objects
    from vigie.app.kibana_objects import ndjson

    user, password = environ.get(KIBANA_USERNAME_ENV), environ.get(KIBANA_PASSWORD_ENV)
    try:
        report = import_saved_objects(
            url,
            ndjson(config.store.prefix),
            api_key=environ.get(KIBANA_API_KEY_ENV) or None,
            basic_auth=(user, password) if user and password else None,
        )
    except KibanaError as exc:
        raise RuntimeError(f"kibana import failed: {exc}") from None
    if report.errors:
        raise RuntimeError("kibana import: " + "; ".join(report.errors))
    return [f"kibana: {len(report.created)} created, {len(report.updated)} updated"]


def quarantine_counts(store: Any) -> dict[str, dict[str, int]]:
    """Quarantined records per source and reason, for the review queue (reasons cut at the first ':',
    so "invalid JSON: Expecting value (column 3)" and "(column 9)" count together)."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for item in store.quarantined():
        counts[item.source][item.reason.split(":", 1)[0].strip()] += 1
    return {source: dict(sorted(c.items())) for source, c in sorted(counts.items())}


def retention_days(config: VigieConfig) -> int:
    return config.store.retention_days


def apply_retention(store: Any, config: VigieConfig, now: datetime) -> str:
    """Delete the posts older than the retention period (alerts, cursors and quarantine are kept).

    Elasticsearch with ILM: the policy `vigie es setup` installs does it, by dropping whole rolled-over
    indices; nothing to do here. Elasticsearch without ILM, and SQLite: `Store.purge`.
    """
    days = retention_days(config)
    from vigie.store import store_backend

    if store_backend(config.store).lifecycle_policy and store.ilm_available():
        return f"retention: handled by the ILM policy ({days} days; see `vigie es setup`)"
    cutoff = utc(now) - timedelta(days=days)
    removed = store.purge(cutoff)
    return f"retention: removed {removed} post(s) created before {iso(cutoff)}"


# -- replay / backfill --------------------------------------------------------------------------

REPLAY_SOURCE = "replay_backfill"


def replay_config(config: VigieConfig, path: str | Path, topic_id: str | None = None,
                  sqlite_path: str | Path | None = None) -> VigieConfig:
    """The config of a backfill: the topics (one, or all) fed by a single replay source reading `path`.

    The other sources are dropped (a backfill never calls live APIs). With `sqlite_path` the replay
    writes to a sandbox SQLite file instead of the configured store (analysts' what-if runs).
    """
    from vigie.store import file_store_config

    file = Path(path).expanduser()
    if not file.is_file():
        raise ConfigError(f"replay file not found: {file}")
    if topic_id is not None and topic_id not in [t.id for t in config.topics]:
        raise ConfigError(f"unknown topic {topic_id!r} (configured: {', '.join(t.id for t in config.topics)})")
    data = config.model_copy(deep=True)
    data.topics = [t.model_copy(update={"sources": []}) for t in data.topics if topic_id is None or t.id == topic_id]
    data.sources = {REPLAY_SOURCE: PLATFORMS.get("replay").config(type="replay", path=file.resolve())}
    if sqlite_path:
        data.store = file_store_config(Path(sqlite_path).expanduser())
    return data


def replay_span(path: str | Path, start: str | None = None, end: str | None = None) -> tuple[datetime, datetime]:
    """The simulated-time window of a replay: [start, end] if given, else the file's first/last post.

    Reads only `created_at` of each line; bad lines are skipped here (the replay quarantines them).
    """
    if start and end:
        lo, hi = utc(start), utc(end)
    else:
        first = last = None
        with Path(path).expanduser().open("rb") as fh:
            for raw in fh:
                try:
                    created = utc(json.loads(raw)["created_at"])
                except (ValueError, KeyError, TypeError):
                    continue
                first = created if first is None or created < first else first
                last = created if last is None or created > last else last
        if first is None or last is None:
            raise ConfigError(f"{path}: no post with a valid created_at; nothing to replay")
        lo = utc(start) if start else first
        hi = utc(end) if end else last + timedelta(minutes=1)
    if hi <= lo:
        raise ConfigError(f"replay window is empty: start {iso(lo)} is not before end {iso(hi)}")
    return lo, hi


def backfill(rt: Any, start: datetime, end: datetime) -> dict[str, Any]:
    """Replay [start, end] in simulated time, bucket by bucket: ingest what was created before each
    bucket end, then detect (the code path of `vigie demo`). Idempotent: a second run adds nothing."""
    from vigie.sim.demo import simulate

    step = timedelta(minutes=rt.config.detection.bucket_minutes)
    # simulate() stops at the last bucket end <= its end: go one bucket further so the last posts count.
    result = simulate(rt, start, end + step)
    return {
        "start": iso(start),
        "end": iso(end),
        "ticks": result.ticks,
        "inserted": result.posts_inserted,
        "updated": result.posts_updated,
        "quarantined": result.quarantined,
        "alert_events": result.alert_events,
        "open_alerts": [a.dedup_key for a in rt.store.open_alerts()],
    }


def sandbox_path(config_path: Path, replay_file: str | Path) -> Path:
    """Default store of a backfill: a SQLite file beside the config, one per replayed file, so re-running
    the same replay is idempotent and never touches the production store."""
    return config_path.parent / "out" / f"replay-{Path(replay_file).stem}.db"


def daily_report(rt: Any, now: datetime) -> Path:
    """Write the HTML report of the UTC day before `now`, next to the configured report path
    (`report-YYYY-MM-DD.html`). On a remote store the risk curve is not recomputed bucket by bucket
    (288 detector passes a day, each a round of queries): the chart uses the risk logged at alert events."""
    from vigie.app.report import write_report
    from vigie.store import store_backend

    end = utc(now).replace(hour=0, minute=0, second=0, microsecond=0)
    start = end - timedelta(days=1)
    base = Path(rt.config.report.path)
    out = base.with_name(f"{base.stem}-{start:%Y-%m-%d}{base.suffix or '.html'}")
    return Path(write_report(rt.store, rt.config, out, start=start, end=end,
                             risk_curve=store_backend(rt.config.store).embedded))


if __name__ == "__main__":  # `python -m vigie.app.airflow_support pools > dags/pools.json`
    import sys

    if sys.argv[1:] != ["pools"]:
        sys.exit("usage: python -m vigie.app.airflow_support pools   (prints dags/pools.json)")
    print(json.dumps(pools_document(), indent=2, ensure_ascii=False))
