"""Boolean topic queries, the way listening tools let users write them.

Grammar (operators in upper case; precedence NOT > NEAR/n > AND > OR; adjacent terms are ANDed):

    query   := or
    or      := and ("OR" and)*
    and     := near (["AND"] near)*           # "a b" means "a AND b"
    near    := unary ("NEAR/" n unary)*       # both sides: words, phrases, or parenthesised ORs of them
    unary   := ("NOT" | "-") unary | atom
    atom    := "(" or ")" | "phrase words" | word | word* | #hashtag | @mention
             | lang:xx | from:handle | source:name

Matching is case- and accent-insensitive on whole words: `rembours*` matches "remboursé", `"service
client"` matches "SERVICE-CLIENT", `#brivolle` matches only the hashtag while `brivolle` also matches
"#brivolle". `lang:` tests the detected language (or the platform's when detection said "und"),
`from:` the author's handle, `source:` the platform name of the post.

`to_native(query, platform)` translates a query into the platform's own search syntax, always *wider*
than the query (never narrower): what a platform cannot express is dropped or relaxed, and Vigie re-checks
every fetched post locally with `Query.matches`, so the translation only needs to not miss posts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterable

from nlp import text as T

__all__ = ["QueryError", "Query", "Document", "parse", "to_native", "PLATFORMS"]


class QueryError(ValueError):
    """A malformed query; `position` is the 0-based character offset of the problem."""

    def __init__(self, query: str, position: int, message: str):
        self.query, self.position, self.reason = query, position, message
        caret = " " * position + "^"
        super().__init__(f"invalid query at position {position}: {message}\n  {query}\n  {caret}")


# --------------------------------------------------------------------------------------------- documents

_WORD = re.compile(r"\w+")


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
        folded = T.fold(text)
        return cls(
            tokens=_WORD.findall(folded),
            hashtags=frozenset(m.lower() for m in re.findall(r"(?<![\w#])#(\w+)", folded)),
            mentions=frozenset(m.lower() for m in re.findall(r"(?<![\w@])@([\w.]+\w|\w)", folded)),
            lang=(lang or "und").lower(),
            author=T.fold(author or "").lstrip("@"),
            source=(source or "").lower(),
        )


# --------------------------------------------------------------------------------------------- AST


class Node:
    positional = False  # True when the node can say *where* it matches (needed by NEAR)

    def matches(self, doc: Document) -> bool:
        raise NotImplementedError

    def spans(self, doc: Document) -> list[tuple[int, int]]:  # token spans [start, end)
        raise NotImplementedError


@dataclass
class Term(Node):
    """A word or phrase: a sequence of (word, is_prefix) tokens matched consecutively."""

    words: tuple[tuple[str, bool], ...]
    raw: str
    positional = True

    def spans(self, doc: Document) -> list[tuple[int, int]]:
        n = len(self.words)
        first, is_prefix = self.words[0]
        # Where the first word is exact, only its occurrences can start a match (same spans, in order).
        starts = range(len(doc.tokens) - n + 1) if is_prefix else doc.positions(first)
        return [(i, i + n) for i in starts if T.words_match_at(self.words, doc.tokens, i)]

    def matches(self, doc: Document) -> bool:
        if len(self.words) == 1 and not self.words[0][1]:
            return bool(doc.positions(self.words[0][0]))
        return bool(self.spans(doc))


@dataclass
class Tag(Node):
    """#hashtag or @mention (prefix allowed with a trailing *)."""

    kind: str  # "#" or "@"
    value: str
    prefix: bool = False

    def matches(self, doc: Document) -> bool:
        pool = doc.hashtags if self.kind == "#" else doc.mentions
        if self.prefix:
            return any(v.startswith(self.value) for v in pool)
        return self.value in pool


@dataclass
class Field_(Node):
    """lang:, from:, source: — metadata filters."""

    name: str
    value: str

    def matches(self, doc: Document) -> bool:
        if self.name == "lang":
            return doc.lang == self.value
        if self.name == "from":
            return doc.author == self.value
        return doc.source == self.value


@dataclass
class Not(Node):
    child: Node

    def matches(self, doc: Document) -> bool:
        return not self.child.matches(doc)


@dataclass
class And(Node):
    children: list[Node]

    def matches(self, doc: Document) -> bool:
        return all(c.matches(doc) for c in self.children)


@dataclass
class Or(Node):
    children: list[Node]

    @property
    def positional(self) -> bool:  # type: ignore[override]
        return all(c.positional for c in self.children)

    def matches(self, doc: Document) -> bool:
        return any(c.matches(doc) for c in self.children)

    def spans(self, doc: Document) -> list[tuple[int, int]]:
        return sorted({s for c in self.children for s in c.spans(doc)})


