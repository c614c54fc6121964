"""The Elasticsearch store backend: config model (`config.py`), index layout (`schema.py`), adapter
(`adapter.py`), and what it can do (below).

Registering it costs no import of the `elasticsearch` client: the adapter module is imported when a store
is opened or one of its names is read from this package (`from vigie.store.elasticsearch import
ElasticsearchStore`), so a SQLite-only install validates configs without the client installed.
"""

from __future__ import annotations

import importlib
from typing import Any

from vigie.core.config import STORE_BACKENDS
from vigie.store.backend import StoreBackend
from vigie.store.elasticsearch.config import ElasticsearchConfig


def _open(cfg: ElasticsearchConfig) -> Any:
    from vigie.store.elasticsearch.adapter import ElasticsearchStore

    return ElasticsearchStore.from_config(cfg)


def _location(cfg: ElasticsearchConfig) -> str:
    return f"Elasticsearch {cfg.prefix}-*"


BACKEND = STORE_BACKENDS.register("elasticsearch", StoreBackend(
    name="elasticsearch", config=ElasticsearchConfig, open=_open, location=_location,
    installable=True, lifecycle_policy=True, dashboards=True))

_ADAPTER_NAMES = {"ElasticsearchStore", "StoreError", "post_document", "post_from_document", "redact_url"}


def __getattr__(name: str) -> Any:  # PEP 562: the adapter (and the client) load on first use
    if name in _ADAPTER_NAMES:
        return getattr(importlib.import_module("vigie.store.elasticsearch.adapter"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["BACKEND", "ElasticsearchConfig", *sorted(_ADAPTER_NAMES)]
