"""Feeds: RSS/Atom (forums, blogs, news sites, news-search feeds) and Discourse forums' public JSON.

RSS/Atom: fetched with `requests` (our timeouts, our conditional GET) and parsed by `feedparser`.
Cursor `{"etag", "last_modified", "seen": {entry key: updated}}`: a 304 costs nothing; otherwise only
entries that are new or whose `updated` changed (edits update the stored post) become posts. A feed
that does not parse is quarantined whole and its validators are not saved, so it is fetched again.

Discourse: `/posts.json` (latest posts of the whole forum, newest first, `before=<id>` pages back)
and `/search.json?q=... order:latest` per topic; both are descending scans keyed on the post id.
"""

from __future__ import annotations

import hashlib
import time
from xml.sax import SAXException
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

import feedparser

from listeners.base import Page, Query, Rejected, SourceError
from listeners.http import JsonHttp, Retrier, RetryPolicy, policy_from
from listeners.paging import RawPage, as_int, descending_scan, require, to_page
from listeners.text import html_to_text
from vigie.core.entities import from_text as entities_from_text
from vigie.core.models import Author, Engagement, Post, post_id, utc

SEEN_MAX = 2000  # entry keys remembered per feed: far more than any feed carries at once


class FeedsListener:
    source = "feeds"

    def __init__(
        self,
        name: str = "feeds",
        urls: list[str] | None = None,
        discourse: list[str] | None = None,
        max_pages: int = 10,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ):
        self.name = name
        self.urls = list(urls or [])
        self.discourse = [b.rstrip("/") for b in discourse or []]
        self.max_pages = max_pages
        self.policy = policy or RetryPolicy()
        self.retrier = Retrier(f"feeds source {name!r}", self.policy, sleep=sleep, clock=clock)
        self.http = JsonHttp(f"feeds source {name!r}", self.retrier, self.policy.timeout_s, auth_hint="The feed or forum requires a login; Vigie reads public feeds only.")

    @classmethod
    def from_config(cls, name: str, cfg: Any, **kwargs: Any) -> "FeedsListener":
        kwargs.setdefault("policy", policy_from(cfg))
        return cls(name=name, urls=cfg.urls, discourse=cfg.discourse, max_pages=cfg.max_pages, **kwargs)

    def plan(self, topics: list[Any]) -> list[Query]:
        ids = [t.id for t in topics]
        queries = [Query(key=f"feed:{url}", text=url, topic_ids=list(ids)) for url in self.urls]
        for base in self.discourse:
            queries.append(Query(key=f"discourse:{base}", text=base, topic_ids=list(ids)))
            for topic in topics:
                queries.append(Query(key=f"discourse-search:{base}:{topic.id}", text=topic.query, topic_ids=[topic.id]))
        return queries

    def fetch(self, query: Query, cursor: dict[str, Any] | None, now: datetime) -> Iterator[Page]:
        if query.key.startswith("feed:"):
            page = self._feed(query, cursor or {}, now)
            yield page  # stored first: a broken feed's body is quarantined as evidence
            if page.info.get("broken"):
                raise SourceError(f"feeds source {self.name!r}: {query.text}: {page.info['broken'][:300]} "
                                  "(body quarantined; fetched again next run)", "parse")
        elif query.key.startswith("discourse:"):
            base = query.text
            scan = descending_scan(cursor, lambda resume, floor: self._latest(base, resume), _discourse_key, self.max_pages)
            for records, page_cursor, info in scan:
                yield to_page(records, page_cursor, lambda r: normalise_discourse(base, r), query, info, {"source": self.name})
        elif query.key.startswith("discourse-search:"):
            base = query.key[len("discourse-search:") :].rsplit(":", 1)[0]
            scan = descending_scan(cursor, lambda resume, floor: self._search(base, query.text, resume), _discourse_key, self.max_pages)
            for records, page_cursor, info in scan:
                yield to_page(records, page_cursor, lambda r: normalise_discourse(base, r), query, info, {"source": self.name})

    # -- RSS / Atom ------------------------------------------------------------------------------

    def _feed(self, query: Query, cursor: dict[str, Any], now: datetime) -> Page:
        url = query.text
        headers = {}
        if cursor.get("etag"):
            headers["If-None-Match"] = cursor["etag"]
        if cursor.get("last_modified"):
            headers["If-Modified-Since"] = cursor["last_modified"]
        response = self.http.get(url, headers=headers)
        info = self.retrier.info()
        if response.status_code == 304:
            return Page(posts=[], cursor=cursor, info={**info, "not_modified": True})
        parsed = feedparser.parse(response.content, response_headers={k.lower(): v for k, v in response.headers.items()})
        if parsed.bozo and (not parsed.entries or isinstance(parsed.get("bozo_exception"), SAXException)):
            # Not a feed, or a feed broken midway (a truncated body): its last entries would be stored cut
            # short, and remembered as seen. The body is quarantined, the validators stay, and the query
            # reports a parse error (`fetch`): the feed is fetched again next run.
            reason = f"feed is not valid RSS/Atom: {parsed.get('bozo_exception')}"
            body = response.content.decode("utf-8", errors="replace")[:200_000]
            return Page(posts=[], cursor=cursor, rejected=[Rejected(body, reason, {"url": url})], info={**info, "broken": reason})
        seen: dict[str, str] = dict(cursor.get("seen") or {})
        fresh = []
        for entry in parsed.entries:
            key = _entry_key(entry)
            stamp = dict.get(entry, "updated") or dict.get(entry, "published") or ""
            if key is not None and seen.get(key) == stamp:
                continue
            fresh.append(entry)
        page = to_page(fresh, {}, lambda e: normalise_entry(url, e, now), query, info, {"url": url})
        for entry in fresh:
            key = _entry_key(entry)
            if key is not None:
                seen[key] = dict.get(entry, "updated") or dict.get(entry, "published") or ""
        # Keep the newest keys (insertion order) so the cursor stays small.
        seen = dict(list(seen.items())[-SEEN_MAX:])
        page.cursor = {"etag": response.headers.get("ETag"), "last_modified": response.headers.get("Last-Modified"), "seen": seen}
        for rejected in page.rejected:  # feedparser entries are dict subclasses with time.struct_time values
            rejected.record = {k: v for k, v in dict(rejected.record).items() if not k.endswith("_parsed")}
        return page

    # -- Discourse ---------------------------------------------------------------------------------

    def _latest(self, base: str, before: Any) -> RawPage:
        params = {"before": before} if before else None
        body, _ = self.http.get_json(f"{base}/posts.json", params)
        posts = body.get("latest_posts") if isinstance(body, dict) else None
        if not isinstance(posts, list):
            raise _shape_error(self.name, base, "posts.json", "latest_posts")
        ids = [p["id"] for p in posts if isinstance(p, dict) and isinstance(p.get("id"), int)]
        return RawPage(records=posts, next=min(ids) if ids else None, info=self.retrier.info())

    def _search(self, base: str, text: str, page: Any) -> RawPage:
        number = int(page or 1)
        body, _ = self.http.get_json(f"{base}/search.json", {"q": f"{text} order:latest", "page": number})
        if not isinstance(body, dict):
            raise _shape_error(self.name, base, "search.json", "posts")
        posts = body.get("posts") or []
        topics = {t.get("id"): t for t in body.get("topics") or [] if isinstance(t, dict)}
        for post in posts:  # search results name the topic by id only; its slug makes the URL
            if isinstance(post, dict) and post.get("topic_id") in topics:
                post.setdefault("topic_slug", topics[post["topic_id"]].get("slug"))
        more = bool((body.get("grouped_search_result") or {}).get("more_full_page_results")) and posts
        return RawPage(records=posts, next=number + 1 if more else None, info=self.retrier.info())


