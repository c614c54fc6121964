"""`vigie export` (CSV/JSONL, columns, pseudonymised authors, streaming) and `vigie trends` (log-odds with an
informative Dirichlet prior) against a real SQLite store named by a config file."""

from __future__ import annotations

import csv
import io
import json
import math
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest
from click.testing import CliRunner

from vigie.app.cli.trends import trends as trends_cmd
from alerts.trends import count_entities, rising
from vigie.app.cli.export import export
from vigie.core.entities import from_text
from vigie.app.export import Pseudonymiser, parse_columns
from vigie.core.models import Analysis, Author, Post, Sentiment
from vigie.store.sqlite import SqliteStore

T0 = datetime(2026, 3, 4, 8, 0, tzinfo=timezone.utc)
MIN = timedelta(minutes=1)


def post(n: int, at: datetime, text: str, *, topic: str = "acme", handle: str = "ana", relation: str = "original",
         ref: str | None = None, label: str = "neg") -> Post:
    return Post(id=f"x:{n}", source="x", text=text, created_at=at, url=f"https://x.com/{handle}/status/{n}",
                author=Author(id=f"u-{handle}", handle=handle, name=handle.title(), followers=10 * n),
                topic_ids=[topic], relation=relation, ref_id=ref, entities=from_text(text),
                analysis=Analysis(lang="fr", sentiment=Sentiment(label, -0.5, "lexicon"), topic_ids=[topic]))


def setup(tmp_path, posts):
    db, cfg = tmp_path / "v.db", tmp_path / "vigie.yml"
    cfg.write_text("topics:\n  - id: acme\n    name: Acme\n    query: acme\n  - id: other\n    name: O\n    query: o\n"
                   f"store:\n  type: sqlite\n  path: {db}\n")
    store = SqliteStore(db)
    store.upsert_posts(posts)
    store.close()
    return cfg


def run(*args, env=None):
    result = CliRunner().invoke(export, [*map(str, args)], env=env)
    return result


# -- export ----------------------------------------------------------------------------------------

def test_export_csv_window_columns_and_formula_guard(tmp_path):
    posts = [post(i, T0 + i * MIN, f"Acme #boycott {i}", handle=f"user{i % 3}") for i in range(10)]
    posts.append(post(99, T0 + 5 * MIN, "=HYPERLINK(\"http://evil\") acme", handle="mallory"))
    posts.append(post(50, T0 + 5 * MIN, "other topic", topic="other"))
    cfg = setup(tmp_path, posts)
    out = tmp_path / "a.csv"
    res = run("--config", cfg, "--topic", "acme", "--since", (T0 + 2 * MIN).isoformat(),
              "--until", (T0 + 6 * MIN).isoformat(), "--columns", "id,created_at,author_handle,text,hashtags",
              "--out", out, "--no-progress", "--page-size", 2)
    assert res.exit_code == 0, res.output
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [r["id"] for r in rows] == ["x:2", "x:3", "x:4", "x:5", "x:99"]  # window, topic, oldest first
    assert list(rows[0]) == ["id", "created_at", "author_handle", "text", "hashtags"]
    assert rows[0]["hashtags"] == "boycott" and rows[0]["created_at"] == "2026-03-04T08:02:00Z"
    assert rows[-1]["text"].startswith("'=HYPERLINK")  # a spreadsheet would run it: neutralised
    assert "5 post(s) of acme exported as csv" in res.output


def test_export_jsonl_all_columns_round_trip(tmp_path):
    cfg = setup(tmp_path, [post(1, T0, "Acme https://www.lemonde.fr/x @Bob", relation="quote", ref="x:0")])
    res = run("--config", cfg, "--topic", "acme", "--format", "jsonl", "--columns", "all", "--no-progress")
    assert res.exit_code == 0, res.output
    [line] = [l for l in res.stdout.splitlines() if l.startswith("{")]
    row = json.loads(line)
    assert list(row) == parse_columns("all")
    assert row["relation"] == "quote" and row["ref_id"] == "x:0" and row["domains"] == ["lemonde.fr"]
    assert row["mentions"] == ["bob"] and row["sentiment"] == "neg" and row["topics"] == ["acme"]


def test_export_pseudonymises_authors_mentions_and_urls(tmp_path):
    posts = [post(1, T0, "Acme @Bob nul", handle="Ana"), post(2, T0 + MIN, "acme @ana bof", handle="bob"),
             post(3, T0 + 2 * MIN, "acme encore", handle="ana")]
    cfg = setup(tmp_path, posts)
    cols = "id,author_id,author_handle,author_name,text,mentions,url"

    def export_rows(env):
        res = run("--config", cfg, "--topic", "acme", "--format", "jsonl", "--columns", cols, "--pseudonymise",
                  "--no-progress", env=env)
        assert res.exit_code == 0, res.output
        return [json.loads(l) for l in res.stdout.splitlines() if l.startswith("{")], res.stderr

    keyed, msg = export_rows({"VIGIE_EXPORT_KEY": "s3cret-key"})
    assert "with the key in VIGIE_EXPORT_KEY" in msg and "s3cret" not in msg
    dump = json.dumps(keyed)
    for leaked in ("Ana", "@Bob", "u-ana", "x.com"):
        assert leaked not in dump
    ana, bob, ana_again = keyed
    assert ana["author_handle"] == ana["author_id"] == ana_again["author_handle"]  # one person, one pseudonym
    assert ana["author_handle"] != bob["author_handle"] and ana["author_name"] is None and ana["url"] is None
    assert ana["mentions"] == [bob["author_handle"]] and bob["text"] == f"acme @{ana['author_handle']} bof"
    again, _ = export_rows({"VIGIE_EXPORT_KEY": "s3cret-key"})
    assert again == keyed  # the same key: stable across exports (they can be joined)
    salted, msg = export_rows({"VIGIE_EXPORT_KEY": ""})
    assert "random salt" in msg and salted[0]["author_handle"] != ana["author_handle"]
    assert salted[0]["author_handle"] == salted[2]["author_handle"]  # consistent inside one export
    assert repr(Pseudonymiser(b"k")) == "Pseudonymiser(keyed=True)"


