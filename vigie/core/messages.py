"""Texts for people, kept language-neutral until a channel writes them.

Detection explains each risk driver, but it may not import notify (where the message catalogue is), and
the same alert goes to an English Slack channel and a French e-mail. So a driver keeps its explanation as a
*message*: a list of parts `[msgid, values]`, the msgid an English text with `str.format` placeholders
(marked with `N_` so tests/test_i18n.py finds it and checks its French entry), each value a string already
formatted or itself a message (a clause such as " over the last 3 h"). `text(message)` is the English
sentence (what `Driver.explanation` stores); `text(message, _)` with a channel's translator
(alerts/notify/i18n.py) is the same sentence in the channel's language.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

Part = list[Any]  # [English msgid, {placeholder: str or a nested message}]: a list, as JSON gives it back
Message = list[Part]


def N_(msgid: str, **values: Any) -> Message:
    """A one-part message: `msgid` (single-line, marked for the catalogue) with its values. A value is
    kept as a string, or as a nested message (a list of parts) to be translated with the rest."""
    return [[msgid, {k: v if isinstance(v, list) else str(v) for k, v in values.items()}]]


def _english(msgid: str, **values: Any) -> str:
    return msgid.format(**values) if values else msgid


def text(message: Sequence[Any], _: Callable[..., str] | None = None) -> str:
    """The message as a sentence: English, or through the translator `_` (`_(msgid, **values)`)."""
    tr = _ or _english
    out = []
    for msgid, values in message:
        vals = {k: v if isinstance(v, str) else text(v, _) for k, v in (values or {}).items()}
        out.append(tr(msgid, **vals))
    return "".join(out)
