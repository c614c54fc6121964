"""Kibana dashboards: the NDJSON is self-contained, every field it uses is mapped with a compatible type,
`vigie kibana import` speaks Kibana's saved objects import API, and alert deep links are well formed."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import unquote

import pytest
from click.testing import CliRunner
from fakes.kibana import FakeKibana

from vigie.app.cli.kibana import kibana
from vigie.app.kibana_objects import ndjson
from vigie.core.links import crisis_room_link, crisis_room_url
from vigie.core.models import Alert, Level
from vigie.store.elasticsearch.schema import alerts_mappings, cursors_mappings, field_types, posts_mappings, risk_mappings

ROOT = Path(__file__).resolve().parents[1]
NDJSON = ROOT / "dashboards" / "vigie.ndjson"


def objects() -> list[dict]:
    return [json.loads(line) for line in NDJSON.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_committed_ndjson_is_the_generated_one():
    assert NDJSON.read_text(encoding="utf-8") == ndjson("vigie")


def test_ndjson_parses_and_references_only_contained_objects():
    objs = objects()
    keys = [(o["type"], o["id"]) for o in objs]
    assert len(keys) == len(set(keys)), "duplicate saved objects"
    present = set(keys)
    for obj in objs:
        names = [r["name"] for r in obj.get("references", [])]
        assert len(names) == len(set(names)), obj["id"]
        for ref in obj.get("references", []):
            assert (ref["type"], ref["id"]) in present, f"{obj['id']} references missing {ref}"
        attrs = obj["attributes"]
        source = json.loads(attrs.get("kibanaSavedObjectMeta", {}).get("searchSourceJSON", "{}"))
        if "indexRefName" in source:
            assert source["indexRefName"] in names
        if obj["type"] == "dashboard":
            for panel in json.loads(attrs["panelsJSON"]):
                assert f"{panel['panelIndex']}:{panel['panelRefName']}" in names
            controls = json.loads(attrs["controlGroupInput"]["panelsJSON"])
            for cid in controls:
                assert f"controlGroup_{cid}:optionsListDataView" in names
    titles = {o["attributes"]["title"] for o in objs if o["type"] == "dashboard"}
    assert titles == {"Vigie — radar", "Vigie — crisis room", "Vigie — posts explorer", "Vigie — collection health"}
    views = {o["attributes"]["title"] for o in objs if o["type"] == "index-pattern"}
    assert views == {"vigie-posts", "vigie-alerts", "vigie-risk", "vigie-cursors"}


# -- field coverage -----------------------------------------------------------------------------

NUMERIC = {"long", "integer", "short", "byte", "double", "float", "half_float", "scaled_float"}
AGGREGATABLE = NUMERIC | {"keyword", "boolean", "date", "ip"}
COMPATIBLE = {
    "date_histogram": {"date"},
    "terms": AGGREGATABLE,
    "sum": NUMERIC,
    "avg": NUMERIC,
    "max": NUMERIC | {"date"},
    "min": NUMERIC | {"date"},
    "cardinality": AGGREGATABLE,
    "top_hits": AGGREGATABLE,
    "sort": AGGREGATABLE,
    "column": AGGREGATABLE | {"text"},
    "query": AGGREGATABLE | {"text"},
    "time": {"date"},
    "control": {"keyword"},
    "annotation": AGGREGATABLE | {"text"},  # read back per document into the marker's tooltip
}


MAPPED = {"vigie-posts": field_types(posts_mappings()), "vigie-alerts": field_types(alerts_mappings()),
          "vigie-risk": field_types(risk_mappings()), "vigie-cursors": field_types(cursors_mappings())}


def _kuery_fields(query: str) -> list[str]:
    return re.findall(r"([A-Za-z_][\w.]*)\s*:", query)


def field_uses() -> list[tuple[str, str, str, str]]:
    """(object id, index the field is read from, field, usage) for every field any object references."""
    objs = objects()
    view_index = {o["id"]: o["attributes"]["title"] for o in objs if o["type"] == "index-pattern"}
    uses: list[tuple[str, str, str, str]] = []
    for o in objs:
        attrs = o["attributes"]
        if o["type"] == "index-pattern":
            if "timeFieldName" in attrs:  # a snapshot view (the cursors) has none
                uses.append((o["id"], attrs["title"], attrs["timeFieldName"], "time"))
            for f in json.loads(attrs.get("fieldFormatMap", "{}")):
                uses.append((o["id"], attrs["title"], f, "column"))
            continue
        ref_index = next((view_index[r["id"]] for r in o["references"]
                          if r["name"] == "kibanaSavedObjectMeta.searchSourceJSON.index"), None)
        source = json.loads(attrs.get("kibanaSavedObjectMeta", {}).get("searchSourceJSON", "{}"))
        for f in _kuery_fields(source.get("query", {}).get("query", "")):
            uses.append((o["id"], ref_index, f, "query"))
        if o["type"] == "visualization":
            state = json.loads(attrs["visState"])
            for agg in state["aggs"]:
                p = agg["params"]
                if "field" in p:
                    uses.append((o["id"], ref_index, p["field"], agg["type"]))
                if "sortField" in p:
                    uses.append((o["id"], ref_index, p["sortField"], "sort"))
            if state["type"] == "metrics":  # TSVB names its index and fields in params
                params = state["params"]
                index = params["index_pattern"]
                uses.append((o["id"], index, params["time_field"], "time"))
                for series in params["series"]:
                    for f in _kuery_fields((series.get("filter") or {}).get("query", "")):  # a series' own filter
                        uses.append((o["id"], index, f, "query"))
                    for metric in series["metrics"]:
                        if "field" in metric:
                            uses.append((o["id"], index, metric["field"], metric["type"]))
                        for part in ("numerator", "denominator"):  # filter_ratio queries
                            for f in _kuery_fields((metric.get(part) or {}).get("query", "")):
                                uses.append((o["id"], index, f, "query"))
                    if series.get("split_mode") == "terms":
                        uses.append((o["id"], index, series["terms_field"], "terms"))
                for ann in params.get("annotations", []):  # markers: their own index, time field and query
                    uses.append((o["id"], ann["index_pattern"], ann["time_field"], "time"))
                    for f in _kuery_fields(ann["query_string"]["query"]):
                        uses.append((o["id"], ann["index_pattern"], f, "query"))
                    for f in ann["fields"].split(","):
                        uses.append((o["id"], ann["index_pattern"], f, "annotation"))
        if o["type"] == "search":
            for col in attrs["columns"]:
                uses.append((o["id"], ref_index, col, "column"))
            for field, _direction in attrs["sort"]:
                uses.append((o["id"], ref_index, field, "sort"))
        if o["type"] == "dashboard":
            for control in json.loads(attrs["controlGroupInput"]["panelsJSON"]).values():
                index = view_index[control["explicitInput"]["dataViewId"]]
                uses.append((o["id"], index, control["explicitInput"]["fieldName"], "control"))
    return uses


def test_every_field_a_visualisation_uses_is_mapped_with_a_compatible_type():
    mapped = MAPPED
    uses = field_uses()
    assert len(uses) > 30  # the extraction sees the objects (guards against a vacuous pass)
    problems = []
    for obj_id, index, field, usage in uses:
        types = mapped.get(index)
        if types is None:
            problems.append(f"{obj_id}: unknown index {index}")
            continue
        if field not in types:
            problems.append(f"{obj_id}: field {field} ({usage}) is not in the {index} mapping")
        elif types[field] not in COMPATIBLE[usage]:
            problems.append(f"{obj_id}: field {field} is {types[field]}, {usage} needs {sorted(COMPATIBLE[usage])}")
    assert problems == []


def panel_indices(obj: dict, view_index: dict[str, str]) -> set[str]:
    """The indices a dashboard panel reads: its data view's, or the ones a TSVB panel names (its series', and
    its annotations' unless they ignore the dashboard's filters)."""
    indices = {view_index[r["id"]] for r in obj["references"] if r["type"] == "index-pattern"}
    if obj["type"] == "visualization":
        state = json.loads(obj["attributes"]["visState"])
        if state["type"] == "metrics":
            indices.add(state["params"]["index_pattern"])
            indices |= {a["index_pattern"] for a in state["params"].get("annotations", [])
                        if not a["ignore_global_filters"]}
    return indices


def dashboard_filter_coverage(objs: list[dict] | None = None) -> list[str]:
    """Every field a dashboard filters on (its controls, its saved query, the deep link that opens it) must be
    in the mapping of every panel's index: a dashboard filter reaches every panel, and a panel whose index
    lacks the field shows nothing (what happened to the risk and alert panels when a topic was chosen)."""
    objs = objs if objs is not None else objects()
    by_id = {(o["type"], o["id"]): o for o in objs}
    view_index = {o["id"]: o["attributes"]["title"] for o in objs if o["type"] == "index-pattern"}
    mapped = MAPPED
    start = datetime(2026, 3, 2, tzinfo=timezone.utc)
    app_state = unquote(crisis_room_url("https://k", "acme", start, start).split("_a=", 1)[1])
    link_kuery = re.search(r",query:'(.*)'\)\)$", app_state).group(1)  # (query:(language:kuery,query:'...'))
    problems: list[str] = []
    for dash in (o for o in objs if o["type"] == "dashboard"):
        attrs = dash["attributes"]
        filters = [(c["explicitInput"]["fieldName"], f"control {c['explicitInput']['title']}")
                   for c in json.loads(attrs["controlGroupInput"]["panelsJSON"]).values()]
        source = json.loads(attrs["kibanaSavedObjectMeta"]["searchSourceJSON"])
        filters += [(f, "dashboard query") for f in _kuery_fields(source.get("query", {}).get("query", ""))]
        filters += [(f["meta"]["key"], "dashboard filter") for f in source.get("filter", [])]
        if dash["id"] == "vigie-crisis-room":
            filters += [(f, "alert deep link") for f in _kuery_fields(link_kuery)]
        panels = [r for r in dash["references"] if not r["name"].startswith("controlGroup_")]
        assert panels, dash["id"]
        for ref in panels:
            panel = by_id[(ref["type"], ref["id"])]
            indices = panel_indices(panel, view_index)
            assert indices, f"{dash['id']}: panel {ref['id']} reads no index"
            for index in indices:
                for field, why in filters:
                    if field not in mapped[index]:
                        problems.append(f"{dash['id']}: {why} filters on {field}, absent from {index} "
                                        f"(panel {ref['id']} would go blank)")
    return problems


def test_every_dashboard_filter_reaches_fields_every_panel_has():
    assert dashboard_filter_coverage() == []


def test_controls_cover_topic_everywhere_and_source_language_on_posts():
    controls = {}
    for dash in (o for o in objects() if o["type"] == "dashboard"):
        panels = json.loads(dash["attributes"]["controlGroupInput"]["panelsJSON"]).values()
        controls[dash["id"]] = {c["explicitInput"]["fieldName"] for c in panels}
    # Collection health has none: its panels are per source, from the cursors index, which has no topic.
    assert controls.pop("vigie-collection-health") == set()
    assert all("topics" in fields for fields in controls.values())
    assert {"source", "analysis.lang"} <= controls["vigie-posts-explorer"]


def test_negative_share_kpi_computes_a_share():
    vis = next(o for o in objects() if o["attributes"]["title"] == "Vigie — negative share")
    [series] = json.loads(vis["attributes"]["visState"])["params"]["series"]
    [metric] = series["metrics"]
    assert metric["type"] == "filter_ratio" and "sentiment:neg" in metric["numerator"]["query"]
    assert series["formatter"] == "percent"
    # No other panel claims a share it does not compute.
    for o in objects():
        if "share" in o["attributes"].get("title", "").lower() and o["id"] != vis["id"]:
            assert "share by" in o["attributes"]["title"]


def test_field_coverage_check_catches_an_unmapped_field():
    mapped = field_types(posts_mappings())
    assert "author.followers" in mapped and mapped["text.fr"] == "text"
    assert "author.follower_count" not in mapped
    assert mapped["text"] not in COMPATIBLE["terms"]  # aggregating on analysed text would be refused


def test_dashboard_filter_coverage_catches_a_posts_only_control():
    """The walk is not vacuous: a source control on the radar (which has alert and risk panels) is caught."""
    objs = objects()
    radar = next(o for o in objs if o["id"] == "vigie-radar")
    controls = json.loads(radar["attributes"]["controlGroupInput"]["panelsJSON"])
    next(iter(controls.values()))["explicitInput"]["fieldName"] = "source"
    radar["attributes"]["controlGroupInput"]["panelsJSON"] = json.dumps(controls)
    problems = dashboard_filter_coverage(objs)
    assert any("control Topic filters on source, absent from vigie-alerts" in p for p in problems)
    assert any("absent from vigie-risk" in p for p in problems)


def test_radar_has_the_panels_the_issue_lists():
    radar = next(o for o in objects() if o["id"] == "vigie-radar")
    ids = {r["id"] for r in radar["references"]}
    assert {"vigie-mentions-volume", "vigie-risk-index", "vigie-open-alerts", "vigie-top-negative-posts",
            "vigie-share-by-source", "vigie-share-by-language", "vigie-top-authors", "vigie-near-duplicates",
            "vigie-crisis-categories", "vigie-posts"} <= ids
    risk = next(o for o in objects() if o["id"] == "vigie-risk-index")
    series = json.loads(risk["attributes"]["visState"])["params"]["series"]
    assert [s["metrics"][0].get("value") for s in series[1:]] == ["55", "75"]


def test_risk_chart_marks_blind_intervals_with_the_sources_in_the_tooltip():
    """Issue 20: where a topic's sources were blind, its risk may be understated; the chart says so."""
    charts = {o["id"]: json.loads(o["attributes"]["visState"])["params"] for o in objects()
              if o["type"] == "visualization" and json.loads(o["attributes"]["visState"])["type"] == "metrics"}
    (blind,) = charts["vigie-risk-index"]["annotations"]
    assert blind["index_pattern"] == charts["vigie-risk-index"]["index_pattern"] == "vigie-risk"
    assert blind["query_string"] == {"query": "blind:*", "language": "kuery"}  # KQL `field:*`: the field exists
    assert not blind["hidden"] and not blind["ignore_global_filters"]  # the topic control narrows it too
    fields = blind["fields"].split(",")
    assert "blind" in fields and "topic_id" in fields
    shown = re.findall(r"{{\s*([\w.]+)\s*}}", blind["template"])
    assert "blind" in shown and set(shown) <= set(fields)  # a {{var}} not fetched would render empty
    # TSVB's annotation icons (vis_type_timeseries icon_select): another name renders no marker.
    assert blind["icon"] in {"fa-asterisk", "fa-bell", "fa-bolt", "fa-bomb", "fa-bug", "fa-comment",
                             "fa-exclamation-circle", "fa-exclamation-triangle", "fa-fire", "fa-flag", "fa-heart",
                             "fa-map-marker", "fa-map-pin", "fa-star", "fa-tag"}
    uses = field_uses()
    assert ("vigie-risk-index", "vigie-risk", "blind", "annotation") in uses  # the coverage test sees it
    assert ("vigie-risk-index", "vigie-risk", "blind", "query") in uses
    board = next(o for o in objects() if o["id"] == "vigie-collection-health")
    assert "vigie-risk-index" in {r["id"] for r in board["references"]}


