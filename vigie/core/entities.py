"""Post entities (hashtags, mentions, links, registered domains): one normalisation for every source.

Core module: listeners call `build` with what the platform itself reports (X `entities`, Mastodon `tags`,
Bluesky facets: expanded URLs, exact tags) and `from_text` is the fallback for sources that report nothing.

Registered domain ("www.lemonde.fr" -> "lemonde.fr", "news.bbc.co.uk" -> "bbc.co.uk") comes from
tldextract with the Public Suffix List snapshot bundled in its wheel: `suffix_list_urls=()` and no cache
directory, so it never fetches a list nor writes a file (no internet here, read-only deployments).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from urllib.parse import urlsplit

from vigie.core.models import PostEntities

HASHTAG_RE = re.compile(r"(?<![\w#&])#(\w+)")
MENTION_RE = re.compile(r"(?<![\w@])@([\w.]*\w(?:@[\w.-]+\w)?)")  # @user, @user.bsky.social, @user@instance
URL_RE = re.compile(r"\bhttps?://[^\s<>\"'\]\[)(]+", re.IGNORECASE)
_TRAILING = ".,;:!?…»”’"  # punctuation that ends a sentence, not a URL


@lru_cache(maxsize=1)
def _extractor():  # type: ignore[no-untyped-def]
    import tldextract

    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


@lru_cache(maxsize=65536)
def registered_domain(url: str) -> str | None:
    """The domain a person registered ("bbc.co.uk"), lower case; None for IPs, local names, non-URLs."""
    try:
        host = urlsplit(url if "://" in url else f"http://{url}").hostname
    except ValueError:
        return None
    if not host:
        return None
    parts = _extractor()(host)
    if not parts.suffix or not parts.domain:
        return None
    return f"{parts.domain}.{parts.suffix}".lower()


def _unique(values: Iterable[str]) -> list[str]:
    out: list[str] = []
    for value in values:
        if value and value not in out:
            out.append(value)
    return out


def build(hashtags: Iterable[str] = (), mentions: Iterable[str] = (), links: Iterable[str] = ()) -> PostEntities:
    """Normalised entities: tags and handles lower case without their sign, links http(s) only, domains
    derived from the links. Order of first appearance, no repeats."""
    tags = _unique(t.lstrip("#").lower() for t in hashtags if isinstance(t, str))
    handles = _unique(m.lstrip("@").lower() for m in mentions if isinstance(m, str))
    urls = _unique(u.strip() for u in links if isinstance(u, str) and u.strip().lower().startswith(("http://", "https://")))
    domains = _unique(d for d in (registered_domain(u) for u in urls) if d)
    return PostEntities(hashtags=tags, mentions=handles, links=urls, domains=domains)


def urls_in(text: str) -> list[str]:
    return [m.group(0).rstrip(_TRAILING) for m in URL_RE.finditer(text or "")]


def from_text(text: str, extra_links: Iterable[str] = ()) -> PostEntities:
    """Entities read from the text alone (links as written: shortened links stay shortened)."""
    text = text or ""
    without_urls = URL_RE.sub(" ", text)  # "#anchor" and "@" inside URLs are not tags or mentions
    return build(HASHTAG_RE.findall(without_urls), MENTION_RE.findall(without_urls), [*urls_in(text), *extra_links])
