"""Boolean topic queries: the syntax tree and its parser (what a topic's `query:` in the config means).

A topic query is configuration, read by two sides that must never disagree on it: nlp matches posts against
it (`nlp.query`), and each platform translates it into its own search syntax (`listeners/<platform>/native.py`).
Both start from the tree built here; the tree carries no semantics of its own.

Grammar (operators in upper case; precedence NOT > NEAR/n > AND > OR; adjacent terms are ANDed):

    query   := or
    or      := and ("OR" and)*
    and     := near (["AND"] near)*           # "a b" means "a AND b"
    near    := unary ("NEAR/" n unary)*       # both sides: words, phrases, or parenthesised ORs of them
    unary   := ("NOT" | "-") unary | atom
    atom    := "(" or ")" | "phrase words" | word | word* | #hashtag | @mention
             | lang:xx | from:handle | source:name

Words are folded (`vigie.core.text.fold`: case and accents) as they are parsed; a phrase keeps the user's
spelling in `Term.raw` too, for platforms that normalise text their own way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from vigie.core.text import fold

__all__ = ["QueryError", "TopicQuery", "parse", "Node", "Term", "Tag", "Field_", "Not", "And", "Or", "Near"]


class QueryError(ValueError):
    """A malformed query; `position` is the 0-based character offset of the problem."""

    def __init__(self, query: str, position: int, message: str):
        self.query, self.position, self.reason = query, position, message
        caret = " " * position + "^"
        super().__init__(f"invalid query at position {position}: {message}\n  {query}\n  {caret}")


# --------------------------------------------------------------------------------------------- AST

_WORD = re.compile(r"\w+")


class Node:
    positional = False  # True when the node can say *where* it matches (NEAR needs both sides positional)


@dataclass
class Term(Node):
    """A word or phrase: a sequence of (folded word, is_prefix) tokens matched consecutively."""

    words: tuple[tuple[str, bool], ...]
    raw: str
    positional = True


@dataclass
class Tag(Node):
    """#hashtag or @mention (prefix allowed with a trailing *)."""

    kind: str  # "#" or "@"
    value: str
    prefix: bool = False


@dataclass
class Field_(Node):
    """lang:, from:, source: — metadata filters."""

    name: str
    value: str


@dataclass
class Not(Node):
    child: Node


@dataclass
class And(Node):
    children: list[Node]


@dataclass
class Or(Node):
    children: list[Node]

    @property
    def positional(self) -> bool:  # type: ignore[override]
        return all(c.positional for c in self.children)


@dataclass
class Near(Node):
    """Both sides within `distance` words of each other, in either order."""

    left: Node
    right: Node
    distance: int
    positional = True


# --------------------------------------------------------------------------------------------- lexer

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
            value = fold(value).lstrip("@") if name == "from" else value.lower()
            return Field_(name, value)
        value = tok.value
        if value[0] in "#@" and len(value) > 1:
            return self.tag(value, tok.pos)
        return self.term(value, tok.pos, value)

    def tag(self, value: str, pos: int) -> Tag:
        body = fold(value[1:])
        prefix = body.endswith("*")
        body = body.rstrip("*")
        if not body or not re.fullmatch(r"[\w.]+", body):
            raise self.error(f"invalid {'hashtag' if value[0] == '#' else 'mention'} {value!r}", pos)
        return Tag(value[0], body, prefix)

    def term(self, text: str, pos: int, raw: str) -> Term:
        words: list[tuple[str, bool]] = []
        for chunk in fold(text).split():
            if chunk.startswith("*"):
                raise self.error("a wildcard must follow at least one letter (e.g. rembours*)", pos)
            prefix = chunk.endswith("*")
            parts = _WORD.findall(chunk)
            words.extend((p, prefix and k == len(parts) - 1) for k, p in enumerate(parts))
        if not words:
            raise self.error(f"{raw!r} has no letters or digits to match", pos)
        return Term(tuple(words), raw)


@dataclass
class TopicQuery:
    """A parsed topic query: its text as written and its syntax tree."""

    text: str
    root: Node = field(repr=False)


def parse(query: str) -> TopicQuery:
    """Parse a boolean query; raises `QueryError` (a ValueError) with the position of the problem."""
    if not isinstance(query, str):
        raise TypeError(f"query must be a string, found {type(query).__name__}")
    return TopicQuery(query, _Parser(query).parse())
