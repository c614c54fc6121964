"""A store backend is one folder found through a registry: a backend registered from this file only (no
other module edited) is accepted by the config, opened by `open_store`, asked for its capabilities, and
carries a whole `vigie run`. Real CLI, real SQLite underneath the fake."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import pytest
from click.testing import CliRunner
from test_es_e2e import END, _replay

from vigie.app.cli.main import cli
from vigie.core.config import STORE_BACKENDS, ConfigError, ConfigModel, config_from_dict, load_config
from vigie.store import Store, open_store, store_backend
from vigie.store.backend import StoreBackend
from vigie.store.base import InstallableStore, LifecyclePolicyStore
from vigie.store.sqlite import SqliteStore

TOPICS = [{"id": "acme", "name": "Acme", "query": "acme"}]


class FakeConfig(ConfigModel):
    type: Literal["fake"]
    directory: Path


class FakeStore(SqliteStore):
    """A thin backend: the SQLite adapter, in a directory of its own, under another name."""

    def __init__(self, directory: Path):
        super().__init__(Path(directory) / "fake-store.db")


@pytest.fixture
def fake_backend():
    backend = StoreBackend(name="fake", config=FakeConfig, open=lambda cfg: FakeStore(cfg.directory),
                           location=lambda cfg: f"fake store in {cfg.directory}")
    STORE_BACKENDS.register("fake", backend)
    try:
        yield backend
    finally:
        STORE_BACKENDS.unregister("fake")


def test_config_accepts_a_registered_backend_and_open_store_opens_it(fake_backend, tmp_path):
    config = config_from_dict({"topics": TOPICS, "store": {"type": "fake", "directory": str(tmp_path)}})
    assert isinstance(config.store, FakeConfig) and config.store.directory == tmp_path
    assert store_backend(config.store) is fake_backend
    store = open_store(config.store)
    try:
        assert isinstance(store, FakeStore) and isinstance(store, Store)
    finally:
        store.close()
    assert (tmp_path / "fake-store.db").exists()
    # Capabilities it did not declare are off: nobody treats it as a file to delete or a cluster to set up.
    assert not (fake_backend.embedded or fake_backend.installable or fake_backend.lifecycle_policy
                or fake_backend.dashboards)
    assert fake_backend.files(config.store) == ()


def test_config_errors_of_a_registered_backend_name_file_key_and_fix(fake_backend, tmp_path):
    path = tmp_path / "vigie.yml"
    path.write_text("topics:\n  - {id: acme, name: Acme, query: acme}\nstore: {type: fake, directry: /tmp}\n",
                    encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    text = str(err.value)
    assert str(path) in text
    assert "store.directory: required key is missing. Fix: add `directory:`" in text
    assert "store.directry: unknown key" in text and "Fix: remove it or check its spelling" in text


def test_unknown_store_type_lists_the_registered_backends(fake_backend):
    with pytest.raises(ConfigError) as err:
        config_from_dict({"topics": TOPICS, "store": {"type": "mongo"}})
    assert "store.type: expected one of 'sqlite', 'elasticsearch', 'fake', found 'mongo'." in str(err.value)


def test_an_unregistered_backend_is_refused_again():
    with pytest.raises(ConfigError) as err:
        config_from_dict({"topics": TOPICS, "store": {"type": "fake", "directory": "/tmp"}})
    assert "store.type: expected one of 'sqlite', 'elasticsearch', found 'fake'." in str(err.value)


def test_a_pipeline_run_works_on_a_registered_backend(fake_backend, tmp_path):
    _replay(tmp_path / "posts.jsonl")  # a quiet day, then a negative surge: alerts fire
    store_dir = tmp_path / "fake"
    path = tmp_path / "vigie.yml"
    path.write_text(
        "topics:\n  - {id: acme, name: Acme, query: acme}\n"
        f"sources:\n  replay: {{type: replay, path: {tmp_path / 'posts.jsonl'}}}\n"
        f"store: {{type: fake, directory: {store_dir}}}\n"
        "channels:\n  - {type: console, min_level: watch}\n",
        encoding="utf-8",
    )
    run = CliRunner().invoke(cli, ["run", "--config", str(path), "--now", END.isoformat()])
    assert run.exit_code == 0, run.output
    store = open_store(load_config(path).store)
    try:
        assert isinstance(store, FakeStore)
        assert store.count_posts("acme") > 0
        assert store.alert_history("acme")  # detection ran on it and kept its alerts there
    finally:
        store.close()
    assert not (tmp_path / "out").exists()  # nothing went to the default store


def test_built_in_backends_declare_the_capabilities_their_adapters_have(tmp_path):
    from vigie.store.elasticsearch import ElasticsearchStore

    sqlite, elasticsearch = STORE_BACKENDS.get("sqlite"), STORE_BACKENDS.get("elasticsearch")
    assert STORE_BACKENDS.names()[:2] == ["sqlite", "elasticsearch"]  # the order error messages list
    for backend, adapter in ((sqlite, SqliteStore), (elasticsearch, ElasticsearchStore)):
        assert backend.installable == issubclass(adapter, InstallableStore)
        assert backend.lifecycle_policy == issubclass(adapter, LifecyclePolicyStore)
    assert sqlite.embedded and not elasticsearch.embedded and elasticsearch.dashboards and not sqlite.dashboards
    config = config_from_dict({"topics": TOPICS, "store": {"type": "sqlite", "path": str(tmp_path / "v.db")}})
    assert sqlite.files(config.store) == (tmp_path / "v.db", tmp_path / "v.db-wal", tmp_path / "v.db-shm")
    assert sqlite.location(config.store) == str(tmp_path / "v.db")
