"""What every listener is: a generator of pages of `Post` records, each page with the cursor that
resumes *after* it (dlt-style explicit incremental cursor).

The pipeline stores a page's posts and quarantined records first and only then saves `page.cursor`,
so an interrupted run resumes at the last stored page and never loses a post.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from vigie.core.models import Post


@dataclass
class Query:
    """One thing a listener fetches: `key` names its cursor, `text` is in the platform's syntax."""

    key: str
    text: str
    topic_ids: list[str]


@dataclass
class Rejected:
    """A record that could not be normalised: kept whole, with the reason (quarantine)."""

    record: Any
    reason: str
    context: dict[str, Any] = field(default_factory=dict)


@dataclass
class Page:
    posts: list[Post]
    cursor: dict[str, Any]  # opaque JSON that resumes after this page
    rejected: list[Rejected] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)  # rate-limit waits, retries, http status... for reporting


# What kind of failure stopped a source, for reports, exit codes and alerting on the pipeline itself.
KINDS = (
    "auth",        # credentials refused or missing: a human must fix them
    "quota",       # a usage cap (monthly tweets...) is spent: nothing to do before it resets
    "rate_limit",  # the platform said "not now" for longer than we wait
    "network",     # timeouts, refused connections, 5xx that outlived the retries
    "parse",       # a body that is not what it claims (truncated JSON, broken XML)
    "schema",      # a well-formed body of an unexpected shape (an API change)
    "config",      # the source's own configuration (unknown source, bad query, missing library)
    "store",       # the store refused a page: the cursor stays before it
    "internal",    # anything else: a bug in Vigie or in a client library
)


class SourceError(RuntimeError):
    """A source cannot be read now (auth refused, missing secret, unreachable). Stops this source only.

    `kind` is one of `KINDS`; the message names the fix when there is one, never a secret."""

    def __init__(self, message: str = "", kind: str = "internal"):
        super().__init__(message)
        self.kind = kind if kind in KINDS else "internal"


@runtime_checkable
class Listener(Protocol):
    source: str  # platform name used in post ids: "replay", "x", "reddit", "feeds", "mastodon", "bluesky"

    def plan(self, topics: list[Any]) -> list[Query]:
        """The queries needed to cover these topics (config `Topic` objects)."""

    def fetch(self, query: Query, cursor: dict[str, Any] | None, now: datetime) -> Iterator[Page]:
        """Pages of posts newer than `cursor` and created before `now` (`now` is the simulated clock
        in replays; live sources use it as an upper bound)."""
