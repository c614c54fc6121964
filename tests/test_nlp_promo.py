"""Promotional posts (nlp/promo.py): recognised in French and English whatever their emoji, case, accents or styled
letters; look-alike complaints keep their negative reading; a promo copy storm is never counted as negative, through
the real Analyzer and both stores."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from nlp.pipeline import Analyzer
from nlp.promo import VERSION, PromoSignal, neutral_sentiment
from vigie.core.config import NlpConfig, Topic
from vigie.core.models import Author, Post, Sentiment

from test_store_contract import store  # noqa: F401 - the contract's fixture: every store adapter

SIGNAL = PromoSignal()

PROMOS = [
    # the detection suite's spam and giveaway storms (vigie/sim/scenario/organic.py)
    "Code promo Brivolle exclusif F3VXXH 🔥 livraison gratuite Doré #Brivolle",
    "Brivolle Tourbillon -70% aujourd'hui seulement 👉 bit.ly/F3VXXH #Brivolle #promo",
    "🎁 CONCOURS Brivolle 🎁 RT + follow @brivolle pour tenter de gagner un blender ! Tirage au sort vendredi #concours",
    "GIVEAWAY 🎁 RT + follow @brivolle to win a kettle from Brivolle! Winner picked Friday #giveaway",
    # other wordings, case, accents, emoji, dashes and styled letters
    "utilisez le code NOEL2026 pour -20 % sur tout le site !!",
    "CODE RÉDUC BRIV15 : frais de port offerts jusqu'à dimanche",
    "code reduc briv15 frais de port offerts",
    "−30 % sur la gamme Brivolle, offre limitée ⏰",
    "Jusqu'à -50% sur les bouilloires, vente flash ce soir seulement ⚡",
    "RT pour gagner une bouilloire Brivolle 🍀",
    "Jeu concours : gagnez un blender, mentionne 2 amis en commentaire",
    "𝗖𝗢𝗗𝗘 𝗣𝗥𝗢𝗠𝗢 𝗕𝗥𝗜𝗩𝟮𝟬 livraison offerte",
    "ＣＯＤＥ ＰＲＯＭＯ ＸＹＺ１２ livraison offerte",
    "Use code SAVE20 for 20% off + free shipping!",
    "Flash sale: 40% off all Brivolle kettles, today only 👉 link in bio",
    "Enter to win a Brivolle blender! Like + RT, winner announced Monday #sweepstakes",
    "Brivolle deal of the day, buy one get one free 🔥 #ad",
]


@pytest.mark.parametrize("text", PROMOS)
def test_promotional_posts_are_recognised(text: str) -> None:
    reading = SIGNAL.read(text)
    assert reading.promotional and reading.neutral_promo, reading


COMPLAINTS = [
    "Code promo BRIV20 qui marche pas, arnaque",
    "code promo F3VXXH refusé au paiement, livraison gratuite mon œil",
    "The promo code SAVE20 doesn't work at checkout, 20% off my foot. Scam.",
    "-50% annoncé #promo mais plein tarif en caisse, publicité mensongère",
    "Jeu concours Brivolle : j'ai gagné il y a 3 mois, lot jamais reçu #concours",
    "Free shipping they said, 12€ charged at checkout, use code FREESHIP my foot, misleading",
]


@pytest.mark.parametrize("text", COMPLAINTS)
def test_complaints_about_promotions_are_not_neutral_promos(text: str) -> None:
    reading = SIGNAL.read(text)
    assert reading.promotional and not reading.neutral_promo and reading.complaint, reading


ORDINARY = [
    "Le code promo fonctionne aussi sur les accessoires ?",
    "La livraison gratuite, le top",
    "Aircroq augmente ses tarifs de 3 % au 1er janvier",
    "100% recommend",
    "Je valide à 100 %",
    "la Kettla est en promo chez plusieurs revendeurs cette semaine",
    "I never win anything lol #brivolle",
    "Brivolle est en promo à 49€ ce week-end, bonne affaire ou pas ?",
    "The promo code didn't work at checkout",
    "",
]


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_posts_with_one_marker_are_not_promotional(text: str) -> None:
    assert not SIGNAL.read(text).promotional


def test_the_reading_names_its_markers() -> None:
    reading = SIGNAL.read("Code promo Brivolle exclusif F3VXXH 🔥 livraison gratuite")
    assert set(reading.markers) == {"code", "code value", "shipping", "pitch"}
    # the phrase "code promo" followed by a brand name only is not a code value
    assert "code value" not in SIGNAL.read("code promo Brivolle, livraison gratuite").markers


def test_neutral_sentiment_says_who_decided() -> None:
    read_as = Sentiment("neg", -0.55, "trained-fr/abc", probs={"neg": 0.70, "neu": 0.15, "pos": 0.15})
    sentiment, note = neutral_sentiment(SIGNAL.read(PROMOS[0]), read_as)
    assert (sentiment.label, sentiment.score, sentiment.model, sentiment.probs) == ("neu", 0.0, VERSION, None)
    assert "trained-fr/abc read it neg, P(neg) 0.70" in note and "code" in note


# ---------------------------------------------------------------------------------------- through the Analyzer

T0 = datetime(2026, 3, 3, 20, 30, tzinfo=timezone.utc)
TOPIC = Topic(id="brivolle", name="Brivolle", query='brivolle OR "#brivolle"')
VARIANTS = ["", " 🙏", " 🍀", " !!", " ❤️", " svp"]


def storm(n: int, base: str, prefix: str) -> list[Post]:
    return [Post(id=f"x:{prefix}{i}", source="x", text=base + VARIANTS[i % len(VARIANTS)],
                 created_at=T0 + timedelta(seconds=20 * i), author=Author(id=f"{prefix}{i}", handle=f"{prefix}{i}"))
            for i in range(n)]


@pytest.fixture(scope="module")
def analysed() -> tuple[Analyzer, list[Post], list[Post]]:
    analyzer = Analyzer(NlpConfig(), [TOPIC], workers=1)
    spam = storm(36, "Code promo Brivolle exclusif F3VXXH 🔥 livraison gratuite Doré #Brivolle", "s")
    angry = storm(12, "Code promo Brivolle F3VXXH qui marche pas, arnaque #Brivolle", "c")
    for post, analysis in zip(spam + angry, analyzer.analyze(spam + angry)):
        post.analysis = analysis
    return analyzer, spam, angry


def test_a_promo_copy_storm_is_not_negative_but_complaints_stay_negative(analysed) -> None:
    analyzer, spam, angry = analysed
    assert analyzer.model_versions["promo"] == VERSION
    assert not [p.text for p in spam if p.analysis.sentiment.label == "neg"]
    decided = [p.analysis for p in spam if p.analysis.sentiment.model == VERSION]
    # the trained model reads (some of) these copies as negative: the rule is what keeps them out
    assert decided and all(any(n.startswith("promotional post (") and "read it neg" in n for n in a.notes)
                           for a in decided)
    assert all(p.analysis.sentiment.label == "neg" and p.analysis.sentiment.model != VERSION for p in angry)
    assert all(p.analysis.near_dup_cluster for p in spam[2:])  # still a copy storm for the coordination driver


def test_the_lexicon_backend_gets_the_same_rule() -> None:
    analyzer = Analyzer(NlpConfig(sentiment="lexicon"), [TOPIC], workers=1)
    analyses = analyzer.analyze_texts(PROMOS + COMPLAINTS[:1])
    assert [a.sentiment.label for a in analyses[:-1]].count("neg") == 0
    assert analyses[-1].sentiment.label == "neg"


def test_stores_count_the_storm_out_of_negative_posts(analysed, store) -> None:
    """Both adapters (the store contract's fixture: SQLite file, Elasticsearch through osmem)."""
    _, spam, angry = analysed
    store.upsert_posts(spam + angry)
    buckets = store.series("brivolle", T0, T0 + timedelta(minutes=15), timedelta(minutes=15))
    assert [(b.count, b.negative) for b in buckets] == [(len(spam) + len(angry), len(angry))]


@pytest.mark.parametrize("text", PROMOS + COMPLAINTS + ORDINARY)
def test_the_anchor_prefilter_never_hides_a_promotion(text: str) -> None:
    """The reading skips patterns whose anchor substrings are absent (speed): it must decide as every pattern would."""
    import re

    from nlp import promo
    from vigie.core.text import fold

    folded = fold(text).lower()
    kinds = [name for name, (_, pattern) in promo._MARKERS.items() if re.search(pattern, folded)]
    score = sum(promo._MARKERS[name][0] for name in kinds)
    score += promo.CODE_VALUE_WEIGHT if "code" in kinds and "code value" in SIGNAL.read(text).markers else 0.0
    assert SIGNAL.read(text).promotional == (score >= promo.THRESHOLD)