def test_export_streams_through_iter_posts(tmp_path):
    """Pages of the requested size are read one after another (no full load of the topic)."""
    posts = [post(i, T0 + i * MIN, f"acme {i}") for i in range(7)]
    cfg = setup(tmp_path, posts)
    store = SqliteStore(tmp_path / "v.db")
    it = store.iter_posts("acme", page_size=3)
    assert next(it).id == "x:0"  # a generator: nothing is read before it is asked for
    store.close()
    res = run("--config", cfg, "--topic", "acme", "--format", "csv", "--columns", "id", "--progress", "--page-size", 3)
    assert res.exit_code == 0, res.output
    assert [l for l in res.stdout.splitlines()][:8] == ["id", *[f"x:{i}" for i in range(7)]]


@pytest.mark.parametrize("args, message", [
    (["--topic", "nope"], "unknown topic 'nope'"),
    (["--topic", "acme", "--columns", "id,bogus"], "unknown column(s) bogus"),
    (["--topic", "acme", "--since", "yesterday"], "expected an ISO-8601 time"),
])
def test_export_bad_input_is_a_clear_error(tmp_path, args, message):
    cfg = setup(tmp_path, [post(1, T0, "acme")])
    res = run("--config", cfg, *args, "--no-progress")
    assert res.exit_code != 0 and message in res.output


# -- trends ----------------------------------------------------------------------------------------

def monroe_z(y, n, b, m, a0):
    """The formula of Monroe et al. (2008) eq. 16-22, written independently of alerts.trends."""
    a = a0 * (y + b) / (n + m)
    d = math.log((y + a) / (n + a0 - y - a)) - math.log((b + a) / (m + a0 - b - a))
    return d / math.sqrt(1 / (y + a) + 1 / (b + a))


def test_rising_matches_the_fightin_words_formula_and_shrinks_rare_entities():
    window = Counter({"boycott": 30, "promo": 5, "new": 2, "once": 1})
    baseline = Counter({"boycott": 3, "promo": 50, "meteo": 10})
    got = rising(window, baseline, kind="hashtags", window_total=100, baseline_total=400, prior=10)
    assert [t.key for t in got] == ["boycott", "new"]  # promo falls, once is below min_count
    assert got[0].window == 30 and got[0].baseline == 3
    assert got[0].z == pytest.approx(monroe_z(30, 100, 3, 400, 10))
    # A brand-new tag seen twice ranks below a frequent one that grew ten-fold: the prior wants evidence.
    assert got[1].z < got[0].z
    assert rising(Counter(), baseline) == [] and rising(Counter(), Counter()) == []
    # Default prior: the pooled counts (a0 = n + m).
    [new_big, *_] = rising(Counter({"crisis": 7, "known": 3}), Counter({"known": 1, "other": 300}),
                           window_total=100, baseline_total=2000)
    assert new_big.key == "crisis" and new_big.z == pytest.approx(monroe_z(7, 100, 0, 2000, 2100))


def test_count_entities_leaves_reposts_out():
    posts = [post(1, T0, "#a https://www.bbc.co.uk/x"), post(2, T0, "#a #a #b", handle="bob"),
             post(3, T0, "#a", relation="repost", ref="x:1")]
    counts = count_entities(posts)
    assert counts.posts == 2 and counts.counts["hashtags"] == Counter({"a": 2, "b": 1})
    assert counts.counts["domains"] == Counter({"bbc.co.uk": 1})
    assert counts.counts["accounts"] == Counter({"x:ana": 1, "x:bob": 1})


def test_trends_cli_ranks_what_rises_against_the_baseline(tmp_path):
    base = [post(i, T0 - timedelta(hours=5) + i * MIN, f"acme #promo {i}", handle=f"u{i % 5}") for i in range(40)]
    window = [post(100 + i, T0 + i * MIN, f"acme #boycottacme https://www.lemonde.fr/a{i}", handle=f"w{i % 7}")
              for i in range(20)] + [post(200 + i, T0 + i * MIN, "acme #promo", handle="u1") for i in range(2)]
    cfg = setup(tmp_path, base + window)
    res = CliRunner().invoke(trends_cmd, ["--config", str(cfg), "--topic", "acme", "--until",
                                          (T0 + timedelta(hours=1)).isoformat(), "--since", "1h",
                                          "--baseline", "1d", "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)["topics"]["acme"]
    assert data["hashtags"][0]["key"] == "boycottacme" and data["hashtags"][0]["window"] == 20
    assert data["hashtags"][0]["baseline"] == 0
    assert all(t["key"] != "promo" for t in data["hashtags"])  # it fell
    assert data["domains"][0] == {**data["domains"][0], "key": "lemonde.fr", "window": 20}
    table = CliRunner().invoke(trends_cmd, ["--config", str(cfg), "--until", (T0 + timedelta(hours=1)).isoformat(),
                                            "--since", "1h", "--kind", "hashtags"])
    assert table.exit_code == 0 and "boycottacme" in table.output and "other — hashtags rising" in table.output
    bad = CliRunner().invoke(trends_cmd, ["--config", str(cfg), "--baseline", "forever"])
    assert bad.exit_code != 0 and "expected a duration" in bad.output
