"""Topic query → X recent-search syntax (one query).

AND/OR/NOT(-)/parentheses/"phrases"/#/@/from:/lang: map 1:1. NEAR/n becomes AND; a wildcard term is relaxed
away (X has no wildcard and the bare stem would be narrower); source: is evaluated (true on X, else the query
cannot match X and [] is returned). Always wider than the query; Vigie re-checks each fetched post locally.
"""

from __future__ import annotations

from listeners.native import Style, render_boolean, searchable
from vigie.core.query import TopicQuery

X_STYLE = Style(wildcard=False, near=False, hashtags=True, mentions=True, lang=True, author_field="from",
                not_prefix="-", and_sep=" ")


def to_native(query: TopicQuery) -> list[str]:
    root = searchable(query, ("x", "twitter"))
    return [] if root is None else [render_boolean(root, X_STYLE)]
