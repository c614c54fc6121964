"""Store adapters behind one protocol (see `base.Store`)."""

from __future__ import annotations

from vigie.store.base import Store


def open_store(config) -> Store:
    """Open the store described by a `StoreConfig` (sqlite or elasticsearch)."""
    if config.type == "sqlite":
        from vigie.store.sqlite import SqliteStore

        return SqliteStore(config.path)
    if config.type == "elasticsearch":
        from vigie.store.elasticsearch import ElasticsearchStore

        return ElasticsearchStore.from_config(config)
    raise ValueError(f"unknown store type {config.type!r}")


__all__ = ["Store", "open_store"]
