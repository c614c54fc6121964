"""Matching posts against boolean topic queries, the way listening tools let users write them.

The syntax (grammar, parser, tree) is configuration and lives in `vigie.core.query`; this module gives it its
meaning on a post. Matching is case- and accent-insensitive on whole words: `rembours*` matches "remboursé",
`"service client"` matches "SERVICE-CLIENT", `#brivolle` matches only the hashtag while `brivolle` also
matches "#brivolle". `lang:` tests the detected language (or the platform's when detection said "und"),
`from:` the author's handle, `source:` the platform name of the post.

Each platform's search syntax is its own (`listeners/<platform>/native.py`, always wider than the query):
whatever a platform fetches, membership is decided here, locally.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from nlp import text as T
from vigie.core.query import And, Field_, Near, Node, Not, Or, QueryError, Tag, Term, TopicQuery
from vigie.core.query import parse as parse_syntax
from vigie.core.text import fold

__all__ = ["QueryError", "Query", "Document", "parse"]

# --------------------------------------------------------------------------------------------- documents

_WORD = re.compile(r"\w+")
_HASHTAG = re.compile(r"(?<![\w#])#(\w+)")
_MENTION = re.compile(r"(?<![\w@])@([\w.]+\w|\w)")
_NONE: frozenset[str] = frozenset()


@dataclass
class Document:
    """What a query is matched against: the post's words plus its metadata, computed once per post."""

    tokens: list[str]
    hashtags: frozenset[str]
    mentions: frozenset[str]
    lang: str = "und"
    author: str = ""
    source: str = ""
    _positions: dict[str, list[int]] | None = field(default=None, repr=False, compare=False)

    def positions(self, word: str) -> list[int]:
        """Indices of the tokens equal to `word` (an index built once per document: a query term looks up
        its first word instead of scanning every token)."""
        if self._positions is None:
            index: dict[str, list[int]] = {}
            for i, token in enumerate(self.tokens):
                index.setdefault(token, []).append(i)
            self._positions = index
        return self._positions.get(word, [])

    @classmethod
    def build(cls, text: str, lang: str | None = None, author: str | None = None, source: str | None = None) -> "Document":
        folded = fold(text)
        return cls(
            tokens=_WORD.findall(folded),
            # (the patterns need a "#" / an "@": most posts skip them)
            hashtags=frozenset(m.lower() for m in _HASHTAG.findall(folded)) if "#" in folded else _NONE,
            mentions=frozenset(m.lower() for m in _MENTION.findall(folded)) if "@" in folded else _NONE,
            lang=(lang or "und").lower(),
            author=fold(author or "").lstrip("@"),
            source=(source or "").lower(),
        )


# --------------------------------------------------------------------------------------------- matching
# Each node of the syntax tree is compiled once into a closure (no per-post dispatch on node types).

Matcher = Callable[[Document], bool]
Spans = Callable[[Document], "list[tuple[int, int]]"]  # token spans [start, end) where a positional node matches


def _matcher(node: Node) -> Matcher:
    if isinstance(node, Term):
        if len(node.words) == 1 and not node.words[0][1]:
            word = node.words[0][0]
            return lambda doc: bool(doc.positions(word))
        return _truthy(_spans(node))
    if isinstance(node, Tag):
        kind, value = node.kind, node.value
        if node.prefix:
            return lambda doc: any(v.startswith(value) for v in (doc.hashtags if kind == "#" else doc.mentions))
        return lambda doc: value in (doc.hashtags if kind == "#" else doc.mentions)
    if isinstance(node, Field_):
        value = node.value
        if node.name == "lang":
            return lambda doc: doc.lang == value
        if node.name == "from":
            return lambda doc: doc.author == value
        return lambda doc: doc.source == value
    if isinstance(node, Not):
        child = _matcher(node.child)
        return lambda doc: not child(doc)
    if isinstance(node, And):
        every = [_matcher(c) for c in node.children]
        return lambda doc: all(m(doc) for m in every)
    if isinstance(node, Or):
        some = [_matcher(c) for c in node.children]
        return lambda doc: any(m(doc) for m in some)
    if isinstance(node, Near):
        return _truthy(_spans(node))
    raise TypeError(f"no matching for query node {type(node).__name__}")


def _truthy(spans: Spans) -> Matcher:
    return lambda doc: bool(spans(doc))


def _spans(node: Node) -> Spans:
    """Where a positional node (the parser allows only those under NEAR) matches."""
    if isinstance(node, Term):
        pattern = node.words
        n = len(pattern)
        first, is_prefix = pattern[0]

        def term_spans(doc: Document) -> list[tuple[int, int]]:
            # Where the first word is exact, only its occurrences can start a match (same spans, in order).
            starts = range(len(doc.tokens) - n + 1) if is_prefix else doc.positions(first)
            return [(i, i + n) for i in starts if T.words_match_at(pattern, doc.tokens, i)]

        return term_spans
    if isinstance(node, Or):
        children = [_spans(c) for c in node.children]
        return lambda doc: sorted({s for c in children for s in c(doc)})
    if isinstance(node, Near):
        left, right, distance = _spans(node.left), _spans(node.right), node.distance

        def near_spans(doc: Document) -> list[tuple[int, int]]:
            rights = right(doc)
            if not rights:
                return []
            out = []
            for ls, le in left(doc):
                for rs, re_ in rights:
                    gap = rs - le if rs >= le else ls - re_ if ls >= re_ else 0
                    if gap <= distance:
                        out.append((min(ls, rs), max(le, re_)))
            return out

        return near_spans
    raise TypeError(f"query node {type(node).__name__} has no positions")


@dataclass
class Query(TopicQuery):
    """A parsed topic query ready to match posts. `matches(doc)` is pure and thread-safe."""

    _match: Matcher = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._match = _matcher(self.root)

    def matches(self, doc: Document) -> bool:
        return self._match(doc)

    def match_text(self, text: str, lang: str | None = None, author: str | None = None, source: str | None = None) -> bool:
        return self.matches(Document.build(text, lang, author, source))


def parse(query: str) -> Query:
    """Parse a boolean query (`vigie.core.query.parse`) for matching; raises `QueryError` (a ValueError)
    with the position of the problem."""
    parsed = parse_syntax(query)
    return Query(parsed.text, parsed.root)
