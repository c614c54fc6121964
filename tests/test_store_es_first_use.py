"""Elasticsearch first use is safe under concurrency: several processes opening the store on a fresh
cluster (Airflow starts one ingest task per platform at once) all auto-create the templates, the posts
write alias and the single indices; none may fail because another got there first (issue 20).

Threads, one client each, on osmem-server (tests/es_fixtures.py); every round a fresh prefix. Before the
fix about one round in three failed with "P-posts exists as a concrete index": the alias another opener
had just made, read as a concrete index."""

from __future__ import annotations

import threading
from datetime import datetime, timezone

import pytest
from elasticsearch import Elasticsearch

from vigie.core.models import Cursor
from vigie.sim.osmem import osmem_client
from vigie.store.elasticsearch import ElasticsearchStore, StoreError
from vigie.store.elasticsearch.schema import Names, single_indices

OPENERS = 3
ROUNDS = 8
NOW = datetime(2026, 3, 9, 12, tzinfo=timezone.utc)


def open_at_once(url: str, prefix: str) -> list[str]:
    """OPENERS stores on `prefix`, released together into their first use (a cursor write and read)."""
    start, errors = threading.Barrier(OPENERS), []

    def first_use(i: int) -> None:
        client = osmem_client(url)
        store = ElasticsearchStore(client, prefix=prefix)
        start.wait()
        try:
            store.set_cursor(Cursor(source="s", query=f"q{i}", value={"n": i}, updated_at=NOW))
            assert store.get_cursor("s", f"q{i}").value == {"n": i}
        except Exception as exc:  # reported with the round, not lost in the thread
            errors.append(f"opener {i}: {exc!r}")
        finally:
            client.close()

    threads = [threading.Thread(target=first_use, args=(i,)) for i in range(OPENERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


def test_stores_opened_at_once_on_a_fresh_prefix_all_set_it_up(es_osmem, es_client: Elasticsearch, es_prefix: str):
    for r in range(ROUNDS):
        prefix = f"{es_prefix}r{r}"
        assert open_at_once(es_osmem.url, prefix) == [], f"round {r}"
        names = Names(prefix)
        aliases = es_client.indices.get_alias(name=names.posts).body
        assert list(aliases) == [names.posts_first]  # one posts index, the write index of the alias
        assert aliases[names.posts_first]["aliases"][names.posts].get("is_write_index") is True
        for index, _mappings in single_indices(names):
            assert es_client.indices.exists(index=index).body, index


def test_a_concrete_posts_index_is_still_refused(es_osmem, es_client: Elasticsearch, es_prefix: str):
    """Tolerating a concurrent creator does not mean accepting anything: a `P-posts` that is a plain index
    (not the alias) is still reported, on a second reading."""
    es_client.indices.create(index=Names(es_prefix).posts)
    store = ElasticsearchStore(osmem_client(es_osmem.url), prefix=es_prefix)
    with pytest.raises(StoreError, match="exists as a concrete index"):
        store.setup()
