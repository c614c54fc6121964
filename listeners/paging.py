"""Loss-free incremental reading of newest-first APIs, and record normalisation into pages.

Search APIs (X recent search, Reddit listings, Discourse, Bluesky searchPosts) return the newest
posts first and paginate towards older ones. Saving "the newest id seen" after the first page would
lose every older page if the run stops half-way, so the cursor records a *scan in progress*:

    {"floor": K0}                               everything with key <= K0 is stored
    {"floor": K0, "top": K1, "resume": R}       scanning down from K1; continue at R, stop at K0

A scan ends at the first record with key <= floor (or the last page); the new floor is then the
highest key seen. A run that stops (crash, rate limit, page budget) leaves a cursor that continues
the same scan next time; records that arrived meanwhile are newer than `top` and are picked up by the
next scan. Keys are tuples of JSON scalars (stored as lists) that order records like the platform.
A resume point the platform no longer knows (empty first page, `InvalidResume`) restarts the scan from
the newest page with the same floor: a few duplicates (same ids, upserted), never a gap.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from listeners.base import Page, Query, Rejected
from vigie.core.entities import from_text as entities_from_text
from vigie.core.models import Post

Key = tuple[Any, ...]


@dataclass
class RawPage:
    records: list[Any]  # native records, newest first
    next: Any = None  # what fetches the next (older) page; None when this was the last one
    info: dict[str, Any] = field(default_factory=dict)


class InvalidResume(Exception):
    """The platform refused the resume point (expired cursor): the scan restarts from the newest page."""


def _key(value: Any) -> Key | None:
    return tuple(value) if isinstance(value, (list, tuple)) else None


def descending_scan(
    cursor: dict[str, Any] | None,
    fetch: Callable[[Any, Key | None], RawPage],
    key_of: Callable[[Any], Key | None],
    max_pages: int,
) -> Iterator[tuple[list[Any], dict[str, Any], dict[str, Any]]]:
    """Yield (new records, cursor after them, info) page by page.

    `fetch(resume, floor)` returns one page (resume None = newest page). `key_of(record)` returns the
    record's ordering key, or None when the record is malformed (it is passed on, to be quarantined).
    Records seen earlier in the same run (pages shifted by new arrivals) are dropped.
    """
    cursor = cursor or {}
    floor = _key(cursor.get("floor"))
    top = _key(cursor.get("top"))
    resume = cursor.get("resume")
    seen: set[Key] = set()
    for page_no in range(max_pages):
        try:
            raw = fetch(resume, floor)
        except InvalidResume:
            raw = RawPage([])
        if page_no == 0 and resume is not None and not raw.records:
            # The resume point may be gone (a deleted Reddit item as `after`, an expired cursor): rescan
            # from the newest page down to the same floor. Duplicates are dropped by id; nothing is lost.
            resume = None
            raw = fetch(None, floor)
        fresh: list[Any] = []
        reached_floor = False
        for record in raw.records:
            key = key_of(record)
            if key is None:
                fresh.append(record)
                continue
            if floor is not None and key <= floor:
                reached_floor = True
                continue
            if key in seen:
                continue
            seen.add(key)
            fresh.append(record)
            top = key if top is None or key > top else top
        if reached_floor or raw.next is None:
            done = top if floor is None or (top is not None and top > floor) else floor
            yield fresh, ({"floor": list(done)} if done is not None else {}), raw.info
            return
        resume = raw.next
        yield fresh, {"floor": list(floor) if floor else None, "top": list(top) if top else None, "resume": resume}, raw.info


def to_page(
    records: list[Any],
    cursor: dict[str, Any],
    normalise: Callable[[Any], Post],
    query: Query,
    info: dict[str, Any] | None = None,
    context: dict[str, Any] | None = None,
) -> Page:
    """Normalise each record; one that cannot be normalised is quarantined with its reason, the rest kept."""
    posts: list[Post] = []
    rejected: list[Rejected] = []
    for record in records:
        try:
            post = normalise(record)
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
            reason = f"{type(exc).__name__}: {exc}" if not isinstance(exc, KeyError) else f"missing field {exc}"
            rejected.append(Rejected(record=record, reason=reason, context={"query": query.key, **(context or {})}))
            continue
        post.topic_ids = list(query.topic_ids)
        if post.entities is None:  # the platform reported none: read them from the text
            post.entities = entities_from_text(post.text)
        posts.append(post)
    return Page(posts=posts, cursor=cursor, rejected=rejected, info=dict(info or {}))


def require(record: Any, *path: str) -> Any:
    """record[path...] or a KeyError naming the whole path (a clear quarantine reason)."""
    value = record
    for part in path:
        if not isinstance(value, dict) or value.get(part) is None:
            raise KeyError(".".join(path))
        value = value[part]
    return value


def as_int(value: Any) -> int | None:
    """Counts as the platforms send them (int, numeric string, or absent); bool and junk are refused."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError(f"expected a count, found {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    raise ValueError(f"expected a count, found {value!r}")
