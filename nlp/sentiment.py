"""Sentiment backends behind one interface; `LexiconSentiment` here, the trained default in `nlp.sentiment_trained`.

A backend scores a batch of texts whose language is already known and returns one `Sentiment` per text
(label neg/neu/pos, score in [-1, 1], model name). The transformers backend lives in
`nlp.sentiment_transformers` so that the lexicon path never imports torch.
"""

from __future__ import annotations

import logging
import re
from functools import lru_cache
from importlib import resources
from typing import Any, Protocol

import yaml

from nlp import text as T
from nlp.vader import english_vader_class, french_vader_class
from vigie.core.models import Sentiment
from vigie.core.text import fold

# VADER's conventional thresholds on the compound score.
POS_THRESHOLD = 0.05
NEG_THRESHOLD = -0.05

LEXICON_VERSION = "lexicon-fr-en/1"


class SentimentBackend(Protocol):
    name: str  # recorded in Analysis.model_versions["sentiment"], e.g. "lexicon-fr-en/1"

    def score(self, texts: list[str], langs: list[str]) -> list[Sentiment]: ...


def label_for(score: float) -> str:
    if score >= POS_THRESHOLD:
        return "pos"
    if score <= NEG_THRESHOLD:
        return "neg"
    return "neu"


@lru_cache(maxsize=1)
def load_overlay() -> dict[str, Any]:
    """Our own lexicon adjustments (nlp/data/sentiment_overlay.yml), read once."""
    data = resources.files("nlp").joinpath("data/sentiment_overlay.yml").read_text(encoding="utf-8")
    return yaml.safe_load(data)


def _strip_accents_keep_case(text: str) -> str:
    if text.isascii():
        return text
    return T.strip_accents(text)


_ELONGATED = re.compile(r"\w*(\w)\1{2,}\w*")
_RUN = re.compile(r"(\w)\1{2,}")
_EMO_POS, _EMO_NEG = "vigieemopos", "vigieemoneg"
_FR_NE_PAS = re.compile(
    r"(?<!\w)(?:ne\s+|n['’]\s*)(?P<pro>(?:(?:le|la|les|lui|leur|y|en|me|te|se|nous|vous)\s+|[lmtsy]['’]\s*)?)"
    r"(?P<verb>\w+)\s+(?P<neg>pas|plus|jamais|guere|rien)(?!\w)",
    re.IGNORECASE,
)


class _Vader:
    """One VADER analyzer plus our overlay for one language (lexicon lookups are lower-case, accent-free)."""

    def __init__(self, lang: str, analyzer: Any, overlay: dict[str, Any], emoji: dict[str, Any], booster: str):
        self.lang = lang
        self.analyzer = analyzer
        self.booster = booster  # inserted before an elongated sentiment word ("nuuuul" → "tellement nul")
        lex = analyzer.lexicon
        for word, valence in (overlay.get("words") or {}).items():
            lex[fold(word)] = float(valence)
        self.idiom_tokens: dict[str, str] = {}
        for n, (phrase, valence) in enumerate(sorted((overlay.get("idioms") or {}).items(), key=lambda kv: -len(kv[0]))):
            token = f"vigieidiom{lang}{n}"
            lex[token] = float(valence)
            self.idiom_tokens[fold(phrase)] = token
        lex[_EMO_POS] = float(emoji["positive_valence"])
        lex[_EMO_NEG] = float(emoji["negative_valence"])
        self.lexicon = lex
        standalone = {fold(w): float(v) for w, v in (overlay.get("standalone") or {}).items() if v}
        for word, valence in standalone.items():
            lex[f"vigiealone{word}"] = valence
        self.standalone_re = (
            re.compile(rf"(?<!\w)({'|'.join(map(re.escape, standalone))})(?=\s*(?:[!.?,;:…)]|$|{_EMO_POS}|{_EMO_NEG}))",
                       re.IGNORECASE)
            if standalone else None
        )
        alternation = _by_first_letter([re.escape(p).replace(r"\ ", r"\s+").replace("'", "['’]")
                                        for p in self.idiom_tokens])
        self.idiom_re = re.compile(rf"(?<!\w)(?:{alternation})(?!\w)", re.IGNORECASE) if alternation else None

    def prepare(self, text: str) -> str:
        text = _strip_accents_keep_case(text)
        text = T.sub_urls(text, " ")
        text = T.sub_mentions(text, " ")
        text = T.sub_hashtag_marks(text, "")
        if _RUN.search(text):  # the elongation pattern backtracks at every word: look for a run first
            text = _ELONGATED.sub(self._unelongate, text)
        if self.idiom_re is not None:
            text = self.idiom_re.sub(lambda m: " " + self.idiom_tokens[_norm_phrase(m.group(0))] + " ", text)
        if self.standalone_re is not None:
            text = self.standalone_re.sub(lambda m: "vigiealone" + m.group(1).lower(), text)
        if self.lang == "fr":
            # "je ne recommande pas": French puts the negation after the verb, VADER looks only before.
            text = _FR_NE_PAS.sub(r"\g<neg> \g<pro>\g<verb>", text)
        return text

    def _unelongate(self, match: re.Match[str]) -> str:
        word = match.group(0)
        for candidate in (_RUN.sub(r"\1\1", word), _RUN.sub(r"\1", word)):
            if candidate.lower() in self.lexicon:
                # The stretch is emphasis: keep it as a booster so "nuuuul" weighs more than "nul".
                return f"{self.booster} {candidate}"
        return _RUN.sub(r"\1\1", word)

    def compound(self, text: str) -> float:
        return float(self.analyzer.polarity_scores(text)["compound"])

    def polarity(self, text: str) -> dict[str, float]:
        """VADER's compound and its pos/neg/neu proportions (features of the trained backend)."""
        return self.analyzer.polarity_scores(self.prepare(text))


