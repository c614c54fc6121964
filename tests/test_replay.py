"""Replay listener: pages, cursor resume, the `now` boundary, quarantine of malformed lines, stable ids."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from listeners.base import Listener, SourceError
from listeners.replay import ReplayListener
from vigie.core.config import config_from_dict
from vigie.core.models import iso

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=timezone.utc)
ROOT = Path(__file__).resolve().parents[1]


def record(i: int, **extra) -> dict:
    rec = {"id": str(1000 + i), "source": "x", "created_at": iso(T0 + timedelta(minutes=i)), "text": f"post {i}"}
    rec.update(extra)
    return rec


def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def write_posts(path: Path, n: int) -> Path:
    return write_lines(path, [json.dumps(record(i)) for i in range(n)])


def drain(listener: ReplayListener, cursor, now):
    pages = list(listener.fetch(listener.plan([])[0], cursor, now))
    return pages, (pages[-1].cursor if pages else cursor)


def test_is_a_listener_with_one_query_for_all_topics(tmp_path):
    class T:
        def __init__(self, id):
            self.id = id

    listener = ReplayListener(write_posts(tmp_path / "p.jsonl", 1))
    assert isinstance(listener, Listener)
    (query,) = listener.plan([T("brand"), T("rival")])
    assert query.key == "*" and query.topic_ids == ["brand", "rival"]


def test_pages_carry_cursor_at_next_unread_line(tmp_path):
    path = write_posts(tmp_path / "p.jsonl", 1200)
    listener = ReplayListener(path, page_size=500)
    pages, cursor = drain(listener, None, T0 + timedelta(days=1))
    assert [len(p.posts) for p in pages] == [500, 500, 200]
    lines = path.read_bytes().splitlines(keepends=True)
    assert pages[0].cursor == {"offset": sum(len(x) for x in lines[:500]), "line": 501}
    assert cursor == {"offset": path.stat().st_size, "line": 1201}
    # Nothing new: no page, the cursor does not move.
    assert drain(listener, cursor, T0 + timedelta(days=2)) == ([], cursor)


def test_resume_mid_file_loses_and_duplicates_nothing(tmp_path):
    path = write_posts(tmp_path / "p.jsonl", 1000)
    listener = ReplayListener(path, page_size=300)
    # An interrupted run: two pages were fetched, only the first one was stored with its cursor.
    pages = list(listener.fetch(listener.plan([])[0], None, T0 + timedelta(minutes=500)))
    assert [len(p.posts) for p in pages] == [300, 200]
    seen = [p.id for p in pages[0].posts]
    cursor = pages[0].cursor
    # The next runs resume from that cursor while the simulated clock advances 7 minutes at a time.
    now = T0 + timedelta(minutes=500)
    while now < T0 + timedelta(minutes=1010):
        now += timedelta(minutes=7)
        for page in listener.fetch(listener.plan([])[0], cursor, now):
            seen += [p.id for p in page.posts]
            cursor = page.cursor
    assert seen == [f"x:{1000 + i}" for i in range(1000)]


def test_post_at_now_is_not_consumed(tmp_path):
    path = write_posts(tmp_path / "p.jsonl", 10)
    listener = ReplayListener(path)
    now = T0 + timedelta(minutes=4)  # post 4 is created exactly at `now`
    pages, cursor = drain(listener, None, now)
    assert [p.native_id for p in pages[0].posts] == ["1000", "1001", "1002", "1003"]
    assert cursor["line"] == 5
    pages, cursor = drain(listener, cursor, now + timedelta(seconds=1))
    assert [p.native_id for p in pages[0].posts] == ["1004"]
    assert all(p.created_at < now + timedelta(seconds=1) for p in pages[0].posts)


def test_malformed_lines_are_quarantined_with_line_numbers_and_the_rest_goes_on(tmp_path):
    lines = [
        json.dumps(record(0)),
        '{"id": "1001", "text": "cut in the mid',
        json.dumps({k: v for k, v in record(2).items() if k != "text"}),
        json.dumps(record(3, created_at="le 3 mars")),
        json.dumps(record(4, author={"followers": "many"})),
        json.dumps(record(5, text=42)),
        "[1, 2]",
        "",
        json.dumps(record(8, engagement={"likes": -1})),
        json.dumps(record(9, id=True)),
        json.dumps(record(10)),
    ]
    path = write_lines(tmp_path / "mixed.jsonl", lines)
    pages, cursor = drain(ReplayListener(path), None, T0 + timedelta(days=1))
    posts = [p for page in pages for p in page.posts]
    rejected = [r for page in pages for r in page.rejected]
    assert [p.native_id for p in posts] == ["1000", "1010"]
    by_line = {r.context["line"]: r for r in rejected}
    assert sorted(by_line) == [2, 3, 4, 5, 6, 7, 9, 10]
    assert all(r.context["file"] == "mixed.jsonl" for r in rejected)
    assert "invalid JSON" in by_line[2].reason
    assert by_line[2].record == lines[1]  # the raw line is kept whole: nothing is lost
    assert "missing required field 'text'" in by_line[3].reason
    assert "created_at" in by_line[4].reason and "ISO-8601" in by_line[4].reason
    assert "author.followers" in by_line[5].reason
    assert "'text' must be a string" in by_line[6].reason
    assert "JSON object" in by_line[7].reason
    assert "engagement.likes" in by_line[9].reason
    assert "'id'" in by_line[10].reason
    assert cursor == {"offset": path.stat().st_size, "line": 12}


def test_windows_line_endings_and_a_bom_are_read(tmp_path):
    path = tmp_path / "win.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + b"\r\n".join(json.dumps(record(i)).encode() for i in range(3)) + b"\r\n")
    pages, cursor = drain(ReplayListener(path), None, T0 + timedelta(hours=1))
    assert [p.native_id for p in pages[0].posts] == ["1000", "1001", "1002"] and not pages[0].rejected
    assert cursor["offset"] == path.stat().st_size


def test_ids_are_stable_and_fields_mapped(tmp_path):
    rec = record(0, url="https://x.example/a/status/1000", lang="fr", parent_id=999, thread_id="998",
                 author={"id": "u1", "handle": "a", "name": "A", "followers": 12, "verified": True},
                 engagement={"likes": 3, "reposts": 1, "views": 40})
    plain = {"id": 77, "text": "no source", "created_at": "2026-03-02T07:00:00"}  # int id, naive time = UTC
    path = write_lines(tmp_path / "p.jsonl", [json.dumps(rec), json.dumps(plain)])
    first = [p for page in drain(ReplayListener(path), None, T0 + timedelta(hours=1))[0] for p in page.posts]
    again = [p for page in drain(ReplayListener(path), None, T0 + timedelta(hours=1))[0] for p in page.posts]
    assert [p.id for p in first] == [p.id for p in again] == ["x:1000", "replay:77"]
    post = first[0]
    assert (post.source, post.lang, post.url) == ("x", "fr", "https://x.example/a/status/1000")
    assert (post.parent_id, post.thread_id) == ("x:999", "x:998")
    assert post.author.followers == 12 and post.author.verified is True and post.author.handle == "a"
    assert post.engagement.likes == 3 and post.engagement.quotes is None and post.engagement.views == 40
    assert post.raw_ref == "p.jsonl:1"
    assert first[1].created_at == datetime(2026, 3, 2, 7, 0, tzinfo=timezone.utc)


def test_from_config_resolves_path_against_the_config_file(tmp_path):
    write_posts(tmp_path / "posts.jsonl", 3)
    config = config_from_dict(
        {"topics": [{"id": "b", "name": "B", "query": "b"}],
         "sources": {"demo": {"type": "replay", "path": "posts.jsonl"}}},
        tmp_path / "vigie.yml",
    )
    listener = ReplayListener.from_config("demo", config.sources["demo"])
    assert listener.name == "demo" and listener.path == (tmp_path / "posts.jsonl").resolve()
    pages, _ = drain(listener, None, T0 + timedelta(hours=1))
    assert len(pages[0].posts) == 3


def test_missing_file_and_stale_cursor_are_source_errors(tmp_path):
    with pytest.raises(SourceError, match="cannot open"):
        drain(ReplayListener(tmp_path / "nope.jsonl"), None, T0)
    path = write_posts(tmp_path / "p.jsonl", 3)
    listener = ReplayListener(path)
    with pytest.raises(SourceError, match="past the end"):
        drain(listener, {"offset": 10_000, "line": 9}, T0 + timedelta(hours=1))
    with pytest.raises(SourceError, match="not at a line start"):
        drain(listener, {"offset": 5, "line": 2}, T0 + timedelta(hours=1))
    with pytest.raises(SourceError, match="invalid cursor"):
        drain(listener, {"offset": "0"}, T0 + timedelta(hours=1))


def test_bundled_demo_replays_tick_by_tick_exactly_once():
    """The demo's access pattern: one fetch per 5 simulated minutes, resuming from the last cursor."""
    path = ROOT / "samples" / "demo" / "posts.jsonl"
    truth = json.loads((path.parent / "truth.json").read_text(encoding="utf-8"))
    listener = ReplayListener(path)
    start = datetime.fromisoformat(truth["start"].replace("Z", "+00:00"))
    end = datetime.fromisoformat(truth["end"].replace("Z", "+00:00"))
    ids: list[str] = []
    rejected = []
    cursor = None
    now, calls = start, 0
    while now < end + timedelta(minutes=5):
        now += timedelta(minutes=5)
        calls += 1
        for page in listener.fetch(listener.plan([])[0], cursor, now):
            assert all(p.created_at < now for p in page.posts)
            ids += [p.id for p in page.posts]
            rejected += page.rejected
            cursor = page.cursor
    assert calls > 2000
    assert len(ids) == len(set(ids)) == truth["posts"]
    assert len(rejected) == truth["malformed_lines"] == 2
    assert cursor["offset"] == path.stat().st_size


