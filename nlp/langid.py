"""Language identification for short, noisy posts (lingua), restricted to the configured languages.

The detector is built once per process (≈1 s, models preloaded) and shared: building one per batch
would dominate the cost of analysis.
"""

from __future__ import annotations

import threading
from functools import lru_cache

from nlp import text as T

UND = "und"
VERSION = "lingua-2.1.1"

# Below this many letters, or with a single word, a post ("ok", "lol", "mdr 😂", "#kettla") carries no
# reliable language signal: lingua would still answer, with a confidence that means nothing.
MIN_LETTERS = 8
MIN_WORDS = 2
# The best language must beat the runner-up by this margin (confidences sum to 1 over the languages).
MIN_MARGIN = 0.20

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
        with _lock:
            self._detector = _detector(tuple(sorted(self.languages)))

    def identify(self, texts: list[str]) -> list[str]:
        prepared = [T.for_langid(t) for t in texts]
        out = [UND] * len(texts)
        todo = [i for i, t in enumerate(prepared) if _enough(t)]
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