# -- import against a server answering like Kibana ------------------------------------------------


@pytest.fixture
def fake_kibana():
    servers: list[FakeKibana] = []

    def start(status=200, answer=None):
        servers.append(FakeKibana(status, answer))
        return servers[-1]

    yield start
    for s in servers:
        s.close()


def _success_answer() -> dict:
    results = []
    for i, o in enumerate(objects()):
        item = {"type": o["type"], "id": o["id"], "meta": {"title": o["attributes"].get("title"), "icon": "x"}}
        if i % 2:
            item["overwrite"] = True
        results.append(item)
    return {"success": True, "successCount": len(results), "successResults": results, "errors": []}


def test_import_posts_multipart_with_overwrite_and_api_key(fake_kibana, monkeypatch):
    server = fake_kibana(200, _success_answer())
    monkeypatch.setenv("KIBANA_API_KEY", "kb-secret-key")
    result = CliRunner().invoke(kibana, ["import", "--url", server.url + "/", "--space", "brand-team"])
    assert result.exit_code == 0, result.output
    [req] = server.seen
    assert req["path"] == "/s/brand-team/api/saved_objects/_import"
    assert req["query"] == {"overwrite": ["true"]}
    assert req["headers"]["authorization"] == "ApiKey kb-secret-key"
    assert req["filename"].endswith(".ndjson")
    assert req["content"] == NDJSON.read_text(encoding="utf-8")
    n = len(objects())
    assert f"{(n + 1) // 2} created, {n // 2} updated, 0 error(s)" in result.output
    assert "created  index-pattern/vigie-posts 'vigie-posts'" in result.output
    assert "kb-secret-key" not in result.output