def _shape_error(name: str, base: str, path: str, field: str) -> Exception:
    return SourceError(f"feeds source {name!r}: {base}/{path} has no `{field}` list; is {base} a Discourse forum?", "schema")


def _entry_key(entry: Any) -> str | None:
    value = entry.get("id") or entry.get("link") or entry.get("title")
    return str(value) if value else None


def normalise_entry(feed_url: str, entry: Any, now: datetime) -> Post:
    key = _entry_key(entry)
    if key is None:
        raise KeyError("id/link/title (the entry has nothing that identifies it)")
    title = (entry.get("title") or "").strip()
    content = entry.get("content") or []
    body_html = (content[0].get("value") if content else None) or entry.get("summary") or ""
    body = html_to_text(body_html)
    text = "\n\n".join(p for p in (title, body) if p)
    if not text:
        raise ValueError("entry has neither title nor text")
    stamp = entry.get("published_parsed") or entry.get("updated_parsed")
    # A feed without dates still tells us the entry exists now; keep it rather than drop it.
    created = datetime(*stamp[:6], tzinfo=timezone.utc) if stamp else utc(now)
    native = hashlib.sha1(f"{feed_url}\n{key}".encode()).hexdigest()[:24]
    author = entry.get("author")
    return Post(
        id=post_id("feeds", native),
        source="feeds",
        text=text,
        created_at=created,
        url=entry.get("link"),
        lang=(entry.get("language") or None),
        author=Author(name=author or None, handle=None),
        # The article itself is the link a press item carries (its domain is the outlet).
        entities=entities_from_text(text, [entry["link"]] if entry.get("link") else []),
    )


def _discourse_key(post: Any) -> tuple[int] | None:
    return (post["id"],) if isinstance(post, dict) and isinstance(post.get("id"), int) else None


def normalise_discourse(base: str, post: dict[str, Any]) -> Post:
    if not isinstance(post, dict):
        raise TypeError(f"post is a {type(post).__name__}, not an object")
    host = urlsplit(base).netloc
    topic = require(post, "topic_id")
    number = require(post, "post_number")
    raw = post.get("raw")
    text = raw if isinstance(raw, str) and raw else html_to_text(post.get("cooked") or post.get("blurb") or "")
    title = post.get("topic_title")
    if title and number == 1:
        text = f"{title}\n\n{text}"
    if not text:
        raise KeyError("raw/cooked/blurb")
    likes = post.get("like_count")
    if likes is None:
        likes = next((a.get("count") for a in post.get("actions_summary") or [] if a.get("id") == 2), None)
    reply_to = post.get("reply_to_post_number")
    slug = post.get("topic_slug") or "-"
    return Post(
        id=post_id("feeds", f"{host}/t/{topic}/{number}"),
        source="feeds",
        text=text,
        created_at=utc(require(post, "created_at")),
        url=f"{base}/t/{slug}/{topic}/{number}",
        author=Author(id=str(post.get("user_id")) if post.get("user_id") is not None else None, handle=post.get("username"), name=post.get("name") or None),
        engagement=Engagement(likes=as_int(likes), replies=as_int(post.get("reply_count")), quotes=as_int(post.get("quote_count")), views=as_int(post.get("reads"))),
        parent_id=post_id("feeds", f"{host}/t/{topic}/{reply_to}") if reply_to else None,
        thread_id=post_id("feeds", f"{host}/t/{topic}/1"),
        relation="reply" if reply_to else "original",
        ref_id=post_id("feeds", f"{host}/t/{topic}/{reply_to}") if reply_to else None,
    )
