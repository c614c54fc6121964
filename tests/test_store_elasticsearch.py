"""Elasticsearch-specific behaviour beyond the shared contract: setup, mapping rejections, overload
retries, rollover safety, connection errors and configuration. Against osmem-server on 127.0.0.1; error
cases against small HTTP servers answering like Elasticsearch does."""

from __future__ import annotations

import json
import socket
import threading
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch
from test_store_contract import T0, make_post

from vigie.core.config import ConfigError
from vigie.core.models import Alert, Level, RiskPoint, Story, StoryCluster, StoryPost, StoryTrend
from vigie.sim.osmem import OsmemNode, osmem_client
from vigie.store.elasticsearch import ElasticsearchConfig, ElasticsearchStore, StoreError, post_document, redact_url
from vigie.store.elasticsearch.schema import DERIVED_FIELDS, Names, export, field_types, posts_mappings


@pytest.fixture
def es_store(es_osmem, es_prefix):
    store = ElasticsearchStore(osmem_client(es_osmem.url), prefix=es_prefix)
    yield store
    store.close()


def test_setup_is_idempotent_and_maps_text_in_french_and_english(es_store, es_client):
    first = es_store.setup()
    second = es_store.setup()
    names = es_store.names
    assert any(f"with write alias {names.posts}" in line for line in first)
    assert any(f"write alias {names.posts}: exists" in line for line in second)
    # osmem has no ILM API: setup says so instead of failing (a real cluster gets the policy).
    assert any("ILM not available" in line for line in first)
    alias = es_client.indices.get_alias(name=names.posts).body
    assert alias == {names.posts_first: {"aliases": {names.posts: {"is_write_index": True}}}}
    mapping = es_client.indices.get_mapping(index=names.posts_first).body[names.posts_first]["mappings"]
    text = mapping["properties"]["text"]
    assert text["fields"]["fr"]["analyzer"] == "french_folded"
    assert text["fields"]["en"]["analyzer"] == "english"
    assert text["fields"]["keyword"]["type"] == "keyword"
    assert mapping["properties"]["created_at"]["type"] == "date"
    assert mapping["properties"]["engagement"]["properties"]["likes"]["type"] == "long"
    for index in (names.alerts, names.cursors, names.quarantine):
        assert es_client.indices.exists(index=index).body


def test_french_text_is_searchable_with_stemming(es_store, es_client):
    es_store.upsert_posts([make_post("fr", T0, text="Les clients sont furieux contre Acme")])
    hits = es_client.search(index=es_store.names.posts, query={"match": {"text.fr": "client furieux"}})
    assert [h["_id"] for h in hits["hits"]["hits"]] == ["x:fr"]


def test_french_text_matches_without_accents(es_store, es_client):
    """`asciifolding` on text.fr: posts and searches drop accents at random."""
    es_store.upsert_posts([make_post("acc", T0, text="Je suis écœuré par la qualité"),
                           make_post("plain", T0, text="Vraiment ecoeure, quelle qualite")])
    for query in ("écœuré qualité", "ecoeure qualite"):
        hits = es_client.search(index=es_store.names.posts, query={"match": {"text.fr": {"query": query, "operator": "and"}}})
        assert sorted(h["_id"] for h in hits["hits"]["hits"]) == ["x:acc", "x:plain"]


def test_alerts_and_risk_points_carry_topics_for_dashboard_filters(es_store, es_client):
    alert = Alert(id="a1", dedup_key="vigie:acme:1", topic_id="acme", level=Level.WARNING, risk=60.0,
                  opened_at=T0, updated_at=T0)
    es_store.save_alert(alert)
    es_store.save_risk([RiskPoint("acme", T0, 12.0)])
    es_store.refresh()
    for index in (es_store.names.alerts, es_store.names.risk):
        hits = es_client.search(index=index, query={"term": {"topics": "acme"}})["hits"]["hits"]
        assert len(hits) == 1 and hits[0]["_source"]["topics"] == ["acme"]
    assert es_store.get_alert("a1") == alert  # the extra field does not leak into the model


