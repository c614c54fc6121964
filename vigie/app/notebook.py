"""pandas access to the configured store, for the analyst notebooks.

One documented entry point instead of connection code copied into each notebook: give it the same YAML
file the pipeline uses and it opens the store through `vigie.store.open_store`, so a notebook runs
unchanged on the demo's SQLite file and on a production Elasticsearch cluster (credentials come from the
environment variables the config names, never from the notebook).

    from vigie.app.notebook import load_posts, load_alerts
    posts = load_posts("samples/demo/vigie.yml", topic_id="brivolle", start="2026-03-03", end="2026-03-05")
    alerts = load_alerts("samples/demo/vigie.yml")

Frames are flat (one column per field) with UTC `datetime64` times, ready for `groupby`/`resample`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from vigie.core.config import VigieConfig, load_config
from vigie.core.models import Alert, Post, utc
from vigie.app.report import dup_key
from vigie.store import Store, open_store

ConfigLike = str | Path | VigieConfig
TimeLike = datetime | str | None

POST_COLUMNS = [
    "id", "source", "created_at", "text", "url", "lang", "author_id", "author_handle", "author_name", "followers",
    "verified", "likes", "reposts", "replies", "quotes", "views", "engagement", "topic_ids", "parent_id",
    "thread_id", "sentiment", "sentiment_score", "sentiment_model", "crisis_risk", "crisis_categories",
    "crisis_terms", "near_dup_cluster", "entities", "fetched_at", "dup_key", "relation", "ref_id", "hashtags",
    "mentions", "links", "domains", "author_created_at",
]
ALERT_COLUMNS = [
    "id", "topic_id", "level", "peak_level", "risk", "peak_risk", "state", "opened_at", "updated_at", "resolved_at",
    "duration_min", "acknowledged_by", "drivers", "evidence", "history", "dedup_key",
]


def config_of(config: ConfigLike) -> VigieConfig:
    return config if isinstance(config, VigieConfig) else load_config(config)


@contextmanager
def store_of(config: ConfigLike) -> Iterator[Store]:
    """The configured store, closed on exit: `with store_of("vigie.yml") as store: ...`."""
    store = open_store(config_of(config).store)
    try:
        yield store
    finally:
        store.close()


def _t(value: TimeLike) -> datetime | None:
    return None if value is None else utc(value)


def post_row(post: Post) -> dict[str, Any]:
    """One post as a flat record (analysis fields are None when the post was not analysed)."""
    a = post.analysis
    return {
        "id": post.id, "source": post.source, "created_at": post.created_at, "text": post.text, "url": post.url,
        "lang": (a.lang if a and a.lang != "und" else post.lang) or "und",
        "author_id": post.author.id, "author_handle": post.author.handle, "author_name": post.author.name,
        "followers": post.author.followers or 0, "verified": bool(post.author.verified),
        "likes": post.engagement.likes or 0, "reposts": post.engagement.reposts or 0,
        "replies": post.engagement.replies or 0, "quotes": post.engagement.quotes or 0,
        "views": post.engagement.views, "engagement": post.engagement.total,
        "topic_ids": list(a.topic_ids if a and a.topic_ids else post.topic_ids),
        "parent_id": post.parent_id, "thread_id": post.thread_id,
        "sentiment": a.sentiment.label if a else None, "sentiment_score": a.sentiment.score if a else None,
        "sentiment_model": a.sentiment.model if a else None,
        "crisis_risk": a.crisis.risk if a else None, "crisis_categories": list(a.crisis.categories) if a else [],
        "crisis_terms": list(a.crisis.terms) if a else [], "near_dup_cluster": a.near_dup_cluster if a else None,
        "entities": list(a.entities) if a else [], "fetched_at": post.fetched_at,
        "relation": post.relation, "ref_id": post.ref_id, "author_created_at": post.author.created_at,
        **{kind: list(getattr(post.entities, kind)) if post.entities else []
           for kind in ("hashtags", "mentions", "links", "domains")},
        "dup_key": dup_key(post),  # same value = the same (copy-pasted) message
    }


def posts_frame(posts: list[Post]) -> pd.DataFrame:
    frame = pd.DataFrame([post_row(p) for p in posts], columns=POST_COLUMNS)
    for col in ("created_at", "fetched_at"):
        frame[col] = pd.to_datetime(frame[col], utc=True)
    return frame


def load_posts(config: ConfigLike, topic_id: str | None = None, start: TimeLike = None, end: TimeLike = None,
               limit: int | None = None) -> pd.DataFrame:
    """Posts of `topic_id` (or of every topic) with `start <= created_at < end`, oldest first, one row each.

    `config` is the YAML path (or a loaded `VigieConfig`); times are ISO-8601 strings or datetimes (UTC).
    An unknown topic id raises `KeyError` naming the configured ones, rather than returning an empty frame
    that looks like a quiet week.
    """
    cfg = config_of(config)
    if topic_id is not None and topic_id not in {t.id for t in cfg.topics}:
        raise KeyError(f"unknown topic {topic_id!r}; configured topics: {', '.join(t.id for t in cfg.topics)}")
    with store_of(cfg) as store:
        return posts_frame(store.posts(topic_id, _t(start), _t(end), limit=limit))


def alert_row(alert: Alert) -> dict[str, Any]:
    end = alert.resolved_at or alert.updated_at
    return {
        "id": alert.id, "topic_id": alert.topic_id, "level": alert.level.value,
        "peak_level": (alert.peak_level or alert.level).value, "risk": alert.risk,
        "peak_risk": alert.peak_risk or alert.risk, "state": alert.state.value, "opened_at": alert.opened_at,
        "updated_at": alert.updated_at, "resolved_at": alert.resolved_at,
        "duration_min": (end - alert.opened_at).total_seconds() / 60, "acknowledged_by": alert.acknowledged_by,
        "drivers": [vars(d) for d in alert.drivers], "evidence": [e.to_dict() for e in alert.evidence], "history": [h.to_dict() for h in alert.history],
        "dedup_key": alert.dedup_key,
    }


def alerts_frame(alerts: list[Alert]) -> pd.DataFrame:
    frame = pd.DataFrame([alert_row(a) for a in alerts], columns=ALERT_COLUMNS)
    for col in ("opened_at", "updated_at", "resolved_at"):
        frame[col] = pd.to_datetime(frame[col], utc=True)
    return frame


def load_alerts(config: ConfigLike, topic_id: str | None = None, since: TimeLike = None) -> pd.DataFrame:
    """Alerts (open and resolved) opened at or after `since`, oldest first; `drivers`, `evidence` and
    `history` stay as lists of dicts in their cells (see `alert_timeline` / `alert_drivers`)."""
    with store_of(config) as store:
        return alerts_frame(store.alert_history(topic_id, _t(since)))


def load_alert(config: ConfigLike, alert_id: str) -> Alert:
    """One alert as the domain record (by id or dedup key); `KeyError` if the store has no such alert."""
    with store_of(config) as store:
        alert = store.get_alert(alert_id)
    if alert is None:
        raise KeyError(f"no alert {alert_id!r} in the store")
    return alert


def alert_timeline(alert: Alert | pd.Series) -> pd.DataFrame:
    """The alert's history (`at`, `event`, `level`, `risk`), one row per event, oldest first."""
    history = [h.to_dict() for h in alert.history] if isinstance(alert, Alert) else alert["history"]
    frame = pd.DataFrame(list(history), columns=["at", "event", "level", "risk"])
    frame["at"] = pd.to_datetime(frame["at"], utc=True)
    return frame.sort_values("at", ignore_index=True)


