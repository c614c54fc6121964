"""Topic query → Bluesky `searchPosts` queries.

searchPosts has no OR: the query is expanded into up to 20 alternatives (implicit AND, "phrases", #tag,
from:, lang:, mentions:); NOT is dropped (wider). Vigie re-checks each fetched post locally.
"""

from __future__ import annotations

from listeners.native import Style, dedupe, dnf, render_atom, searchable
from vigie.core.query import TopicQuery

BSKY_STYLE = Style(wildcard=False, near=False, hashtags=True, mentions=True, lang=True, author_field="from",
                   not_prefix="-", and_sep=" ", mention_prefix="mentions:")


def to_native(query: TopicQuery) -> list[str]:
    root = searchable(query, ("bluesky",))
    if root is None:
        return []
    return dedupe(" ".join(p for p in (render_atom(a, BSKY_STYLE) for a in alt) if p) for alt in dnf(root))
