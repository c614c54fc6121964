"""The message catalogue: every word Vigie writes in an alert message, in English (the msgids) and French.

gettext `.po` sources (alerts/notify/locale/<lang>/LC_MESSAGES/vigie.po), read at run time with Babel's
`read_po` (no compiled `.mo` to keep in sync, no build step). A channel picks its language with
`options.language: fr|en`; a msgid missing from a catalogue falls back to English, and
tests/test_i18n.py checks that every msgid used by the code has a French translation.

Messages use `str.format` placeholders (`{level}`, `{topic}`), so a translation may reorder them.

Numbers: the code formats them the English way ("10.8", "12,500", "42%") before they reach a message; a
translator writes every value that is a number, and only a number, in its language's convention
(`local_number`, Babel's locale data: "10,8", "12 500" with a narrow no-break space, "42 %"). This is the
one place numbers get a language: detection and the channels stay language-neutral.
"""

from __future__ import annotations

import re
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


# A value that is a number as the code writes it: optional sign, digits with optional "," grouping, optional
# decimals, optional unit (%, k, M). Anything else (ids, dates, handles, post text) is left alone.
_NUMBER = re.compile(r"([-+−]?)(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?(%|k|M)?")


@lru_cache(maxsize=None)
def _symbols(language: str) -> tuple[str, str, str]:
    """(decimal mark, group separator, what comes between a number and %) in `language`, from Babel."""
    from babel.numbers import format_percent, get_decimal_symbol, get_group_symbol

    percent = format_percent(0, locale=language)  # "0 %" in French, "0%" in English
    return get_decimal_symbol(language), get_group_symbol(language), percent[1:-1] if percent.startswith("0") else ""


def local_number(value: str, language: str) -> str:
    """`value` in `language`'s number convention when it is a number written the English way, else as is:
    "10.8" -> "10,8", "12,500" -> "12 500" (U+202F), "42%" -> "42 %" (U+00A0) in French."""
    m = _NUMBER.fullmatch(value)
    if m is None or language == "en":
        return value
    sign, whole, decimals, unit = m.groups()
    if len(whole) > 10 and "," not in whole:
        return value  # a long bare run of digits is an identifier (an alert id can be all digits), not a count
    decimal, group, before_percent = _symbols(language)
    digits = "{:,}".format(int(whole.replace(",", ""))).replace(",", group)
    out = sign + digits + (decimal + decimals if decimals else "")
    if unit == "%":
        return out + before_percent + "%"
    return out + (unit or "")


def translator(language: str = "en") -> Translate:
    """A translate function: `_(msgid, **values)` is the translated text, formatted; values that are
    numbers are written in the language's convention (`local_number`)."""
    table = catalogue(language)

    def _(msgid: str, **values: Any) -> str:
        text = table.get(msgid, msgid)
        if not values:
            return text
        if language != "en":
            values = {k: local_number(str(v), language) if isinstance(v, (str, int, float)) else v
                      for k, v in values.items()}
        return text.format(**values)

    return _


EN = translator("en")
