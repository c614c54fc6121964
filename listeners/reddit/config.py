"""`sources.<name>: {type: reddit, ...}`."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from vigie.core.config import ConfigModel, EveryMinutes, check_env_name


class RedditSource(ConfigModel):
    type: Literal["reddit"]
    every_minutes: EveryMinutes = None
    client_id_env: str = "REDDIT_CLIENT_ID"
    client_secret_env: str = "REDDIT_CLIENT_SECRET"
    user_agent: str = "vigie/0.1 (social listening; read-only)"
    subreddits: list[str] = Field(default_factory=list)
    include_comments: bool = True
    oauth_url: str | None = None
    reddit_url: str | None = None
    max_items: int = Field(500, ge=1)
    # Listener limits (issue 3): HTTP timeout and the longest rate-limit wait honoured before the source
    # stops until the next run (its cursor intact).
    timeout_s: float = Field(20, gt=0)
    max_wait_s: float = Field(900, ge=0)
    retries: int = Field(4, ge=0, le=10, description="Retries of a 5xx / timeout / malformed body, with back-off")
    _env = field_validator("client_id_env", "client_secret_env")(check_env_name)
