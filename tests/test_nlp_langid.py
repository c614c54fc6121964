"""Language id on short, noisy posts (lingua, restricted to the configured languages)."""

import pytest

from nlp.langid import UND, LanguageIdentifier, function_word_language


@pytest.fixture(scope="module")
def langid() -> LanguageIdentifier:
    return LanguageIdentifier(["fr", "en"])


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Le service client de Brivolle ne répond jamais, c'est honteux", "fr"),
        ("je suis très déçue par ma commande", "fr"),
        ("My order never arrived and nobody answers the phone", "en"),
        ("Loving the new kettle, works great", "en"),
        # noise around the words must not decide the language
        ("@brivolle_fr https://t.co/xyz #fail franchement la livraison est catastrophique 😡", "fr"),
        ("@brivolle https://t.co/xyz #fail the delivery was a total disaster 😡", "en"),
    ],
)
def test_identifies_french_and_english(langid: LanguageIdentifier, text: str, expected: str) -> None:
    assert langid.identify([text]) == [expected]


@pytest.mark.parametrize("text", ["", "ok", "lol", "😡😡😡", "https://t.co/abc @brivolle #kettla", "   \n  "])
def test_too_short_or_only_noise_is_undetermined(langid: LanguageIdentifier, text: str) -> None:
    assert langid.identify([text]) == [UND]


def test_languages_outside_the_configuration_are_never_returned() -> None:
    only_fr = LanguageIdentifier(["fr"])
    assert only_fr.identify(["Le colis est arrivé cassé, je suis furieux"]) == ["fr"]
    assert only_fr.identify(["The parcel arrived broken and I am furious"]) == [UND]


def test_unknown_language_code_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown language code 'xx'"):
        LanguageIdentifier(["fr", "xx"])


def test_batch_keeps_order(langid: LanguageIdentifier) -> None:
    texts = ["The app keeps crashing on startup", "", "L'appli plante au démarrage, encore"]
    assert langid.identify(texts) == ["en", UND, "fr"]


# -- the function-word fast path (French / English) ----------------------------------------------------

@pytest.mark.parametrize(
    "text, expected",
    [
        ("je suis très déçue par ma commande", "fr"),
        ("Le colis est arrivé cassé", "fr"),
        ("c'est nul, jamais plus", "fr"),
        ("My order never arrived and nobody answers", "en"),
        ("I'm done, don't buy it", "en"),  # the "m" of I'm and the "t" of don't are not French words
        ("The Kettla est super", None),  # one word of each: lingua decides
        ("merci Brivolle", None),  # a single function word is not enough
        ("Brivolle Kettla Mijoteo", None),
        ("pour le fun", None),  # "pour" is an English word too: not counted, one French word left
        ("the AI is great", "en"),  # "ai" (j'ai) is not counted as French
    ],
)
def test_function_words_decide_only_when_one_language_is_clear(text: str, expected: str | None) -> None:
    assert function_word_language(text.lower()) == expected


def test_the_fast_path_answers_where_lingua_is_misled_by_a_brand_name(langid: LanguageIdentifier) -> None:
    # lingua alone reads this English post as French (the brand name looks French): measured by
    # bench/langid_fast_path.py, the function words are right on such posts.
    text = "not bad at all, the Cuivrelle is quiet and fast"
    values = langid._detector.compute_language_confidence_values(text)
    assert values[0].language.iso_code_639_1.name.lower() == "fr"
    assert langid.identify([text]) == ["en"]


def test_the_fast_path_is_off_when_other_languages_are_configured() -> None:
    assert LanguageIdentifier(["fr", "en"]).fast_path and LanguageIdentifier(["en"]).fast_path
    with_spanish = LanguageIdentifier(["fr", "en", "es"])
    assert not with_spanish.fast_path
    assert with_spanish.identify(["El pedido no llegó y nadie contesta el teléfono"]) == ["es"]
    # French only: an English post stays undetermined, decided by the fast path or by lingua alike.
    assert LanguageIdentifier(["fr"]).identify(["The parcel is broken and the app is down"]) == [UND]