def test_replay_records_relations_and_reads_entities_from_the_text():
    from listeners.replay import RecordError, record_to_post

    base = {"id": "2", "source": "x", "text": "RT #Brivolle https://www.lemonde.fr/a", "created_at": "2026-03-02T10:00:00Z"}
    repost = record_to_post({**base, "relation": "repost", "ref_id": "1"})
    assert (repost.relation, repost.ref_id, repost.parent_id) == ("repost", "x:1", None)
    assert repost.entities.hashtags == ["brivolle"] and repost.entities.domains == ["lemonde.fr"]
    reply = record_to_post({**base, "parent_id": "1"})
    assert (reply.relation, reply.ref_id, reply.parent_id) == ("reply", "x:1", "x:1")
    assert record_to_post(base).relation == "original" and record_to_post(base).ref_id is None
    with pytest.raises(RecordError, match="relation"):
        record_to_post({**base, "relation": "retweet"})


# -- one file, one source per platform, and collector outages ----------------------------------------

def outage_line(source: str, start: datetime, end: datetime, error: str = "network") -> str:
    return json.dumps({"kind": "outage", "source": source, "start": iso(start), "end": iso(end), "error": error,
                       "message": f"{source} API unreachable"})


def test_platform_filters_split_one_file_and_only_catch_all_sources_quarantine(tmp_path):
    lines = [json.dumps(record(i, source="x" if i % 2 else "bluesky")) for i in range(6)]
    path = write_lines(tmp_path / "p.jsonl", lines[:3] + ["{broken"] + lines[3:])
    only_x = ReplayListener(path, platforms=["x"])
    others = ReplayListener(path, skip_platforms=["x"])
    now = T0 + timedelta(hours=1)
    x_pages, _ = drain(only_x, None, now)
    o_pages, _ = drain(others, None, now)
    assert [p.id for pg in x_pages for p in pg.posts] == ["x:1001", "x:1003", "x:1005"]
    assert [p.id for pg in o_pages for p in pg.posts] == ["bluesky:1000", "bluesky:1002", "bluesky:1004"]
    assert sum(len(pg.rejected) for pg in x_pages) == 0  # its platform is unknown: not this source's to report
    assert sum(len(pg.rejected) for pg in o_pages) == 1
    cfg = config_from_dict({"topics": [{"id": "t", "name": "T", "query": "x"}],
                            "sources": {"x": {"type": "replay", "path": str(path), "platforms": ["x"]}},
                            "store": {"type": "sqlite", "path": str(tmp_path / "db")}})
    assert ReplayListener.from_config("x", cfg.sources["x"]).platforms == {"x"}


