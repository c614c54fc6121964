"""Accent and case folding: the one normalisation topic queries are written in and posts are matched in.

It lives in the core because a topic query is configuration: the query parser (`vigie.core.query`) folds the
words a user typed, and nlp (`nlp.text`) folds the posts the same way, so both sides always agree.
"""

from __future__ import annotations

import re
import unicodedata

COMBINING_MARKS = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
_LIGATURES = str.maketrans({"œ": "oe", "æ": "ae", "ß": "ss"})


def fold(text: str) -> str:
    """Lower case without accents ("Éco-Responsable" → "eco-responsable"), same length semantics per char.

    Used for accent-insensitive matching (topics, crisis lexicon): users type "remboursé", "rembourse",
    "REMBOURSE" interchangeably.
    """
    text = text.lower()
    if text.isascii():
        return text
    # One regex pass in C instead of a Python loop over characters (fold runs several times per post).
    out = COMBINING_MARKS.sub("", unicodedata.normalize("NFKD", text))
    # Ligatures common in French that NFKD leaves alone.
    return out.translate(_LIGATURES)
