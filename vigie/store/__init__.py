"""Store adapters behind one protocol (see `base.Store`), one folder per backend (`vigie/store/<backend>/`),
found through the registry `vigie.core.config.STORE_BACKENDS`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vigie.core.config import DEFAULT_STORE, STORE_BACKENDS, store_config
from vigie.store.base import Store

# The default backend registers first: the registry keeps the order users see ("expected one of 'sqlite',
# 'elasticsearch'"), and importing it here costs nothing (SQLite is in the standard library).
from vigie.store import sqlite as _sqlite  # noqa: E402,F401  isort: skip


def store_backend(config: Any):
    """The backend of a `store:` config (a `vigie.store.backend.StoreBackend`): ask it what it can do."""
    return STORE_BACKENDS.get(config.type)


def open_store(config: Any) -> Store:
    """Open the store described by a `store:` config, whatever its backend."""
    return store_backend(config).open(config)


def file_store_config(path: Path | str) -> Any:
    """The config of a store kept in one local file (the embedded backend): a sandbox or scratch store."""
    return store_config({"type": DEFAULT_STORE, "path": path})


def open_file_store(path: Path | str) -> Store:
    """A store in one local file, whatever the configured store: the scratch stores of backtests, evaluations
    and benchmarks, and the store files named on the command line (`vigie backtest --db / --marks-from`)."""
    return open_store(file_store_config(path))


__all__ = ["Store", "file_store_config", "open_file_store", "open_store", "store_backend"]
