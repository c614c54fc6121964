"""Mastodon: public hashtag timelines (`/api/v1/timelines/tag/:hashtag`, no token needed) and, with a
token, status search (`/api/v2/search?type=statuses`), over plain `requests`.

Cursor `{"min_id": id}`: with `min_id` Mastodon returns the statuses immediately newer than it, so pages
go forward in time and the cursor after a page is simply the highest id in it — loss-free by
construction. The first run (no cursor) starts from the newest page.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any
from urllib.parse import quote

from listeners.base import Page, Query, SourceError
from listeners.http import JsonHttp, Retrier, RetryPolicy, policy_from
from listeners.paging import as_int, require, to_page
from listeners.plan import native_queries
from listeners.text import html_links, html_to_text
from vigie.core.config import SecretMissing, env_secret
from vigie.core.entities import build as build_entities
from vigie.core.models import Author, Engagement, Post, PostEntities, Relation, post_id, utc

PAGE_LIMIT = 40  # Mastodon's maximum for timelines and search


class MastodonListener:
    source = "mastodon"

    def __init__(
        self,
        instance: str,
        name: str = "mastodon",
        hashtags: list[str] | None = None,
        token_env: str | None = None,
        max_pages: int = 10,
        page_size: int = PAGE_LIMIT,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ):
        self.instance = instance.rstrip("/")
        if "://" not in self.instance:
            self.instance = "https://" + self.instance
        self.name = name
        self.hashtags = [h.lstrip("#") for h in hashtags or []]
        self.token_env = token_env
        self.max_pages = max_pages
        self.page_size = page_size
        self.policy = policy or RetryPolicy()
        self.retrier = Retrier(f"Mastodon source {name!r}", self.policy, sleep=sleep, clock=clock)
        self._http: JsonHttp | None = None

    @classmethod
    def from_config(cls, name: str, cfg: Any, **kwargs: Any) -> "MastodonListener":
        kwargs.setdefault("policy", policy_from(cfg))
        return cls(cfg.instance, name=name, hashtags=cfg.hashtags, token_env=cfg.token_env, max_pages=cfg.max_pages, **kwargs)

    def http(self) -> JsonHttp:
        if self._http is None:
            headers = {}
            if self.token_env:
                try:
                    headers["Authorization"] = "Bearer " + env_secret(self.token_env, f"Mastodon source {self.name!r}")
                except SecretMissing as exc:
                    raise SourceError(str(exc), "auth") from None
            hint = (
                f"Set {self.token_env} to a valid access token (read scope) of an account on {self.instance}."
                if self.token_env
                else f"{self.instance} does not serve public timelines without a token: set `token_env` in the config "
                "and export that variable with an access token (read scope)."
            )
            self._http = JsonHttp(f"Mastodon source {self.name!r}", self.retrier, self.policy.timeout_s, headers, hint)
        return self._http

    def plan(self, topics: list[Any]) -> list[Query]:
        ids = [t.id for t in topics]
        queries = {f"tag:{tag.lower()}": Query(key=f"tag:{tag.lower()}", text=tag, topic_ids=list(ids)) for tag in self.hashtags}
        for q in native_queries(topics, "mastodon"):
            tag = q.text.lstrip("#").lower()
            existing = queries.setdefault(f"tag:{tag}", Query(key=f"tag:{tag}", text=tag, topic_ids=[]))
            existing.topic_ids.extend(t for t in q.topic_ids if t not in existing.topic_ids)
        if self.token_env:
            # Full-text search needs a token (and an instance with search enabled): one search per topic.
            for topic in topics:
                key = f"search:{topic.query}"
                queries[key] = Query(key=key, text=topic.query, topic_ids=[topic.id])
        return list(queries.values())

    def _page(self, query: Query, min_id: str | None) -> list[Any]:
        params: dict[str, Any] = {"limit": self.page_size}
        if min_id:
            params["min_id"] = min_id
        if query.key.startswith("tag:"):
            url = f"{self.instance}/api/v1/timelines/tag/{quote(query.text, safe='')}"
        else:
            url = f"{self.instance}/api/v2/search"
            params.update({"q": query.text, "type": "statuses", "resolve": "false"})
        body, _ = self.http().get_json(url, params)
        statuses = body.get("statuses") if isinstance(body, dict) and query.key.startswith("search:") else body
        if not isinstance(statuses, list):
            raise SourceError(f"Mastodon source {self.name!r}: expected a list of statuses from {url}, found {type(body).__name__}", "schema")
        return statuses

    def fetch(self, query: Query, cursor: dict[str, Any] | None, now: datetime) -> Iterator[Page]:
        min_id = (cursor or {}).get("min_id")
        for _ in range(self.max_pages):
            statuses = self._page(query, min_id)
            ids = [int(s["id"]) for s in statuses if isinstance(s, dict) and str(s.get("id", "")).isdigit()]
            if not statuses:
                return
            top = str(max(ids)) if ids else min_id
            page = to_page(statuses, {"min_id": top} if top else {}, normalise_status, query, self.retrier.info(), {"source": self.name})
            yield page
            # Without a starting point we only take the newest page; from then on we go forward.
            if min_id is None or top == min_id or len(statuses) < self.page_size:
                return
            min_id = top


def normalise_status(status: dict[str, Any]) -> Post:
    if not isinstance(status, dict):
        raise TypeError(f"status is a {type(status).__name__}, not an object")
    native = str(require(status, "id"))
    if not native.isdigit():
        raise ValueError(f"status id {native!r} is not numeric")
    boosted = status.get("reblog")
    body = boosted if isinstance(boosted, dict) else status  # a boost carries the original's text
    account = require(status, "account")
    content = body.get("content")
    if not isinstance(content, str):
        raise KeyError("content")
    text = html_to_text(content)
    if body.get("spoiler_text"):
        text = f"{body['spoiler_text']}\n\n{text}"
    relation, ref = status_relation(status)
    return Post(
        id=post_id("mastodon", native),
        source="mastodon",
        text=text,
        created_at=utc(require(status, "created_at")),
        url=status.get("url") or status.get("uri"),
        lang=status.get("language"),
        author=Author(
            id=str(require(account, "id")),
            handle=account.get("acct") or account.get("username"),
            name=account.get("display_name") or None,
            followers=as_int(account.get("followers_count")),
            verified=None,  # Mastodon has no verified flag (profile-link verification is per field)
            created_at=utc(account["created_at"]) if account.get("created_at") else None,
        ),
        engagement=Engagement(
            likes=as_int(status.get("favourites_count")),
            reposts=as_int(status.get("reblogs_count")),
            replies=as_int(status.get("replies_count")),
            quotes=as_int(status.get("quotes_count")),
        ),
        parent_id=post_id("mastodon", ref) if relation == "reply" else None,
        relation=relation,
        ref_id=post_id("mastodon", ref) if ref else None,
        entities=status_entities(body),
    )


def status_relation(status: dict[str, Any]) -> tuple[Relation, str | None]:
    """A boost (`reblog`: the original status) is a repost; a quote (Mastodon 4.4+: `quote.quoted_status`,
    only once the quoted author `accepted`) has its own words; `in_reply_to_id` makes a reply."""
    boosted = status.get("reblog")
    if isinstance(boosted, dict) and boosted.get("id") is not None:
        return "repost", str(boosted["id"])
    quote = status.get("quote")
    quoted = quote.get("quoted_status") if isinstance(quote, dict) else None
    if isinstance(quoted, dict) and quoted.get("id") is not None:
        return "quote", str(quoted["id"])
    if status.get("in_reply_to_id") is not None:
        return "reply", str(status["in_reply_to_id"])
    return "original", None


def status_entities(body: dict[str, Any]) -> PostEntities:
    """Mastodon's own `tags` and `mentions` (full acct), the links of the HTML body and its preview card."""
    card = body.get("card") if isinstance(body.get("card"), dict) else {}
    return build_entities(
        [t.get("name") for t in body.get("tags") or [] if isinstance(t, dict)],
        [m.get("acct") or m.get("username") for m in body.get("mentions") or [] if isinstance(m, dict)],
        [*html_links(body.get("content") or ""), *([card["url"]] if card.get("url") else [])],
    )