def alert_drivers(alert: Alert | pd.Series) -> pd.DataFrame:
    """What pushed the risk: one row per driver, biggest contribution first."""
    drivers = [vars(d) for d in alert.drivers] if isinstance(alert, Alert) else list(alert["drivers"])
    frame = pd.DataFrame(drivers, columns=["name", "points", "value", "baseline", "explanation"])
    return frame.sort_values("points", ascending=False, ignore_index=True)


def load_risk(config: ConfigLike, topic_id: str, start: TimeLike, end: TimeLike) -> pd.DataFrame:
    """The stored risk curve of a topic: one row per assessed bucket (index `at`), with `risk`, `level` and
    one column per driver (its points, 0 when it did not contribute). Empty for a store written before
    risk points were kept, or for a period detection has not run over."""
    from vigie.core.drivers import driver_names

    with store_of(config) as store:
        points = store.risk_series(topic_id, utc(start), utc(end))
    drivers = driver_names()
    rows = [{"at": p.at, "risk": p.risk, "level": p.level.value if p.level else None}
            | {d: p.drivers.get(d, 0.0) for d in drivers} for p in points]
    frame = pd.DataFrame(rows, columns=["at", "risk", "level", *drivers])
    frame["at"] = pd.to_datetime(frame["at"], utc=True)
    return frame.set_index("at")


def find_truth(config: ConfigLike, path: str | Path | None = None) -> dict[str, Any] | None:
    """Ground truth for a replayed scenario: `path` if given, else `truth.json` beside the config's replay
    file (what `vigie samples generate` writes); None for live data, where there is no truth."""
    import json

    if path is None:
        cfg = config_of(config)
        replay = next((s for s in cfg.sources.values() if s.type == "replay"), None)
        if replay is None:
            return None
        candidate = Path(replay.path).parent / "truth.json"
        if not candidate.exists():
            return None
        path = candidate
    return json.loads(Path(path).read_text(encoding="utf-8"))


def data_span(config: ConfigLike, topic_ids: list[str] | None = None) -> tuple[datetime, datetime] | None:
    """First and last moment with a post or an alert in the store (None if it holds nothing)."""
    from vigie.app.report import data_period

    cfg = config_of(config)
    with store_of(cfg) as store:
        return data_period(store, topic_ids or [t.id for t in cfg.topics])


def replay_into_store(
    scenario: Any, folder: str | Path
) -> tuple[VigieConfig, tuple[datetime, datetime], dict[str, Any]]:
    """Write a generated scenario (`vigie.sim.scenario.generate` / `scenario_suite`) into `folder` and ingest it
    through the real pipeline (replay listener → NLP → SQLite in `folder`), without detection or delivery,
    so backtests can replay detection over it. Returns the config, the data span and the ground truth."""
    import json

    from vigie.core.config import load_config as _load
    from vigie.pipeline.steps import Runtime, ingest_all
    from vigie.sim.scenario import config_yaml, write

    folder = Path(folder)
    _, truth_path = write(scenario, folder, malformed=0)
    config_path = folder / "vigie.yml"
    config_path.write_text(config_yaml(scenario, db_path=str((folder / "vigie.db").resolve())), encoding="utf-8")
    config = _load(config_path)
    truth = json.loads(truth_path.read_text(encoding="utf-8"))
    last = max((utc(e["end"]) for e in truth.get("events", [])), default=None)
    until = utc(truth["end"]) if truth.get("end") else (last or datetime.now().astimezone()) + timedelta(days=1)
    rt = Runtime.from_config(config, notifiers=[])
    try:
        ingest_all(rt, until + timedelta(hours=1))
    finally:
        rt.close()
    span = data_span(config)
    if span is None:
        raise ValueError(f"{folder}: the replay stored no post")
    return config, span, truth