@dataclass
class Near(Node):
    """Both sides within `distance` words of each other, in either order."""

    left: Node
    right: Node
    distance: int
    positional = True

    def spans(self, doc: Document) -> list[tuple[int, int]]:
        right = self.right.spans(doc)
        if not right:
            return []
        out = []
        for ls, le in self.left.spans(doc):
            for rs, re_ in right:
                gap = rs - le if rs >= le else ls - re_ if ls >= re_ else 0
                if gap <= self.distance:
                    out.append((min(ls, rs), max(le, re_)))
        return out

    def matches(self, doc: Document) -> bool:
        return bool(self.spans(doc))


# --------------------------------------------------------------------------------------------- lexer

_FIELDS = ("lang", "from", "source")
_TOKEN_RE = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<lparen>\()
  | (?P<rparen>\))
  | (?P<phrase>"[^"]*"?)
  | (?P<near>NEAR(?:/(?P<n>\w*))?(?=[\s()"]|$))
  | (?P<op>(?:AND|OR|NOT)(?=[\s()"]|$))
  | (?P<minus>-(?=[^\s-]))
  | (?P<field>(?:lang|from|source):\S*)
  | (?P<word>[^\s()"]+)
    """,
    re.VERBOSE,
)


@dataclass
class _Tok:
    kind: str
    value: str
    pos: int
    n: int = 0


def _lex(query: str) -> list[_Tok]:
    toks: list[_Tok] = []
    pos = 0
    while pos < len(query):
        m = _TOKEN_RE.match(query, pos)
        assert m is not None  # the `word` alternative matches any non-space character
        kind = m.lastgroup if m.lastgroup != "n" else "near"
        value = m.group(0)
        if kind == "phrase" and (len(value) < 2 or not value.endswith('"')):
            raise QueryError(query, pos, 'unclosed quote: add the closing "')
        if kind == "near":
            if not (m.group("n") or "").isdigit():
                raise QueryError(query, pos, "NEAR needs a distance in words, e.g. NEAR/3")
            toks.append(_Tok("near", value, pos, int(m.group("n"))))
        elif kind != "space":
            toks.append(_Tok(kind, value, pos))
        pos = m.end()
    return toks


# --------------------------------------------------------------------------------------------- parser


class _Parser:
    def __init__(self, query: str):
        self.query = query
        self.toks = _lex(query)
        self.i = 0

    def error(self, message: str, pos: int | None = None) -> QueryError:
        if pos is None:
            pos = self.toks[self.i].pos if self.i < len(self.toks) else len(self.query)
        return QueryError(self.query, pos, message)

    def peek(self) -> _Tok | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self) -> _Tok:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def parse(self) -> Node:
        if not self.toks:
            raise self.error("the query is empty")
        node = self.parse_or()
        tok = self.peek()
        if tok is not None:
            raise self.error("unexpected ')' (no matching '(')" if tok.kind == "rparen" else f"unexpected {tok.value!r}")
        return node

    def parse_or(self) -> Node:
        children = [self.parse_and()]
        while (tok := self.peek()) is not None and tok.kind == "op" and tok.value == "OR":
            self.take()
            children.append(self.parse_and())
        return children[0] if len(children) == 1 else Or(children)

    def parse_and(self) -> Node:
        children = [self.parse_near()]
        while (tok := self.peek()) is not None and tok.kind != "rparen" and not (tok.kind == "op" and tok.value == "OR"):
            if tok.kind == "op" and tok.value == "AND":
                self.take()
            children.append(self.parse_near())
        return children[0] if len(children) == 1 else And(children)

    def parse_near(self) -> Node:
        node = self.parse_unary()
        while (tok := self.peek()) is not None and tok.kind == "near":
            self.take()
            right_pos = self.peek().pos if self.peek() else len(self.query)
            right = self.parse_unary()
            if not node.positional:
                raise self.error("NEAR/n needs words or phrases on its left side", tok.pos)
            if not right.positional:
                raise self.error("NEAR/n needs words or phrases on its right side", right_pos)
            node = Near(node, right, tok.n)
        return node

    def parse_unary(self) -> Node:
        tok = self.peek()
        if tok is None:
            raise self.error("the query ends where a term was expected")
        if (tok.kind == "op" and tok.value == "NOT") or tok.kind == "minus":
            self.take()
            return Not(self.parse_unary())
        return self.parse_atom()

    def parse_atom(self) -> Node:
        tok = self.take()
        if tok.kind == "lparen":
            if (nxt := self.peek()) is not None and nxt.kind == "rparen":
                raise self.error("empty parentheses", tok.pos)
            node = self.parse_or()
            close = self.peek()
            if close is None or close.kind != "rparen":
                raise self.error("missing ')' to close the '(' here", tok.pos)
            self.take()
            return node
        if tok.kind == "rparen":
            raise self.error("unexpected ')' where a term was expected", tok.pos)
        if tok.kind in ("op", "near"):
            raise self.error(f"{tok.value} needs a term before it", tok.pos)
        if tok.kind == "phrase":
            inner = tok.value[1:-1].strip()
            if inner[:1] in ("#", "@") and re.fullmatch(r"[#@][\w.]+\*?", inner):
                return self.tag(inner, tok.pos)  # '"#brivolle"' is how some tools quote a hashtag
            return self.term(inner, tok.pos, tok.value)
        if tok.kind == "field":
            name, _, value = tok.value.partition(":")
            if not value:
                raise self.error(f"{name}: needs a value, e.g. {name}:{'fr' if name == 'lang' else 'name'}", tok.pos)
            value = T.fold(value).lstrip("@") if name == "from" else value.lower()
            return Field_(name, value)
        value = tok.value
        if value[0] in "#@" and len(value) > 1:
            return self.tag(value, tok.pos)
        return self.term(value, tok.pos, value)

    def tag(self, value: str, pos: int) -> Tag:
        body = T.fold(value[1:])
        prefix = body.endswith("*")
        body = body.rstrip("*")
        if not body or not re.fullmatch(r"[\w.]+", body):
            raise self.error(f"invalid {'hashtag' if value[0] == '#' else 'mention'} {value!r}", pos)
        return Tag(value[0], body, prefix)

    def term(self, text: str, pos: int, raw: str) -> Term:
        words: list[tuple[str, bool]] = []
        for chunk in T.fold(text).split():
            if chunk.startswith("*"):
                raise self.error("a wildcard must follow at least one letter (e.g. rembours*)", pos)
            prefix = chunk.endswith("*")
            parts = _WORD.findall(chunk)
            words.extend((p, prefix and k == len(parts) - 1) for k, p in enumerate(parts))
        if not words:
            raise self.error(f"{raw!r} has no letters or digits to match", pos)
        return Term(tuple(words), raw)


@dataclass
class Query:
    """A parsed topic query. `matches(doc)` is pure and thread-safe."""

    text: str
    root: Node = field(repr=False)

    def matches(self, doc: Document) -> bool:
        return self.root.matches(doc)

    def match_text(self, text: str, lang: str | None = None, author: str | None = None, source: str | None = None) -> bool:
        return self.matches(Document.build(text, lang, author, source))


def parse(query: str) -> Query:
    """Parse a boolean query; raises `QueryError` (a ValueError) with the position of the problem."""
    if not isinstance(query, str):
        raise TypeError(f"query must be a string, found {type(query).__name__}")
    return Query(query, _Parser(query).parse())


# --------------------------------------------------------------------------------------------- native

PLATFORMS = ("x", "reddit", "mastodon", "bluesky", "feeds", "replay")
# Platforms whose search has no OR: the query is expanded into alternatives (DNF), at most this many.
MAX_ALTERNATIVES = 20


def to_native(query: str | Query, platform: str) -> list[str]:
    """Translate a query into the platform's search syntax: a list of native queries whose union covers it.

    - x:        one query; AND/OR/NOT(-)/parentheses/"phrases"/#/@/from:/lang: map 1:1. NEAR/n becomes AND;
                a wildcard term is relaxed away (X has no wildcard and the bare stem would be narrower);
                source: is evaluated (true on X, else the query cannot match X and [] is returned).
    - reddit:   one query in Reddit search syntax (AND/OR/NOT, parentheses, "phrases"); from: → author:;
                lang:, wildcards, #, @ and NEAR are relaxed (hashtags/mentions become plain words).
    - bluesky:  searchPosts has no OR: the query is expanded into up to 20 alternatives (implicit AND,
                "phrases", #tag, from:, lang:, mentions:); NOT is dropped (wider).
    - mastodon: public search only follows hashtags: the hashtags a match can come through
                (["#brivolle", ...]); words are turned into hashtags of the same word. Best effort —
                a post that says the brand without its hashtag is not fetched.
    - feeds / replay: [] — no server-side search; fetch everything and filter with `Query.matches`.
    Always wider than the query; Vigie re-checks each fetched post locally.
    """
    q = parse(query) if isinstance(query, str) else query
    platform = platform.lower()
    if platform not in PLATFORMS:
        raise ValueError(f"unknown platform {platform!r}; expected one of {', '.join(PLATFORMS)}")
    if platform in ("feeds", "replay"):
        return []
    root = _restrict_source(q.root, platform)
    if root is None:
        return []
    if root is True:
        raise ValueError(f"query {q.text!r} has no search terms for {platform} (only filters)")
    if platform == "x":
        return [_render_boolean(root, _X_STYLE)]
    if platform == "reddit":
        return [_render_boolean(root, _REDDIT_STYLE)]
    alternatives = _dnf(root)
    if platform == "bluesky":
        return _dedupe(" ".join(p for p in (_render_atom(a, _BSKY_STYLE) for a in alt) if p) for alt in alternatives)
    tags = []
    for alt in alternatives:
        tag = next((a for a in alt if isinstance(a, Tag) and a.kind == "#"), None)
        word = next((a for a in alt if isinstance(a, Term) and len(a.words) == 1 and not a.words[0][1]), None)
        if tag is not None:
            tags.append("#" + tag.value)
        elif word is not None:
            tags.append("#" + word.words[0][0])
    return _dedupe(tags)


def _dedupe(items: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for item in items:
        if item:
            seen.setdefault(item, None)
    return list(seen)


def _restrict_source(node: Node, platform: str) -> Node | bool | None:
    """Evaluate source: filters for this platform: a Node, True (always) or None (never)."""
    if isinstance(node, Field_) and node.name == "source":
        return True if node.value in (platform, "twitter" if platform == "x" else platform) else None
    if isinstance(node, Not):
        child = _restrict_source(node.child, platform)
        if child is True:
            return None
        if child is None:
            return True
        return Not(child)
    if isinstance(node, (And, Or)):
        kids = [_restrict_source(c, platform) for c in node.children]
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
class _Style:
    wildcard: bool
    near: bool
    hashtags: bool
    mentions: bool
    lang: bool
    author_field: str | None
    not_prefix: str  # "-" or "NOT "
    and_sep: str


_X_STYLE = _Style(False, False, True, True, True, "from", "-", " ")
_REDDIT_STYLE = _Style(False, False, False, False, False, "author", "NOT ", " AND ")
_BSKY_STYLE = _Style(False, False, True, True, True, "from", "-", " ")


def _render_atom(node: Node, style: _Style) -> str:
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
            return ("mentions:" if style is _BSKY_STYLE else "@") + node.value
        return node.value
    if isinstance(node, Field_):
        if node.name == "lang" and style.lang:
            return f"lang:{node.value}"
        if node.name == "from" and style.author_field:
            return f"{style.author_field}:{node.value}"
        return ""
    if isinstance(node, Near):
        return " ".join(p for p in (_render_atom(node.left, style), _render_atom(node.right, style)) if p)
    if isinstance(node, Or):  # only inside NEAR operands
        return "(" + " OR ".join(_render_atom(c, style) for c in node.children) + ")"
    raise TypeError(type(node).__name__)


def _render_boolean(node: Node, style: _Style, negated: bool = False) -> str:
    if isinstance(node, Or):
        parts = [_render_boolean(c, style, negated) for c in node.children]
        if any(not p for p in parts):
            return ""  # an alternative we cannot express: the whole OR is relaxed to "anything"
        return "(" + " OR ".join(parts) + ")"
    if isinstance(node, And):
        parts = [p for p in (_render_boolean(c, style, negated) for c in node.children) if p]
        return "(" + style.and_sep.join(parts) + ")" if len(parts) > 1 else (parts[0] if parts else "")
    if isinstance(node, Not):
        inner = _render_boolean(node.child, style, not negated)
        if not inner or _narrows_when_negated(node.child, style):
            return ""  # excluding a relaxed term could drop wanted posts: leave it to the local check
        return style.not_prefix + inner
    if isinstance(node, Near):
        left, right = _render_boolean(node.left, style, negated), _render_boolean(node.right, style, negated)
        return "(" + style.and_sep.join(p for p in (left, right) if p) + ")"
    return _render_atom(node, style)


def _narrows_when_negated(node: Node, style: _Style) -> bool:
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


def _dnf(node: Node) -> list[list[Node]]:
    """Positive alternatives (lists of ANDed atoms) whose union covers the node; NOT is dropped (wider)."""
    if isinstance(node, Or):
        out: list[list[Node]] = []
        for child in node.children:
            out.extend(_dnf(child))
        return _cap(out)
    if isinstance(node, And):
        acc: list[list[Node]] = [[]]
        for child in node.children:
            alts = _dnf(child)
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
