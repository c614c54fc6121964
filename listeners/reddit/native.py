"""Topic query → Reddit search syntax (one query).

AND/OR/NOT, parentheses, "phrases"; from: → author:; lang:, wildcards, #, @ and NEAR are relaxed
(hashtags/mentions become plain words). Always wider than the query; Vigie re-checks each post locally.
"""

from __future__ import annotations

from listeners.native import Style, render_boolean, searchable
from vigie.core.query import TopicQuery

REDDIT_STYLE = Style(wildcard=False, near=False, hashtags=False, mentions=False, lang=False, author_field="author",
                     not_prefix="NOT ", and_sep=" AND ")


def to_native(query: TopicQuery) -> list[str]:
    root = searchable(query, ("reddit",))
    return [] if root is None else [render_boolean(root, REDDIT_STYLE)]