def test_an_alerts_story_is_searchable(es_store, es_client):
    """Which alerts named this account as amplifier, carried this hashtag, had a copy cluster this large."""
    def alert(i, author, hashtag, size):
        a = Alert(id=f"a{i}", dedup_key=f"vigie:acme:{i}", topic_id="acme", level=Level.CRISIS, risk=80.0,
                  opened_at=T0, updated_at=T0)
        a.story = Story(start=T0, end=T0, posts=50, negative=40, sources={"x": 30, "bluesky": 20},
                        first_post=StoryPost(id=f"x:{i}", source="x", author="first_one", created_at=T0),
                        amplifiers=[StoryPost(id=f"x:a{i}", source="x", author=author, followers=250_000)],
                        clusters=[StoryCluster(id=f"c{i}", size=size, authors=size - 2, young_or_small=0.9, first_seen=T0)],
                        rising=[StoryTrend("hashtags", hashtag, 25, 0, 4.2)])
        return a

    es_store.save_alert(alert(1, "loud_account", "boycottacme", 43))
    es_store.save_alert(alert(2, "other_account", "acmelaunch", 3))
    es_store.refresh()

    def ids(query):
        return sorted(h["_id"] for h in es_client.search(index=es_store.names.alerts, query=query)["hits"]["hits"])

    first, second = (es_store._alert_doc_id(f"vigie:acme:{i}") for i in (1, 2))
    assert ids({"term": {"story.amplifiers.author": "loud_account"}}) == [first]
    assert ids({"term": {"story.rising.key": "acmelaunch"}}) == [second]
    assert ids({"range": {"story.clusters.size": {"gte": 10}}}) == [first]
    assert ids({"term": {"story.first_post.author": "first_one"}}) == sorted([first, second])
    assert es_store.get_alert("a1").story.sources == {"x": 30, "bluesky": 20}  # kept in _source, not mapped


def test_mapping_rejection_goes_to_quarantine_with_reason(es_store):
    good = make_post("good", T0)
    bad = make_post("bad", T0 + timedelta(seconds=1))
    bad.engagement.views = "lots"  # a listener bug: a string where the mapping says long
    res = es_store.upsert_posts([good, bad])
    assert (res.inserted, res.quarantined, res.retried) == (1, 1, 0)
    assert es_store.count_posts() == 1
    [q] = es_store.quarantined("x")
    assert "rejected" in q.reason and "engagement.views" in q.reason
    assert q.context["post_id"] == "x:bad"
    assert json.loads(q.record)["engagement"]["views"] == "lots"  # the record is kept whole
    # Re-running the same batch does not quarantine the same record twice.
    again = es_store.upsert_posts([good, bad])
    assert (again.inserted, again.updated, again.quarantined) == (0, 0, 1)
    assert len(es_store.quarantined()) == 1


@pytest.mark.parametrize("faults", [["request-429"], ["item-429"], ["item-503", "item-429"]])
def test_overload_is_retried_with_backoff(es_proxy, es_prefix, faults):
    delays: list[float] = []
    store = ElasticsearchStore(Elasticsearch(es_proxy.url), prefix=es_prefix, sleep=delays.append,
                               initial_backoff=0.5)
    store.setup()
    es_proxy.bulk_faults = list(faults)
    res = store.upsert_posts([make_post(str(i), T0 + timedelta(seconds=i)) for i in range(3)])
    assert (res.inserted, res.quarantined) == (3, 0)
    assert res.retried == 3 * len(faults)
    assert delays == [0.5 * 2**i for i in range(len(faults))]
    assert store.count_posts() == 3
    store.close()


def test_persistent_overload_raises_and_drops_nothing(es_proxy, es_prefix):
    store = ElasticsearchStore(Elasticsearch(es_proxy.url), prefix=es_prefix, sleep=lambda s: None, max_retries=2)
    store.setup()
    es_proxy.bulk_faults = ["item-429"] * 3
    with pytest.raises(StoreError, match="after 2 retries; nothing was dropped"):
        store.upsert_posts([make_post("1", T0)])
    assert store.quarantined() == []
    res = store.upsert_posts([make_post("1", T0)])  # the next run stores it
    assert res.inserted == 1
    store.close()


