"""Issue 20 in Kibana: collection health charted from the cursors index (a data view, a panel set on the
collection-health dashboard) and blind intervals marked on the mentions chart as on the risk chart. The
health fields the panels read are indexed by the Elasticsearch adapter (checked against osmem-server with
the aggregations the panels run); every field any panel, control or annotation reads is checked against
the mapping by tests/test_kibana.py (`field_uses`), which these tests prove sees the new objects."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from test_kibana import field_uses, objects

from vigie.store import health as collection
from vigie.store.elasticsearch.schema import Names

NOW = datetime(2026, 3, 9, 12, 10, tzinfo=timezone.utc)
HEALTH_PANELS = {"vigie-health-sources", "vigie-health-errors", "vigie-health-quota", "vigie-posts-per-hour"}


def by_id(obj_id: str) -> dict:
    return next(o for o in objects() if o["id"] == obj_id)


def tsvb_params(obj_id: str) -> dict:
    return json.loads(by_id(obj_id)["attributes"]["visState"])["params"]


def test_error_kinds_indexed_are_the_listeners_kinds():
    from listeners.base import KINDS

    assert collection.ERROR_KINDS == KINDS  # a new kind must get its field (and its column)


def test_collection_health_dashboard_has_the_panel_set_and_no_control_that_would_blank_it():
    board = by_id("vigie-collection-health")
    panels = {r["id"] for r in board["references"] if not r["name"].startswith("controlGroup_")}
    assert HEALTH_PANELS | {"vigie-blind-alerts", "vigie-mentions-volume", "vigie-risk-index"} <= panels
    assert json.loads(board["attributes"]["controlGroupInput"]["panelsJSON"]) == {}
    view = by_id("vigie-cursors")
    assert view["attributes"]["title"] == "vigie-cursors" and "timeFieldName" not in view["attributes"]
    formats = json.loads(view["attributes"]["fieldFormatMap"])
    assert formats["health.last_success"]["id"] == "relative_date"  # shown as an age: "12 minutes ago"


def test_the_field_check_sees_every_new_panel_and_annotation():
    uses = set(field_uses())
    seen = {obj for obj, *_ in uses}
    assert HEALTH_PANELS | {"vigie-mentions-volume", "vigie-cursors"} <= seen
    assert ("vigie-health-sources", "vigie-cursors", "health.last_success", "max") in uses
    assert ("vigie-health-sources", "vigie-cursors", "source", "query") in uses  # `source:health`
    assert ("vigie-health-errors", "vigie-cursors", "health.errors.auth", "sum") in uses
    assert ("vigie-health-quota", "vigie-cursors", "health.quota_remaining", "min") in uses
    assert ("vigie-posts-per-hour", "vigie-posts", "fetched_at", "time") in uses
    assert ("vigie-posts-per-hour", "vigie-posts", "source", "terms") in uses
    assert ("vigie-mentions-volume", "vigie-posts", "relation", "query") in uses  # the series' own filter
    for chart in ("vigie-mentions-volume", "vigie-posts-per-hour"):
        assert (chart, "vigie-risk", "blind", "annotation") in uses
        assert (chart, "vigie-risk", "blind", "query") in uses


def test_mentions_chart_marks_blind_intervals_like_the_risk_chart_on_every_dashboard_but_the_explorer():
    (blind,) = tsvb_params("vigie-mentions-volume")["annotations"]
    (risk_blind,) = tsvb_params("vigie-risk-index")["annotations"]
    assert {k: v for k, v in blind.items() if k != "template"} == {k: v for k, v in risk_blind.items()
                                                                     if k != "template"}
    assert "mentions may be missing" in blind["template"]
    params = tsvb_params("vigie-mentions-volume")
    assert params["axis_max"] == "" and params["time_field"] == "created_at"  # counts: no 0-100 axis
    for dash in ("vigie-radar", "vigie-crisis-room", "vigie-collection-health"):
        refs = {r["id"] for r in by_id(dash)["references"]}
        assert "vigie-mentions-volume" in refs and "vigie-mentions-by-sentiment" not in refs
    # The explorer filters on source and language, which the risk index's markers cannot follow.
    assert "vigie-mentions-by-sentiment" in {r["id"] for r in by_id("vigie-posts-explorer")["references"]}


def test_posts_per_hour_compares_with_the_week_before():
    series = tsvb_params("vigie-posts-per-hour")["series"]
    assert [s.get("offset_time") for s in series] == [None, "7d"]
    assert tsvb_params("vigie-posts-per-hour")["interval"] == "1h"


# -- the fields the panels read, indexed by the Elasticsearch adapter ---------------------------------

def test_indexed_view_of_a_source_health():
    h = collection.SourceHealth(source="x")
    collection.record_query(h, "q", NOW - timedelta(hours=30), pages=1, posts=50, error=None, infos=[])
    collection.record_query(h, "q", NOW - timedelta(hours=2), pages=1, posts=7, error=None, infos=[])
    collection.record_query(h, "q", NOW, pages=2, posts=4, error=None,
                            infos=[{"quota_remaining": 12, "quota_reset_at": (NOW + timedelta(minutes=9)).timestamp()}])
    collection.finish_run(h, NOW, failed=False)
    collection.record_query(h, "q", NOW, pages=0, posts=0, error=("auth", "HTTP 401"), infos=[])
    collection.finish_run(h, NOW, failed=True)
    view = collection.indexed_view("x", h.to_dict())
    assert view["source"] == "x" and view["failing"] and view["failing_since"] == "2026-03-09T12:10:00Z"
    assert view["last_success"] == "2026-03-09T12:10:00Z" and view["last_error_kind"] == "auth"
    assert view["quota_remaining"] == 12 and view["quota_reset_at"] == "2026-03-09T12:19:00Z"
    assert view["errors"]["auth"] == 1 and view["errors"]["network"] == 0 and view["errors_total"] == 1
    assert (view["posts_hour"], view["posts_24h"]) == (4, 11)  # the 30-hour-old 50 are out of the day
    empty = collection.indexed_view("y", {})  # a source never run: nothing claimed
    assert (empty["last_success"], empty["failing"], empty["posts_hour"], empty["errors_total"]) == (None, False, 0, 0)


def test_the_health_panels_aggregations_run_on_the_elasticsearch_store(es_osmem, es_client, es_prefix):
    from vigie.sim.osmem import osmem_client
    from vigie.store.elasticsearch import ElasticsearchStore

    store = ElasticsearchStore(osmem_client(es_osmem.url), prefix=es_prefix)
    for source, error, remaining in (("x", ("quota", "monthly cap"), 0), ("reddit", None, 480)):
        def fold(h, error=error, remaining=remaining):
            collection.record_query(h, "q", NOW, pages=1, posts=9, error=error,
                                    infos=[{"quota_remaining": remaining, "quota_reset_at": NOW.timestamp() + 600}])
            collection.finish_run(h, NOW, failed=error is not None)

        collection.update(store, source, NOW, fold)
    store.set_cursor(collection.Cursor(source="detect", query="acme", value={"at": "x"}, updated_at=NOW))
    store.refresh()
    # What the sources / errors / quota panels ask: `source:health`, one row per health.source.
    resp = es_client.search(index=Names(es_prefix).cursors, size=0, query={"term": {"source": "health"}}, aggs={
        "src": {"terms": {"field": "health.source", "order": {"_key": "asc"}}, "aggs": {
            "ok": {"max": {"field": "health.last_success"}}, "quota": {"min": {"field": "health.quota_remaining"}},
            "quota_errors": {"sum": {"field": "health.errors.quota"}}, "posts": {"sum": {"field": "health.posts_hour"}}}}})
    rows = {b["key"]: b for b in resp["aggregations"]["src"]["buckets"]}
    assert list(rows) == ["reddit", "x"]  # the detection cursor is not a source
    assert rows["x"]["quota"]["value"] == 0 and rows["x"]["quota_errors"]["value"] == 1 and rows["x"]["ok"]["value"] is None
    assert rows["reddit"]["quota"]["value"] == 480 and rows["reddit"]["posts"]["value"] == 9
    assert rows["reddit"]["ok"]["value_as_string"].startswith("2026-03-09T12:10:00")
    assert collection.load(store, "x").last_error["kind"] == "quota"  # the record reads back unchanged
    store.close()


def test_a_value_that_is_not_a_health_record_still_gets_stored():
    assert collection.indexed_view("x", {"n": 2}) == {"source": "x"}
    assert collection.indexed_view("x", {"hours": {"2026-03-09T12": "?"}, "last_attempt": "2026-03-09T12:00:00Z"}) == {"source": "x"}
