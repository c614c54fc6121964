"""What a platform is (X, Reddit, feeds, Mastodon, Bluesky, replay...), and the registry that finds one by name.

A platform is one folder, `listeners/<platform>/`, whose `__init__` registers a `Platform`: its config model,
its listener, its native search syntax and its scheduling facts. Everything that used to list the platforms
by hand reads `PLATFORMS` instead: the `sources:` union of the config and its errors (`vigie.core.config`),
query planning (`listeners.plan`), the Airflow pools and intervals (`vigie.pipeline.ingest_units`, the DAGs).
Every field is required, so a platform cannot be half-declared (a forgotten native syntax used to make a
source silently plan no query). A test or a plugin adds one with `register(Platform(...))`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, get_args

from vigie.core.query import TopicQuery
from vigie.core.registry import Registry


@dataclass(frozen=True)
class Pool:
    """An Airflow pool: caps concurrent calls to a platform across all workers (its rate limits)."""

    name: str
    slots: int
    description: str


@dataclass(frozen=True)
class Platform:
    name: str  # the config's `type:` and the `source` of its posts
    # The `sources.<name>` config model (a `vigie.core.config.ConfigModel` with `type: Literal[name]`).
    config: type
    # The listener class, or "module:Class" imported only when a source of this type is built, so that a
    # missing client library (tweepy, praw, atproto...) breaks its own sources only. It has
    # `from_config(name, cfg, **run_options)`.
    listener: str | type
    # Topic query -> the platform's own searches, whose union covers the query (always wider: every post
    # is re-checked locally). [] = no server-side search (fetch everything, filter locally).
    native: Callable[[TopicQuery], list[str]]
    pool: Pool
    every_minutes: int  # default Airflow fetch interval of a source that sets no `every_minutes`
    lookback_hours: float  # how far back the platform lets a listener catch up after an outage

    def __post_init__(self) -> None:
        fields = getattr(self.config, "model_fields", {})
        tag = fields.get("type")
        if tag is None or get_args(tag.annotation) != (self.name,):
            raise ValueError(f"platform {self.name!r}: its config model {getattr(self.config, '__name__', self.config)} "
                             f"must have a field `type: Literal[{self.name!r}]`")
        if self.pool.slots < 1 or self.every_minutes < 1:
            raise ValueError(f"platform {self.name!r}: pool slots and every_minutes must be at least 1")


# Built-in platforms register from their package (`listeners/<platform>/__init__.py`); `listeners/__init__`
# imports them in the order users see them listed (config errors, pools, DAG tasks).
PLATFORMS: Registry[Platform] = Registry("platform", "listeners", "vigie.platforms")


def register(platform: Platform, **options: Any) -> Platform:
    return PLATFORMS.register(platform.name, platform, **options)
