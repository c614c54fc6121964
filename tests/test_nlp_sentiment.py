"""Lexicon sentiment: direction on clear FR/EN posts, incl. the social-media cases VADER alone gets wrong."""

import pytest

from nlp.sentiment import LexiconSentiment, create_backend, label_for
from vigie.core.config import NlpConfig


@pytest.fixture(scope="module")
def lexicon() -> LexiconSentiment:
    return LexiconSentiment()


FR_NEGATIVE = [
    "pas terrible",  # vaderSentiment_fr alone scores this positive
    "nuuuul",  # elongation: neutral for vaderSentiment_fr alone
    "Franchement le SAV est nul, remboursez-moi !",
    "je ne suis pas content du tout",
    "je ne recommande pas",  # negation after the verb
    "je ne le recommande pas",
    "ce n'est pas au top",
    "ça ne marche pas",
    "j'en ai marre de cette appli",
    "horrible 😡",
    "livraison en retard 👎",
    "super lent le site",  # "super" as an intensifier
]
FR_POSITIVE = [
    "c'est super !",
    "Super 👍",
    "génial 😍",
    "pas mal du tout",
    "Je recommande !",
    "Commande reçue, rien à dire",
    "service impeccable, merci",
    "trooop bien",
]
EN_NEGATIVE = ["not great", "sooo bad", "worst service ever", "my package never arrived", "never again 👎"]
EN_POSITIVE = ["not bad at all", "I love it", "works great 😍", "Thanks for the quick refund!"]
NEUTRAL = [("la livraison est prévue demain", "fr"), ("the store opens at 9", "en")]


@pytest.mark.parametrize("text", FR_NEGATIVE)
def test_french_negative(lexicon: LexiconSentiment, text: str) -> None:
    result = lexicon.score([text], ["fr"])[0]
    assert result.label == "neg", (text, result)
    assert -1 <= result.score < 0


@pytest.mark.parametrize("text", FR_POSITIVE)
def test_french_positive(lexicon: LexiconSentiment, text: str) -> None:
    result = lexicon.score([text], ["fr"])[0]
    assert result.label == "pos", (text, result)
    assert 0 < result.score <= 1


@pytest.mark.parametrize("text", EN_NEGATIVE)
def test_english_negative(lexicon: LexiconSentiment, text: str) -> None:
    assert lexicon.score([text], ["en"])[0].label == "neg"


@pytest.mark.parametrize("text", EN_POSITIVE)
def test_english_positive(lexicon: LexiconSentiment, text: str) -> None:
    assert lexicon.score([text], ["en"])[0].label == "pos"


@pytest.mark.parametrize("text, lang", NEUTRAL)
def test_neutral_statements(lexicon: LexiconSentiment, text: str, lang: str) -> None:
    assert lexicon.score([text], [lang])[0].label == "neu"


def test_elongation_and_caps_intensify(lexicon: LexiconSentiment) -> None:
    plain, stretched, caps = (lexicon.score([t], ["fr"])[0].score for t in ("c'est nul", "c'est nuuuul", "c'est NUL"))
    assert stretched < plain < 0
    assert caps < plain


def test_negation_flips_direction(lexicon: LexiconSentiment) -> None:
    pos = lexicon.score(["je suis content"], ["fr"])[0].score
    neg = lexicon.score(["je ne suis pas content"], ["fr"])[0].score
    assert pos > 0 > neg


def test_undetermined_language_uses_the_stronger_lexicon(lexicon: LexiconSentiment) -> None:
    assert lexicon.score(["nul 😡"], ["und"])[0].label == "neg"
    assert lexicon.score(["awesome 😍"], ["und"])[0].label == "pos"


def test_model_name_and_labels() -> None:
    backend = create_backend(NlpConfig(sentiment="lexicon"))
    assert backend.name == "lexicon-fr-en/1"
    assert backend.score(["génial"], ["fr"])[0].model == "lexicon-fr-en/1"
    assert [label_for(x) for x in (-0.5, -0.05, 0.0, 0.049, 0.05)] == ["neg", "neg", "neu", "neu", "pos"]


def test_faster_french_negation_check_scores_exactly_like_vader_fr() -> None:
    """`french_vader_class` (faster negation check, words outside the lexicon skipped): vader-fr's scores, word
    for word."""
    import warnings

    from nlp.vader import french_vader_class

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from vaderSentiment_fr.vaderSentiment import SentimentIntensityAnalyzer

    original, fast = SentimentIntensityAnalyzer(), french_vader_class()()
    texts = [
        "Je ne suis pas content du tout", "pas bon, jamais satisfait", "Ce n'est pas mal finalement",
        "Rien de bien, aucun plaisir", "Super produit, je recommande", "sans intérêt mais pas nul",
        "Pas super top génial", "JAMAIS content, NUL", "c'est pas terrible pas terrible", "bon",
        "ni bon ni mauvais, pas vraiment satisfaisant", "Il n'est plus du tout agréable",
    ]
    for text in texts:
        assert fast.polarity_scores(text) == original.polarity_scores(text), text
    assert any(fast.polarity_scores(t)["compound"] != 0 for t in texts)


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_faster_vader_scores_exactly_like_the_library(lang: str) -> None:
    """nlp.vader's analyzers (rules run only on lexicon words, emoji rewritten by str.translate) give the
    unmodified libraries' scores, emoji spacing and words added to the lexicon after a first score included."""
    import warnings

    from nlp.vader import english_vader_class, french_vader_class

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer as English
        from vaderSentiment_fr.vaderSentiment import SentimentIntensityAnalyzer as French

    original, fast = (French(), french_vader_class()()) if lang == "fr" else (English(), english_vader_class()())
    texts = [
        "Je ne suis pas content du tout 😡", "Super produit😍😍 je recommande", "😀 good 😀bad😀", "a😀b", "😀😀",
        " 😀 ", "\t😀\tnul", "x\x00😀 y", "💘 and 💋 and 😁", "I ♥ it ©", "kind of good", "KIND OF bad, but great",
        "not bad at all", "the shit", "VADER is VERY SMART, handsome, and FUNNY!!!", "", "   ", "ok", "nuul...",
        "Le SAV est NUL, jamais content, mais bon", "pas terrible pas terrible ?? !!",
    ]
    for text in texts:
        assert fast.polarity_scores(text) == original.polarity_scores(text), text
    assert any(fast.polarity_scores(t)["compound"] != 0 for t in texts)
    # A word added after the analyzer has scored (our overlay adds words) is read as the library reads it.
    fast.polarity_scores("vigiemotnouveau ok")
    for analyzer in (original, fast):
        analyzer.lexicon["vigiemotnouveau"] = -2.0
    assert fast.polarity_scores("vigiemotnouveau ok") == original.polarity_scores("vigiemotnouveau ok")
    assert fast.polarity_scores("vigiemotnouveau ok")["compound"] < 0


