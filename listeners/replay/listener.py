"""Replay listener: posts read from a JSONL file, released in (simulated) time order.

The demo and the backtests drive Vigie with recorded or generated data through exactly the code path of
a live source. The file is one stream (topics are matched by NLP later), sorted by `created_at`.

JSONL schema, one JSON object per line (see also `samples/README.md`):

    required  id          native id of the post on its platform (string; an integer is accepted)
              text        the post's text (string)
              created_at  ISO-8601 time, UTC ("2026-03-02T12:34:56Z"; a naive time is read as UTC)
    optional  source      platform the post came from ("x", "mastodon", ...; default "replay")
              url         permalink (string)
              lang        language reported by the platform (string)
              author      {"id", "handle", "name", "followers" (int >= 0), "verified" (bool)}
              engagement  {"likes", "reposts", "replies", "quotes", "views"} (ints >= 0)
              parent_id   native id of the post this one answers/quotes (same platform)
              thread_id   native id of the first post of the thread (same platform)
              relation    "original", "repost", "quote" or "reply" (default: "reply" with a parent_id,
                          else "original")
              ref_id      native id of the post reposted/quoted/answered (default: parent_id)

The Vigie post id is `post_id(source, id)`; `parent_id`/`thread_id` are mapped the same way so that they
point at Vigie ids. Blank lines are skipped. A line that breaks the schema is quarantined (`Page.rejected`)
with its reason and line number, and the replay goes on.

Cursor: `{"offset": byte offset, "line": 1-based line number}` of the next unread line. `fetch` seeks to the
offset (it never re-reads the file from the start: the demo calls it ~2000 times) and stops at the first post
created at or after `now` *without consuming it*, so simulated time can advance tick by tick.

Outage lines (issue 20: the demo's collector outage). A line `{"kind": "outage", "source": "x", "start":
ISO, "end": ISO, "error": "network", "message": "..."}`, placed in time order at its `start`, says that the
collector of that platform was down over [start, end). A replay source restricted to that platform
(`platforms: [x]` in its config) then behaves as a live listener whose platform is unreachable: from
`start` on, every fetch fails with a `SourceError` of that kind (the cursor stays before the outage line,
so nothing is consumed), and once the clock passes `end` the listener catches up from its cursor (the
platform's posts of the gap arrive late: a backfill). Every other replay source skips the line: a source
that reads every platform stands for one stream that never fails.

`platforms` / `skip_platforms` filter which platforms' posts a source releases (one file can feed one
source per platform). A line that cannot be read is quarantined by the sources without `platforms` only:
its platform is unknown, and a file read by several sources must not quarantine it twice.

A line dated beyond the real clock (plus `max_future`, the configured clock skew) cannot be a real post:
waiting for its time would hold the file back forever (a typo dated 9999), so it is quarantined with the
reason and the replay goes on.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from listeners.base import KINDS, Page, Query, Rejected, SourceError
from vigie.core.clock import future_reason
from vigie.core.entities import from_text as entities_from_text
from vigie.core.models import RELATIONS, Author, Engagement, Post, post_id, utc

PAGE_SIZE = 500
DEFAULT_MAX_FUTURE = timedelta(minutes=10)  # the default of `clock.max_skew_minutes`

_AUTHOR_STR = ("id", "handle", "name")
_ENGAGEMENT = ("likes", "reposts", "replies", "quotes", "views")


class RecordError(ValueError):
    """A line that does not follow the replay schema; the message is the quarantine reason."""


class ReplayListener:
    """`Listener` over a JSONL file of posts (schema in the module docstring)."""

    source = "replay"

    def __init__(self, path: Path | str, name: str = "replay", page_size: int = PAGE_SIZE,
                 max_future: timedelta = DEFAULT_MAX_FUTURE, clock: Callable[[], float] = time.time,
                 platforms: list[str] | None = None, skip_platforms: list[str] | None = None):
        self.path = Path(path)
        self.name = name
        self.page_size = page_size
        self.max_future = max_future
        self.clock = clock
        self.platforms = set(platforms) if platforms else None
        self.skip_platforms = set(skip_platforms or ())

    def _wants(self, source: str) -> bool:
        if self.platforms is not None and source not in self.platforms:
            return False
        return source not in self.skip_platforms

    @classmethod
    def from_config(cls, name: str, cfg: Any, max_future: timedelta | None = None) -> "ReplayListener":
        """Build from a `listeners.replay.ReplaySource` (its path is already resolved against the config file);
        `max_future` is the configured clock skew (`clock.max_skew_minutes`)."""
        return cls(cfg.path, name=name, max_future=DEFAULT_MAX_FUTURE if max_future is None else max_future,
                   platforms=getattr(cfg, "platforms", None), skip_platforms=getattr(cfg, "skip_platforms", None))

    def plan(self, topics: list[Any]) -> list[Query]:
        # One file = one stream: a single query whose cursor is the file position.
        return [Query(key="*", text=str(self.path), topic_ids=[t.id for t in topics])]

    def fetch(self, query: Query, cursor: dict[str, Any] | None, now: datetime) -> Iterator[Page]:
        now = utc(now)
        impossible = max(now, utc(self.clock())) + self.max_future  # no real post is dated after this
        offset, line_no = _read_cursor(cursor)
        try:
            fh = self.path.open("rb")
        except OSError as exc:
            raise SourceError(f"replay {self.name}: cannot open {self.path}: {exc.strerror or exc}", "config") from None
        with fh:
            self._check_offset(fh, offset)
            fh.seek(offset)
            posts: list[Post] = []
            rejected: list[Rejected] = []
            consumed = False  # did this page move the cursor (posts, rejects or blank lines)?
            while True:
                raw = fh.readline()
                if not raw:
                    break  # end of file: a later call resumes here if the file grows
                outage = _outage(raw)
                if outage is not None:
                    if outage["start"] >= now:
                        break  # the future, like a post
                    if self.platforms is not None and outage["source"] in self.platforms and now < outage["end"]:
                        # The platform is down: stop here, the cursor before this line (what was read
                        # before it is released first), so the posts of the gap come once it is back.
                        if consumed:
                            yield Page(posts=posts, cursor={"offset": offset, "line": line_no}, rejected=rejected)
                        raise SourceError(f"replay {self.name}: {outage['message']} (simulated outage of "
                                          f"{outage['source']} until {outage['end']:%Y-%m-%d %H:%M} UTC)",
                                          outage["error"])
                    offset += len(raw)
                    line_no += 1
                    consumed = True
                    continue
                try:
                    post = self._parse(raw, line_no)
                except RecordError as exc:
                    if self.platforms is None:  # a line of unknown platform: the catch-all sources' to report
                        rejected.append(
                            Rejected(
                                record=raw.decode("utf-8", errors="replace").rstrip("\r\n"),
                                reason=str(exc),
                                context={"line": line_no, "file": self.path.name},
                            )
                        )
                    post = None
                if post is not None and not self._wants(post.source):
                    if post.created_at >= now:
                        break  # keep the clock rule: never read past the simulated present
                    post = None  # another source's platform: read past it
                elif post is not None and post.created_at > impossible:
                    rejected.append(Rejected(
                        record=raw.decode("utf-8", errors="replace").rstrip("\r\n"),
                        reason=future_reason(post.created_at, self.max_future),
                        context={"line": line_no, "file": self.path.name},
                    ))
                    post = None
                elif post is not None and post.created_at >= now:
                    break  # the future: leave this line unread (the cursor stays before it)
                offset += len(raw)
                line_no += 1
                consumed = True
                if post is not None:
                    posts.append(post)
                if len(posts) + len(rejected) >= self.page_size:
                    yield Page(posts=posts, cursor={"offset": offset, "line": line_no}, rejected=rejected)
                    posts, rejected, consumed = [], [], False
            if consumed:
                yield Page(posts=posts, cursor={"offset": offset, "line": line_no}, rejected=rejected)

    def _check_offset(self, fh: Any, offset: int) -> None:
        """A cursor must point at the start of a line; anything else means the file was replaced."""
        size = self.path.stat().st_size
        if offset > size:
            raise SourceError(
                f"replay {self.name}: cursor offset {offset} is past the end of {self.path.name} ({size} bytes); "
                "the file was truncated or replaced. Fix: reset this source's cursor (or start a fresh store).", "config"
            )
        if offset > 0:
            fh.seek(offset - 1)
            if fh.read(1) != b"\n":
                raise SourceError(
                    f"replay {self.name}: cursor offset {offset} is not at a line start in {self.path.name}; "
                    "the file was modified. Fix: reset this source's cursor (or start a fresh store).", "config"
                )

    def _parse(self, raw: bytes, line_no: int) -> Post | None:
        """One line -> Post, None for a blank line; RecordError names what is wrong."""
        try:
            text = raw.decode("utf-8-sig")  # tolerate the BOM some editors and exporters write
        except UnicodeDecodeError as exc:
            raise RecordError(f"not UTF-8 (byte {exc.start})") from None
        if not text.strip():
            return None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise RecordError(f"invalid JSON: {exc.msg} (column {exc.colno})") from None
        return record_to_post(data, raw_ref=f"{self.path.name}:{line_no}")


def _outage(raw: bytes) -> dict[str, Any] | None:
    """The outage a line describes, None for any other line (a post, or a line the parser will reject).
    Cheap on posts: only a line that mentions `"kind":"outage"` is decoded twice."""
    if b'"outage"' not in raw:
        return None
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(data, dict) or data.get("kind") != "outage" or "text" in data:
        return None
    try:
        start, end = utc(data["start"]), utc(data["end"])
        source = str(data["source"])
    except (KeyError, TypeError, ValueError):
        return None  # a broken outage line is reported like any broken line
    error = data.get("error", "network")
    return {"source": source, "start": start, "end": end, "error": error if error in KINDS else "network",
            "message": str(data.get("message") or f"{source} unreachable")[:200]}


def record_to_post(data: Any, raw_ref: str | None = None) -> Post:
    """Validate one decoded record of the replay schema and build the `Post` (RecordError if invalid)."""
    if not isinstance(data, dict):
        raise RecordError(f"expected a JSON object, found {type(data).__name__}")
    for key in ("id", "text", "created_at"):
        if key not in data or data[key] is None:
            raise RecordError(f"missing required field {key!r}")
    native = _ident(data["id"], "id")
    if not native:
        raise RecordError("field 'id' is empty")
    if not isinstance(data["text"], str):
        raise RecordError(f"field 'text' must be a string, found {type(data['text']).__name__}")
    if not isinstance(data["created_at"], str):
        raise RecordError(f"field 'created_at' must be an ISO-8601 string, found {type(data['created_at']).__name__}")
    try:
        created = utc(data["created_at"])
    except ValueError:
        raise RecordError(f"field 'created_at' is not an ISO-8601 date: {data['created_at'][:40]!r}") from None
    source = data.get("source", "replay")
    if not isinstance(source, str) or not source.strip():
        raise RecordError("field 'source' must be a non-empty string")
    for key in ("url", "lang"):
        if data.get(key) is not None and not isinstance(data[key], str):
            raise RecordError(f"field {key!r} must be a string, found {type(data[key]).__name__}")
    parent = data.get("parent_id")
    thread = data.get("thread_id")
    relation = data.get("relation") or ("reply" if parent is not None else "original")
    if relation not in RELATIONS:
        raise RecordError(f"field 'relation' must be one of {', '.join(RELATIONS)}, found {str(relation)[:40]!r}")
    ref = data.get("ref_id", parent if relation != "original" else None)
    return Post(
        id=post_id(source, native),
        source=source,
        text=data["text"],
        created_at=created,
        url=data.get("url"),
        lang=data.get("lang"),
        author=_author(data.get("author")),
        engagement=_engagement(data.get("engagement")),
        parent_id=post_id(source, _ident(parent, "parent_id")) if parent is not None else None,
        thread_id=post_id(source, _ident(thread, "thread_id")) if thread is not None else None,
        raw_ref=raw_ref,
        relation=relation,
        ref_id=post_id(source, _ident(ref, "ref_id")) if ref is not None else None,
        entities=entities_from_text(data["text"]),
    )


def _ident(value: Any, key: str) -> str:
    # bool is an int subclass: `true` is not an id.
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise RecordError(f"field {key!r} must be a string or an integer, found {type(value).__name__}")
    return str(value)


def _count(value: Any, key: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise RecordError(f"field {key!r} must be a non-negative integer, found {value!r}"[:120])
    return value


def _author(value: Any) -> Author:
    if value is None:
        return Author()
    if not isinstance(value, dict):
        raise RecordError(f"field 'author' must be an object, found {type(value).__name__}")
    out: dict[str, Any] = {}
    for key in _AUTHOR_STR:
        if value.get(key) is not None:
            out[key] = _ident(value[key], f"author.{key}")
    out["followers"] = _count(value.get("followers"), "author.followers")
    verified = value.get("verified")
    if verified is not None and not isinstance(verified, bool):
        raise RecordError(f"field 'author.verified' must be true or false, found {verified!r}"[:120])
    out["verified"] = verified
    return Author(**out)


def _engagement(value: Any) -> Engagement:
    if value is None:
        return Engagement()
    if not isinstance(value, dict):
        raise RecordError(f"field 'engagement' must be an object, found {type(value).__name__}")
    return Engagement(**{key: _count(value.get(key), f"engagement.{key}") for key in _ENGAGEMENT})


def _read_cursor(cursor: dict[str, Any] | None) -> tuple[int, int]:
    if not cursor:
        return 0, 1
    offset, line = cursor.get("offset", 0), cursor.get("line", 1)
    if not isinstance(offset, int) or not isinstance(line, int) or offset < 0 or line < 1:
        raise SourceError(f"replay: invalid cursor {cursor!r}; expected {{'offset': int >= 0, 'line': int >= 1}}", "config")
    return offset, line

