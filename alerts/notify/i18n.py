"""The message catalogue: every word Vigie writes in an alert message, in English (the msgids) and French.

gettext `.po` sources (alerts/notify/locale/<lang>/LC_MESSAGES/vigie.po), read at run time with Babel's
`read_po` (no compiled `.mo` to keep in sync, no build step). A channel picks its language with
`options.language: fr|en`; a msgid missing from a catalogue falls back to English, and
tests/test_i18n.py checks that every msgid used by the code has a French translation.

Messages use `str.format` placeholders (`{level}`, `{topic}`), so a translation may reorder them.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

LOCALE_DIR = Path(__file__).with_name("locale")
LANGUAGES = ("en", "fr")
DOMAIN = "vigie"

Translate = Callable[..., str]


@lru_cache(maxsize=None)
def catalogue(language: str) -> dict[str, str]:
    """msgid -> msgstr of one language (empty for English: the msgids are the English texts)."""
    if language not in LANGUAGES:
        raise ValueError(f"unknown language {language!r} (one of: {', '.join(LANGUAGES)})")
    path = LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    if not path.exists():
        return {}
    from babel.messages.pofile import read_po

    with path.open("rb") as fh:
        cat = read_po(fh, locale=language)
    return {str(m.id): str(m.string) for m in cat if m.id and m.string and not m.fuzzy}


def translator(language: str = "en") -> Translate:
    """A translate function: `_(msgid, **values)` is the translated text, formatted."""
    table = catalogue(language)

    def _(msgid: str, **values: Any) -> str:
        text = table.get(msgid, msgid)
        return text.format(**values) if values else text

    return _


EN = translator("en")
