"""`store: {type: elasticsearch}`: the production store. Credentials are named, never written: each
`*_env` key holds the name of the environment variable that has the secret."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator

from vigie.core.config import ConfigModel, check_env_name


class ElasticsearchConfig(ConfigModel):
    type: Literal["elasticsearch"]
    url: str = "http://127.0.0.1:9200"
    url_env: str | None = None
    api_key_env: str | None = None
    username_env: str | None = None
    password_env: str | None = None
    ca_certs: Path | None = None
    prefix: str = "vigie"
    retention_days: int = Field(90, ge=1)
    _env = field_validator("url_env", "api_key_env", "username_env", "password_env")(check_env_name)
