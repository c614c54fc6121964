"""What a store backend is, for the rest of Vigie: a config model, a way to open it, and its capabilities.

Each backend folder (`vigie/store/sqlite/`, `vigie/store/elasticsearch/`) builds one `StoreBackend` and
registers it in `vigie.core.config.STORE_BACKENDS` under its `type`. Callers never test `store.type`: they
open the store with `vigie.store.open_store` and ask the backend (`vigie.store.store_backend`) what it can do.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vigie.store.base import Store


def _no_files(cfg: Any) -> tuple[Path, ...]:
    return ()


@dataclass(frozen=True)
class StoreBackend:
    name: str  # the `type:` of `store:` in a config file
    config: type  # its config model (a `vigie.core.config.ConfigModel` with `type: Literal[name]`)
    open: Callable[[Any], Store]  # config -> adapter; imports the adapter's dependencies only when called
    location: Callable[[Any], str]  # config -> where the data is, for messages ("out/vigie.db")

    # -- capabilities: what callers used to learn by testing `store.type` --------------------------------
    # A file on this machine, read in-process: reads cost no round trip, so the daily report recomputes the
    # risk curve bucket by bucket (a remote store draws it from the risk logged at alert events), and the
    # demo starts over by deleting `files(config)`.
    embedded: bool = False
    files: Callable[[Any], tuple[Path, ...]] = _no_files  # an embedded store's files, the main one first
    # Has an install step: its stores are `base.InstallableStore` (`setup()`, idempotent; `check()`), used by
    # `vigie es` and the maintenance DAG's setup task.
    installable: bool = False
    # Retention may be done by the server (an ILM policy dropping old indices): its stores are
    # `base.LifecyclePolicyStore`; ask `store.ilm_available()` before purging.
    lifecycle_policy: bool = False
    # Kibana's dashboards read it (`vigie kibana`, the maintenance DAG's import): the config has a `prefix`.
    dashboards: bool = False
