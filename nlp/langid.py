"""Language identification for short, noisy posts (lingua), restricted to the configured languages.

The detector is built once per process (≈1 s, models preloaded) and shared: building one per batch
would dominate the cost of analysis.

Function-word fast path (French/English only): lingua costs ≈ 100 µs of CPU per post, the largest item of
the NLP step. A post with at least two French function words and not one English function word (or the
reverse) is French (English) without asking lingua: those words (`FRENCH_ONLY`, `ENGLISH_ONLY`) are the
commonest words of one language that are not words of the other. Measured by `bench/langid_fast_path.py` on
11,600 posts (hand-written evaluation posts, the public training tweets, the demo, bench/score.py's texts): the
rule decides 87 % of them; on the 9,524 of those whose language is known it is right on all but 2 (tweets
of the French file written in English), lingua on all but 67 (brand names such as "Cuivrelle" or "Lumeo" pull
short English posts towards French, or leave them undetermined). Used only
when the configured languages are French and/or English (the two the lists are written for).
"""

from __future__ import annotations

import re
import threading
from functools import lru_cache

from nlp import text as T

UND = "und"
VERSION = "lingua-2.1.1+function-words/1"

# Below this many letters, or with a single word, a post ("ok", "lol", "mdr 😂", "#kettla") carries no
# reliable language signal: lingua would still answer, with a confidence that means nothing.
MIN_LETTERS = 8
MIN_WORDS = 2
# The best language must beat the runner-up by this margin (confidences sum to 1 over the languages).
MIN_MARGIN = 0.20

# Function words of one language that are not words of the other (nor common loanwords, abbreviations or
# halves of an English contraction: "pour", "encore", "ai" (AI), "mon", "sans", "an", "but", "or", single
# letters such as the "m" of "I'm" are left out on purpose). Lower case, as the tokens are.
FRENCH_ONLY = frozenset("""
le la les des du un une et est je tu il elle nous vous ils elles ce cette ces ça qui que qu pas ne dans sur
mais très mes ses aux depuis chez toujours vraiment merci suis sont été être avoir avez êtes fait faire rien
jamais quand comme où leur leurs notre nos votre vos moi toi lui eux trop j
""".split())
ENGLISH_ONLY = frozenset("""
the and is are was were to of you your my this that it for with not have has be been i im just what when why
how they we will would can cant dont doesnt didnt at from by so if all out about get got like no do does did
its our their them there here than then too very really thanks thank
""".split())
FAST_PATH_LANGUAGES = frozenset({"fr", "en"})
FAST_PATH_MIN_WORDS = 2
_LETTERS = re.compile(r"[^\W\d_]+")

_lock = threading.Lock()


@lru_cache(maxsize=8)
def _detector(codes: tuple[str, ...]):
    from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

    languages = []
    for code in codes:
        try:
            languages.append(Language.from_iso_code_639_1(getattr(IsoCode639_1, code.upper())))
        except AttributeError:
            raise ValueError(f"unknown language code {code!r} in nlp.languages (expected ISO 639-1, e.g. fr, en)") from None
    if len(languages) == 1:
        # lingua needs two candidates; a lone language is compared against English (or French).
        other = "FR" if codes[0].lower() == "en" else "EN"
        languages.append(Language.from_iso_code_639_1(getattr(IsoCode639_1, other)))
    return LanguageDetectorBuilder.from_languages(*languages).with_preloaded_language_models().build()


class LanguageIdentifier:
    """`identify(texts)` → one ISO 639-1 code per text, or "und" when the text is too short or ambiguous."""

    def __init__(self, languages: list[str]):
        if not languages:
            raise ValueError("nlp.languages is empty: list at least one language (e.g. [fr, en])")
        self.languages = [code.lower() for code in languages]
        # lingua then compares French and English only: the function-word lists decide between those two.
        self.fast_path = set(self.languages) <= FAST_PATH_LANGUAGES
        with _lock:
            self._detector = _detector(tuple(sorted(self.languages)))

    def identify(self, texts: list[str]) -> list[str]:
        prepared = [T.for_langid(t) for t in texts]
        out = [UND] * len(texts)
        todo = []
        for i, text in enumerate(prepared):
            if not _enough(text):
                continue
            fast = function_word_language(text) if self.fast_path else None
            if fast is None:
                todo.append(i)
            elif fast in self.languages:
                out[i] = fast
        if not todo:
            return out
        results = self._detector.compute_language_confidence_values_in_parallel([prepared[i] for i in todo])
        for i, values in zip(todo, results):
            if not values:
                continue
            best = values[0]
            runner_up = values[1].value if len(values) > 1 else 0.0
            code = best.language.iso_code_639_1.name.lower()
            if code in self.languages and best.value - runner_up >= MIN_MARGIN:
                out[i] = code
        return out


def function_word_language(text: str) -> str | None:
    """"fr" or "en" when the text holds at least two function words of that language and none of the other
    (see the module docstring), else None (lingua decides)."""
    french = english = 0
    for word in _LETTERS.findall(text.lower()):
        if word in FRENCH_ONLY:
            french += 1
        elif word in ENGLISH_ONLY:
            english += 1
            if french:
                return None
    if french >= FAST_PATH_MIN_WORDS and not english:
        return "fr"
    if english >= FAST_PATH_MIN_WORDS and not french:
        return "en"
    return None


def _enough(text: str) -> bool:
    if len(text.split()) < MIN_WORDS:
        return False
    letters = 0
    for ch in text:  # stops at the MIN_LETTERS-th letter: a post rarely needs more than its first words
        if ch.isalpha():
            letters += 1
            if letters >= MIN_LETTERS:
                return True
    return False