def test_update_after_rollover_stays_in_the_index_that_holds_the_post(es_store, es_client):
    es_store.upsert_posts([make_post("old", T0)])
    names = es_store.names
    second = f"{names.prefix}-posts-000002"
    # What ILM rollover does: a new write index joins the alias, the old one stays readable.
    es_client.indices.create(index=second)
    es_client.indices.update_aliases(actions=[
        {"add": {"index": names.posts_first, "alias": names.posts, "is_write_index": False}},
        {"add": {"index": second, "alias": names.posts, "is_write_index": True}},
    ])
    res = es_store.upsert_posts([make_post("old", T0, likes=99), make_post("new", T0)])
    assert (res.inserted, res.updated) == (1, 1)
    assert es_store.count_posts() == 2
    assert es_client.count(index=names.posts_first)["count"] == 1
    assert es_client.count(index=second)["count"] == 1
    assert es_store.get_post("x:old").engagement.likes == 99


def test_first_use_runs_setup_when_missing(es_osmem, es_prefix, es_client):
    store = ElasticsearchStore(osmem_client(es_osmem.url), prefix=es_prefix)
    assert store.count_posts() == 0
    assert es_client.indices.exists_alias(name=f"{es_prefix}-posts").body
    store.close()


def test_document_carries_derived_fields_all_mapped():
    doc = post_document(make_post("d", T0, label="neg", followers=300, likes=4, categories=("legal",)))
    assert doc["topics"] == ["acme"] and doc["reach"] == 300 and doc["engagement_total"] == 4
    assert doc["negative_rank"] == pytest.approx(7.0) and doc["has_crisis"] is True and doc["sentiment"] == "neg"
    mapped = field_types(posts_mappings())
    assert set(DERIVED_FIELDS) <= set(mapped)
    for key, value in doc.items():  # every top-level field of a real document is mapped explicitly
        assert key in mapped, key


# -- connection errors --------------------------------------------------------------------------

class _Canned(BaseHTTPRequestHandler):
    status = 200
    body = b"{}"
    headers_out: dict[str, str] = {}
    seen: list[dict[str, str]] = []

    def do_GET(self):  # noqa: N802
        type(self).seen.append({k.lower(): v for k, v in self.headers.items()})
        self.send_response(self.status)
        for k, v in self.headers_out.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    do_HEAD = do_GET

    def log_message(self, *args):
        pass


