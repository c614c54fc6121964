"""`sources.<name>: {type: mastodon, instance: ..., ...}`."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from vigie.core.config import ConfigModel, EveryMinutes, check_env_name


class MastodonSource(ConfigModel):
    type: Literal["mastodon"]
    every_minutes: EveryMinutes = None
    instance: str
    hashtags: list[str] = Field(default_factory=list)
    token_env: str | None = None
    max_pages: int = Field(10, ge=1)
    # Listener limits (issue 3): HTTP timeout and the longest rate-limit wait honoured before the source
    # stops until the next run (its cursor intact).
    timeout_s: float = Field(20, gt=0)
    max_wait_s: float = Field(900, ge=0)
    retries: int = Field(4, ge=0, le=10, description="Retries of a 5xx / timeout / malformed body, with back-off")
    _env = field_validator("token_env")(check_env_name)
