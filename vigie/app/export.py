"""Export the posts of a topic and window to CSV or JSONL, with chosen columns and optional pseudonymised
authors (`vigie export`, in the spirit of gazouilloire's export).

Streaming: posts come from `Store.iter_posts` one page at a time and each row is written as soon as it is
read, so an export of months of posts holds one page in memory.

Pseudonymisation (`pseudonymise=True`) replaces every author identifier with `HMAC-SHA256(key, source:id)`
(16 hex characters): the author's id, handle and name columns, the `mentions` column, and `@handles` in the
text; the `url` column (a permalink names its author) is emptied. The key is:
- the secret in the environment variable `VIGIE_EXPORT_KEY` (name configurable) when it is set: the same
  author gets the same pseudonym in every export made with that key, so exports can be joined; keep the key
  as secret as the data (whoever holds it can test a guess of a handle);
- otherwise a random salt drawn for this export and never written anywhere: pseudonyms are consistent inside
  the export, and cannot be linked to another export or reversed by anyone.

CSV cells that a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, CR first) are prefixed with
`'` (post text is untrusted input); JSONL is written as is.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import json
import os
import re
import secrets
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, TextIO

from vigie.core.models import Post, iso

KEY_ENV = "VIGIE_EXPORT_KEY"


def _analysis(post: Post, get: Callable[[Any], Any]) -> Any:
    return get(post.analysis) if post.analysis is not None else None


def _entities(post: Post, kind: str) -> list[str]:
    return list(getattr(post.entities, kind)) if post.entities is not None else []


# name -> value of the post. Order is the order of `vigie export --columns all`.
COLUMNS: dict[str, Callable[[Post], Any]] = {
    "id": lambda p: p.id,
    "source": lambda p: p.source,
    "created_at": lambda p: iso(p.created_at),
    "author_id": lambda p: p.author.id,
    "author_handle": lambda p: p.author.handle,
    "author_name": lambda p: p.author.name,
    "author_followers": lambda p: p.author.followers,
    "author_verified": lambda p: p.author.verified,
    "author_created_at": lambda p: iso(p.author.created_at),
    "text": lambda p: p.text,
    "lang": lambda p: _analysis(p, lambda a: a.lang) or p.lang,
    "sentiment": lambda p: _analysis(p, lambda a: a.sentiment.label),
    "sentiment_score": lambda p: _analysis(p, lambda a: a.sentiment.score),
    "crisis_risk": lambda p: _analysis(p, lambda a: a.crisis.risk),
    "crisis_categories": lambda p: _analysis(p, lambda a: list(a.crisis.categories)) or [],
    "topics": lambda p: _analysis(p, lambda a: list(a.topic_ids)) or list(p.topic_ids),
    "near_dup_cluster": lambda p: _analysis(p, lambda a: a.near_dup_cluster),
    "relation": lambda p: p.relation,
    "ref_id": lambda p: p.ref_id,
    "parent_id": lambda p: p.parent_id,
    "thread_id": lambda p: p.thread_id,
    "url": lambda p: p.url,
    "likes": lambda p: p.engagement.likes,
    "reposts": lambda p: p.engagement.reposts,
    "replies": lambda p: p.engagement.replies,
    "quotes": lambda p: p.engagement.quotes,
    "views": lambda p: p.engagement.views,
    "hashtags": lambda p: _entities(p, "hashtags"),
    "mentions": lambda p: _entities(p, "mentions"),
    "links": lambda p: _entities(p, "links"),
    "domains": lambda p: _entities(p, "domains"),
}
DEFAULT_COLUMNS = ("id", "source", "created_at", "author_handle", "author_followers", "text", "lang", "sentiment",
                   "relation", "ref_id", "likes", "reposts", "hashtags", "domains", "url")
FORMATS = ("csv", "jsonl")


def parse_columns(spec: str | None) -> list[str]:
    """`a,b,c` -> ["a", "b", "c"] (`all`: every column); ValueError naming the unknown ones and the choices."""
    if not spec:
        return list(DEFAULT_COLUMNS)
    if spec.strip() == "all":
        return list(COLUMNS)
    names = [c.strip() for c in spec.split(",") if c.strip()]
    unknown = [c for c in names if c not in COLUMNS]
    if unknown or not names:
        raise ValueError(f"unknown column(s) {', '.join(unknown) or '(none given)'}; choose among {', '.join(COLUMNS)} "
                         "or `all`")
    return names


class Pseudonymiser:
    """Keyed pseudonyms of authors (see the module docstring for the two key modes)."""

    def __init__(self, key: bytes | None = None):
        self.keyed = key is not None
        self._key = key if key is not None else secrets.token_bytes(32)

    @classmethod
    def from_env(cls, env: str = KEY_ENV) -> "Pseudonymiser":
        value = os.environ.get(env)
        return cls(value.encode() if value else None)

    def __repr__(self) -> str:  # never shows the key
        return f"Pseudonymiser(keyed={self.keyed})"

    def of(self, source: str, ident: str | None) -> str | None:
        if ident is None or ident == "":
            return None
        # Handles are case-insensitive on every platform Vigie reads: @Ana and @ana are one person.
        mac = hmac.new(self._key, f"{source}:{ident.lstrip('@').lower()}".encode(), hashlib.sha256)
        return mac.hexdigest()[:16]

    _MENTION = re.compile(r"(?<![\w@])@([\w.]*\w(?:@[\w.-]+\w)?)")

    def row(self, post: Post, row: dict[str, Any]) -> dict[str, Any]:
        # One pseudonym per author, from the handle where known (mentions name handles, so an author and
        # the mentions of that author get the same pseudonym), else the platform id.
        author = self.of(post.source, post.author.handle or post.author.id)
        for col in ("author_id", "author_handle"):
            if col in row:
                row[col] = author
        if "author_name" in row:
            row["author_name"] = None
        if "mentions" in row:
            row["mentions"] = [self.of(post.source, m) for m in row["mentions"]]
        if "text" in row and row["text"]:
            row["text"] = self._MENTION.sub(lambda m: "@" + (self.of(post.source, m.group(1)) or ""), row["text"])
        if "url" in row:
            row["url"] = None
        return row


@dataclass
class ExportResult:
    rows: int = 0


def rows(posts: Iterable[Post], columns: list[str], pseudonymiser: Pseudonymiser | None = None) -> Iterator[dict[str, Any]]:
    for post in posts:
        row = {c: COLUMNS[c](post) for c in columns}
        yield pseudonymiser.row(post, row) if pseudonymiser else row


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, list):
        value = " ".join(str(v) for v in value if v is not None)  # tags, handles and URLs contain no spaces
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def write(records: Iterable[dict[str, Any]], columns: list[str], fmt: str, out: TextIO,
          on_row: Callable[[], None] | None = None) -> ExportResult:
    """Write rows as they come; `on_row` after each (the progress bar)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; expected csv or jsonl")
    result = ExportResult()
    writer = None
    if fmt == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
    for record in records:
        if writer is not None:
            writer.writerow([_csv_cell(record[c]) for c in columns])
        else:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
        result.rows += 1
        if on_row is not None:
            on_row()
    return result
