"""Which configured topics a post belongs to, by each topic's boolean query (see nlp.query).

Listeners tag posts with the topics they fetched them for, but platform search is wider than our queries
(each platform's native syntax, `listeners/<platform>/native.py`, relaxes what it cannot express), so membership
is always decided here, locally.
"""

from __future__ import annotations

from typing import Any

from nlp.query import Document, Query, QueryError, parse
from vigie.core.config import ConfigError


class TopicMatcher:
    """Compile every topic's query once; `match(...)` returns the ids of the topics a post matches."""

    def __init__(self, topics: list[Any]):
        self._topics: list[tuple[str, Query, frozenset[str]]] = []
        for topic in topics:
            try:
                query = parse(topic.query)
            except QueryError as exc:
                raise ConfigError(f"topics.{topic.id}.query: {exc}") from None
            languages = frozenset(code.lower() for code in (topic.languages or []))
            self._topics.append((topic.id, query, languages))
        # Brand names and aliases, tagged as entities wherever they appear (whatever the topic match).
        self._aliases: list[tuple[str, Query]] = []
        seen: set[str] = set()
        for topic in topics:
            for alias in [topic.name, *(getattr(topic, "aliases", None) or [])]:
                words = alias.replace('"', " ").strip()
                if not words or words.lower() in seen:
                    continue
                try:
                    self._aliases.append((alias, parse(f'"{words}"')))
                    seen.add(words.lower())
                except QueryError:
                    continue  # an alias without letters ("!!!") cannot be matched; nothing to tag

    @property
    def topic_ids(self) -> list[str]:
        return [tid for tid, _, _ in self._topics]

    def match_document(self, doc: Document) -> list[str]:
        out = []
        for tid, query, languages in self._topics:
            # A post in a language the topic does not cover is out; "und" is kept (short posts).
            if languages and doc.lang != "und" and doc.lang not in languages:
                continue
            if query.matches(doc):
                out.append(tid)
        return out

    def entities(self, doc: Document) -> list[str]:
        """Configured brand names/aliases the post mentions, as written in the config."""
        return [alias for alias, query in self._aliases if query.matches(doc)]

    def match(self, text: str, lang: str = "und", author: str | None = None, source: str | None = None) -> list[str]:
        if not self._topics:
            return []
        return self.match_document(Document.build(text, lang, author, source))
