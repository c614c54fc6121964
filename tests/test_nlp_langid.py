"""Language id on short, noisy posts (lingua, restricted to the configured languages)."""

import pytest

from nlp.langid import UND, LanguageIdentifier


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
