"""Topic queries → one `Query` per distinct native search, shared by the topics that need it.

The translation itself is the platform's own (`Platform.native`, in `listeners/<platform>/native.py`, found
through the platform registry): always wider than the topic query (the analyzer re-checks every post locally
against each topic), so two topics that translate to the same native search share one cursor and one fetch.
"""

from __future__ import annotations

import logging
from typing import Any

from listeners.base import Query
from vigie.core.platform import PLATFORMS
from vigie.core.query import QueryError, TopicQuery, parse
from vigie.core.registry import UnknownName

log = logging.getLogger("vigie.listeners")


def to_native(query: str | TopicQuery, platform: str) -> list[str]:
    """The platform's native searches whose union covers `query` (see `Platform.native`)."""
    parsed = parse(query) if isinstance(query, str) else query
    try:
        spec = PLATFORMS.get(platform.lower())
    except UnknownName as exc:
        raise ValueError(f"unknown platform {platform!r}; expected one of {', '.join(exc.known)}") from None
    return spec.native(parsed)


def native_queries(topics: list[Any], platform: str, key_prefix: str = "") -> list[Query]:
    by_text: dict[str, Query] = {}
    for topic in topics:
        try:
            natives = to_native(topic.query, platform)
        except (QueryError, ValueError) as exc:
            # One bad topic must not stop the source for the others; the config check reports it too.
            log.warning("topic %s: no %s search for its query: %s", topic.id, platform, exc)
            continue
        for text in natives:
            query = by_text.setdefault(text, Query(key=f"{key_prefix}{text}", text=text, topic_ids=[]))
            if topic.id not in query.topic_ids:
                query.topic_ids.append(topic.id)
    return list(by_text.values())
