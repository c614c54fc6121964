"""Text normalisation shared by every NLP component.

Post text is untrusted and noisy: HTML entities from feeds, lone surrogates from broken JSON, 50 kB
pastes, URLs and @mentions that say nothing about language or mood. Each component needs a slightly
different view of the same text, so the views live here, once.
"""

from __future__ import annotations

import html
import re
import unicodedata

from vigie.core.text import COMBINING_MARKS

# A post longer than this is cut before analysis: sentiment and crisis signals of a 50 kB paste are
# decided by its beginning, and lexicon/regex cost grows with length (throughput goal 2,000 posts/s).
MAX_CHARS = 5000

URL_RE = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
MENTION_RE = re.compile(r"(?<![\w@])@[\w.]+")
HASHTAG_MARK_RE = re.compile(r"(?<![\w#])#(?=\w)")
# Emoji and pictographs (plus variation selectors / ZWJ that glue them); kept out of language id.
EMOJI_RE = re.compile(
    "[\U0001F000-\U0001FAFF\U00002600-\U000027BF\U0001F900-\U0001F9FF\uFE0F\u200D\u2B00-\u2BFF\u2300-\u23FF]+"
)
SPACES_RE = re.compile(r"\s+")


def clean(text: object) -> str:
    """Any input → a valid, bounded `str`: entities decoded, lone surrogates replaced, length capped."""
    if not isinstance(text, str):
        text = "" if text is None else str(text)
    if len(text) > MAX_CHARS * 2:
        text = text[: MAX_CHARS * 2]
    # Lone surrogates (from JSON "\ud800" or surrogateescape decoding) break encoders downstream.
    text = text.encode("utf-8", "replace").decode("utf-8", "replace") if _has_surrogates(text) else text
    if "&" in text:
        text = html.unescape(text)
    return text[:MAX_CHARS]


def _has_surrogates(text: str) -> bool:
    try:
        text.encode("utf-8")
        return False
    except UnicodeEncodeError:
        return True


# Each pattern above is tried at every position of a post (≈ 2 µs on a short post), and the NLP step applies
# them several times per post (language id, the lexicon's reading, the trained model's n-grams), though most
# posts hold no link, mention or hashtag. These substitutions skip the pattern when a character it needs is
# absent, so their result is always the pattern's own (tested against it).


def sub_urls(text: str, repl: str) -> str:
    """`URL_RE.sub(repl, text)`. A URL starts with "http(s)://" or "www." in any case: without "://" or "www."
    (case-folded) there is none."""
    if "://" in text or ("." in text and "www." in text.lower()):
        return URL_RE.sub(repl, text)
    return text


def sub_mentions(text: str, repl: str) -> str:
    """`MENTION_RE.sub(repl, text)` (a mention needs an "@")."""
    return MENTION_RE.sub(repl, text) if "@" in text else text


def sub_hashtag_marks(text: str, repl: str) -> str:
    """`HASHTAG_MARK_RE.sub(repl, text)` (a hashtag needs a "#")."""
    return HASHTAG_MARK_RE.sub(repl, text) if "#" in text else text


def sub_emoji(text: str, repl: str) -> str:
    """`EMOJI_RE.sub(repl, text)` (every character of the pattern is outside ASCII)."""
    return text if text.isascii() else EMOJI_RE.sub(repl, text)


def for_langid(text: str) -> str:
    """Only the words that carry language: no URLs, mentions, hashtag marks, emoji."""
    text = sub_urls(text, " ")
    text = sub_mentions(text, " ")
    text = sub_hashtag_marks(text, "")
    text = sub_emoji(text, " ")
    return SPACES_RE.sub(" ", text).strip()


def strip_accents(text: str) -> str:
    """Accents removed, case kept (VADER reads ALL CAPS as emphasis)."""
    return text if text.isascii() else COMBINING_MARKS.sub("", unicodedata.normalize("NFKD", text))




def words(folded: str) -> list[str]:
    """Tokens of a folded text (apostrophes split French elisions: "l'arnaque" → "l", "arnaque")."""
    return re.findall(r"\w+", folded)


def words_match_at(pattern: tuple[tuple[str, bool], ...], tokens: list[str], i: int) -> bool:
    """Whether `tokens[i:]` starts with `pattern`: (word, is_prefix) pairs, where a prefix word ends in `*`
    in the source ("rembours*"). Shared by topic queries and the crisis lexicon so both read terms alike."""
    if i + len(pattern) > len(tokens):
        return False
    for k, (word, is_prefix) in enumerate(pattern):
        token = tokens[i + k]
        if not (token.startswith(word) if is_prefix else token == word):
            return False
    return True
