"""The SQLite store backend: config model (`config.py`), adapter (`adapter.py`), and what it can do (below)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vigie.core.config import STORE_BACKENDS
from vigie.store.backend import StoreBackend
from vigie.store.sqlite.adapter import SqliteStore
from vigie.store.sqlite.config import SqliteConfig


def _files(cfg: SqliteConfig) -> tuple[Path, ...]:
    # WAL mode: the database, its write-ahead log and its shared-memory index.
    return tuple(Path(str(cfg.path) + suffix) for suffix in ("", "-wal", "-shm"))


def _open(cfg: SqliteConfig) -> SqliteStore:
    return SqliteStore(cfg.path)


def _location(cfg: Any) -> str:
    return str(cfg.path)


BACKEND = STORE_BACKENDS.register("sqlite", StoreBackend(
    name="sqlite", config=SqliteConfig, open=_open, location=_location, embedded=True, files=_files))

__all__ = ["BACKEND", "SqliteConfig", "SqliteStore"]
