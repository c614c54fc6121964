"""Pytest fixtures for the Elasticsearch adapter: osmem-server on 127.0.0.1 (no Elasticsearch can be installed here),
an index prefix per test, a client, and a header-rewriting proxy.

The 406 problem (the official client's versioned media types, which osmem refuses) is solved in tests only, two
ways: `vigie.sim.osmem.OsmemNode` in process (`osmem_client`, shared with bench/store.py), and
`fakes.es_proxy.CompatProxy` for tests that drive the real CLI from a config file. Production code never sees either.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import pytest
from elasticsearch import Elasticsearch
from fakes.es_proxy import CompatProxy

from vigie.sim.osmem import osmem_client


@pytest.fixture(scope="session")
def es_osmem() -> Iterator[Any]:
    """One osmem-server for the whole session; tests isolate themselves with an index prefix."""
    from osmem_server import OsmemServer

    server = OsmemServer.start(japanese=False)
    yield server
    server.close()


_prefixes = itertools.count(1)


@pytest.fixture
def es_prefix() -> str:
    return f"t{next(_prefixes):04d}"


@pytest.fixture
def es_client(es_osmem: Any) -> Iterator[Elasticsearch]:
    client = osmem_client(es_osmem.url)
    yield client
    client.close()


@pytest.fixture
def es_proxy(es_osmem: Any) -> Iterator[CompatProxy]:
    proxy = CompatProxy(es_osmem.url)
    yield proxy
    proxy.close()
