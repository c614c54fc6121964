"""Topic query → the Mastodon hashtags to follow.

Public search only follows hashtags: the hashtags a match can come through (["#brivolle", ...]); words are
turned into hashtags of the same word. Best effort — a post that says the brand without its hashtag is not
fetched. Vigie re-checks each fetched post locally.
"""

from __future__ import annotations

from listeners.native import dedupe, dnf, searchable
from vigie.core.query import Tag, Term, TopicQuery


def to_native(query: TopicQuery) -> list[str]:
    root = searchable(query, ("mastodon",))
    if root is None:
        return []
    tags = []
    for alt in dnf(root):
        tag = next((a for a in alt if isinstance(a, Tag) and a.kind == "#"), None)
        word = next((a for a in alt if isinstance(a, Term) and len(a.words) == 1 and not a.words[0][1]), None)
        if tag is not None:
            tags.append("#" + tag.value)
        elif word is not None:
            tags.append("#" + word.words[0][0])
    return dedupe(tags)
