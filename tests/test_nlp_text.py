"""nlp.text's guarded substitutions give exactly what their patterns give, on every kind of post."""

from __future__ import annotations

import random

import pytest

from nlp import text as T

TEXTS = [
    "", " ", "merci", "Arnaque totale chez Brivolle !!!", "ÉNORME scandale, l'œuvre est nulle 😡😡",
    "voir https://t.co/abc123 et HTTP://EXEMPLE.fr/x", "WWW.Brivolle.FR ouvert ?", "wWw.site.com", "www .pas-un-lien",
    "a://b", "mail me: a@b.com", "@Brivolle_fr @support.fr vous comptez répondre ?", "email@", "@", "#", "##boycott",
    "#boycottBrivolle c'est nul #fail", "C#", "prix 10#", "naïve café ﬁne 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 ſ K", "\u00a0\u2003tabs\tand\nlines",
    "😍👍❤️ top", "✨🙌", "émoji seul 🙄", "ⓦⓦⓦ.x", "ｗｗｗ.fullwidth.com", "＃hashtag ＠mention", "http://" + "x" * 50,
]
SUBS = [
    (T.sub_urls, T.URL_RE, [" ", " http ", ""]),
    (T.sub_mentions, T.MENTION_RE, [" ", " @user "]),
    (T.sub_hashtag_marks, T.HASHTAG_MARK_RE, ["", " "]),
    (T.sub_emoji, T.EMOJI_RE, [" ", ""]),
]


def _random_texts(n: int) -> list[str]:
    rng = random.Random(11)
    alphabet = list("abwW.:/@#_ -éÉ!?\t") + ["ww", "www.", "WWW.", "://", "http", "😡", "❤️", "\u200d", "ſ", "K"]
    return ["".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 25))) for _ in range(n)]


@pytest.mark.parametrize("guarded, pattern, replacements", SUBS, ids=[s[0].__name__ for s in SUBS])
def test_guarded_substitutions_equal_their_pattern(guarded, pattern, replacements) -> None:  # type: ignore[no-untyped-def]
    for text in TEXTS + _random_texts(3000):
        for repl in replacements:
            assert guarded(text, repl) == pattern.sub(repl, text), (text, repl)


def test_the_guards_do_skip_and_do_substitute() -> None:
    assert T.sub_urls("see WWW.Site.com now", " ") == "see   now"
    assert T.sub_urls("voir HTTPS://t.co/x", "http") == "voir http"
    assert T.sub_mentions("merci @brivolle_fr", "@user") == "merci @user"
    assert T.sub_hashtag_marks("#boycott", "") == "boycott"
    assert T.sub_emoji("nul 😡", "") == "nul "
    plain = "rien à signaler ici"
    assert all(f(plain, "X") is plain for f in (T.sub_urls, T.sub_mentions, T.sub_hashtag_marks))
