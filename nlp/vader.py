"""VADER (vaderSentiment, English) and vader-fr (vaderSentiment_fr, French) analyzers that score exactly like
the libraries, faster. The libraries stay dependencies: these subclasses only replace two of their methods
with code that follows the same rules, and call the libraries' own pieces for everything else.

- `polarity_scores`: the library calls its per-word rule engine (`sentiment_valence`) on every word of the
  post, though a word that is not in the lexicon (most words) always gets 0 from it; here a per-word cache
  says whether a word can carry a valence, and only those words go through the library's rules. The
  library's emoji → words rewrite walks the post one character at a time in Python; here a post without
  emoji is left as it is, and one with emoji is rewritten by `str.translate` (same spacing rule, same text).
- `_negation_check` (French): the original lower-cases every word of the post and transliterates its
  no-negate list again at each sentiment word it checks; here the list is transliterated once and only the
  two words the rule reads are lower-cased.
- `_amplify_sp` (French, run on every post with a sentiment word): the same count of dots in runs, without
  running its pattern on a post without "..".

Identical scores are tested word for word against the unmodified libraries (tests/test_nlp_sentiment.py).
"""

from __future__ import annotations

import warnings
from functools import lru_cache
from types import ModuleType

# A bound on the per-word cache; social-media vocabularies are long-tailed, the common words come back at once.
MAX_CACHED_WORDS = 200_000
_MARK = "\x00"


class _SkipsNeutralWords:
    """`polarity_scores` with the library's result, without running its rules on words outside the lexicon.

    Mixed into a library analyzer; `_library` is the library's module, `_lexicon_key` turns a word into the
    key its `sentiment_valence` looks up, `_checks_but` says whether its `polarity_scores` applies
    `_but_check` (vader-fr leaves it out)."""

    _library: ModuleType
    _checks_but: bool
    lexicon: dict[str, float]
    emojis: dict[str, str]

    def _lexicon_key(self, word: str) -> str:
        raise NotImplementedError

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # the library's analyzer: lexicon and emoji read from its files
        # The library rewrites a post's emoji one character at a time: only one-character keys can match.
        single = {key: words for key, words in self.emojis.items() if len(key) == 1}
        self._emoji_chars = frozenset(single)
        # The NUL mark stands for "a space unless one is already there"; it can stand in only if no
        # description is empty or ends in a space (then "after a description" always means "not after a space").
        usable = all(words and not words.endswith(" ") and _MARK not in words for words in single.values())
        self._emoji_marks = {ord(key): _MARK + words for key, words in single.items()} if usable else None
        self._carries: dict[str, bool] = {}
        self._carries_for = -1  # lexicon size the cache was filled for (our overlay adds words after init)

    def _carries_valence(self, word: str) -> bool:
        """Whether the library's loop would run its rules on `word` and could give it a non-zero valence:
        not a booster (skipped by the loop) and in the lexicon (else `sentiment_valence` appends 0)."""
        return word.lower() not in self._library.BOOSTER_DICT and self._lexicon_key(word) in self.lexicon

    def _emoji_as_words(self, text: str) -> str | None:
        """The library's rewrite: each emoji becomes its description, preceded by a space unless the text
        before it ends in a space (or it starts the text); the ends are stripped. None when this shortcut does
        not apply (a NUL in the post: the library's own code then scores it)."""
        if self._emoji_chars.isdisjoint(text):
            return text.strip()
        if not self._emoji_marks or _MARK in text:
            return None
        marked = text.translate(self._emoji_marks)  # each emoji → NUL + its description
        # (a mark at the very start becomes a space that the strip removes, as the library adds none there)
        return marked.replace(" " + _MARK, " ").replace(_MARK, " ").strip()

    def polarity_scores(self, text: str) -> dict[str, float]:
        rewritten = self._emoji_as_words(text)
        if rewritten is None:
            return super().polarity_scores(text)  # type: ignore[misc, no-any-return]
        text = rewritten
        if len(self.lexicon) != self._carries_for or len(self._carries) > MAX_CACHED_WORDS:
            self._carries, self._carries_for = {}, len(self.lexicon)
        carries = self._carries
        sentitext = self._library.SentiText(text)
        words = sentitext.words_and_emoticons
        last = len(words) - 1
        sentiments: list[float] = []
        for i, word in enumerate(words):
            carry = carries.get(word)
            if carry is None:
                carry = carries[word] = self._carries_valence(word)
            # "kind of" is a hedge, not kindness: the library gives "kind" 0 there.
            if carry and not (i < last and word.lower() == "kind" and words[i + 1].lower() == "of"):
                sentiments = self.sentiment_valence(0, sentitext, word, i, sentiments)  # type: ignore[attr-defined]
            else:
                sentiments.append(0)  # the library appends this same int 0
        if self._checks_but:
            sentiments = self._but_check(words, sentiments)  # type: ignore[attr-defined]
        return self.score_valence(sentiments, text)  # type: ignore[attr-defined, no-any-return]


@lru_cache(maxsize=1)
def english_vader_class() -> type:
    """vaderSentiment's analyzer with `polarity_scores` skipping the words outside its lexicon."""
    from vaderSentiment import vaderSentiment as vader_en

    class EnglishVader(_SkipsNeutralWords, vader_en.SentimentIntensityAnalyzer):  # type: ignore[misc, valid-type]
        _library = vader_en
        _checks_but = True

        def _lexicon_key(self, word: str) -> str:
            return word.lower()

    return EnglishVader


@lru_cache(maxsize=1)
def french_vader_class() -> type:
    """vaderSentiment_fr's analyzer with the faster `polarity_scores` and `_negation_check` (module docstring)."""
    with warnings.catch_warnings():
        # vaderSentiment_fr imports fuzzywuzzy, which warns about python-Levenshtein on import.
        warnings.simplefilter("ignore")
        from unidecode import unidecode
        from vaderSentiment_fr import vaderSentiment as vader_fr

    no_negate = frozenset(unidecode(word) for word in vader_fr.NO_NEGATE)

    class FrenchVader(_SkipsNeutralWords, vader_fr.SentimentIntensityAnalyzer):  # type: ignore[misc, valid-type]
        _library = vader_fr
        _checks_but = False

        def _lexicon_key(self, word: str) -> str:
            return unidecode(word.lower())  # as vader-fr's sentiment_valence

        @staticmethod
        def _amplify_sp(text: str) -> float:
            # Runs of 2+ dots ("..."): without "..", none (the original runs its pattern on every post).
            return vader_fr.SentimentIntensityAnalyzer._amplify_sp(text) if ".." in text else 0.0

        @staticmethod
        def _negation_check(valence: float, words_and_emoticons: list[str], start_i: int, i: int) -> float:
            if str(words_and_emoticons[i]).lower() in no_negate:
                return valence
            # The word start_i + 1 places before the sentiment word (Python's negative index included, as
            # in the original) negates it.
            if start_i in (0, 1, 2) and vader_fr.negated([str(words_and_emoticons[i - (start_i + 1)]).lower()]):
                return valence * vader_fr.N_SCALAR
            return valence

    return FrenchVader