# -- the overlay's patterns, built for speed, match as the plain ones ------------------------------------------

_PATTERN_TEXTS = [
    "", "nul", "Du grand n'importe quoi, ils nous prennent pour des cons", "DU  GRAND N’IMPORTE QUOI !!",
    "pas mal du tout, pas terrible non plus", "PAS\tTERRIBLE", "c'est pas top du tout", "ne marche pas", "ne marcheras",
    "ſervice au top", "ıl ne fonctionne plus", "does not work, doesn’t work, never arrived, highly recommend",
    "waste of money... works great 😍", "STILL WAITING", "pastop", "depas terrible", "sick of it", "not worth it",
    "Quel foutage de gueule 😡😡", "se foutent de nous #boycott", "ça fonctionne pas", "le SAV au top 👍 merci",
]


def _plain_idiom_pattern(vader):  # type: ignore[no-untyped-def]
    import re

    alternation = "|".join(re.escape(p).replace(r"\ ", r"\s+").replace("'", "['’]") for p in vader.idiom_tokens)
    return re.compile(rf"(?<!\w)(?:{alternation})(?!\w)", re.IGNORECASE)


def test_grouped_idiom_pattern_matches_as_the_plain_alternation(lexicon: LexiconSentiment) -> None:
    import random

    rng = random.Random(5)
    for vader in (lexicon._fr, lexicon._en):
        plain = _plain_idiom_pattern(vader)
        assert plain.pattern != vader.idiom_re.pattern  # grouped
        phrases = list(vader.idiom_tokens)
        texts = list(_PATTERN_TEXTS)
        for _ in range(2000):  # idioms, their prefixes and case variants glued into random sentences
            words = [rng.choice(phrases + ["pas", "ne", "nul", "x", "!", "top", "de", "nous", "ok"]) for _ in range(4)]
            words = [w.upper() if rng.random() < 0.2 else w[: rng.randrange(1, len(w) + 1)] if rng.random() < 0.2 else w
                     for w in words]
            texts.append(rng.choice([" ", "  ", "", "\n"]).join(words))
        for text in texts:
            assert [m.span() for m in vader.idiom_re.finditer(text)] == [m.span() for m in plain.finditer(text)], text


def test_emoji_shortcut_gives_the_pattern_s_result(lexicon: LexiconSentiment) -> None:
    for text in _PATTERN_TEXTS + ["❤️ top", "❤ top", "naïve café", "✨✨", "merci 🙏🙏", "\u2764", "x\ufe0f"]:
        expected = lexicon._emoji_re.sub(lambda m: " " + lexicon._emoji[m.group(0)] + " ", text)
        assert lexicon._emoji_tokens(text) == expected


def test_faster_french_ellipsis_count_equals_vader_fr() -> None:
    """vader-fr's ellipsis amplifier, skipped in nlp.vader on posts without "..": the library's values."""
    import random
    import warnings

    from nlp.vader import french_vader_class

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from vaderSentiment_fr.vaderSentiment import SentimentIntensityAnalyzer

    fast = french_vader_class()
    rng = random.Random(2)
    pieces = ["NUL", "Nul", "nul", "SAV", "A", "ÉNORME", "Énorme", "x", "10", "3€", "😡", "ǅx", "Xª", "ß", "!", "?", ".",
              "..", "...", ",", ";", " ", "  ", "\t", "OK.", "O.K", "aBC", "Abc", "ABc", "ﬁN", "İİ"]
    texts = ["", " ", "Le SAV est NUL, JAMAIS CONTENT !!! TROP CHER ... VRAIMENT ??", "A B C D", "pas terrible..."]
    texts += ["".join(rng.choice(pieces) + rng.choice(["", " "]) for _ in range(rng.randrange(0, 14))) for _ in range(3000)]
    for text in texts:
        assert fast._amplify_sp(text) == SentimentIntensityAnalyzer._amplify_sp(text), text
    assert fast._amplify_sp(texts[2]) > 0


def test_grouping_by_first_letter_keeps_order_and_leaves_other_alternations_alone() -> None:
    from nlp.sentiment import _by_first_letter

    assert _by_first_letter(["ne\\s+marche", "nul", "pas\\s+top", "n"]) == "n(?:e\\s+marche|ul|)|p(?:as\\s+top)"
    for alternatives in (["Nul", "nul"], ["\\-x", "a"], ["été", "x"], []):
        assert _by_first_letter(alternatives) == "|".join(alternatives)
