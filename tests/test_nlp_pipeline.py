"""Analyzer: one Analysis per post, batched, and never raising out of a batch on bad input."""

from datetime import datetime, timedelta, timezone

import pytest

from nlp.pipeline import Analyzer
from vigie.core.config import NlpConfig, Topic
from vigie.core.models import Analysis, Author, Post

T0 = datetime(2026, 11, 23, 8, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def analyzer() -> Analyzer:
    topics = [Topic(id="brivolle", name="Brivolle", query='brivolle OR "#brivolle" OR "@brivolle_fr"')]
    return Analyzer(NlpConfig(), topics)


def post(n: int, text: str, author: str = "a", lang: str | None = None, minutes: int = 0, source: str = "x") -> Post:
    return Post(id=f"{source}:{n}", source=source, text=text, created_at=T0 + timedelta(minutes=minutes),
                author=Author(id=author, handle=author), lang=lang)


def test_analysis_fields_and_order(analyzer: Analyzer) -> None:
    posts = [
        post(1, "Brivolle m'a arnaqué, colis jamais reçu, je porte plainte !"),
        post(2, "Loving my new Brivolle kettle, works great"),
        post(3, "Quelqu'un a testé la nouvelle bouilloire ?"),
    ]
    a1, a2, a3 = analyzer.analyze(posts)
    assert (a1.lang, a1.sentiment.label, a1.topic_ids) == ("fr", "neg", ["brivolle"])
    assert {"fraud", "legal"} <= set(a1.crisis.categories) and a1.crisis.risk > 0.5
    assert (a2.lang, a2.sentiment.label, a2.topic_ids, a2.crisis.risk) == ("en", "pos", ["brivolle"], 0.0)
    assert (a3.lang, a3.topic_ids) == ("fr", [])
    assert a1.model_versions == analyzer.model_versions
    assert set(analyzer.model_versions) >= {"langid", "sentiment", "crisis"}
    assert all(p.analysis is None for p in posts)  # the caller attaches


def test_listener_topic_tags_are_rechecked(analyzer: Analyzer) -> None:
    tagged = post(10, "rien à voir avec la marque")
    tagged.topic_ids = ["brivolle"]
    assert analyzer.analyze([tagged])[0].topic_ids == []


def test_platform_language_is_used_when_the_text_is_too_short(analyzer: Analyzer) -> None:
    [a] = analyzer.analyze([post(11, "nul 😡", lang="fr")])
    assert a.lang == "fr" and "language from the platform" in a.notes
    [b] = analyzer.analyze([post(12, "nul 😡", lang="de")])  # not a configured language
    assert b.lang == "und"


BAD_INPUTS = [
    "",
    "   ",
    "😡😡😡🔥",
    "https://t.co/abc https://example.com/x?y=1",
    "brivolle " * 6000,  # ≈ 54 kB
    "\ud800 invalid surrogate \udfff brivolle",
    "Brivolle &amp; co &lt;script&gt;alert(1)&lt;/script&gt; &#x1F621; &bogus;",
    "\x00\x01\x02 control chars \u202e brivolle",
    "Brivolle is nul, the SAV ne répond jamais, total scam",  # mixed languages
]


@pytest.mark.parametrize("text", BAD_INPUTS)
def test_bad_input_returns_an_analysis(analyzer: Analyzer, text: str) -> None:
    [a] = analyzer.analyze([post(20, text)])
    assert isinstance(a, Analysis)
    assert a.sentiment.label in {"neg", "neu", "pos"} and -1 <= a.sentiment.score <= 1
    assert 0 <= a.crisis.risk <= 1
    [b] = analyzer.analyze_texts([text])
    assert isinstance(b, Analysis)


def test_bad_inputs_in_one_batch_do_not_disturb_the_others(analyzer: Analyzer) -> None:
    posts = [post(30 + i, t) for i, t in enumerate(BAD_INPUTS)] + [post(99, "Brivolle c'est une arnaque")]
    analyses = analyzer.analyze(posts)
    assert len(analyses) == len(posts)
    assert analyses[-1].crisis.categories == ["fraud"] and analyses[-1].topic_ids == ["brivolle"]
    assert "empty text" in analyses[0].notes
    assert any("cut to its first" in n for n in analyses[4].notes)
    assert analyses[6].topic_ids == ["brivolle"]  # entities decoded, text still matched


def test_html_entities_are_decoded_before_analysis(analyzer: Analyzer) -> None:
    [a] = analyzer.analyze_texts(["C&#39;est une arnaque &amp; un scandale"])
    assert "fraud" in a.crisis.categories and "ethics" in a.crisis.categories


def test_non_string_text_is_handled(analyzer: Analyzer) -> None:
    [a, b] = analyzer.analyze_texts([None, 12345])  # type: ignore[list-item]
    assert a.lang == b.lang == "und" and a.sentiment.label == "neu"


def test_a_failing_component_marks_only_its_post(analyzer: Analyzer) -> None:
    class Exploding:
        name = "exploding/1"

        def score(self, texts, langs):  # fails on one post only, like a model choking on one input
            from vigie.core.models import Sentiment
            if any("boom" in t for t in texts):
                raise RuntimeError("model choked")
            return [Sentiment("pos", 0.5, self.name) for _ in texts]

    fresh = Analyzer(NlpConfig(), [])
    fresh.sentiment = Exploding()  # a backend is a pluggable component (the SentimentBackend protocol)
    ok, bad = fresh.analyze_texts(["tout va bien ici", "boom goes the post"])
    assert ok.sentiment.label == "pos" and ok.notes == []
    assert bad.sentiment.label == "neu" and "sentiment failed: RuntimeError" in bad.notes


def test_coordinated_copies_get_a_stable_cluster_id(analyzer: Analyzer) -> None:
    text = "Brivolle vend des bouilloires dangereuses, boycott immédiat, partagez ce message partout"
    first = analyzer.analyze([post(200, text, author="u1", minutes=1), post(201, "Autre chose sans rapport du tout ici", author="u9", minutes=1)])
    second = analyzer.analyze([post(202, text + " !!", author="u2", minutes=5), post(203, text, author="u3", minutes=6)])
    # Alone in its batch the first copy is not (yet) coordination...
    assert first[0].near_dup_cluster is None and first[1].near_dup_cluster is None
    # ...later copies by other authors join the cluster named after the first post,
    assert [a.near_dup_cluster for a in second] == ["x:200", "x:200"]
    # and the first post is reported so the caller can re-store it with the cluster id.
    assert analyzer.late_clusters() == {"x:200": "x:200"}
    assert analyzer.late_clusters() == {}  # reported once


def test_worker_processes_give_the_same_analyses_and_clusters_as_one_process() -> None:
    """Large batches go to worker processes (with the near-duplicate signatures); the clusters are assigned in
    the parent, in post order."""
    topics = [Topic(id="brivolle", name="Brivolle", query='brivolle OR "#brivolle"')]
    texts = ["Brivolle m'a arnaqué, colis jamais reçu, je porte plainte !", "Loving my new Brivolle kettle 😍",
             "Le couvercle de la Brivolle s'ouvre en pleine cuisson, plusieurs brûlés, scandale",
             "Quelqu'un a testé la nouvelle bouilloire ?", "", "nul 😡", "Service client Brivolle au top, merci"]
    posts = [post(i, texts[i % len(texts)] + ("" if i % 3 else f" #{i}"), author=f"u{i % 11}", minutes=i,
                  lang="fr" if i % 5 == 0 else None) for i in range(60)]
    single = Analyzer(NlpConfig(workers=1), topics)
    parallel = Analyzer(NlpConfig(workers=2, parallel_min_batch=20), topics)
    try:
        for start in (0, 30):  # two batches: the dedup index carries over between them
            one, two = single.analyze(posts[start:start + 30]), parallel.analyze(posts[start:start + 30])
            assert [a.__dict__ for a in two] == [a.__dict__ for a in one]
            # the workers computed the signatures; the parent's clusters are those of the serial path
            assert [a.near_dup_cluster for a in two] == [a.near_dup_cluster for a in one]
        assert parallel._pool is not None  # the batches really went to the workers
        assert any(a.near_dup_cluster for a in two)
        assert parallel.analyze_texts(texts * 4) == single.analyze_texts(texts * 4)
        assert parallel.late_clusters() == single.late_clusters()
    finally:
        parallel.close()
    assert parallel._pool is None


def test_analysing_restores_the_garbage_collector_as_it_found_it() -> None:
    """Batches run with the cyclic collector paused (vigie.core.gc_pause); the caller's setting comes back,
    in one process and with workers (whose pickled results are unpacked under the pause)."""
    import gc

    topics = [Topic(id="brivolle", name="Brivolle", query="brivolle")]
    parallel = Analyzer(NlpConfig(workers=2, parallel_min_batch=4), topics)
    single = Analyzer(NlpConfig(workers=1), topics)
    posts = [post(i, f"Brivolle numéro {i} est en panne depuis ce matin", author=f"u{i}", minutes=i) for i in range(8)]
    try:
        for enabled in (True, False):
            (gc.enable if enabled else gc.disable)()
            try:
                pending = parallel.submit(posts[:4])
                following = parallel.submit(posts[4:])
                assert gc.isenabled() is enabled
                assert [a.__dict__ for a in pending.result() + following.result()] == [
                    a.__dict__ for a in single.analyze(posts[:4]) + single.analyze(posts[4:])]
                assert gc.isenabled() is enabled
                assert parallel.analyze_texts(["Brivolle en panne"] * 4)[0].topic_ids == ["brivolle"]
                assert gc.isenabled() is enabled
            finally:
                gc.enable()
    finally:
        parallel.close()