def test_import_with_basic_auth_in_default_space(fake_kibana, monkeypatch):
    server = fake_kibana(200, {"success": True, "successCount": 0, "successResults": []})
    monkeypatch.delenv("KIBANA_API_KEY", raising=False)
    monkeypatch.setenv("KIBANA_USERNAME", "elastic")
    monkeypatch.setenv("KIBANA_PASSWORD", "changeme")
    result = CliRunner().invoke(kibana, ["import", "--url", server.url])
    assert result.exit_code == 0, result.output
    assert server.seen[0]["path"] == "/api/saved_objects/_import"
    assert server.seen[0]["headers"]["authorization"].startswith("Basic ")


def test_import_reports_kibana_object_errors(fake_kibana, monkeypatch):
    monkeypatch.delenv("KIBANA_API_KEY", raising=False)
    answer = {
        "success": False,
        "successCount": 1,
        "successResults": [{"type": "index-pattern", "id": "vigie-posts", "meta": {"title": "vigie-posts"}}],
        "errors": [
            {"id": "vigie-radar", "type": "dashboard", "title": "Vigie — radar", "meta": {"title": "Vigie — radar"},
             "error": {"type": "missing_references",
                       "references": [{"type": "visualization", "id": "vigie-kpis"}]}},
            {"id": "vigie-open-alerts", "type": "search", "meta": {"title": "Vigie — open alerts"},
             "error": {"type": "unknown", "message": "document has a newer version", "statusCode": 400}},
        ],
    }
    server = fake_kibana(200, answer)
    result = CliRunner().invoke(kibana, ["import", "--url", server.url])
    assert result.exit_code == 1
    missing = "dashboard/vigie-radar 'Vigie — radar': missing_references (missing: visualization/vigie-kpis)"
    assert missing in result.output
    assert "search/vigie-open-alerts 'Vigie — open alerts': unknown: document has a newer version" in result.output
    assert "1 created, 0 updated, 2 error(s)" in result.output