def _by_first_letter(alternatives: list[str]) -> str:
    """`"|".join(alternatives)` (regex fragments, tried in that order), with the alternatives that start with the
    same ASCII letter or digit grouped: "ne\\s+marche|nul|pas\\s+top" → "n(?:e\\s+marche|ul)|p(?:as\\s+top)". The
    matches are the same, case-insensitively too: alternatives of different groups cannot match at the same
    position, and inside a group the order is kept. Python's regex engine tries every alternative at every word
    start; grouped, it tries one group: the idiom pattern, run on every post, takes half the time (tested equal).
    Left as it is when an alternative starts with anything else (an escape, a non-ASCII or upper-case letter:
    with or without IGNORECASE, two lower-case ASCII letters or digits never match the same character)."""
    if not all(a[:1].isascii() and a[:1].isalnum() and not a[:1].isupper() for a in alternatives):
        return "|".join(alternatives)
    groups: dict[str, list[str]] = {}
    for alternative in alternatives:
        groups.setdefault(alternative[0], []).append(alternative[1:])
    return "|".join(f"{first}(?:{'|'.join(rests)})" for first, rests in groups.items())


def _norm_phrase(phrase: str) -> str:
    return re.sub(r"\s+", " ", fold(phrase).replace("’", "'"))


class LexiconSentiment:
    """VADER (English) and vaderSentiment_fr (French) with Vigie's social-media overlay.

    Posts in other or unknown languages are scored by both and the stronger opinion wins: a French-first
    tool sees many short posts that language id cannot place ("nul 😡").
    """

    name = LEXICON_VERSION

    def __init__(self) -> None:
        overlay = load_overlay()
        emoji = overlay["emoji"]
        self._fr = _Vader("fr", french_vader_class()(), overlay["fr"], emoji, booster="tellement")
        self._en = _Vader("en", english_vader_class()(), overlay["en"], emoji, booster="so")
        self._emoji = {e: _EMO_POS for e in emoji["positive"]} | {e: _EMO_NEG for e in emoji["negative"]}
        self._emoji_re = re.compile("|".join(re.escape(e) for e in sorted(self._emoji, key=len, reverse=True)))
        # The pattern is tried at every position (≈ 10 µs a post); a post holding none of the characters an
        # emoji starts with (most posts) cannot match it.
        self._emoji_starts = frozenset(e[0] for e in self._emoji)

    def _emoji_tokens(self, text: str) -> str:
        if self._emoji_starts.isdisjoint(text):
            return text
        return self._emoji_re.sub(lambda m: " " + self._emoji[m.group(0)] + " ", text)

    def score_one(self, text: str, lang: str) -> float:
        text = self._emoji_tokens(text)
        if lang == "fr":
            return self._fr.compound(self._fr.prepare(text))
        if lang == "en":
            return self._en.compound(self._en.prepare(text))
        fr = self._fr.compound(self._fr.prepare(text))
        en = self._en.compound(self._en.prepare(text))
        return fr if abs(fr) >= abs(en) else en

    def polarity(self, text: str, lang: str) -> tuple[dict[str, float], str]:
        """VADER scores of `text` in `lang` (fr or en) after our overlay, and the text with emoji tokens."""
        text = self._emoji_tokens(text)
        return (self._fr if lang == "fr" else self._en).polarity(text), text

    def score(self, texts: list[str], langs: list[str]) -> list[Sentiment]:
        out = []
        for text, lang in zip(texts, langs):
            value = max(-1.0, min(1.0, self.score_one(text, lang)))
            out.append(Sentiment(label_for(value), value, self.name))
        return out


_fallback_logged = False


def create_backend(nlp_config: Any) -> SentimentBackend:
    """The backend named by `nlp.sentiment`: trained (default), lexicon, transformers, or auto (transformers,
    else lexicon). `trained` raises `TrainedModelError` naming the file when a model cannot be read.

    `transformers` raises `ModelLoadError` with the fix when the model cannot be loaded; `auto` logs that
    once per process and uses the lexicon instead, so an offline laptop still runs the pipeline.
    """
    global _fallback_logged
    kind = getattr(nlp_config, "sentiment", "trained")
    if kind == "lexicon":
        return LexiconSentiment()
    if kind == "trained":
        from nlp.sentiment_trained import TrainedSentiment  # numpy/scipy/scikit-learn, no torch

        return TrainedSentiment.from_config(nlp_config)
    from nlp.sentiment_transformers import ModelLoadError, TransformersSentiment  # lazy: imports torch

    if kind == "transformers":
        return TransformersSentiment.from_config(nlp_config)
    if kind != "auto":
        raise ValueError(f"nlp.sentiment: expected trained, lexicon, transformers or auto, found {kind!r}")
    try:
        return TransformersSentiment.from_config(nlp_config)
    except ModelLoadError as exc:
        if not _fallback_logged:
            _fallback_logged = True
            logging.getLogger(__name__).warning("nlp.sentiment=auto: %s; using the lexicon backend instead", exc)
        return LexiconSentiment()
