"""Building blocks for a platform's native search syntax (`listeners/<platform>/native.py` uses them).

A translation is always *wider* than the topic query (never narrower): what a platform cannot express is
dropped or relaxed, and Vigie re-checks every fetched post locally (`nlp.query`), so a translation only needs
to not miss posts. The blocks work on the query's syntax tree (`vigie.core.query`):

- `searchable(query, names)`: the tree with `source:` filters evaluated for this platform, or None when the
  query cannot match a post of it;
- `Style` + `render_boolean`: one boolean query for platforms with AND/OR/NOT (X, Reddit);
- `dnf` + `render_atom`: ANDed alternatives for platforms without OR (Bluesky, Mastodon hashtags);
- `no_search`: platforms without server-side search (feeds, replay) fetch everything.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from vigie.core.query import And, Field_, Near, Node, Not, Or, Tag, Term, TopicQuery

# Platforms whose search has no OR: the query is expanded into alternatives (DNF), at most this many.
MAX_ALTERNATIVES = 20


def no_search(query: TopicQuery) -> list[str]:
    """No server-side search: fetch everything and filter with the topic query locally."""
    return []


def searchable(query: TopicQuery, names: tuple[str, ...]) -> Node | None:
    """The query's tree for the platform known by `names` (`source:` values; the first is its name): None
    when no post of the platform can match; a ValueError when only filters are left (nothing to search)."""
    root = _restrict_source(query.root, names)
    if root is True:
        raise ValueError(f"query {query.text!r} has no search terms for {names[0]} (only filters)")
    return root  # type: ignore[return-value]


def dedupe(items: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for item in items:
        if item:
            seen.setdefault(item, None)
    return list(seen)


def _restrict_source(node: Node, names: tuple[str, ...]) -> Node | bool | None:
    """Evaluate source: filters for this platform: a Node, True (always) or None (never)."""
    if isinstance(node, Field_) and node.name == "source":
        return True if node.value in names else None
    if isinstance(node, Not):
        child = _restrict_source(node.child, names)
        if child is True:
            return None
        if child is None:
            return True
        return Not(child)
    if isinstance(node, (And, Or)):
        kids = [_restrict_source(c, names) for c in node.children]
        if isinstance(node, And):
            if any(k is None for k in kids):
                return None
            kept = [k for k in kids if k is not True]
            return True if not kept else kept[0] if len(kept) == 1 else And(kept)  # type: ignore[list-item]
        if any(k is True for k in kids):
            return True
        kept = [k for k in kids if k is not None]
        return None if not kept else kept[0] if len(kept) == 1 else Or(kept)  # type: ignore[list-item]
    return node


@dataclass(frozen=True)
class Style:
    """What a platform's search syntax can express, and how it spells it."""

    wildcard: bool
    near: bool
    hashtags: bool
    mentions: bool
    lang: bool
    author_field: str | None
    not_prefix: str  # "-" or "NOT "
    and_sep: str
    mention_prefix: str = "@"  # Bluesky: "mentions:"


def render_atom(node: Node, style: Style) -> str:
    if isinstance(node, Term):
        if any(p for _, p in node.words) and not style.wildcard:
            return ""  # the bare stem would be narrower ("rembours" ≠ "remboursé"): relax to anything
        # The user's own spelling (accents kept): the platform applies its own normalisation.
        words = node.raw.strip('"').strip()
        return f'"{words}"' if len(node.words) > 1 else words
    if isinstance(node, Tag):
        if node.kind == "#" and style.hashtags:
            return "#" + node.value
        if node.kind == "@" and style.mentions:
            return style.mention_prefix + node.value
        return node.value
    if isinstance(node, Field_):
        if node.name == "lang" and style.lang:
            return f"lang:{node.value}"
        if node.name == "from" and style.author_field:
            return f"{style.author_field}:{node.value}"
        return ""
    if isinstance(node, Near):
        return " ".join(p for p in (render_atom(node.left, style), render_atom(node.right, style)) if p)
    if isinstance(node, Or):  # only inside NEAR operands
        return "(" + " OR ".join(render_atom(c, style) for c in node.children) + ")"
    raise TypeError(type(node).__name__)


def render_boolean(node: Node, style: Style, negated: bool = False) -> str:
    if isinstance(node, Or):
        parts = [render_boolean(c, style, negated) for c in node.children]
        if any(not p for p in parts):
            return ""  # an alternative we cannot express: the whole OR is relaxed to "anything"
        return "(" + " OR ".join(parts) + ")"
    if isinstance(node, And):
        parts = [p for p in (render_boolean(c, style, negated) for c in node.children) if p]
        return "(" + style.and_sep.join(parts) + ")" if len(parts) > 1 else (parts[0] if parts else "")
    if isinstance(node, Not):
        inner = render_boolean(node.child, style, not negated)
        if not inner or _narrows_when_negated(node.child, style):
            return ""  # excluding a relaxed term could drop wanted posts: leave it to the local check
        return style.not_prefix + inner
    if isinstance(node, Near):
        left, right = render_boolean(node.left, style, negated), render_boolean(node.right, style, negated)
        return "(" + style.and_sep.join(p for p in (left, right) if p) + ")"
    return render_atom(node, style)


def _narrows_when_negated(node: Node, style: Style) -> bool:
    """True when the rendering of `node` is wider than the node: negating it would then narrow."""
    if isinstance(node, Term):
        return any(p for _, p in node.words)
    if isinstance(node, Tag):
        return (node.kind == "#" and not style.hashtags) or (node.kind == "@" and not style.mentions) or node.prefix
    if isinstance(node, Field_):
        return True
    if isinstance(node, Near):
        return True
    if isinstance(node, (And, Or)):
        return any(_narrows_when_negated(c, style) for c in node.children)
    if isinstance(node, Not):
        return True
    return False


def dnf(node: Node) -> list[list[Node]]:
    """Positive alternatives (lists of ANDed atoms) whose union covers the node; NOT is dropped (wider)."""
    if isinstance(node, Or):
        out: list[list[Node]] = []
        for child in node.children:
            out.extend(dnf(child))
        return _cap(out)
    if isinstance(node, And):
        acc: list[list[Node]] = [[]]
        for child in node.children:
            alts = dnf(child)
            acc = _cap([a + b for a in acc for b in alts])
        return acc
    if isinstance(node, Not):
        return [[]]
    return [[node]]


def _cap(alternatives: list[list[Node]]) -> list[list[Node]]:
    if len(alternatives) > MAX_ALTERNATIVES:
        raise ValueError(
            f"the query expands into more than {MAX_ALTERNATIVES} searches on a platform without OR; "
            "split it into several topics or use fewer alternatives"
        )
    return alternatives
