"""`sources.<name>: {type: replay, path: posts.jsonl, ...}`."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from vigie.core.config import ConfigModel, EveryMinutes


class ReplaySource(ConfigModel):
    type: Literal["replay"]
    every_minutes: EveryMinutes = None
    path: Path = Field(description="JSONL file of posts (schema in README)")  # relative to the config file
    # One file can feed several replay sources, one per platform, so that a platform's collector can fail
    # on its own (the `outage` lines of samples/README.md): `platforms` releases only those platforms'
    # posts (and applies their outage lines), `skip_platforms` releases every platform but those.
    platforms: list[str] | None = Field(None, description="Only these platforms' posts (default: all)")
    skip_platforms: list[str] = Field(default_factory=list, description="Every platform but these")
