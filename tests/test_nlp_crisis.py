"""Crisis lexicon: categories, evidence, negation, risk bounds."""

import pytest

from nlp.crisis import CrisisLexicon, load_lexicon

CATEGORIES = {"safety", "legal", "boycott", "fraud", "outage", "service", "ethics", "data_leak"}


@pytest.fixture(scope="module")
def crisis() -> CrisisLexicon:
    return CrisisLexicon()


def test_the_lexicon_covers_every_category_in_both_languages() -> None:
    data = load_lexicon()
    assert set(data["categories"]) == CATEGORIES
    for name, spec in data["categories"].items():
        assert spec["fr"] and spec["en"], name
        assert 0 < spec["weight"] <= 1


@pytest.mark.parametrize(
    "text, category",
    [
        ("Intoxication alimentaire après le repas, ma fille est aux urgences", "safety"),
        ("The kettle caught fire on my counter", "safety"),
        ("Je vais porter plainte et contacter la DGCCRF", "legal"),
        ("Talking to my lawyer about a class action", "legal"),
        ("Boycott de cette marque, partagez !", "boycott"),
        ("Stop buying from them, spread the word", "boycott"),
        ("C'est une ARNAQUE, prélevé deux fois", "fraud"),
        ("They charged me twice, total scam", "fraud"),
        ("L'appli est en panne depuis ce matin", "outage"),
        ("The app is down again, can't log in", "outage"),
        ("Toujours pas reçu mon colis, personne ne répond au service client", "service"),
        ("Still waiting, no reply from customer support", "service"),
        ("Cette pub est raciste et sexiste, honte à vous", "ethics"),
        ("This ad is racist, shame on you", "ethics"),
        ("Fuite de données chez eux, mes données bancaires sur le dark web", "data_leak"),
        ("They got hacked, customer data leaked", "data_leak"),
    ],
)
def test_categories(crisis: CrisisLexicon, text: str, category: str) -> None:
    result = crisis.score(text)
    assert category in result.categories, result
    assert 0 < result.risk <= 1
    assert result.terms


def test_evidence_is_the_matched_text_accents_and_wildcards_included(crisis: CrisisLexicon) -> None:
    result = crisis.score("Pas de réponse, ARNAQUE ! Je veux être remboursée")
    assert "arnaque" in result.terms
    assert "pas de réponse" in result.terms
    assert "remboursée" in result.terms  # rembourse* with an accent in the post


@pytest.mark.parametrize(
    "text",
    ["Pas de scandale ici, tout va bien", "aucune arnaque, livraison parfaite", "no scam here, legit seller",
     "This isn't a scam", "sans panne depuis deux ans", "never had an outage"],
)
def test_negated_terms_are_not_signals(crisis: CrisisLexicon, text: str) -> None:
    result = crisis.score(text)
    assert result.risk == 0 and result.categories == [], result


def test_negation_stops_at_the_end_of_its_clause(crisis: CrisisLexicon) -> None:
    assert "fraud" in crisis.score("pas de réponse, arnaque !").categories


def test_words_inside_other_words_do_not_match(crisis: CrisisLexicon) -> None:
    assert crisis.score("Le sauvetage du chat, quelle histoire").categories == []  # "sav" inside a word
    assert crisis.score("Le sav ne répond pas").categories == ["service"]  # the same word alone matches


def test_more_categories_and_terms_mean_more_risk(crisis: CrisisLexicon) -> None:
    one = crisis.score("c'est une arnaque").risk
    two_terms = crisis.score("c'est une arnaque, des escrocs").risk
    two_categories = crisis.score("c'est une arnaque, je porte plainte").risk
    assert 0 < one < two_terms
    assert one < two_categories <= 1


def test_praise_of_customer_service_is_damped(crisis: CrisisLexicon) -> None:
    neutral = crisis.score("Le service client m'a appelé", 0.0).risk
    praised = crisis.score("Le service client m'a appelé", 0.8).risk
    assert 0 < praised < neutral


def test_plain_posts_have_no_crisis(crisis: CrisisLexicon) -> None:
    result = crisis.score("Quelqu'un sait si la boutique ouvre dimanche ?")
    assert (result.risk, result.categories, result.terms) == (0.0, [], [])
