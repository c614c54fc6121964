"""`sources.<name>: {type: feeds, ...}`: RSS/Atom URLs and Discourse forums."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from vigie.core.config import ConfigModel, EveryMinutes


class FeedsSource(ConfigModel):
    type: Literal["feeds"]
    every_minutes: EveryMinutes = None
    urls: list[str] = Field(default_factory=list)
    discourse: list[str] = Field(default_factory=list, description="Base URLs of Discourse forums")
    timeout_s: float = Field(20, gt=0)
    max_wait_s: float = Field(900, ge=0)  # listener limits (issue 3)
    retries: int = Field(4, ge=0, le=10, description="Retries of a 5xx / timeout / malformed body, with back-off")
    max_pages: int = Field(10, ge=1, description="Discourse pages per run")