def test_an_outage_fails_its_platform_source_then_catches_up_and_others_never_notice(tmp_path):
    start, end = T0 + timedelta(minutes=2, seconds=30), T0 + timedelta(minutes=4, seconds=30)
    lines = [json.dumps(record(i, source="x" if i % 2 else "bluesky")) for i in range(7)]
    path = write_lines(tmp_path / "p.jsonl", lines[:3] + [outage_line("x", start, end)] + lines[3:])
    only_x, others = ReplayListener(path, platforms=["x"]), ReplayListener(path, skip_platforms=["x"])
    query = only_x.plan([])[0]
    # Before the outage: the platform's posts flow.
    pages, cursor = drain(only_x, None, T0 + timedelta(minutes=2))
    assert [p.id for pg in pages for p in pg.posts] == ["x:1001"]
    # During it: what was read before the outage line is released, then a network error; the cursor stops
    # before the outage line, so nothing of the gap is consumed.
    got, err = [], None
    try:
        for page in only_x.fetch(query, cursor, T0 + timedelta(minutes=4)):
            got.append(page)
    except SourceError as exc:
        err = exc
    assert err is not None and err.kind == "network" and "x API unreachable" in str(err)
    assert [p.id for pg in got for p in pg.posts] == []
    with pytest.raises(SourceError):
        drain(only_x, cursor, T0 + timedelta(minutes=4, seconds=20))
    # Back: it catches up from its cursor (the posts of the gap arrive late, none is lost or doubled).
    pages, cursor = drain(only_x, cursor, T0 + timedelta(minutes=10))
    assert [p.id for pg in pages for p in pg.posts] == ["x:1003", "x:1005"]
    # The other platforms never stopped.
    pages, _ = drain(others, None, T0 + timedelta(minutes=4))
    assert [p.id for pg in pages for p in pg.posts] == ["bluesky:1000", "bluesky:1002"]
    pages, _ = drain(others, None, T0 + timedelta(minutes=10))
    assert [p.id for pg in pages for p in pg.posts] == ["bluesky:1000", "bluesky:1002", "bluesky:1004", "bluesky:1006"]
    # A source reading every platform is one stream that never fails: it reads past the line.
    pages, _ = drain(ReplayListener(path), None, T0 + timedelta(minutes=4))
    assert len([p for pg in pages for p in pg.posts]) == 4
