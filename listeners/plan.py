"""Topic queries → one `Query` per distinct native search, shared by the topics that need it.

The translation itself is `nlp.query.to_native` (always wider than the topic query; the analyzer
re-checks every post locally against each topic), so two topics that translate to the same native
search share one cursor and one fetch.
"""

from __future__ import annotations

import logging
from typing import Any

from listeners.base import Query

log = logging.getLogger("vigie.listeners")


def native_queries(topics: list[Any], platform: str, key_prefix: str = "") -> list[Query]:
    from nlp.query import QueryError, to_native

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


def all_topic_ids(topics: list[Any]) -> list[str]:
    return [t.id for t in topics]