def _serve(status: int, body: bytes, headers: dict[str, str]):
    handler = type("H", (_Canned,), {"status": status, "body": body, "headers_out": headers, "seen": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    return server, handler, f"http://127.0.0.1:{server.server_address[1]}"


def _store_for(url: str, **cfg) -> ElasticsearchStore:
    return ElasticsearchStore.from_config(ElasticsearchConfig(type="elasticsearch", url=url, **cfg), max_retries=0)


def test_unreachable_cluster_has_a_clear_message():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed once the block exits: nothing listens there
    store = _store_for(f"http://127.0.0.1:{port}")
    with pytest.raises(StoreError, match="is unreachable"):
        store.count_posts()


def test_refused_credentials_are_reported_without_the_secret(monkeypatch):
    error = {"type": "security_exception", "reason": "unable to authenticate with provided credentials"}
    body = json.dumps({"error": error, "status": 401}).encode()
    server, handler, url = _serve(401, body, {"Content-Type": "application/json", "X-Elastic-Product": "Elasticsearch",
                                              "WWW-Authenticate": "ApiKey"})
    monkeypatch.setenv("VIGIE_TEST_ES_KEY", "s3cr3t-key-value")
    store = _store_for(url, api_key_env="VIGIE_TEST_ES_KEY")
    with pytest.raises(StoreError) as err:
        store.setup()
    server.shutdown()
    assert "refused the credentials (401)" in str(err.value)
    assert "s3cr3t" not in str(err.value)
    assert handler.seen[0]["authorization"] == "ApiKey s3cr3t-key-value"


def test_a_server_that_is_not_elasticsearch_is_named():
    server, _, url = _serve(200, b'{"name": "something else"}', {"Content-Type": "application/json"})
    with pytest.raises(StoreError, match="is not Elasticsearch"):
        _store_for(url).check()
    server.shutdown()


def test_url_with_credentials_is_redacted():
    assert redact_url("https://elastic:pw@es.example:9200") == "https://***@es.example:9200"


def test_from_config_reads_url_and_basic_auth_from_env(monkeypatch, es_proxy, es_prefix):
    monkeypatch.setenv("VIGIE_TEST_ES_URL", es_proxy.url)
    monkeypatch.setenv("VIGIE_TEST_ES_USER", "vigie")
    monkeypatch.setenv("VIGIE_TEST_ES_PASS", "pa55")
    store = ElasticsearchStore.from_config(ElasticsearchConfig(type="elasticsearch", url_env="VIGIE_TEST_ES_URL",
                                                               username_env="VIGIE_TEST_ES_USER",
                                                               password_env="VIGIE_TEST_ES_PASS", prefix=es_prefix))
    assert store.count_posts() == 0
    sent = {k.lower(): v for k, v in es_proxy.requests[0][2].items()}
    assert sent["authorization"].startswith("Basic ")
    store.close()


def test_from_config_errors(monkeypatch, tmp_path):
    monkeypatch.delenv("VIGIE_TEST_MISSING", raising=False)
    with pytest.raises(ConfigError, match="VIGIE_TEST_MISSING"):
        ElasticsearchStore.from_config(ElasticsearchConfig(type="elasticsearch", api_key_env="VIGIE_TEST_MISSING"))
    with pytest.raises(ConfigError, match="ca_certs"):
        ElasticsearchStore.from_config(ElasticsearchConfig(type="elasticsearch", ca_certs=tmp_path / "nope.pem"))
    with pytest.raises(ConfigError, match="not a usable Elasticsearch URL"):
        ElasticsearchStore.from_config(ElasticsearchConfig(type="elasticsearch", url="es.example.org"))
    with pytest.raises(ConfigError, match="needs both"):
        ElasticsearchStore.from_config(ElasticsearchConfig(type="elasticsearch", username_env="VIGIE_TEST_MISSING"))


def test_exported_template_file_matches_the_adapter():
    exported = Path(__file__).resolve().parents[1] / "dashboards" / "index-template.json"
    assert json.loads(exported.read_text(encoding="utf-8")) == json.loads(json.dumps(export()))
    names = Names("vigie")
    assert export()["index_templates"][names.posts]["index_patterns"] == ["vigie-posts-*"]


def test_invalid_prefix_is_refused():
    with pytest.raises(ValueError, match="invalid Elasticsearch prefix"):
        Names("Vigie Prod")


def test_osmem_node_is_test_only():
    # Guard: production code never imports the header-rewriting node.
    folder = Path(__file__).resolve().parents[1] / "vigie" / "store" / "elasticsearch"
    src = "".join(f.read_text() for f in sorted(folder.glob("*.py")))
    assert "ElasticsearchStore" in src  # the adapter is in the folder read
    assert "OsmemNode" not in src and "compatible-with" not in src.replace("`compatible-with=8`", "")
    assert OsmemNode.__module__ == "vigie.sim.osmem"
    assert datetime.now(timezone.utc) > T0


def test_unserialisable_post_is_quarantined_not_lost(es_store):
    broken = make_post("broken", T0)
    broken.created_at = "yesterday-ish"  # a listener bug: not a time
    res = es_store.upsert_posts([broken, make_post("fine", T0)])
    assert (res.inserted, res.quarantined) == (1, 1)
    [q] = es_store.quarantined()
    assert q.reason.startswith("store: cannot serialise post") and "yesterday-ish" in q.record


def test_small_chunks_count_like_one_batch(es_osmem, es_prefix):
    store = ElasticsearchStore(osmem_client(es_osmem.url), prefix=es_prefix, chunk_size=2)
    res = store.upsert_posts([make_post(str(i), T0 + timedelta(seconds=i)) for i in range(5)])
    assert (res.inserted, res.updated) == (5, 0)
    res = store.upsert_posts([make_post(str(i), T0 + timedelta(seconds=i), likes=i) for i in range(5)])
    assert (res.inserted, res.updated) == (0, 4)  # post 0 has likes=0 already: unchanged, skipped
    store.close()


def test_series_sliced_into_several_requests_matches_one_request(es_osmem, es_prefix):
    one = ElasticsearchStore(osmem_client(es_osmem.url), prefix=es_prefix)
    sliced = ElasticsearchStore(osmem_client(es_osmem.url), prefix=es_prefix, series_slice=7)
    one.upsert_posts([make_post(str(i), T0 + i * timedelta(seconds=97), label=("neg", "pos", "neu")[i % 3],
                                author=f"a{i % 4}", dup=f"c{i % 2}") for i in range(120)])
    bucket = timedelta(minutes=5)
    whole = one.series("acme", T0, T0 + 40 * bucket, bucket)
    assert sum(b.count for b in whole) == 120
    assert sliced.series("acme", T0, T0 + 40 * bucket, bucket) == whole
    one.close()
    sliced.close()


def test_setup_installs_the_ilm_policy_where_ilm_exists(es_proxy, es_prefix):
    es_proxy.emulate_ilm = True  # answers _ilm/* as Elasticsearch does (osmem has no ILM)
    store = ElasticsearchStore(Elasticsearch(es_proxy.url), prefix=es_prefix, retention_days=30)
    lines = store.setup()
    policy_name = f"{es_prefix}-posts-policy"
    assert f"ILM policy {policy_name}: rollover 7d/50gb, delete after 30d" in lines
    policy = es_proxy.ilm_policies[policy_name]
    assert policy["phases"]["hot"]["actions"]["rollover"] == {"max_age": "7d", "max_primary_shard_size": "50gb"}
    assert policy["phases"]["delete"] == {"min_age": "30d", "actions": {"delete": {}}}
    # The posts indices are bound to the policy and roll over the write alias.
    assert es_proxy.lifecycle_settings[f"{es_prefix}-posts-settings"] == {
        "name": policy_name, "rollover_alias": f"{es_prefix}-posts"}
    store.close()


def test_a_web_page_instead_of_elasticsearch_is_named():
    server, _, url = _serve(404, b"<html><body>Not found</body></html>", {"Content-Type": "text/html"})
    with pytest.raises(StoreError, match="did not answer like Elasticsearch|is not Elasticsearch"):
        _store_for(url).check()
    server.shutdown()


def test_upsert_makes_posts_visible_with_one_refresh_after_the_bulks(es_proxy, es_prefix):
    store = ElasticsearchStore(Elasticsearch(es_proxy.url), prefix=es_prefix, chunk_size=2)
    store.setup()
    es_proxy.requests.clear()
    store.upsert_posts([make_post(str(i), T0) for i in range(5)])
    calls = [path.split("?")[0] for _method, path, _ in es_proxy.requests]
    writes = [c for c in calls if c.endswith("/_bulk") or c.endswith("/_refresh")]
    assert writes == ["/_bulk"] * 3 + [f"/{es_prefix}-posts/_refresh"]
    es_proxy.requests.clear()
    store.upsert_posts([make_post(str(i), T0) for i in range(5)])  # nothing changed: nothing to refresh
    assert not [p for _, p, _ in es_proxy.requests if "_refresh" in p or "_bulk" in p]
    store.close()


def test_purge_reaches_every_index_behind_the_alias(es_store, es_client):
    """Clusters without ILM: `purge` deletes old posts in the rolled-over indices too."""
    es_store.upsert_posts([make_post("old", T0), make_post("kept", T0 + timedelta(days=2))])
    names = es_store.names
    second = f"{names.prefix}-posts-000002"
    es_client.indices.create(index=second)
    es_client.indices.update_aliases(actions=[
        {"add": {"index": names.posts_first, "alias": names.posts, "is_write_index": False}},
        {"add": {"index": second, "alias": names.posts, "is_write_index": True}},
    ])
    es_store.upsert_posts([make_post("new-old", T0 + timedelta(hours=1)), make_post("new", T0 + timedelta(days=3))])
    assert es_client.count(index=second)["count"] == 2
    assert es_store.ilm_available() is False  # osmem: the case purge exists for
    assert es_store.purge(T0 + timedelta(days=1)) == 2
    assert [p.id for p in es_store.posts(None)] == ["x:kept", "x:new"]
    assert es_client.count(index=names.posts_first)["count"] == 1 and es_client.count(index=second)["count"] == 1
    assert es_store.purge(T0 + timedelta(days=1)) == 0