@pytest.mark.parametrize(
    "status, answer, message",
    [
        (401, {"statusCode": 401, "error": "Unauthorized", "message": "[security_exception]: unable to authenticate"},
         "Kibana refused the credentials (401)"),
        (400, {"statusCode": 400, "error": "Bad Request", "message": "Unexpected token in JSON at line 3"},
         "Kibana refused the import (400 Bad Request): Unexpected token in JSON at line 3"),
        (200, "<html>Elasticsearch is not Kibana</html>", "did not answer like Kibana"),
    ],
)
def test_import_request_errors_are_clear(fake_kibana, monkeypatch, status, answer, message):
    monkeypatch.setenv("KIBANA_API_KEY", "kb-secret-key")
    server = fake_kibana(status, answer)
    result = CliRunner().invoke(kibana, ["import", "--url", server.url])
    assert result.exit_code == 1
    assert message in result.output
    assert "kb-secret-key" not in result.output


def test_import_unreachable():
    result = CliRunner().invoke(kibana, ["import", "--url", "http://127.0.0.1:9"])
    assert result.exit_code == 1 and "is unreachable" in result.output


def test_import_a_file_for_another_prefix(fake_kibana, tmp_path, monkeypatch):
    monkeypatch.delenv("KIBANA_API_KEY", raising=False)
    out = tmp_path / "prod.ndjson"
    assert CliRunner().invoke(kibana, ["export", "--prefix", "prod", "--out", str(out)]).exit_code == 0
    server = fake_kibana(200, {"success": True, "successCount": 0, "successResults": []})
    result = CliRunner().invoke(kibana, ["import", "--url", server.url, "--file", str(out)])
    assert result.exit_code == 0, result.output
    sent = [json.loads(line) for line in server.seen[0]["content"].splitlines()]
    titles = {o["attributes"]["title"] for o in sent if o["type"] == "index-pattern"}
    assert titles == {"prod-posts", "prod-alerts", "prod-risk", "prod-cursors"}
    tsvb = next(o for o in sent if o["id"] == "vigie-risk-index")
    assert json.loads(tsvb["attributes"]["visState"])["params"]["index_pattern"] == "prod-risk"


