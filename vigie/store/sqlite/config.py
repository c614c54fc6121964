"""`store: {type: sqlite}`: the embedded default, one file (WAL mode) beside the pipeline."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from vigie.core.config import ConfigModel


class SqliteConfig(ConfigModel):
    type: Literal["sqlite"] = "sqlite"
    path: Path = Path("out/vigie.db")
    retention_days: int = Field(90, ge=1, description="Posts older than this are purged by the maintenance DAG")
