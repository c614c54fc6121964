"""Vigie replay / backfill: run a JSONL file of posts (replay schema, `listeners/replay/listener.py`) through the
real pipeline in simulated time, bucket by bucket (ingest, then detect), for one topic or all.

For analysts (what would Vigie have said about last week's crisis?) and for tests. Trigger it with
params, e.g. `airflow dags trigger vigie_replay --conf '{"path": "/data/crisis.jsonl", "topic": "acme"}'`.
By default the replay writes to a sandbox SQLite file beside the config (`out/replay-<file>.db`), never to
the production store; `into_configured_store: true` sends the posts to the configured store instead (its
detection state is then left alone: past windows are not re-alerted).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from airflow.sdk import Param, Variable, dag, get_current_context, task
from airflow.sdk.exceptions import AirflowFailException

from vigie.pipeline import airflow as af
from vigie.core.config import ConfigError


@dag(
    dag_id="vigie_replay",
    description="Backfill/replay a JSONL file (or a date range of it) through the pipeline in simulated time",
    schedule=None,  # on demand only
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args=af.default_args(retries=1, timeout_minutes=120),
    tags=["vigie", "replay", "backfill"],
    params={
        "path": Param("", type="string", description="JSONL file of posts (replay schema)"),
        "topic": Param("", type="string", description="Only this topic id (default: all topics)"),
        "start": Param("", type="string", description="ISO-8601 start (default: first post of the file)"),
        "end": Param("", type="string", description="ISO-8601 end (default: last post of the file)"),
        "sqlite_path": Param("", type="string", description="Sandbox SQLite file (default: out/replay-<file>.db)"),
        "into_configured_store": Param(False, type="boolean", description="Write to the configured store instead"),
    },
    doc_md=__doc__,
)
def vigie_replay():
    @task
    def replay() -> dict[str, Any]:
        params = get_current_context()["params"]
        if not params["path"]:
            raise AirflowFailException("param `path` is required: the JSONL file to replay")
        from vigie.pipeline.replay import backfill, replay_config, replay_span, sandbox_path

        try:
            config_path = af.resolve_config_path(Variable.get(af.CONFIG_VARIABLE, default=None))
            base = af.load_path(config_path)
            sandbox = None if params["into_configured_store"] else (
                params["sqlite_path"] or sandbox_path(config_path, params["path"])
            )
            config = replay_config(base, params["path"], params["topic"] or None, sandbox)
            start, end = replay_span(params["path"], params["start"] or None, params["end"] or None)
        except ConfigError as exc:
            raise AirflowFailException(str(exc)) from None
        with af.runtime(config) as rt:
            summary = backfill(rt, start, end)
        summary["store"] = str(sandbox) if sandbox else config.store.type
        print(summary)
        return summary

    replay()


vigie_replay()
