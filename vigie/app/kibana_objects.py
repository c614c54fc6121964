"""Kibana 8.x saved objects of Vigie, built in Python and exported as `dashboards/vigie.ndjson`.

Why generated: the field names come from the same place as the index template
(`vigie/store/elasticsearch/schema.py`), a test checks each one against the mapping, and another index prefix
gets consistent data views (`vigie kibana export --prefix`). Why aggregation-based visualisations, saved
searches and one TSVB chart rather than Lens: their saved-object format has been stable since 7.x and every
8.x Kibana migrates it on import; Lens state changes shape between minor versions. Objects claim `8.0.0` so
any 8.x Kibana runs its own migrations.
"""

from __future__ import annotations

import json
from typing import Any

from vigie.core.links import CRISIS_ROOM_DASHBOARD_ID, EXPLORER_DASHBOARD_ID, RADAR_DASHBOARD_ID
from vigie.store.elasticsearch.schema import Names

POSTS_VIEW = "vigie-posts"
ALERTS_VIEW = "vigie-alerts"
RISK_VIEW = "vigie-risk"
# Counted as posts everywhere (series, KPIs): a repost is amplification of its original, not a post.
NOT_REPOST = "not relation:repost"
MIGRATED_FROM = "8.0.0"
WARNING_LINE, CRISIS_LINE = 55, 75  # default Thresholds (vigie.core.config); per-topic thresholds may differ