# -- deep links ---------------------------------------------------------------------------------

def _state(url: str) -> tuple[str, dict[str, str]]:
    path, _, query = url.partition("?")
    return path, {k: unquote(v) for k, v in (p.split("=", 1) for p in query.split("&"))}


def test_crisis_room_url():
    start = datetime(2026, 3, 2, 8, 0, tzinfo=timezone.utc)
    url = crisis_room_url("https://kibana.example:5601/", "acme", start, start + timedelta(hours=4))
    path, state = _state(url)
    assert path == "https://kibana.example:5601/app/dashboards#/view/vigie-crisis-room"
    assert state["_g"] == "(time:(from:'2026-03-02T08:00:00Z',to:'2026-03-02T12:00:00Z'))"
    assert state["_a"] == "(query:(language:kuery,query:'topics:\"acme\"'))"
    spaced = crisis_room_url("https://k", "acme", start, start, space="brand team")
    assert spaced.startswith("https://k/s/brand%20team/app/dashboards#/view/vigie-crisis-room?")
    assert " " not in url and " " not in spaced


def test_crisis_room_link_covers_the_alert_window():
    opened = datetime(2026, 3, 2, 10, 0, tzinfo=timezone.utc)
    key = Alert.make_dedup_key("acme", opened)
    alert = Alert(id=Alert.make_id(key), dedup_key=key, topic_id="acme", level=Level.CRISIS, risk=80,
                  opened_at=opened, updated_at=opened + timedelta(hours=2))
    _, state = _state(crisis_room_link("https://k", alert))
    assert state["_g"] == "(time:(from:'2026-03-02T04:00:00Z',to:'2026-03-02T13:00:00Z'))"
    alert.resolved_at = opened + timedelta(hours=5)
    _, state = _state(crisis_room_link("https://k", alert))
    assert "to:'2026-03-02T16:00:00Z'" in state["_g"]


def test_link_cli():
    result = CliRunner().invoke(kibana, ["link", "--url", "https://k", "--topic", "acme",
                                         "--start", "2026-03-02T08:00:00Z", "--end", "2026-03-02T09:00:00Z"])
    assert result.exit_code == 0
    assert result.output.startswith("https://k/app/dashboards#/view/vigie-crisis-room?_g=")


def test_crisis_room_stacks_every_driver_from_the_risk_index():
    from vigie.core.drivers import driver_names

    vis = next(o for o in objects() if o["id"] == "vigie-risk-drivers")
    params = json.loads(vis["attributes"]["visState"])["params"]
    assert params["index_pattern"] == "vigie-risk" and params["time_field"] == "at"
    fields = [s["metrics"][0]["field"] for s in params["series"]]
    assert fields == [f"drivers.{name}" for name in driver_names()]  # a new driver gets its series
    assert all(s["stacked"] == "stacked" for s in params["series"])
    crisis = next(o for o in objects() if o["id"] == "vigie-crisis-room")
    assert any(r["id"] == "vigie-risk-drivers" for r in crisis["references"])
