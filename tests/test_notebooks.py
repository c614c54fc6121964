"""The analyst notebooks run top to bottom on a real store, with their parameters injected the
papermill way (a cell after the one tagged `parameters`), and are committed without outputs."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import nbformat
import pytest
import yaml
from nbclient import NotebookClient

from report_fixtures import TRUTH, build_store, make_alerts, make_posts
from alerts.detect import Detector
from vigie.core.config import DetectionConfig
from vigie.app.notebook import (
    alert_drivers, alert_timeline, data_span, find_truth, load_alert, load_alerts, load_posts, load_risk,
)

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
NAMES = ["01_explore_mentions", "02_crisis_postmortem", "03_tune_thresholds"]


@pytest.fixture(scope="module")
def demo_like(tmp_path_factory):
    """A filled SQLite store, its config and a truth file (the fixture scenario of the report tests)."""
    folder = tmp_path_factory.mktemp("nb")
    store, config, config_path = build_store(folder)
    # The risk curve the pipeline stores at every bucket, computed by the real detector over the fixture's
    # posts (the alerts of the fixture are hand-made; the curve is not).
    detector = Detector(config.detection)
    start, end = data_span(config_path)
    for topic in config.topics:
        t, points = start + timedelta(hours=6), []
        while t <= end:
            points.append(detector.assess(topic, store, t).risk_point())
            t += timedelta(minutes=config.detection.bucket_minutes)
        store.save_risk(points)
    store.close()
    truth = folder / "truth.json"
    truth.write_text(json.dumps(TRUTH), encoding="utf-8")
    return config_path, truth, folder


def run_notebook(name: str, params: dict, workdir: Path) -> nbformat.NotebookNode:
    book = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    index = next(i for i, c in enumerate(book.cells) if "parameters" in c.metadata.get("tags", []))
    injected = nbformat.v4.new_code_cell("\n".join(f"{k} = {v!r}" for k, v in params.items()))
    injected.metadata["tags"] = ["injected-parameters"]
    book.cells.insert(index + 1, injected)
    # Started from the notebooks folder, as Jupyter would be: the setup cell must find the repository root.
    NotebookClient(book, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
    return book


def text_outputs(book: nbformat.NotebookNode) -> str:
    out = []
    for cell in book.cells:
        for o in cell.get("outputs", []):
            out.append(o.get("text", "") + json.dumps(o.get("data", {}).get("text/plain", "")))
    return "\n".join(out)


@pytest.mark.parametrize("name", NAMES)
def test_notebooks_are_committed_clean_with_a_parameters_cell(name):
    book = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    nbformat.validate(book)
    code = [c for c in book.cells if c.cell_type == "code"]
    assert "parameters" in code[0].metadata.get("tags", []), "the first code cell holds the parameters"
    assert all(c.outputs == [] and c.execution_count is None for c in code), "outputs must be stripped in git"


def test_explore_mentions_runs_on_the_store(demo_like):
    config_path, _, folder = demo_like
    out = folder / "nb01"
    book = run_notebook(NAMES[0], {"CONFIG": str(config_path), "TOPIC": "lumio", "OUT_DIR": str(out)}, folder)
    text = text_outputs(book)
    assert "Lumio (brand): 646 posts from Mon 02 Mar" in text
    assert "clusters of repeated messages" in text
    for fig in ("lumio_volume_sentiment.png", "lumio_volume_source.png", "lumio_words.png"):
        assert (out / fig).stat().st_size > 5_000, fig
    images = sum("image/png" in o.get("data", {}) for c in book.cells for o in c.get("outputs", []))
    assert images >= 4


def test_crisis_postmortem_reconstructs_the_alert(demo_like):
    config_path, truth, folder = demo_like
    out = folder / "nb02"
    book = run_notebook(NAMES[1], {"CONFIG": str(config_path), "TRUTH": str(truth), "OUT_DIR": str(out)}, folder)
    text = text_outputs(book)
    crisis = make_alerts(make_posts())[0]
    assert f"Alert {crisis.id} on Lumio (brand): peak crisis (risk 92)" in text
    assert "Reference: true peak (bad_buzz)" in text
    assert "3 h 45 min before the peak" in text  # first warning 15:15, true peak 19:00
    assert "points at the highest risk" in text  # the drivers read from the stored risk curve
    for suffix in ("timeline.png", "timeline.svg", "drivers.png", "spread.png"):
        assert (out / f"postmortem_{crisis.id}_{suffix}").exists(), suffix


def test_tune_thresholds_writes_a_config_snippet(demo_like):
    config_path, truth, folder = demo_like
    out = folder / "nb03"
    params = {"CONFIG": str(config_path), "TRUTH": str(truth), "OUT_DIR": str(out), "WARNING_GRID": [45, 60],
              "CRISIS_GRID": [80], "WEIGHT_VARIANTS": {"default": {}, "crisis terms x1.5": {"crisis_terms": 30}},
              "SUITE_SIZE": 1, "SUITE_DAYS": 2}
    book = run_notebook(NAMES[2], params, folder)
    # The configured store plus one suite scenario replayed through the real NLP into its own store.
    assert "2 dataset(s)" in text_outputs(book)
    snippet = yaml.safe_load((out / "tuned_thresholds.yml").read_text(encoding="utf-8"))
    chosen = {t["id"]: t["thresholds"] for t in snippet["topics"]}
    assert set(chosen) == {"lumio", "lumio-support"}
    assert chosen["lumio"]["warning"] in (45, 60) and chosen["lumio"]["crisis"] == 80
    assert chosen["lumio"]["watch"] <= chosen["lumio"]["warning"] < chosen["lumio"]["crisis"]
    assert snippet["detection"]["weights"]["crisis_terms"] in (DetectionConfig().weights.crisis_terms, 30)
    assert (out / "tune_tradeoff.png").stat().st_size > 5_000


# -- the helper itself -----------------------------------------------------------------------------

def test_load_posts_flattens_posts_and_filters(demo_like):
    config_path, _, _ = demo_like
    posts = load_posts(config_path, "lumio", "2026-03-03T00:00Z", "2026-03-04T00:00Z")
    assert len(posts) > 0 and str(posts.created_at.dt.tz) == "UTC"
    assert posts.created_at.min().isoformat() >= "2026-03-03T00:00:00+00:00"
    assert posts.created_at.max().isoformat() < "2026-03-04T00:00:00+00:00"
    row = posts.iloc[0]
    assert row.sentiment in ("neg", "neu", "pos") and row.author_handle.startswith("user")
    assert {"followers", "engagement", "crisis_categories", "dup_key", "lang"} <= set(posts.columns)
    assert posts.created_at.is_monotonic_increasing
    everything = load_posts(config_path)
    assert len(everything) > len(posts)
    with pytest.raises(KeyError, match="unknown topic 'nope'; configured topics: lumio, lumio-support"):
        load_posts(config_path, "nope")


def test_load_alerts_and_their_timeline(demo_like):
    config_path, _, _ = demo_like
    alerts = load_alerts(config_path)
    assert list(alerts.topic_id) == ["lumio-support", "lumio"]  # oldest first
    crisis = alerts[alerts.topic_id == "lumio"].iloc[0]
    assert crisis.peak_level == "crisis" and crisis.peak_risk == 92 and crisis.duration_min == 540
    timeline = alert_timeline(crisis)
    assert list(timeline.event) == ["open", "escalate", "escalate", "update", "update", "resolve"]
    drivers = alert_drivers(load_alert(config_path, crisis.id))
    assert list(drivers.name) == ["negative_volume", "crisis_terms", "reach"]
    with pytest.raises(KeyError):
        load_alert(config_path, "missing")


def test_find_truth_beside_the_replay_file(tmp_path):
    (tmp_path / "posts.jsonl").write_text("", encoding="utf-8")
    (tmp_path / "truth.json").write_text(json.dumps(TRUTH), encoding="utf-8")
    cfg = tmp_path / "vigie.yml"
    cfg.write_text("topics: [{id: t, name: T, query: t}]\nsources: {replay: {type: replay, path: posts.jsonl}}\n",
                   encoding="utf-8")
    assert find_truth(cfg) == TRUTH
    (tmp_path / "truth.json").unlink()
    assert find_truth(cfg) is None


def test_helpers_and_report_read_elasticsearch_like_sqlite(tmp_path, es_proxy, es_prefix):
    """The same data in Elasticsearch (osmem behind the test proxy, tests/es_fixtures.py) gives the same
    frames and the same report figures: notebooks and report only talk to the store protocol."""
    from vigie.core.config import load_config
    from vigie.app.report import collect
    from vigie.store import open_store

    sqlite_store, sqlite_config, sqlite_path = build_store(tmp_path)
    es_path = tmp_path / "es.yml"
    es_path.write_text(sqlite_path.read_text(encoding="utf-8").split("store:")[0]
                       + f"store:\n  type: elasticsearch\n  url: {es_proxy.url}\n  prefix: {es_prefix}\n",
                       encoding="utf-8")
    es_config = load_config(es_path)
    es = open_store(es_config.store)
    try:
        es.setup()
        es.upsert_posts(sqlite_store.posts(None))
        for alert in sqlite_store.alert_history():
            es.save_alert(alert)
        es.refresh()
        # The risk curve is the detector's (hundreds of series queries), not the store's: compared elsewhere.
        from_es = collect(es, es_config, truth=TRUTH, with_risk_trace=False)
        from_sqlite = collect(sqlite_store, sqlite_config, truth=TRUTH, with_risk_trace=False)
    finally:
        es.close()
        sqlite_store.close()
    a, b = load_posts(es_path, "lumio"), load_posts(sqlite_path, "lumio")
    assert len(a) == len(b) == 646
    assert list(a.id) == list(b.id) and list(a.sentiment) == list(b.sentiment)
    assert list(load_alerts(es_path).id) == list(load_alerts(sqlite_path).id)
    for x, y in zip(from_es.topics, from_sqlite.topics):
        assert (x.total, x.negative, x.positive) == (y.total, y.negative, y.positive)
        assert x.languages == y.languages and x.sources == y.sources
        assert [(p.id, n) for p, n in x.top_negative] == [(p.id, n) for p, n in y.top_negative]
    assert [o.first_crisis for o in from_es.outcomes] == [o.first_crisis for o in from_sqlite.outcomes]


def test_load_risk_gives_one_row_per_bucket_and_one_column_per_driver(demo_like):
    from vigie.core.drivers import driver_names

    config_path, _, _ = demo_like
    start, end = data_span(config_path)
    frame = load_risk(config_path, "lumio", start, end)
    assert len(frame) > 100 and frame.index.is_monotonic_increasing
    assert list(frame.columns) == ["risk", "level", *driver_names()]
    peak = frame.loc[frame.risk.idxmax()]
    assert peak.risk >= 55 and peak.negative_volume > 0  # the fixture's bad buzz, seen by the detector
    assert load_risk(config_path, "nobody", start, end).empty
