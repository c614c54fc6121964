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
HEALTH_VIEW = "vigie-cursors"
# Counted as posts everywhere (series, KPIs): a repost is amplification of its original, not a post.
NOT_REPOST = "not relation:repost"
MIGRATED_FROM = "8.0.0"
WARNING_LINE, CRISIS_LINE = 55, 75  # default Thresholds (vigie.core.config); per-topic thresholds may differ


def _j(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _meta(obj_type: str) -> dict[str, Any]:
    return {"coreMigrationVersion": MIGRATED_FROM, "migrationVersion": {obj_type: MIGRATED_FROM}}


def data_view(view_id: str, title: str, name: str, time_field: str | None,
              link_fields: tuple[str, ...] = (), relative_dates: tuple[str, ...] = ()) -> dict[str, Any]:
    """`time_field` None: a snapshot (one document per thing, updated in place), which the dashboard's time
    range must not filter. `relative_dates` are shown as ages ("12 minutes ago", "in 5 minutes")."""
    attributes: dict[str, Any] = {"title": title, "name": name}
    if time_field is not None:
        attributes["timeFieldName"] = time_field
    formats: dict[str, Any] = {f: {"id": "url", "params": {"labelTemplate": "open"}} for f in link_fields}
    formats.update({f: {"id": "relative_date", "params": {}} for f in relative_dates})
    if formats:  # links clickable in tables (the post, the crisis room); dates as ages
        attributes["fieldFormatMap"] = _j(formats)
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
          annotations: list[dict[str, Any]] | None = None, axis_max: str = "100",
          interval: str = "auto") -> dict[str, Any]:
    """A TSVB panel over `index` (time series: a 0-100 axis unless `axis_max` says otherwise, "" for none).
    TSVB rather than an agg-based chart: it draws constant threshold lines, stacks series, computes ratios
    (`filter_ratio`), shifts a series in time (`offset_time`) and marks events from another index
    (annotations), which an agg-based chart cannot."""
    params = {
        "id": f"{vis_id}-tsvb",
        "type": panel_type,
        "index_pattern": index,
        "use_kibana_indexes": False,
        "time_field": time_field,
        "interval": interval,
        "axis_position": "left",
        "axis_formatter": "number",
        "axis_min": "0",
        "axis_max": axis_max,
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


def blind_annotation(risk_index: str, consequence: str) -> dict[str, Any]:
    """Where a topic's sources were blind (the risk points' `blind`, issue 20). Posts carry no such field:
    every chart marks blind intervals from the risk index, narrowed by the topic control as its series are."""
    return _tsvb_annotation(
        "blind", risk_index, "at", "blind:*", ("topic_id", "blind"),
        "{{topic_id}}: blind on {{blind}} (no data from these sources; " + consequence + ")",
        "#9170B8", "fa-exclamation-triangle")


def risk_tsvb(vis_id: str, risk_index: str) -> dict[str, Any]:
    """Risk index per topic with the warning and crisis lines, from the risk index (one point per topic and
    bucket, alerts or not: a quiet topic's flat line is information too). Intervals where a source of the
    topic was blind are marked (the points' `blind`, issue 20): a low curve there is not a calm."""
    blind = blind_annotation(risk_index, "the risk may be understated")
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


def mentions_tsvb(vis_id: str, posts_index: str, risk_index: str) -> dict[str, Any]:
    """Mentions over time by sentiment (reposts excluded, as in detection), stacked, with blind intervals
    marked: a dip under a marker is a collection gap, not a calm. The agg-based chart of the same counts
    cannot carry a marker from another index; it stays on the posts explorer, whose source and language
    controls a risk-index marker could not follow."""
    series = [{**_tsvb_series("mentions", "posts", {"type": "count"}, "#6092C0",
                              {"split_mode": "terms", "terms_field": "sentiment", "terms_size": "3",
                               "terms_order_by": "_count"}, stacked="stacked", fill=0.5),
               "chart_type": "bar", "filter": {"query": NOT_REPOST, "language": "kuery"}}]
    return _tsvb(vis_id, "Vigie — mentions over time (blind intervals marked)",
                 "Posts per interval by sentiment (reposts excluded). A marker: a source of the topic was blind "
                 "then (its names in the tooltip); fewer mentions there may only mean less was collected.",
                 posts_index, series, time_field="created_at", axis_max="",
                 annotations=[blind_annotation(risk_index, "mentions may be missing")])


def posts_per_hour_tsvb(vis_id: str, posts_index: str, risk_index: str) -> dict[str, Any]:
    """What each source brought per hour (ingestion time, reposts included: what collection fetched),
    against the same hour a week earlier for all sources together (a reference line; the blind-alert
    baseline itself is computed per source by alerts/coverage.py and not stored)."""
    series = [
        _tsvb_series("by-source", "posts fetched", {"type": "count"}, "#6092C0",
                     {"split_mode": "terms", "terms_field": "source", "terms_size": "20", "terms_order_by": "_count"}),
        {**_tsvb_series("week-before", "all sources, 7 days earlier", {"type": "count"}, "#98A2B3",
                        {"split_mode": "everything"}), "offset_time": "7d", "line_width": 1},
    ]
    return _tsvb(vis_id, "Vigie — posts fetched per hour by source",
                 "Posts each source brought per hour (by fetch time), and all sources a week earlier for "
                 "reference. A source falling to zero under a blind marker is a collection gap.",
                 posts_index, series, time_field="fetched_at", axis_max="", interval="1h",
                 annotations=[blind_annotation(risk_index, "its posts are missing")])


def visualisations(names: Names) -> list[dict[str, Any]]:
    count = _metric("count", label="posts")
    return [
        agg_vis("vigie-mentions-by-sentiment", "Vigie — mentions over time by sentiment", "histogram",
                [count, _date_histogram("created_at"), _terms("sentiment", "group", 3)],
                _xy_params("histogram", True, "posts"), query=NOT_REPOST),
        mentions_tsvb("vigie-mentions-volume", names.posts, names.risk),
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
                     ["topic_id", "level", "state", "risk", "peak_risk", "opened_at", "story.first_post.author",
                      "story.amplifiers.author", "story.rising.key", "links.kibana"],
                     [["risk", "desc"]], "not state:resolved",
                     "What each open alert is about: its first report, amplifiers and rising terms (the story; "
                     "`vigie alerts show ID` prints it whole)."),
        saved_search("vigie-alert-history", "Vigie — alert history", ALERTS_VIEW,
                     ["topic_id", "level", "state", "peak_risk", "opened_at", "resolved_at", "story.first_post.author",
                      "story.rising.key"],
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
            (V, "vigie-mentions-volume", 0, 6, 24, 14),
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
            (V, "vigie-mentions-volume", 24, 0, 24, 12),
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
        # Cursors and collection health: one document per source, updated in place, so no time field.
        data_view(HEALTH_VIEW, names.cursors, "Vigie — collection health (cursors)", None,
                  relative_dates=tuple(f"health.{f}" for f in ("last_success", "last_attempt", "failing_since",
                                                                "quota_reset_at"))),
    ]
    return [*views, *visualisations(names), *searches(), *dashboards(), *collection_health_objects(names)]


COLLECTION_HEALTH_DASHBOARD_ID = "vigie-collection-health"


HEALTH_ONLY = "source:health"  # the cursors that are a source's collection health (vigie/store/health.py)


def _terms_by_name(field: str, schema: str = "bucket") -> dict[str, Any]:
    """One row (or bar) per value of `field`, in name order: a list of sources reads best alphabetically."""
    return {"type": "terms", "schema": schema,
            "params": {"field": field, "size": 50, "order": "asc", "orderBy": "_key",
                       "otherBucket": False, "missingBucket": False}}


def collection_health_objects(names: Names | None = None) -> list[dict[str, Any]]:
    """Is Vigie blind? Per source, from its collection health (the `health` fields of the cursors index):
    when it last succeeded (as an age), how it fails (errors by kind), its quota, what it brought per hour;
    the blind alerts (kind coverage) beside the mentions and risk charts, where blind intervals are marked.
    Kept apart from the other builders so the collection-health part changes alone."""
    from vigie.store.health import ERROR_KINDS

    names = names or Names("vigie")
    blind = saved_search("vigie-blind-alerts", "Vigie — blind sources", ALERTS_VIEW,
                         ["topic_id", "level", "state", "opened_at", "resolved_at"],
                         [["opened_at", "desc"]], "kind:coverage",
                         "Sources Vigie could not see (auth revoked, quota spent, failing, volume collapse) and "
                         "for how long; `vigie status` tells the details.")
    sources = agg_vis(
        "vigie-health-sources", "Vigie — sources: last success, errors, quota", "table",
        [_metric("max", "health.last_success", "last success"), _terms_by_name("health.source"),
         _metric("max", "health.last_attempt", "last attempt"),
         _metric("max", "health.failing_since", "failing since"),
         _metric("top_hits", "health.last_error_kind", "last error", aggregate="concat", size=1,
                 sortField="health.last_attempt", sortOrder="desc"),
         _metric("min", "health.quota_remaining", "quota remaining"),
         _metric("max", "health.quota_reset_at", "quota resets"),
         _metric("sum", "health.posts_hour", "posts this hour"),
         _metric("sum", "health.posts_24h", "posts, 24 h")],
        _table_params(20), view_id=HEALTH_VIEW, query=HEALTH_ONLY,
        description="One row per source, as its last run left it: ages are relative to now (a last success "
                    "an hour old on a source that runs every 5 minutes is a blind source).")
    errors = agg_vis(
        "vigie-health-errors", "Vigie — failed queries by kind", "table",
        [_metric("sum", "health.errors_total", "all"), _terms_by_name("health.source"),
         *[_metric("sum", f"health.errors.{kind}", kind) for kind in ERROR_KINDS]],
        _table_params(20), view_id=HEALTH_VIEW, query=HEALTH_ONLY,
        description="Failed queries of each source by kind since it was added (auth: credentials refused; "
                    "quota: a usage cap spent; rate_limit: waited out; network, parse, schema...).")
    quota = agg_vis(
        "vigie-health-quota", "Vigie — quota remaining by source", "histogram",
        [_metric("min", "health.quota_remaining", "quota remaining"), _terms_by_name("health.source", "segment")],
        {**_xy_params("histogram", False, "quota remaining"), "addLegend": False},
        view_id=HEALTH_VIEW, query=HEALTH_ONLY,
        description="Requests (or posts) the platform says are left before its reset; sources that announce "
                    "no quota have no bar.")
    per_hour = posts_per_hour_tsvb("vigie-posts-per-hour", names.posts, names.risk)
    # No control: every health panel is per source and the cursors index has no `topics` (a topic control
    # would blank them); the source names are the rows.
    board = dashboard(
        COLLECTION_HEALTH_DASHBOARD_ID, "Vigie — collection health",
        "Is Vigie blind? Each source's last success, failures by kind, quota and volume; the blind alerts; "
        "mentions and risk with blind intervals marked: a dip under a marker is a collection gap, not a calm.",
        [("visualization", "vigie-health-sources", 0, 0, 48, 10),
         ("visualization", "vigie-health-errors", 0, 10, 30, 10),
         ("visualization", "vigie-health-quota", 30, 10, 18, 10),
         ("visualization", "vigie-posts-per-hour", 0, 20, 48, 12),
         ("search", "vigie-blind-alerts", 0, 32, 48, 10),
         ("visualization", "vigie-mentions-volume", 0, 42, 24, 14),
         ("visualization", "vigie-risk-index", 24, 42, 24, 14)],
        "now-7d",
        controls=(),
    )
    return [blind, sources, errors, quota, per_hour, board]


def ndjson(prefix: str = "vigie") -> str:
    return "".join(json.dumps(obj, ensure_ascii=False, sort_keys=True) + "\n" for obj in saved_objects(prefix))
