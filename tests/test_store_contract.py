"""The store contract (vigie/store/base.py), run against every adapter: SQLite in a temp dir, Elasticsearch
through osmem-server on 127.0.0.1. Detection only talks to this contract, so both must agree exactly."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from vigie.core.models import (
    Alert,
    AlertState,
    Analysis,
    Author,
    Crisis,
    Cursor,
    Delivery,
    Driver,
    Engagement,
    EvidenceItem,
    Level,
    Post,
    PostEntities,
    RiskPoint,
    Sentiment,
)
from vigie.store.base import Store

T0 = datetime(2026, 3, 2, 10, 2, 30, tzinfo=timezone.utc)  # deliberately not on a 5-minute boundary
MIN = timedelta(minutes=1)


@pytest.fixture(params=["sqlite", "elasticsearch"])
def store(request, tmp_path):
    if request.param == "sqlite":
        from vigie.store.sqlite import SqliteStore

        s = SqliteStore(tmp_path / "x.db")
    else:
        from es_fixtures import osmem_client

        from vigie.store.elasticsearch import ElasticsearchStore

        osmem = request.getfixturevalue("es_osmem")
        s = ElasticsearchStore(osmem_client(osmem.url), prefix=request.getfixturevalue("es_prefix"))
    yield s
    s.close()


def make_post(
    native: str,
    at: datetime,
    *,
    topic: str = "acme",
    source: str = "x",
    label: str = "neu",
    followers: int | None = 10,
    likes: int = 0,
    reposts: int = 0,
    author: str | None = None,
    categories: tuple[str, ...] = (),
    risk: float = 0.0,
    dup: str | None = None,
    text: str | None = None,
    analysed: bool = True,
    relation: str = "original",
    ref: str | None = None,
) -> Post:
    analysis = None
    if analysed:
        analysis = Analysis(
            lang="fr",
            sentiment=Sentiment(label, {"neg": -0.8, "neu": 0.0, "pos": 0.7}[label], "lexicon-fr@1"),
            crisis=Crisis(risk=risk, categories=list(categories), terms=[f"t-{c}" for c in categories]),
            topic_ids=[topic],
            entities=["Acme"],
            near_dup_cluster=dup,
            model_versions={"sentiment": "lexicon-fr@1"},
        )
    return Post(
        id=f"{source}:{native}",
        source=source,
        text=text if text is not None else f"Message {native} à propos d'Acme",
        created_at=at,
        url=f"https://example.org/{native}",
        lang="fr",
        fetched_at=at + MIN,
        author=Author(id=author or f"u-{native}", handle=f"@{author or native}", name="Camille", followers=followers),
        engagement=Engagement(likes=likes, reposts=reposts, replies=0, quotes=0, views=100),
        topic_ids=[topic],
        analysis=analysis,
        relation=relation,
        ref_id=ref,
    )


def test_adapter_satisfies_protocol(store):
    assert isinstance(store, Store)


# -- posts ----------------------------------------------------------------------------------------

def test_upsert_is_idempotent_and_counts_updates(store):
    a, b = make_post("1", T0), make_post("2", T0 + MIN)
    first = store.upsert_posts([a, b])
    assert (first.inserted, first.updated, first.quarantined) == (2, 0, 0)
    again = store.upsert_posts([a, b])
    assert (again.inserted, again.updated) == (0, 0)
    assert store.count_posts() == 2

    changed = make_post("1", T0, likes=40, text="Message 1 modifié")
    res = store.upsert_posts([changed])
    assert (res.inserted, res.updated) == (0, 1)
    assert store.count_posts() == 2
    got = store.get_post("x:1")
    assert got is not None and got.text == "Message 1 modifié" and got.engagement.likes == 40


def test_same_post_twice_in_one_batch_makes_one_document(store):
    res = store.upsert_posts([make_post("1", T0, likes=1), make_post("1", T0, likes=2)])
    assert res.inserted == 1
    assert store.count_posts() == 1
    assert store.get_post("x:1").engagement.likes == 2  # the last version wins


def test_post_roundtrips_exactly(store):
    post = make_post("rt", T0 + timedelta(microseconds=123456), label="neg", categories=("legal",), dup="c1")
    post.parent_id, post.thread_id, post.raw_ref = "x:parent", "x:thread", "raw/x/rt.json"
    post.analysis.notes = ["lang from platform"]
    post.relation, post.ref_id = "quote", "x:quoted"
    post.author.created_at = T0 - timedelta(days=3, microseconds=5)
    post.entities = PostEntities(hashtags=["boycottacme"], mentions=["acme_fr"], links=["https://www.lemonde.fr/a"],
                                 domains=["lemonde.fr"])
    store.upsert_posts([post])
    assert store.get_post(post.id) == post
    assert store.get_post("x:missing") is None


def test_reposts_are_amplification_not_posts(store):
    """A repost is left out of every count of posts (count, negative, authors, sources, copy clusters) and of
    the top posts; its reach is credited, and counted in `reposts` / `repost_reach`."""
    original = make_post("o", T0, label="neg", followers=1000, likes=50, categories=("boycott",), dup="c1")
    reposts = [make_post(f"r{i}", T0 + MIN, label="neg", followers=200, likes=50, categories=("boycott",),
                         dup="c1", relation="repost", ref="x:o") for i in range(3)]
    quote = make_post("q", T0 + 2 * MIN, label="pos", followers=10, relation="quote", ref="x:o")
    store.upsert_posts([original, *reposts, quote])
    [b] = store.series("acme", T0, T0 + 5 * MIN, 5 * MIN)
    assert (b.count, b.negative, b.positive, b.authors) == (2, 1, 1, 2)
    assert (b.reposts, b.repost_reach) == (3, 600)
    assert (b.reach, b.negative_reach) == (1000 + 600 + 10, 1000 + 600)
    assert b.engagement == 50 and b.negative_engagement == 50  # a retweet reports its original's metrics
    assert b.crisis_terms == 1 and b.crisis_categories == {"boycott": 1} and b.sources == {"x": 2}
    assert b.max_dup_cluster == 1  # three retweets of a post are not a copy-paste campaign
    for by in ("engagement", "reach", "negative", "crisis", "recent"):
        assert {p.id for p in store.top_posts("acme", T0, T0 + 5 * MIN, by=by, limit=10)} <= {"x:o", "x:q"}
    assert len(store.posts("acme")) == 5  # still stored and readable (export, notebooks)


def test_iter_posts_pages_like_posts(store):
    # Ties on created_at across page boundaries: the (created_at, id) keyset must neither skip nor repeat.
    posts = [make_post(f"{i:03d}", T0 + (i // 4) * MIN, topic="acme" if i % 5 else "other") for i in range(37)]
    store.upsert_posts(posts)
    for topic, start, end in (("acme", None, None), ("acme", T0 + 2 * MIN, T0 + 7 * MIN), (None, T0 + MIN, None)):
        want = [p.id for p in store.posts(topic, start, end)]
        for size in (1, 3, 4, 1000):
            assert [p.id for p in store.iter_posts(topic, start, end, page_size=size)] == want
    assert list(store.iter_posts("nobody")) == []


def test_unanalysed_post_counts_for_the_topics_it_was_fetched_for(store):
    store.upsert_posts([make_post("raw", T0, analysed=False, topic="acme")])
    assert store.count_posts("acme") == 1
    assert store.get_post("x:raw").analysis is None


def test_count_posts_by_topic(store):
    store.upsert_posts([make_post("1", T0), make_post("2", T0, topic="other"), make_post("3", T0 + MIN)])
    assert store.count_posts() == 3
    assert store.count_posts("acme") == 2
    assert store.count_posts("other") == 1
    assert store.count_posts("nobody") == 0


def test_posts_range_is_start_inclusive_end_exclusive_and_ordered(store):
    posts = [make_post(str(i), T0 + i * MIN) for i in range(6)] + [make_post("o", T0 + 2 * MIN, topic="other")]
    store.upsert_posts(list(reversed(posts)))
    got = store.posts("acme", T0 + MIN, T0 + 4 * MIN)
    assert [p.id for p in got] == ["x:1", "x:2", "x:3"]
    assert [p.id for p in store.posts("acme", limit=2)] == ["x:0", "x:1"]
    assert len(store.posts(None)) == 7
    assert [p.id for p in store.posts(None, T0 + 2 * MIN, T0 + 3 * MIN)] == ["x:2", "x:o"]
    assert store.posts("acme", T0 + 10 * MIN) == []


def test_posts_pages_past_one_thousand(store):
    posts = [make_post(f"{i:05d}", T0 + i * timedelta(seconds=1)) for i in range(1234)]
    store.upsert_posts(posts)
    got = store.posts("acme")
    assert len(got) == 1234
    assert got[0].id == "x:00000" and got[-1].id == "x:01233"
    assert len(store.posts("acme", limit=1100)) == 1100


# -- series ---------------------------------------------------------------------------------------

def test_series_buckets_are_aligned_on_start_with_empty_buckets(store):
    bucket = timedelta(minutes=5)
    store.upsert_posts(
        [
            make_post("before", T0 - timedelta(seconds=1)),
            make_post("at-start", T0),
            make_post("b0-end", T0 + bucket - timedelta(seconds=1)),
            make_post("b2", T0 + 2 * bucket + MIN),
            make_post("b5", T0 + 5 * bucket + 4 * MIN),
            make_post("at-end", T0 + 6 * bucket),
            make_post("other-topic", T0 + MIN, topic="other"),
        ]
    )
    series = store.series("acme", T0, T0 + 6 * bucket, bucket)
    assert [b.start for b in series] == [T0 + i * bucket for i in range(6)]
    assert [b.count for b in series] == [2, 0, 1, 0, 0, 1]
    assert all(b.topic_id == "acme" for b in series)
    empty = series[1]
    assert (empty.negative, empty.reach, empty.authors, empty.sources, empty.max_dup_cluster) == (0, 0, 0, {}, 0)
    assert store.series("acme", T0, T0, bucket) == []


def test_series_aggregates(store):
    bucket = timedelta(minutes=10)
    store.upsert_posts(
        [
            make_post("n1", T0, label="neg", followers=1000, likes=5, reposts=1, author="ann",
                      categories=("legal", "boycott"), risk=0.9, dup="c1", source="x"),
            make_post("n2", T0 + MIN, label="neg", followers=200, likes=1, author="ann",
                      categories=("legal",), risk=0.5, dup="c1", source="reddit"),
            make_post("n3", T0 + 2 * MIN, label="neg", followers=None, author="bob", dup="c2", source="x"),
            make_post("p1", T0 + 3 * MIN, label="pos", followers=50, likes=10, author="cat", source="x"),
            make_post("u1", T0 + 4 * MIN, label="neu", followers=7, author="dan", dup="c2", source="mastodon"),
            make_post("u2", T0 + 5 * MIN, label="neu", followers=3, author="dan", dup="c1", source="x"),
            make_post("next", T0 + bucket + MIN, label="neg", followers=1, author="eve", categories=("safety",)),
        ]
    )
    first, second = store.series("acme", T0, T0 + 2 * bucket, bucket)
    assert first.count == 6
    assert (first.negative, first.positive) == (3, 1)
    assert first.reach == 1000 + 200 + 0 + 50 + 7 + 3
    assert first.negative_reach == 1200
    assert first.engagement == 6 + 1 + 0 + 10 + 0 + 0
    assert first.negative_engagement == 6 + 1 + 0  # n1, n2, n3: the positive post's 10 likes are not in it
    assert first.authors == 4  # ann, bob, cat, dan
    assert first.crisis_terms == 2
    assert first.crisis_categories == {"legal": 2, "boycott": 1}
    assert first.sources == {"x": 4, "reddit": 1, "mastodon": 1}
    assert first.max_dup_cluster == 3  # c1
    assert first.negative_share == pytest.approx(0.5)
    assert (second.count, second.negative, second.crisis_categories, second.max_dup_cluster) == (1, 1, {"safety": 1}, 0)


def _random_posts(rng, n: int, prefix: str, span: timedelta) -> list[Post]:
    """Whole-second timestamps: both adapters index them exactly (SQLite float seconds, ES milliseconds)."""
    return [
        make_post(
            f"{prefix}-{i}", T0 + timedelta(seconds=rng.randrange(int(span.total_seconds()))),
            topic=rng.choice(["acme", "acme", "globex"]), source=rng.choice(["x", "reddit", "mastodon"]),
            label=rng.choice(["neg", "neu", "pos"]), followers=rng.choice([None, 0, rng.randrange(10**5)]),
            likes=rng.randrange(50), reposts=rng.randrange(5), author=f"a{rng.randrange(30)}",
            categories=tuple(rng.sample(["legal", "safety", "fraud", "boycott"], rng.randrange(3))),
            risk=round(rng.random(), 3), dup=rng.choice([None, None, "c1", "c2", "c3"]),
            analysed=rng.random() > 0.1,
        )
        for i in range(n)
    ]


def _recompute_series(posts: list[Post], topic: str, start: datetime, end: datetime, bucket: timedelta):
    """What `series` means, spelled out post by post (the reference the adapters' aggregations must match)."""
    from collections import Counter

    from vigie.core.models import Bucket

    out, t = [], start
    while t < end:
        out.append(Bucket(topic_id=topic, start=t))
        t += bucket
    authors: list[set] = [set() for _ in out]
    dups: list[Counter] = [Counter() for _ in out]
    for post in posts:
        i = (post.created_at - start) // bucket
        b, a = out[i], post.analysis
        label = a.sentiment.label if a else None
        b.count += 1
        b.reach += post.reach
        b.engagement += post.engagement.total
        if label == "neg":
            b.negative += 1
            b.negative_reach += post.reach
            b.negative_engagement += post.engagement.total
        b.positive += label == "pos"
        key = post.author.id or post.author.handle
        if key is not None:
            authors[i].add(key)
        if a and a.crisis.categories:
            b.crisis_terms += 1
            for category in a.crisis.categories:
                b.crisis_categories[category] = b.crisis_categories.get(category, 0) + 1
        b.sources[post.source] = b.sources.get(post.source, 0) + 1
        if a and a.near_dup_cluster is not None:
            dups[i][a.near_dup_cluster] += 1
    for b, who, clusters in zip(out, authors, dups):
        b.authors = len(who)
        b.max_dup_cluster = max(clusters.values(), default=0)
    return out


@pytest.mark.parametrize("seed", [11, 12])
def test_series_matches_a_post_by_post_recomputation(store, seed):
    import random

    rng = random.Random(seed)
    store.upsert_posts(_random_posts(rng, 400, str(seed), timedelta(hours=3)))
    for topic in ("acme", "globex", "nobody"):
        for minutes in (1, 7, 30):
            start = T0 + timedelta(seconds=rng.randrange(-300, 300))
            end = start + timedelta(minutes=rng.choice([60, 150, 200]))
            bucket = timedelta(minutes=minutes)
            want = _recompute_series(store.posts(topic, start, end), topic, start, end, bucket)
            got = store.series(topic, start, end, bucket)
            assert len(got) == len(want)
            for g, w in zip(got, want):
                assert g == w, f"{topic} bucket {w.start} ({minutes} min)"


# -- top posts ------------------------------------------------------------------------------------

@pytest.fixture
def ranked(store):
    store.upsert_posts(
        [
            make_post("viral", T0, label="pos", followers=10, likes=500),
            make_post("big", T0 + MIN, label="neu", followers=90000, likes=2),
            make_post("angry", T0 + 2 * MIN, label="neg", followers=5000, likes=30, categories=("fraud",), risk=0.4),
            make_post("furious", T0 + 3 * MIN, label="neg", followers=100, likes=3, categories=("safety",), risk=0.95),
            make_post("late", T0 + 4 * MIN, label="neu", followers=1, likes=0),
            make_post("outside", T0 + 30 * MIN, label="neg", followers=10**6, likes=10**4),
            make_post("elsewhere", T0, label="neg", followers=10**6, likes=10**4, topic="other"),
        ]
    )
    return store


@pytest.mark.parametrize(
    "by, expected",
    [
        ("engagement", ["x:viral", "x:angry", "x:furious"]),
        ("reach", ["x:big", "x:angry", "x:furious"]),
        ("negative", ["x:angry", "x:furious"]),  # only negative posts, by engagement + reach/100
        ("crisis", ["x:furious", "x:angry", "x:viral"]),
        ("recent", ["x:late", "x:furious", "x:angry"]),
    ],
)
def test_top_posts(ranked, by, expected):
    got = ranked.top_posts("acme", T0, T0 + 10 * MIN, by=by, limit=3)
    assert [p.id for p in got] == expected


def test_negative_posts_rank_by_p_neg_band_then_by_travel(store):
    def scored(native: str, p_neg: float, followers: int, likes: int = 0) -> Post:
        post = make_post(native, T0, label="neg", followers=followers, likes=likes)
        rest = (1 - p_neg) / 2
        post.analysis.sentiment = Sentiment("neg", rest - p_neg, "trained-fr/x", probs={"neg": p_neg, "neu": rest, "pos": rest})
        return post

    store.upsert_posts([
        scored("sure-small", 0.97, followers=10),
        scored("sure-big", 0.93, followers=50_000, likes=100),
        scored("unsure-huge", 0.55, followers=10**6, likes=10**4),
        scored("middling", 0.71, followers=100),
        make_post("lexicon", T0, label="neg", followers=1),  # no probabilities: counted as certain (band 1.0)
        make_post("happy", T0, label="pos", followers=10**6),
    ])
    got = [p.id for p in store.top_posts("acme", T0, T0 + MIN, by="negative", limit=10)]
    assert got == ["x:lexicon", "x:sure-big", "x:sure-small", "x:middling", "x:unsure-huge"]
    assert store.get_post("x:middling").analysis.sentiment.probs == {"neg": 0.71, "neu": (1 - 0.71) / 2, "pos": (1 - 0.71) / 2}


def test_top_posts_rejects_unknown_ranking(ranked):
    with pytest.raises(ValueError, match="unknown ranking"):
        ranked.top_posts("acme", T0, T0 + MIN, by="loudness")


# -- cursors --------------------------------------------------------------------------------------

def test_cursor_roundtrip_and_update(store):
    assert store.get_cursor("reddit", "acme OR Acme") is None
    cur = Cursor("reddit", "acme OR Acme", {"after": "t3_abc", "seen": [1, 2], "etag": None}, T0)
    store.set_cursor(cur)
    assert store.get_cursor("reddit", "acme OR Acme") == cur
    store.set_cursor(Cursor("reddit", "acme OR Acme", {"after": "t3_def"}, T0 + MIN))
    store.set_cursor(Cursor("reddit", "other", {"after": "t3_zzz"}, T0))
    got = store.get_cursor("reddit", "acme OR Acme")
    assert got.value == {"after": "t3_def"} and got.updated_at == T0 + MIN
    assert store.get_cursor("reddit", "other").value == {"after": "t3_zzz"}
    assert store.get_cursor("x", "acme OR Acme") is None


def test_update_cursor_folds_a_change_into_the_stored_value(store):
    seen = []

    def count(value):
        seen.append(value)
        return {"n": (value or {}).get("n", 0) + 1}

    assert store.update_cursor("health", "reddit", count, updated_at=T0) == {"n": 1}
    assert seen == [None]  # no cursor yet: the change starts from nothing
    assert store.update_cursor("health", "reddit", count, updated_at=T0 + MIN) == {"n": 2}
    got = store.get_cursor("health", "reddit")
    assert got.value == {"n": 2} and got.updated_at == T0 + MIN
    assert store.get_cursor("health", "other") is None
    with pytest.raises(ZeroDivisionError):  # a change that fails writes nothing
        store.update_cursor("health", "reddit", lambda v: {"n": 1 / 0})
    assert store.get_cursor("health", "reddit").value == {"n": 2}


# -- alerts ---------------------------------------------------------------------------------------

def make_alert(topic: str, opened: datetime, level: Level = Level.WARNING, risk: float = 62.0) -> Alert:
    key = Alert.make_dedup_key(topic, opened)
    return Alert(
        id=Alert.make_id(key),
        dedup_key=key,
        topic_id=topic,
        level=level,
        risk=risk,
        opened_at=opened,
        updated_at=opened,
        drivers=[Driver("negative_volume", 30.0, 42.0, 5.0, "42 negative posts vs 5 usual")],
        evidence=[EvidenceItem(id="x:1", text="<b>scam</b>", url="https://example.org/1")],
        deliveries=[Delivery("slack_webhook", "open", "sent", 1, "ts-1", None, opened)],
        links={"kibana": "https://kibana.example/app/dashboards"},
    )


def test_alerts_save_update_open_and_history(store):
    a = make_alert("acme", T0)
    b = make_alert("acme", T0 + 60 * MIN, level=Level.CRISIS, risk=88.0)
    c = make_alert("globex", T0 + 30 * MIN)
    for alert in (a, b, c):
        store.save_alert(alert)
    assert store.get_alert(a.id) == a
    assert store.get_alert(a.dedup_key) == a
    assert store.get_alert("nope") is None
    assert [x.id for x in store.open_alerts()] == [a.id, c.id, b.id]
    assert [x.id for x in store.open_alerts("acme")] == [a.id, b.id]

    a.state, a.resolved_at, a.updated_at = AlertState.RESOLVED, T0 + 90 * MIN, T0 + 90 * MIN
    a.deliveries.append(Delivery("slack_webhook", "resolve", "sent", 1, "ts-2", None, T0 + 90 * MIN))
    store.save_alert(a)  # same dedup_key: replaces, never duplicates
    assert store.get_alert(a.id) == a
    assert [x.id for x in store.open_alerts("acme")] == [b.id]
    assert [x.id for x in store.alert_history("acme")] == [a.id, b.id]
    assert [x.id for x in store.alert_history()] == [a.id, c.id, b.id]
    assert [x.id for x in store.alert_history(since=T0 + 30 * MIN)] == [c.id, b.id]
    assert store.alert_history("nobody") == []


def _alert_with_key(topic: str, opened: datetime, suffix: str, state: AlertState = AlertState.OPEN) -> Alert:
    """A second episode opened in the same second (another dedup key): only `id` orders the two."""
    alert = make_alert(topic, opened)
    alert.dedup_key = f"{alert.dedup_key}:{suffix}"
    alert.id = Alert.make_id(alert.dedup_key)
    alert.state = state
    return alert


def test_last_alert_is_the_newest_by_opened_at_then_id(store):
    assert store.last_alert("acme") is None
    first, newest, middle = make_alert("acme", T0), make_alert("acme", T0 + 60 * MIN), make_alert("acme", T0 + 30 * MIN)
    later_elsewhere = make_alert("globex", T0 + 90 * MIN)
    for alert in (first, newest, middle, later_elsewhere):  # saved out of order
        store.save_alert(alert)
    assert store.last_alert("acme") == newest
    assert store.last_alert("globex") == later_elsewhere
    assert store.last_alert("nobody") is None
    assert store.last_alert("nobody", AlertState.RESOLVED) is None

    twins = sorted([_alert_with_key("acme", T0 + 60 * MIN, s) for s in ("a", "b", "c")], key=lambda a: a.id)
    for alert in twins:
        store.save_alert(alert)
    assert store.last_alert("acme").id == max([newest.id] + [a.id for a in twins])


def test_last_alert_by_state_follows_re_saved_alerts(store):
    older, newer = make_alert("acme", T0), make_alert("acme", T0 + 60 * MIN, level=Level.CRISIS)
    store.save_alert(older)
    store.save_alert(newer)
    assert store.last_alert("acme", AlertState.OPEN) == newer
    assert store.last_alert("acme", AlertState.ESCALATED) is None
    assert store.last_alert("acme", AlertState.RESOLVED) is None

    newer.state = AlertState.ESCALATED
    store.save_alert(newer)  # same dedup_key: the state moves, the alert is not duplicated
    assert store.last_alert("acme", AlertState.OPEN) == older
    assert store.last_alert("acme", AlertState.ESCALATED) == newer

    newer.state, newer.resolved_at = AlertState.RESOLVED, T0 + 120 * MIN
    store.save_alert(newer)
    assert store.last_alert("acme", AlertState.ESCALATED) is None
    assert store.last_alert("acme", AlertState.RESOLVED) == newer
    assert store.last_alert("acme", AlertState.OPEN) == older
    assert store.last_alert("acme") == newer  # no filter: whatever its state
    assert store.last_alert("acme", "resolved") == newer  # AlertState is a str enum: its value works too


@pytest.mark.parametrize("seed", [1, 2])
def test_detection_lookup_matches_open_alerts_and_history(store, seed):
    """The pipeline's per-bucket lookup (two `last_alert` reads) must pick exactly what it picked when it
    read `open_alerts(topic)[-1]` and the last resolved alert of `alert_history(topic)`."""
    import random

    from vigie.pipeline.steps import _current_and_last_resolved

    rng = random.Random(seed)
    for i in range(40):
        opened = T0 + rng.randrange(12) * 30 * MIN  # few distinct times: many ties, settled by id
        store.save_alert(_alert_with_key(rng.choice(["acme", "globex"]), opened, str(i), rng.choice(list(AlertState))))
    for topic in ("acme", "globex", "nobody"):
        unresolved = store.open_alerts(topic)
        resolved = [a for a in store.alert_history(topic) if a.state == AlertState.RESOLVED]
        want = (unresolved[-1] if unresolved else None, resolved[-1] if resolved else None)
        assert _current_and_last_resolved(store, topic) == want


# -- quarantine -----------------------------------------------------------------------------------

def test_quarantine_keeps_records_once(store):
    assert store.quarantine("reddit", {"id": "t3_x", "title": None}, "missing title", {"query": "acme"}) is True
    assert store.quarantine("reddit", {"id": "t3_x", "title": None}, "missing title", {"query": "acme"}) is False
    assert store.quarantine("reddit", {"id": "t3_x", "title": None}, "another reason", {"query": "acme"}) is True
    assert store.quarantine("feeds", b"<rss><broken", "not XML") is True
    all_rows = store.quarantined()
    assert len(all_rows) == 3
    feeds = store.quarantined("feeds")
    assert len(feeds) == 1
    assert feeds[0].record == "<rss><broken" and feeds[0].reason == "not XML" and feeds[0].at is not None
    reddit = store.quarantined("reddit")
    assert {q.reason for q in reddit} == {"missing title", "another reason"}
    assert reddit[0].context == {"query": "acme"}
    assert '"t3_x"' in reddit[0].record


# -- retention ------------------------------------------------------------------------------------

def test_purge_removes_old_posts_only(store):
    cutoff = T0 + 60 * MIN
    old = [make_post(f"old{i}", T0 + i * 7 * MIN, label="neg", likes=100 + i) for i in range(5)]
    old.append(make_post("old-other", T0, topic="other"))
    at_cutoff = make_post("at-cutoff", cutoff, likes=1)  # `before` is exclusive: kept
    new = [at_cutoff, make_post("new1", cutoff + 5 * MIN, label="neg", likes=2), make_post("new2", cutoff + 61 * MIN)]
    store.upsert_posts(old + new)
    store.save_alert(make_alert("acme", T0))
    store.set_cursor(Cursor("x", "acme", {"since_id": "9"}, T0))
    store.quarantine("x", {"id": "bad"}, "missing text")
    assert store.count_posts() == 9

    assert store.purge(cutoff) == 6
    assert store.count_posts() == 3
    assert store.count_posts("acme") == 3 and store.count_posts("other") == 0
    assert [p.id for p in store.posts(None)] == [p.id for p in new]
    assert store.get_post("x:old0") is None and store.get_post("x:at-cutoff") == at_cutoff
    series = store.series("acme", T0, cutoff + 2 * 60 * MIN, 60 * MIN)
    assert [b.count for b in series] == [0, 2, 1]
    assert series[0].engagement == 0 and series[1].negative == 1
    assert [p.id for p in store.top_posts("acme", T0, cutoff + 2 * 60 * MIN, by="engagement")] == \
           ["x:new1", "x:at-cutoff", "x:new2"]
    # Alerts, cursors and quarantine are an audit trail: retention never touches them.
    assert [a.dedup_key for a in store.alert_history()] == [make_alert("acme", T0).dedup_key]
    assert store.get_cursor("x", "acme").value == {"since_id": "9"}
    assert len(store.quarantined()) == 1

    assert store.purge(cutoff) == 0  # idempotent: the next maintenance run finds nothing more
    assert store.count_posts() == 3


def test_purge_of_an_empty_store_or_before_everything_removes_nothing(store):
    assert store.purge(T0) == 0
    store.upsert_posts([make_post("1", T0)])
    assert store.purge(T0) == 0
    assert store.count_posts() == 1


# -- both adapters agree on random data -------------------------------------------------------------

@pytest.mark.parametrize("seed", [1, 2, 3])
def test_adapters_agree_on_random_data(seed, tmp_path, request):
    """Detection must run the same on SQLite and Elasticsearch: same buckets, same rankings."""
    import random

    from es_fixtures import osmem_client

    from vigie.store.elasticsearch import ElasticsearchStore
    from vigie.store.sqlite import SqliteStore

    rng = random.Random(seed)
    posts = []
    for i in range(250):
        posts.append(make_post(
            f"{seed}-{i}", T0 + timedelta(seconds=rng.randrange(4 * 3600)),
            topic=rng.choice(["acme", "acme", "globex"]), source=rng.choice(["x", "reddit", "mastodon"]),
            label=rng.choice(["neg", "neu", "pos"]), followers=rng.choice([None, 0, rng.randrange(10**6)]),
            likes=rng.randrange(50), reposts=rng.randrange(5), author=f"a{rng.randrange(40)}",
            categories=tuple(rng.sample(["legal", "safety", "fraud", "boycott"], rng.randrange(3))),
            risk=round(rng.random(), 3), dup=rng.choice([None, None, "c1", "c2", "c3"]),
            analysed=rng.random() > 0.1,
            relation=rng.choice(["original", "original", "repost", "quote", "reply"]),
        ))
    sq = SqliteStore(tmp_path / "x.db")
    es = ElasticsearchStore(osmem_client(request.getfixturevalue("es_osmem").url),
                            prefix=request.getfixturevalue("es_prefix"))
    try:
        for store in (sq, es):
            store.upsert_posts(posts)
        for topic in ("acme", "globex"):
            assert es.count_posts(topic) == sq.count_posts(topic)
            for minutes in (1, 7, 30, 60):
                start = T0 + timedelta(seconds=rng.randrange(-600, 600))
                end = start + timedelta(hours=rng.choice([1, 3, 5]))
                bucket = timedelta(minutes=minutes)
                assert es.series(topic, start, end, bucket) == sq.series(topic, start, end, bucket)
            for by in ("engagement", "reach", "negative", "crisis", "recent"):
                want = [p.id for p in sq.top_posts(topic, T0, T0 + timedelta(hours=2), by=by, limit=10)]
                assert [p.id for p in es.top_posts(topic, T0, T0 + timedelta(hours=2), by=by, limit=10)] == want
            assert [p.id for p in es.posts(topic, T0 + timedelta(hours=1))] == \
                   [p.id for p in sq.posts(topic, T0 + timedelta(hours=1))]
            assert [p.id for p in es.iter_posts(topic, T0, page_size=7)] == \
                   [p.id for p in sq.iter_posts(topic, T0, page_size=7)]
    finally:
        sq.close()
        es.close()


# -- risk points ----------------------------------------------------------------------------------

def settled(store):
    """Risk points are written without waiting for a refresh (nothing in the pipeline reads them back):
    on Elasticsearch they are searchable after the next refresh, which a reader forces here."""
    refresh = getattr(store, "refresh", None)
    if refresh is not None:
        refresh()
    return store


def risk_point(topic: str, at: datetime, risk: float, **drivers: float) -> RiskPoint:
    level = Level.CRISIS if risk >= 75 else Level.WARNING if risk >= 55 else Level.WATCH if risk >= 35 else None
    return RiskPoint(topic, at, risk, level, dict(drivers), ["cold start: 3 h of history"] if risk < 1 else [])


def test_risk_points_round_trip_in_order_and_by_topic(store):
    points = [risk_point("acme", T0 + i * 5 * MIN, r, negative_volume=r * 0.6, reach=r * 0.2)
              for i, r in enumerate([0.0, 12.5, 40.0, 80.0])]
    store.save_risk(list(reversed(points)) + [risk_point("other", T0, 99.0)])
    got = settled(store).risk_series("acme", T0, T0 + 20 * MIN)
    assert got == points  # oldest first, level, drivers and notes intact
    assert store.risk_series("acme", T0 + 5 * MIN, T0 + 15 * MIN) == points[1:3]  # [start, end)
    assert [p.risk for p in store.risk_series("other", T0, T0 + MIN)] == [99.0]
    assert store.risk_series("nobody", T0, T0 + 60 * MIN) == []
    store.save_risk([])  # nothing to write is not an error


def test_risk_points_are_idempotent_per_topic_and_bucket(store):
    store.save_risk([risk_point("acme", T0, 20.0, negative_volume=20.0)])
    store.save_risk([risk_point("acme", T0, 60.0, negative_volume=40.0, crisis_terms=20.0)])  # re-assessed
    (point,) = settled(store).risk_series("acme", T0, T0 + MIN)
    assert point.risk == 60.0 and point.level == Level.WARNING
    assert point.drivers == {"negative_volume": 40.0, "crisis_terms": 20.0}


def test_purge_drops_old_risk_points_too(store):
    store.save_risk([risk_point("acme", T0 + i * 30 * MIN, 10.0 * i) for i in range(4)])
    settled(store).purge(T0 + 60 * MIN)
    assert [p.at for p in store.risk_series("acme", T0, T0 + 4 * 60 * MIN)] == [T0 + 60 * MIN, T0 + 90 * MIN]


# -- detect-and-deliver: the outbox and the lease (vigie/pipeline/outbox.py) -------------------------

def _entry(alert: Alert, key: str, channel: str, seq: int = 0, at: datetime = T0) -> "OutboxEntry":
    from vigie.core.models import OutboxEntry

    return OutboxEntry(id=OutboxEntry.make_id(alert.dedup_key, key, channel), alert_id=alert.id, topic_id=alert.topic_id,
                       channel=channel, event=key.split(":")[0], key=key, bucket_at=at, enqueued_at=at,
                       next_attempt_at=at, expires_at=at + timedelta(hours=12), alert=alert.to_dict(), seq=seq)


def test_commit_bucket_writes_alert_outbox_risk_and_cursor_and_a_replay_keeps_sent_entries(store):
    from vigie.core.models import OutboxEntry

    alert = _alert_with_key("acme", T0, "k", AlertState.OPEN)
    entries = [_entry(alert, "open", "slack_webhook", 0), _entry(alert, "open", "pagerduty", 1)]
    point = RiskPoint("acme", T0, 55.0, Level.WARNING, {"negative_volume": 30.0})
    cursor = Cursor(source="detection", query="acme", value={"at": "2026-03-02T10:00:00Z"}, updated_at=T0)
    store.commit_bucket([alert], entries, [point], [cursor])
    assert store.get_alert(alert.id).dedup_key == alert.dedup_key
    assert [(e.channel, e.status) for e in store.outbox_open()] == [("slack_webhook", "pending"), ("pagerduty", "pending")]
    assert store.get_cursor("detection", "acme").value == cursor.value
    assert store.risk_series("acme", T0, T0 + MIN)[0].risk == 55.0
    sent = store.outbox_open()[0]
    sent.status, sent.attempts, sent.done_at = "sent", 1, T0 + MIN
    alert.deliveries.append(Delivery("slack_webhook", "open", "sent", attempts=1, key="open"))
    store.record_delivery(sent, alert)
    # The same bucket committed again (a crash before the cursor moved): nothing duplicated, nothing reset.
    store.commit_bucket([alert], entries, [point], [cursor])
    assert [(e.channel, e.status) for e in store.outbox_entries(alert.id)] == [("slack_webhook", "sent"), ("pagerduty", "pending")]
    assert [e.channel for e in store.outbox_open()] == ["pagerduty"]
    assert store.get_alert(alert.id).deliveries[0].status == "sent"
    assert store.enqueue(entries) == 0
    again = store.outbox_entries(alert.id)[0]
    assert isinstance(again, OutboxEntry) and again.alert["dedup_key"] == alert.dedup_key and again.attempts == 1


def test_lease_is_exclusive_until_it_expires_or_is_released(store):
    assert store.acquire_lease("detect", "a", 60, now=1000.0)
    assert not store.acquire_lease("detect", "b", 60, now=1010.0)
    assert store.acquire_lease("detect", "a", 60, now=1020.0)  # renewal by the holder
    assert not store.acquire_lease("detect", "b", 60, now=1079.0)
    assert store.acquire_lease("detect", "b", 60, now=1081.0)  # a's lease expired: b takes over
    store.release_lease("detect", "a")  # not a's any more: no effect
    assert not store.acquire_lease("detect", "a", 60, now=1082.0)
    store.release_lease("detect", "b")
    assert store.acquire_lease("detect", "a", 60, now=1083.0)


def test_commit_bucket_refuses_a_process_that_lost_its_lease(store):
    import time as _time

    from vigie.store.base import Lease, LeaseLost

    alert = _alert_with_key("acme", T0, "lost", AlertState.OPEN)
    assert store.acquire_lease("detect", "other", 600, now=_time.time())
    with pytest.raises(LeaseLost):
        store.commit_bucket([alert], [_entry(alert, "open", "console")], [], [], lease=Lease("detect", "me", 600))
    assert store.outbox_entries(alert.id) == []


# -- near-duplicate index state (NearDupStore; issue 18) ------------------------------------------------------

def near_dup(n: int, minutes: float, cluster: int = 1, sig: bytes | None = None):
    from vigie.core.neardup import NearDupEntry

    return NearDupEntry(f"x:{n}", T0 + timedelta(minutes=minutes), f"x:u{n}", f"x:{cluster}", T0, "sketch/1", sig)


def test_entries_are_kept_once_read_back_by_window_and_by_write_order_and_pruned(store):
    first = [near_dup(1, 0, sig=bytes(range(256))), near_dup(2, 5), near_dup(3, 60 * 30)]
    assert store.save_near_dups(first) == 3
    assert store.save_near_dups([near_dup(2, 5, cluster=9)]) == 0  # the first analysis decides
    assert store.near_dup_newest() == T0 + timedelta(minutes=60 * 30)
    got, mark = store.near_dups(T0 + timedelta(minutes=1))
    assert [e.post_id for e in got] == ["x:2", "x:3"] and got[0].cluster_id == "x:1"
    everything, _ = store.near_dups(T0)
    assert everything[0] == first[0] and everything[0].signature == bytes(range(256))  # bytes survive
    store.save_near_dups([near_dup(4, 60 * 30 + 1), near_dup(5, 1)])
    later, mark2 = store.near_dups(T0 + timedelta(minutes=2), after=mark)
    assert {e.post_id for e in later} - {"x:1", "x:2", "x:3"} == {"x:4"}  # x:5 is before `since`
    again, _ = store.near_dups(T0 + timedelta(minutes=2), after=mark2)
    assert {e.post_id for e in again} <= {"x:2", "x:3", "x:4"}  # nothing new (a backend may re-read a few)
    assert store.prune_near_dups(T0 + timedelta(minutes=10)) == 3  # x:1, x:2, x:5
    assert [e.post_id for e in store.near_dups(T0)[0]] == ["x:3", "x:4"]
    store.purge(T0 + timedelta(days=3))  # retention removes them with the posts
    assert store.near_dups(T0)[0] == [] and store.near_dup_newest() is None