def _j(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _meta(obj_type: str) -> dict[str, Any]:
    return {"coreMigrationVersion": MIGRATED_FROM, "migrationVersion": {obj_type: MIGRATED_FROM}}


def data_view(view_id: str, title: str, name: str, time_field: str,
              link_fields: tuple[str, ...] = ()) -> dict[str, Any]:
    attributes: dict[str, Any] = {"title": title, "name": name, "timeFieldName": time_field}
    if link_fields:  # rendered as clickable links in tables (the post, the crisis room)
        attributes["fieldFormatMap"] = _j({f: {"id": "url", "params": {"labelTemplate": "open"}} for f in link_fields})
    return {
        "type": "index-pattern",
        "id": view_id,
        "attributes": attributes,
        "references": [],
        **_meta("index-pattern"),
    }


def _search_source(query: str = "", indexed: bool = True) -> str:
    src: dict[str, Any] = {"query": {"query": query, "language": "kuery"}, "filter": []}
    if indexed:
        src["indexRefName"] = "kibanaSavedObjectMeta.searchSourceJSON.index"
    return _j(src)


def _index_ref(view_id: str) -> list[dict[str, str]]:
    return [{"name": "kibanaSavedObjectMeta.searchSourceJSON.index", "type": "index-pattern", "id": view_id}]


def agg_vis(vis_id: str, title: str, vis_type: str, aggs: list[dict[str, Any]], params: dict[str, Any],
            view_id: str = POSTS_VIEW, query: str = "", description: str = "") -> dict[str, Any]:
    """An aggregation-based visualisation (`visState`): aggs get ids "1", "2", ... in order."""
    aggs = [{"id": str(i), "enabled": True, **agg} for i, agg in enumerate(aggs, start=1)]
    return {
        "type": "visualization",
        "id": vis_id,
        "attributes": {
            "title": title,
            "description": description,
            "version": 1,
            "uiStateJSON": "{}",
            "visState": _j({"title": title, "type": vis_type, "aggs": aggs, "params": params}),
            "kibanaSavedObjectMeta": {"searchSourceJSON": _search_source(query)},
        },
        "references": _index_ref(view_id),
        **_meta("visualization"),
    }


def saved_search(search_id: str, title: str, view_id: str, columns: list[str], sort: list[list[str]],
                 query: str, description: str = "") -> dict[str, Any]:
    return {
        "type": "search",
        "id": search_id,
        "attributes": {
            "title": title,
            "description": description,
            "columns": columns,
            "sort": sort,
            "kibanaSavedObjectMeta": {"searchSourceJSON": _search_source(query)},
        },
        "references": _index_ref(view_id),
        **_meta("search"),
    }


def _date_histogram(field: str) -> dict[str, Any]:
    return {"type": "date_histogram", "schema": "segment",
            "params": {"field": field, "interval": "auto", "min_doc_count": 1, "extended_bounds": {}}}


def _terms(field: str, schema: str, size: int, order_by: str = "1") -> dict[str, Any]:
    return {"type": "terms", "schema": schema,
            "params": {"field": field, "size": size, "order": "desc", "orderBy": order_by,
                       "otherBucket": False, "missingBucket": False}}


def _metric(kind: str, field: str | None = None, label: str | None = None, **params: Any) -> dict[str, Any]:
    p: dict[str, Any] = dict(params)
    if field:
        p["field"] = field
    if label:
        p["customLabel"] = label
    return {"type": kind, "schema": "metric", "params": p}


def _xy_params(series_type: str, stacked: bool, y_title: str, y_max: float | None = None) -> dict[str, Any]:
    scale: dict[str, Any] = {"type": "linear", "mode": "normal"}
    if y_max is not None:
        scale.update(setYExtents=True, min=0, max=y_max)
    return {
        "type": series_type,
        "grid": {"categoryLines": False},
        "categoryAxes": [{"id": "CategoryAxis-1", "type": "category", "position": "bottom", "show": True,
                          "scale": {"type": "linear"}, "labels": {"show": True, "filter": True, "truncate": 100},
                          "title": {}}],
        "valueAxes": [{"id": "ValueAxis-1", "name": "LeftAxis-1", "type": "value", "position": "left", "show": True,
                       "scale": scale, "labels": {"show": True, "rotate": 0, "filter": False, "truncate": 100},
                       "title": {"text": y_title}}],
        "seriesParams": [{"show": True, "type": series_type, "mode": "stacked" if stacked else "normal",
                          "data": {"label": y_title, "id": "1"}, "valueAxis": "ValueAxis-1",
                          "drawLinesBetweenPoints": True, "showCircles": True, "lineWidth": 2}],
        "addTooltip": True,
        "addLegend": True,
        "legendPosition": "right",
        "times": [],
        "addTimeMarker": False,
    }


def _table_params(per_page: int = 10) -> dict[str, Any]:
    return {"perPage": per_page, "showPartialRows": False, "showMetricsAtAllLevels": False,
            "showTotal": False, "totalFunc": "sum", "percentageCol": ""}


def _pie_params() -> dict[str, Any]:
    return {"type": "pie", "addTooltip": True, "addLegend": True, "legendPosition": "right", "isDonut": True,
            "labels": {"show": True, "values": True, "last_level": True, "truncate": 100}}


def _tsvb_series(sid: str, label: str, metric: dict[str, Any], color: str, split: dict[str, Any],
                 stacked: str = "none", fill: float = 0) -> dict[str, Any]:
    return {"id": sid, "label": label, "color": color, "metrics": [{"id": f"{sid}-m", **metric}],
            "chart_type": "line", "line_width": 2, "point_size": 1, "fill": fill, "stacked": stacked,
            "axis_position": "right", "separate_axis": 0, "formatter": "number", "split_color_mode": "kibana",
            **split}


def _tsvb_annotation(aid: str, index: str, time_field: str, kuery: str, fields: tuple[str, ...], template: str,
                     color: str, icon: str) -> dict[str, Any]:
    """A TSVB annotation: a marker on every interval where a document of `index` matches `kuery`, with
    `template` (`{{field}}` for each of `fields`) in its tooltip. It obeys the dashboard's filters and the
    panel's (the topic control narrows it as it narrows the series)."""
    return {"id": aid, "index_pattern": index, "time_field": time_field,
            "query_string": {"query": kuery, "language": "kuery"}, "fields": ",".join(fields), "template": template,
            "color": color, "icon": icon, "ignore_global_filters": 0, "ignore_panel_filters": 0, "hidden": False}


def _tsvb(vis_id: str, title: str, description: str, index: str, series: list[dict[str, Any]],
          panel_type: str = "timeseries", time_field: str = "at",
          annotations: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A TSVB panel over `index` (time series: 0-100 axis). TSVB rather than an agg-based chart: it draws
    constant threshold lines, stacks series, computes ratios (`filter_ratio`) and marks events
    (annotations)."""
    params = {
        "id": f"{vis_id}-tsvb",
        "type": panel_type,
        "index_pattern": index,
        "use_kibana_indexes": False,
        "time_field": time_field,
        "interval": "auto",
        "axis_position": "left",
        "axis_formatter": "number",
        "axis_min": "0",
        "axis_max": "100",
        "show_legend": 1,
        "show_grid": 1,
        "tooltip_mode": "show_all",
        "series": series,
    }
    if annotations:
        params["annotations"] = annotations
    return {
        "type": "visualization",
        "id": vis_id,
        "attributes": {
            "title": title,
            "description": description,
            "version": 1,
            "uiStateJSON": "{}",
            "visState": _j({"title": title, "type": "metrics", "aggs": [], "params": params}),
            "kibanaSavedObjectMeta": {"searchSourceJSON": _search_source(indexed=False)},
        },
        "references": [],
        **_meta("visualization"),
    }


def risk_tsvb(vis_id: str, risk_index: str) -> dict[str, Any]:
    """Risk index per topic with the warning and crisis lines, from the risk index (one point per topic and
    bucket, alerts or not: a quiet topic's flat line is information too). Intervals where a source of the
    topic was blind are marked (the points' `blind`, issue 20): a low curve there is not a calm."""
    blind = _tsvb_annotation(
        "blind", risk_index, "at", "blind:*", ("topic_id", "blind"),
        "{{topic_id}}: blind on {{blind}} (no data from these sources; the risk may be understated)",
        "#9170B8", "fa-exclamation-triangle")
    return _tsvb(
        vis_id, "Vigie — risk index per topic",
        f"Risk (0-100) of each topic at every detection bucket (max per interval), with the default warning "
        f"({WARNING_LINE}) and crisis ({CRISIS_LINE}) thresholds. A marker: a source of the topic was blind "
        f"(its names in the tooltip); the risk there may be understated.",
        risk_index,
        [
            _tsvb_series("risk", "risk", {"type": "max", "field": "risk"}, "#6092C0",
                         {"split_mode": "terms", "terms_field": "topic_id", "terms_size": "20",
                          "terms_order_by": "risk-m"}),
            _tsvb_series("warning", f"warning ({WARNING_LINE})", {"type": "static", "value": str(WARNING_LINE)},
                         "#D6BF57", {"split_mode": "everything"}),
            _tsvb_series("crisis", f"crisis ({CRISIS_LINE})", {"type": "static", "value": str(CRISIS_LINE)},
                         "#E7664C", {"split_mode": "everything"}),
        ],
        annotations=[blind],
    )


DRIVER_COLORS = ("#E7664C", "#D6BF57", "#6092C0", "#B9A888", "#9170B8", "#CA8EAE", "#54B399", "#D36086", "#7B000B")


def drivers_tsvb(vis_id: str, risk_index: str) -> dict[str, Any]:
    """What the risk is made of, stacked (average points per interval of each driver): the chart of the
    crisis room, filtered on one topic by the alert's link."""
    from vigie.core.drivers import driver_names

    series = [
        _tsvb_series(name, name, {"type": "avg", "field": f"drivers.{name}"}, DRIVER_COLORS[i % len(DRIVER_COLORS)],
                     {"split_mode": "everything"}, stacked="stacked", fill=0.5)
        for i, name in enumerate(driver_names())
    ]
    return _tsvb(vis_id, "Vigie — what drives the risk",
                 "Points each driver adds to the risk index over time (stacked; average per interval). Open it "
                 "for one topic, e.g. from an alert's crisis-room link.", risk_index, series)


def negative_share_tsvb(vis_id: str, posts_index: str) -> dict[str, Any]:
    """The share of negative posts over the time range: a ratio, which agg-based metrics cannot compute.
    Reposts are left out of both counts, as in detection."""
    kuery = {"language": "kuery"}
    metric = {"type": "filter_ratio", "metric_agg": "count",
              "numerator": {**kuery, "query": f"sentiment:neg and {NOT_REPOST}"},
              "denominator": {**kuery, "query": NOT_REPOST}}
    series = [{**_tsvb_series("share", "negative share", metric, "#E7664C", {"split_mode": "everything"}),
               "formatter": "percent"}]
    vis = _tsvb(vis_id, "Vigie — negative share",
                "Negative posts / all posts (reposts excluded) over the selected time range.",
                posts_index, series, panel_type="metric", time_field="created_at")
    state = json.loads(vis["attributes"]["visState"])
    state["params"]["time_range_mode"] = "entire_time_range"  # one figure for the range, not the last bucket
    vis["attributes"]["visState"] = _j(state)
    return vis


def visualisations(names: Names) -> list[dict[str, Any]]:
    count = _metric("count", label="posts")
    return [
        agg_vis("vigie-mentions-by-sentiment", "Vigie — mentions over time by sentiment", "histogram",
                [count, _date_histogram("created_at"), _terms("sentiment", "group", 3)],
                _xy_params("histogram", True, "posts"), query=NOT_REPOST),
        risk_tsvb("vigie-risk-index", names.risk),
        drivers_tsvb("vigie-risk-drivers", names.risk),
        agg_vis("vigie-share-by-source", "Vigie — share by source", "pie",
                [count, _terms("source", "segment", 10)], _pie_params()),
        agg_vis("vigie-share-by-language", "Vigie — share by language", "pie",
                [count, _terms("analysis.lang", "segment", 10)], _pie_params()),
        agg_vis("vigie-top-authors", "Vigie — top authors by reach", "table",
                [_metric("max", "reach", "followers"), _terms("author.handle", "bucket", 20),
                 _metric("count", label="posts"), _metric("sum", "engagement_total", "engagement")],
                _table_params()),
        agg_vis("vigie-near-duplicates", "Vigie — near-duplicate clusters (copy-paste campaigns)", "table",
                [_metric("count", label="posts"), _terms("analysis.near_dup_cluster", "bucket", 20),
                 _metric("cardinality", "author_key", "distinct authors"),
                 _metric("min", "created_at", "first seen"),
                 _metric("top_hits", "text.keyword", "example", aggregate="concat", size=1,
                         sortField="created_at", sortOrder="asc")],
                _table_params(), query=NOT_REPOST),  # retweets of one post are not a copy-paste campaign
        agg_vis("vigie-crisis-categories", "Vigie — crisis categories over time", "line",
                [count, _date_histogram("created_at"), _terms("analysis.crisis.categories", "group", 10)],
                _xy_params("line", False, "posts"), query="has_crisis:true"),
        negative_share_tsvb("vigie-negative-share", names.posts),
        agg_vis("vigie-top-hashtags", "Vigie — top hashtags", "table",
                [count, _terms("entities.hashtags", "bucket", 20), _metric("cardinality", "author_key", "authors")],
                _table_params(), query=NOT_REPOST,
                description="Hashtags of the posts in range (reposts excluded); `vigie trends` ranks them by rise."),
        agg_vis("vigie-top-domains", "Vigie — linked domains", "table",
                [count, _terms("entities.domains", "bucket", 20), _metric("cardinality", "author_key", "authors")],
                _table_params(), query=NOT_REPOST,
                description="Registered domains the posts link to (press pickup, campaign sites)."),
        agg_vis("vigie-relations", "Vigie — originals, reposts, quotes, replies", "pie",
                [count, _terms("relation", "segment", 4)], _pie_params()),
        agg_vis("vigie-kpis", "Vigie — mentions, authors, reach, engagement", "metric",
                [_metric("count", label="mentions"), _metric("cardinality", "author_key", "authors"),
                 _metric("sum", "reach", "potential reach"), _metric("sum", "engagement_total", "engagement")],
                {"addTooltip": True, "addLegend": False, "type": "metric",
                 "metric": {"percentageMode": False, "useRanges": False, "colorSchema": "Green to Red",
                            "metricColorMode": "None", "colorsRange": [{"from": 0, "to": 10000}],
                            "labels": {"show": True}, "invertColors": False,
                            "style": {"bgFill": "#000", "bgColor": False, "labelColor": False, "subText": "",
                                      "fontSize": 36}}}),
    ]


def searches() -> list[dict[str, Any]]:
    return [
        saved_search("vigie-top-negative-posts", "Vigie — top negative posts", POSTS_VIEW,
                     ["text", "author.handle", "author.followers", "engagement_total", "source", "url"],
                     [["negative_rank", "desc"]], f"sentiment:neg and {NOT_REPOST}",
                     "Negative posts that travel most (engagement + followers/100), as the crisis team reads them."),
        saved_search("vigie-open-alerts", "Vigie — open alerts", ALERTS_VIEW,
                     ["topic_id", "level", "state", "risk", "peak_risk", "opened_at", "links.kibana"],
                     [["risk", "desc"]], "not state:resolved"),
        saved_search("vigie-alert-history", "Vigie — alert history", ALERTS_VIEW,
                     ["topic_id", "level", "state", "peak_risk", "opened_at", "resolved_at"],
                     [["opened_at", "desc"]], ""),
    ]


# Dashboard controls: (suffix, field, title). `topics` is on every index (posts, alerts, risk); source and
# language are properties of posts only, so they are offered where every panel reads posts: a control's
# filter reaches every panel, and a panel whose index lacks the field goes blank (tests/test_kibana.py).
TOPIC_CONTROL = ("topic", "topics", "Topic")
POST_CONTROLS = (TOPIC_CONTROL, ("source", "source", "Source"), ("lang", "analysis.lang", "Language"),
                 ("relation", "relation", "Relation"))


def _controls(dash_id: str, controls: tuple[tuple[str, str, str], ...]) -> dict[str, Any]:
    """Dashboard controls (8.x native, replacing the deprecated input-control visualisation)."""
    panels = {
        f"{dash_id}-{suffix}": {
            "order": order,
            "width": "medium",
            "grow": True,
            "type": "optionsListControl",
            "explicitInput": {"id": f"{dash_id}-{suffix}", "fieldName": field, "title": title,
                              "dataViewId": POSTS_VIEW, "singleSelect": False},
        }
        for order, (suffix, field, title) in enumerate(controls)
    }
    return {"controlStyle": "oneLine", "chainingSystem": "HIERARCHICAL", "panelsJSON": _j(panels),
            "ignoreParentSettingsJSON": _j({"ignoreFilters": False, "ignoreQuery": False,
                                            "ignoreTimerange": False, "ignoreValidations": False})}


def dashboard(dash_id: str, title: str, description: str, layout: list[tuple[str, str, int, int, int, int]],
              time_from: str, query: str = "",
              controls: tuple[tuple[str, str, str], ...] = (TOPIC_CONTROL,)) -> dict[str, Any]:
    """`layout`: (saved object type, id, x, y, w, h) on Kibana's 48-column grid."""
    panels, refs = [], []
    for i, (obj_type, obj_id, x, y, w, h) in enumerate(layout, start=1):
        idx = str(i)
        panels.append({"version": "8.0.0", "type": obj_type, "panelIndex": idx, "panelRefName": f"panel_{idx}",
                       "gridData": {"x": x, "y": y, "w": w, "h": h, "i": idx}, "embeddableConfig": {}})
        refs.append({"name": f"{idx}:panel_{idx}", "type": obj_type, "id": obj_id})
    for suffix, _field, _title in controls:
        refs.append({"name": f"controlGroup_{dash_id}-{suffix}:optionsListDataView", "type": "index-pattern",
                     "id": POSTS_VIEW})
    return {
        "type": "dashboard",
        "id": dash_id,
        "attributes": {
            "title": title,
            "description": description,
            "version": 1,
            "timeRestore": True,
            "timeFrom": time_from,
            "timeTo": "now",
            "refreshInterval": {"pause": False, "value": 60000},
            "panelsJSON": _j(panels),
            "optionsJSON": _j({"useMargins": True, "syncColors": False, "hidePanelTitles": False}),
            "controlGroupInput": _controls(dash_id, controls),
            "kibanaSavedObjectMeta": {"searchSourceJSON": _search_source(query, indexed=False)},
        },
        "references": refs,
        **_meta("dashboard"),
    }


def dashboards() -> list[dict[str, Any]]:
    V, S = "visualization", "search"
    radar = dashboard(
        RADAR_DASHBOARD_ID, "Vigie — radar",
        "What community managers watch all day: volume, tone, risk and who is talking, per topic.",
        [
            (V, "vigie-kpis", 0, 0, 36, 6),
            (V, "vigie-negative-share", 36, 0, 12, 6),
            (V, "vigie-mentions-by-sentiment", 0, 6, 24, 14),
            (V, "vigie-risk-index", 24, 6, 24, 14),
            (S, "vigie-open-alerts", 0, 20, 24, 12),
            (S, "vigie-top-negative-posts", 24, 20, 24, 12),
            (V, "vigie-share-by-source", 0, 32, 12, 12),
            (V, "vigie-share-by-language", 12, 32, 12, 12),
            (V, "vigie-top-authors", 24, 32, 24, 12),
            (V, "vigie-near-duplicates", 0, 44, 24, 12),
            (V, "vigie-crisis-categories", 24, 44, 24, 12),
            (V, "vigie-top-hashtags", 0, 56, 24, 12),
            (V, "vigie-top-domains", 24, 56, 24, 12),
        ],
        "now-24h",
    )
    crisis = dashboard(
        CRISIS_ROOM_DASHBOARD_ID, "Vigie — crisis room",
        "One alert's window: open it from the alert's Kibana link (topic and time are set by the link).",
        [
            (V, "vigie-risk-index", 0, 0, 24, 12),
            (V, "vigie-mentions-by-sentiment", 24, 0, 24, 12),
            (V, "vigie-risk-drivers", 0, 12, 48, 12),
            (S, "vigie-top-negative-posts", 0, 24, 48, 14),
            (V, "vigie-crisis-categories", 0, 38, 24, 12),
            (V, "vigie-near-duplicates", 24, 38, 24, 12),
            (V, "vigie-top-authors", 0, 50, 24, 12),
            (V, "vigie-share-by-source", 24, 50, 12, 12),
            (S, "vigie-alert-history", 36, 50, 12, 12),
            (V, "vigie-top-hashtags", 0, 62, 16, 12),
            (V, "vigie-top-domains", 16, 62, 16, 12),
            (V, "vigie-relations", 32, 62, 16, 12),
        ],
        "now-12h",
    )
    explorer = dashboard(
        EXPLORER_DASHBOARD_ID, "Vigie — posts explorer",
        "The posts alone, filtered by topic, source, language and relation (original, repost, quote, reply).",
        [
            (V, "vigie-kpis", 0, 0, 36, 6),
            (V, "vigie-negative-share", 36, 0, 12, 6),
            (V, "vigie-mentions-by-sentiment", 0, 6, 48, 12),
            (S, "vigie-top-negative-posts", 0, 18, 48, 14),
            (V, "vigie-top-hashtags", 0, 32, 16, 12),
            (V, "vigie-top-domains", 16, 32, 16, 12),
            (V, "vigie-relations", 32, 32, 16, 12),
            (V, "vigie-share-by-source", 0, 44, 12, 12),
            (V, "vigie-share-by-language", 12, 44, 12, 12),
            (V, "vigie-top-authors", 24, 44, 24, 12),
            (V, "vigie-near-duplicates", 0, 56, 24, 12),
            (V, "vigie-crisis-categories", 24, 56, 24, 12),
        ],
        "now-24h",
        controls=POST_CONTROLS,
    )
    return [radar, crisis, explorer]


def saved_objects(prefix: str = "vigie") -> list[dict[str, Any]]:
    """Every object, referenced ones before those that reference them (the order Kibana imports best)."""
    names = Names(prefix)
    views = [
        data_view(POSTS_VIEW, names.posts, "Vigie — posts", "created_at", ("url",)),
        data_view(ALERTS_VIEW, names.alerts, "Vigie — alerts", "updated_at", ("links.kibana",)),
        data_view(RISK_VIEW, names.risk, "Vigie — risk index", "at"),
    ]
    return [*views, *visualisations(names), *searches(), *dashboards(), *collection_health_objects()]


COLLECTION_HEALTH_DASHBOARD_ID = "vigie-collection-health"


def collection_health_objects() -> list[dict[str, Any]]:
    """Is Vigie blind? The blind alerts (kind coverage: source, reason, since, until) beside the
    risk curve, whose points record the sources blind over them (`blind` in the risk index, marked on the
    chart). Kept apart from the other builders so the collection-health part changes alone."""
    blind = saved_search("vigie-blind-alerts", "Vigie — blind sources", ALERTS_VIEW,
                         ["topic_id", "level", "state", "opened_at", "resolved_at"],
                         [["opened_at", "desc"]], "kind:coverage",
                         "Sources Vigie could not see (auth revoked, quota spent, failing, volume collapse) and "
                         "for how long; `vigie status` tells the details.")
    board = dashboard(
        COLLECTION_HEALTH_DASHBOARD_ID, "Vigie — collection health",
        "Blind sources and the volume they did (not) bring: a gap in mentions with a blind alert over it is "
        "a collection gap, not a calm.",
        [("search", "vigie-blind-alerts", 0, 0, 48, 12),
         ("visualization", "vigie-risk-index", 0, 12, 24, 14),
         ("visualization", "vigie-mentions-by-sentiment", 24, 12, 24, 14),
         ("visualization", "vigie-share-by-source", 0, 26, 24, 14)],
        "now-7d",
    )
    return [blind, board]


def ndjson(prefix: str = "vigie") -> str:
    return "".join(json.dumps(obj, ensure_ascii=False, sort_keys=True) + "\n" for obj in saved_objects(prefix))
