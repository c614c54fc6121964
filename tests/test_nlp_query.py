"""Boolean topic queries: syntax, matching semantics, errors with positions (native translations:
tests/listeners/test_native_queries.py)."""

import pytest

from nlp.query import QueryError, parse
from nlp.topics import TopicMatcher
from vigie.core.config import ConfigError, Topic


def m(query: str, text: str, **meta: str) -> bool:
    return parse(query).match_text(text, **meta)


def test_or_of_keywords_and_phrases_is_accent_and_case_insensitive() -> None:
    q = 'brivolle OR "service client" OR Mijotéo'
    assert m(q, "BRIVOLLE encore en retard")
    assert m(q, "le SERVICE-CLIENT est injoignable")
    assert m(q, "ma mijoteo est cassée")
    assert not m(q, "rien à voir")
    assert not m(q, "brivolles")  # whole words only
    assert not m(q, "le service est client")  # a phrase is consecutive words


def test_and_not_and_implicit_and() -> None:
    assert m("brivolle AND panne", "Brivolle en panne")
    assert m("brivolle panne", "panne chez Brivolle")
    assert not m("brivolle panne", "Brivolle marche")
    assert m("brivolle NOT promo", "Brivolle en panne")
    assert not m("brivolle NOT promo", "Brivolle en promo")
    assert not m("brivolle -promo", "Brivolle en PROMO")


def test_precedence_and_parentheses() -> None:
    # AND binds tighter than OR
    assert m("a OR b AND c", "a seul")
    assert not m("(a OR b) AND c", "a seul")
    assert m("(a OR b) AND c", "b et c")
    assert m("NOT (a OR b)", "ni l'un ni l'autre")


def test_wildcards() -> None:
    assert m("rembours*", "Toujours pas remboursé")
    assert m("rembours*", "REMBOURSEZ-MOI")
    assert not m("rembours*", "le bours")
    assert m('"service rembours*"', "le service remboursement ne répond pas")


def test_near() -> None:
    q = "brivolle NEAR/3 (panne OR arnaque)"
    assert m(q, "Brivolle est encore en panne")
    assert m(q, "panne totale chez Brivolle")  # either order
    assert not m(q, "Brivolle c'est bien mais mon autre four est en panne")
    assert m('"service client" NEAR/2 injoignable', "service client toujours injoignable")


def test_hashtags_mentions_and_fields() -> None:
    assert m("#brivolle", "#Brivolle en panne")
    assert not m("#brivolle", "brivolle en panne")  # the hashtag form only
    assert m("brivolle", "#brivolle en panne")  # a word also matches its hashtag
    assert m('"#brivolle"', "vu sur #brivolle")  # quoted hashtags, as in the demo config
    assert m("@brivolle_fr", "merci @Brivolle_FR !")
    assert m("#boycott*", "#BoycottBrivolle")
    assert m("brivolle lang:fr", "brivolle", lang="fr")
    assert not m("brivolle lang:fr", "brivolle", lang="en")
    assert m("brivolle from:@Jean_D", "brivolle", author="jean_d")
    assert not m("brivolle from:jean_d", "brivolle", author="someone")
    assert m("brivolle source:reddit", "brivolle", source="reddit")
    assert not m("brivolle -source:reddit", "brivolle", source="reddit")


@pytest.mark.parametrize(
    "query, position, fragment",
    [
        ("", 0, "empty"),
        ("(brivolle OR kettla", 0, "missing ')'"),
        ("brivolle OR", 11, "ends where a term was expected"),
        ("brivolle ) panne", 9, "unexpected ')'"),
        ('"service client', 0, "unclosed quote"),
        ("brivolle NEAR panne", 9, "NEAR needs a distance"),
        ("NEAR/2 panne", 0, "needs a term before it"),
        ("OR brivolle", 0, "needs a term before it"),
        ("*bours", 0, "wildcard"),
        ("lang:", 0, "needs a value"),
        ("brivolle ()", 9, "empty parentheses"),
        ("brivolle NEAR/2 lang:fr", 16, "NEAR/n needs words or phrases"),
    ],
)
def test_malformed_queries_say_where(query: str, position: int, fragment: str) -> None:
    with pytest.raises(QueryError) as info:
        parse(query)
    assert info.value.position == position
    assert fragment in str(info.value)
    assert isinstance(info.value, ValueError)


def test_topic_matcher_uses_queries_and_languages() -> None:
    topics = [
        Topic(id="brivolle", name="Brivolle", query='brivolle OR "#brivolle"', languages=["fr"]),
        Topic(id="sav", name="SAV", query='"service client" OR sav'),
    ]
    matcher = TopicMatcher(topics)
    assert matcher.match("Le SAV de Brivolle est nul", "fr") == ["brivolle", "sav"]
    assert matcher.match("Brivolle customer service", "en") == []  # brivolle is French-only
    assert matcher.match("Brivolle !", "und") == ["brivolle"]  # undetermined language is kept


def test_topic_matcher_names_the_topic_of_a_bad_query() -> None:
    with pytest.raises(ConfigError, match=r"topics\.broken\.query: invalid query at position 0"):
        TopicMatcher([Topic(id="broken", name="B", query="(brivolle")])


def test_brand_names_and_aliases_are_tagged_as_entities() -> None:
    matcher = TopicMatcher([
        Topic(id="brivolle", name="Brivolle", query="brivolle", aliases=["Kettla Pro", "@brivolle_fr"]),
        Topic(id="cuivrelle", name="Cuivrelle", query="cuivrelle"),
    ])
    from nlp.query import Document

    doc = Document.build("Ma KETTLA pro a lâché, merci @Brivolle_FR")
    assert matcher.entities(doc) == ["Kettla Pro", "@brivolle_fr"]
    assert matcher.entities(Document.build("rien à signaler")) == []
