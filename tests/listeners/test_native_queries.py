"""Each platform's native search syntax (`listeners/<platform>/native.py`), reached through the platform
registry by `listeners.plan.to_native`: always wider than the topic query (posts are re-checked locally)."""

import pytest

from listeners.plan import native_queries, to_native
from vigie.core.config import Topic


def test_to_native_x_keeps_boolean_syntax_and_relaxes_what_x_lacks() -> None:
    q = '(brivolle OR kettla) AND (rembours* OR arnaque) -"service client" from:bob lang:fr'
    [native] = to_native(q, "x")
    assert native == '((brivolle OR kettla) -"service client" from:bob lang:fr)'
    assert to_native("brivolle NEAR/3 panne -#promo", "x") == ["((brivolle panne) -#promo)"]
    assert to_native("brivolle source:reddit", "x") == []  # cannot match a post from X
    assert to_native("brivolle source:twitter", "x") == ["brivolle"]  # X's former name is X too


def test_to_native_other_platforms() -> None:
    q = '(brivolle OR kettla) AND arnaque -promo from:bob'
    assert to_native(q, "reddit") == ["((brivolle OR kettla) AND arnaque AND NOT promo AND author:bob)"]
    assert to_native(q, "bluesky") == ["brivolle arnaque from:bob", "kettla arnaque from:bob"]  # no OR there
    assert to_native('brivolle OR "#kettla"', "mastodon") == ["#brivolle", "#kettla"]
    assert to_native(q, "feeds") == []
    with pytest.raises(ValueError, match="unknown platform"):
        to_native(q, "myspace")


def test_mentions_filters_and_limits() -> None:
    assert to_native("@brivolle_fr panne", "bluesky") == ["mentions:brivolle_fr panne"]
    assert to_native("@brivolle_fr panne", "x") == ["(@brivolle_fr panne)"]
    assert to_native("@brivolle_fr panne", "reddit") == ["(brivolle_fr AND panne)"]  # no mentions there
    assert to_native("brivolle", "replay") == []
    with pytest.raises(ValueError, match="only filters"):
        to_native("source:x", "x")
    wide = " ".join(f"(a{i} OR b{i})" for i in range(5))  # 2**5 = 32 alternatives without OR
    assert len(to_native(wide, "x")) == 1
    with pytest.raises(ValueError, match="more than 20 searches"):
        to_native(wide, "bluesky")


def test_topics_with_the_same_search_share_one_query_and_a_bad_one_is_skipped() -> None:
    topics = [Topic(id="a", name="A", query="brivolle"), Topic(id="b", name="B", query="Brivolle"),
              Topic(id="c", name="C", query="kettla"), Topic(id="bad", name="Bad", query="(kettla")]
    planned = native_queries(topics, "x", key_prefix="q:")
    assert [(q.key, q.text, q.topic_ids) for q in planned] == [
        ("q:brivolle", "brivolle", ["a"]), ("q:Brivolle", "Brivolle", ["b"]), ("q:kettla", "kettla", ["c"])]
    assert native_queries(topics[:2], "mastodon")[0].topic_ids == ["a", "b"]  # both become #brivolle
