"""`vigie.core.plain.as_plain` returns what `dataclasses.asdict` returns (it replaces it where speed matters:
`Post.to_dict`, called for every post the store writes)."""

from __future__ import annotations

import dataclasses
import json
from collections import OrderedDict, namedtuple
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from vigie.core.models import (
    Analysis,
    Author,
    Crisis,
    Engagement,
    Post,
    PostEntities,
    Sentiment,
    iso,
)
from vigie.core.plain import as_plain

T0 = datetime(2026, 3, 2, 8, 30, tzinfo=timezone.utc)


def _posts() -> list[Post]:
    full = Post(
        id="x:1", source="x", text="Le service client ne répond plus 😡 https://t.co/a @aide", created_at=T0,
        url="https://x.example/1", lang="fr", fetched_at=T0 + timedelta(minutes=2),
        author=Author(id="u1", handle="clara", name="Clara B.", followers=120, verified=False,
                      created_at=T0 - timedelta(days=3)),
        engagement=Engagement(likes=3, reposts=1, replies=0, quotes=None, views=90),
        parent_id="x:0", thread_id="x:0", topic_ids=["acme", "globex"], raw_ref="raw/1.json",
        analysis=Analysis(
            lang="fr", sentiment=Sentiment("neg", -0.81, "trained-fr/abc", {"neg": 0.9, "neu": 0.05, "pos": 0.05}),
            crisis=Crisis(0.35, ["service"], ["service client"]), topic_ids=["acme"], entities=["Acme"],
            near_dup_cluster="x:0", model_versions={"langid": "lingua", "sentiment": "trained"},
            notes=["language from the platform"]),
        relation="reply", ref_id="x:0",
        entities=PostEntities(hashtags=["fail"], mentions=["aide"], links=["https://t.co/a"], domains=["t.co"]),
    )
    bare = Post(id="rss:2", source="rss", text="", created_at=T0)
    lexicon = Post(id="bsky:3", source="bluesky", text="ok", created_at=T0,
                   analysis=Analysis(sentiment=Sentiment("neu", 0.0, "lexicon-fr-en/1")))
    return [full, bare, lexicon]


def test_post_to_dict_is_asdict_with_iso_times():
    for post in _posts():
        expected = dataclasses.asdict(post)
        expected["created_at"], expected["fetched_at"] = iso(post.created_at), iso(post.fetched_at)
        expected["author"]["created_at"] = iso(post.author.created_at)
        got = post.to_dict()
        assert got == expected
        # Same JSON, keys in the same order (the SQLite store compares stored documents as text).
        assert json.dumps(got, ensure_ascii=False) == json.dumps(expected, ensure_ascii=False)
        assert Post.from_dict(json.loads(json.dumps(got))) == post


def test_the_result_shares_no_mutable_part_with_the_record():
    post = _posts()[0]
    data = as_plain(post)
    data["topic_ids"].append("other")
    data["analysis"]["sentiment"]["probs"]["neg"] = 0.0
    data["analysis"]["notes"].clear()
    assert post.topic_ids == ["acme", "globex"]
    assert post.analysis.sentiment.probs["neg"] == 0.9
    assert post.analysis.notes == ["language from the platform"]


Point = namedtuple("Point", "x y")


class Opaque:
    """Not a dataclass nor a container: asdict deep-copies it."""

    def __init__(self, items: list[int]):
        self.items = items

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Opaque) and other.items == self.items


@dataclass
class Inner:
    when: datetime
    tags: tuple[str, ...] = ("a", "b")


@dataclass
class Outer:
    inners: list[Inner]
    by_key: dict[str, Inner]
    pair: tuple[Inner, int]
    point: Point
    ordered: OrderedDict
    opaque: Opaque
    nested: list[dict[str, list[Inner]]] = field(default_factory=list)
    keyed: dict[tuple[int, int], str] = field(default_factory=dict)


def test_containers_of_every_kind_convert_as_asdict_converts_them():
    inner = Inner(T0)
    outer = Outer(inners=[inner, Inner(T0, ())], by_key={"k": inner}, pair=(inner, 2), point=Point(inner, 1),
                  ordered=OrderedDict(b=inner, a=1), opaque=Opaque([1, 2]), nested=[{"x": [inner]}],
                  keyed={(1, 2): "v"})
    got, expected = as_plain(outer), dataclasses.asdict(outer)
    assert got == expected
    assert type(got["point"]) is Point and type(got["ordered"]) is OrderedDict
    assert list(got["ordered"]) == ["b", "a"]
    assert got["opaque"] is not outer.opaque and got["opaque"].items is not outer.opaque.items  # deep copy
    assert as_plain([inner, {"a": inner}]) == [dataclasses.asdict(inner), {"a": dataclasses.asdict(inner)}]


def _document(post: Post) -> str:
    return json.dumps(post.to_dict(), ensure_ascii=False, sort_keys=True)


def test_post_to_json_is_the_json_of_to_dict():
    """`Post.to_json` (the SQLite document) is the text of `json.dumps(to_dict(), ensure_ascii=False,
    sort_keys=True)`: every field set, none set, naive and non-UTC times, control characters, an instance that
    carries an attribute of its own (not a field: left out, as `to_dict` leaves it out)."""
    posts = _posts()
    naive = Post(id="x:4", source="x", text='guillemets " \\ \x00 \u2028 😡', created_at=datetime(2026, 3, 2, 9),
                 fetched_at=datetime(2026, 3, 2, 11, tzinfo=timezone(timedelta(hours=2))),
                 author=Author(created_at=datetime(2020, 1, 1)), topic_ids=[], engagement=Engagement(likes=0))
    extra = Post(id="x:5", source="x", text="ok", created_at=T0, analysis=Analysis())
    extra.scratch = "not a field"  # type: ignore[attr-defined]
    extra.analysis.cache = {"x": 1}  # type: ignore[attr-defined, union-attr]
    for post in [*posts, naive, extra]:
        assert post.to_json() == _document(post)
    for post in posts:  # (naive times come back as UTC-aware ones)
        assert Post.from_dict(json.loads(post.to_json())) == post
    assert "scratch" not in extra.to_json() and "cache" not in extra.to_json()


def test_post_to_json_rejects_what_to_dict_cannot_encode():
    import pytest

    post = _posts()[1]
    post.raw_ref = {1, 2}  # type: ignore[assignment]  # a set: not JSON either way
    with pytest.raises(TypeError):
        _document(post)
    with pytest.raises(TypeError):
        post.to_json()
