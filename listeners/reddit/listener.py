"""Reddit through praw (read-only, application OAuth): search across all of Reddit per topic, and the
new submissions and new comments of the configured subreddits.

Listings are newest first and page back with `after=<fullname>`: each is a descending scan
(`listeners.paging`) keyed on (created_utc, base-36 id as int), resumed with the fullname. Listings are
read as raw JSON (`Reddit.request`) so that one malformed child is quarantined, not the whole page.
prawcore handles the token, paces requests from `x-ratelimit-*` headers and retries 5xx/timeouts
itself; on top of that a 429 waits for the reset (capped) and a failure that survives prawcore's
retries is retried by our `Retrier`.

Quota: each listing answer's `X-Ratelimit-Remaining` / `X-Ratelimit-Reset` (seconds to the end of the
window) is handed to `Retrier.observe`, so the page reports the quota to collection health
(vigie/store/health.py) as X's does, and a window used up stops the source (`max_wait_s`) instead of
letting prawcore sleep blindly. The headers are read off our own requests session (a response hook):
praw 8's `reddit.auth.limits` gives `remaining` and `used` but no longer the reset.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import praw
import prawcore
import requests

from listeners.base import Page, Query, SourceError
from listeners.http import RateLimited, Retrier, RetryPolicy, TimeoutAdapter, Transient, policy_from, reset_wait
from listeners.paging import RawPage, as_int, descending_scan, require, to_page
from listeners.plan import native_queries
from vigie.core.config import SecretMissing, env_secret
from vigie.core.entities import from_text
from vigie.core.models import Author, Engagement, Post, Relation, post_id, utc

PAGE_LIMIT = 100  # Reddit's maximum listing size


class RedditListener:
    source = "reddit"

    def __init__(
        self,
        name: str = "reddit",
        client_id_env: str = "REDDIT_CLIENT_ID",
        client_secret_env: str = "REDDIT_CLIENT_SECRET",
        user_agent: str = "vigie/0.1 (social listening; read-only)",
        subreddits: list[str] | None = None,
        include_comments: bool = True,
        oauth_url: str | None = None,
        reddit_url: str | None = None,
        max_pages: int = 5,
        page_size: int = PAGE_LIMIT,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ):
        self.name = name
        self.client_id_env = client_id_env
        self.client_secret_env = client_secret_env
        self.user_agent = user_agent
        self.subreddits = [s.removeprefix("r/") for s in subreddits or []]
        self.include_comments = include_comments
        self.oauth_url = oauth_url
        self.reddit_url = reddit_url
        self.max_pages = max_pages
        self.page_size = page_size
        self.policy = policy or RetryPolicy()
        self.retrier = Retrier(f"Reddit source {name!r}", self.policy, sleep=sleep, clock=clock)
        self._reddit: praw.Reddit | None = None
        self._last_headers: Any = None  # of the last HTTP answer prawcore received (token or listing)

    @classmethod
    def from_config(cls, name: str, cfg: Any, **kwargs: Any) -> "RedditListener":
        return cls(
            name=name,
            client_id_env=cfg.client_id_env,
            client_secret_env=cfg.client_secret_env,
            user_agent=cfg.user_agent,
            subreddits=cfg.subreddits,
            include_comments=cfg.include_comments,
            oauth_url=cfg.oauth_url,
            reddit_url=cfg.reddit_url,
            max_pages=max(1, math.ceil(cfg.max_items / PAGE_LIMIT)),
            **{"policy": policy_from(cfg), **kwargs},
        )

    def _hint(self) -> str:
        return (
            f"Set {self.client_id_env} and {self.client_secret_env} to the id and secret of a Reddit 'script' or "
            "'web' app (https://www.reddit.com/prefs/apps) approved for API access."
        )

    def reddit(self) -> praw.Reddit:
        if self._reddit is None:
            try:
                client_id = env_secret(self.client_id_env, f"Reddit source {self.name!r}")
                client_secret = env_secret(self.client_secret_env, f"Reddit source {self.name!r}")
            except SecretMissing as exc:
                raise SourceError(str(exc), "auth") from None
            # prawcore ignores praw's `timeout` setting: our adapter on its requests session enforces ours.
            session = requests.Session()
            session.hooks["response"].append(self._seen)
            adapter = TimeoutAdapter(self.policy.timeout_s)
            session.mount("https://", adapter)
            session.mount("http://", adapter)
            urls = {k: v.rstrip("/") for k, v in (("oauth_url", self.oauth_url), ("reddit_url", self.reddit_url)) if v}
            self._reddit = praw.Reddit(
                client_id=client_id,
                client_secret=client_secret,
                user_agent=self.user_agent,
                check_for_updates=False,
                requestor_kwargs={"session": session},
                **urls,
            )
            self._reddit.read_only = True
        return self._reddit

    def _seen(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        self._last_headers = response.headers

    def plan(self, topics: list[Any]) -> list[Query]:
        queries = [Query(key=f"search:{q.text}", text=q.text, topic_ids=q.topic_ids) for q in native_queries(topics, "reddit")]
        if self.subreddits:
            subs = "+".join(sorted(self.subreddits))
            ids = [t.id for t in topics]
            queries.append(Query(key=f"new:{subs}", text=subs, topic_ids=list(ids)))
            if self.include_comments:
                queries.append(Query(key=f"comments:{subs}", text=subs, topic_ids=list(ids)))
        return queries

    def _listing(self, query: Query, after: Any) -> RawPage:
        reddit = self.reddit()
        params: dict[str, Any] = {"limit": self.page_size, "raw_json": 1}
        if after:
            params["after"] = after
        if query.key.startswith("search:"):
            path = "/r/all/search"
            params.update({"q": query.text, "sort": "new", "restrict_sr": "false", "type": "link"})
        elif query.key.startswith("new:"):
            path = f"/r/{query.text}/new"
        else:
            path = f"/r/{query.text}/comments"

        def once() -> Any:
            self._last_headers = None
            try:
                body = reddit.request(method="GET", path=path, params=params)
                self.retrier.observe(self._last_headers)
                return body
            except prawcore.exceptions.TooManyRequests as exc:
                raise RateLimited(reset_wait(exc.response.headers, self.retrier.clock()), "Reddit: HTTP 429") from None
            except (prawcore.exceptions.Forbidden, prawcore.exceptions.InvalidToken, prawcore.exceptions.OAuthException) as exc:
                raise SourceError(f"Reddit source {self.name!r}: access refused ({type(exc).__name__}). {self._hint()}", "auth") from None
            except prawcore.exceptions.ServerError as exc:
                raise Transient(f"Reddit: HTTP {exc.response.status_code}") from None
            except prawcore.exceptions.BadJSON:
                raise Transient("Reddit: response is not valid JSON", "parse") from None
            except prawcore.exceptions.RequestException as exc:
                raise Transient(f"Reddit: {type(exc.original_exception).__name__}") from None
            except prawcore.exceptions.ResponseException as exc:
                status = exc.response.status_code
                if status in (401, 403):
                    raise SourceError(f"Reddit source {self.name!r}: access refused (HTTP {status}). {self._hint()}", "auth") from None
                if status >= 500:
                    raise Transient(f"Reddit: HTTP {status}") from None
                raise SourceError(f"Reddit source {self.name!r}: HTTP {status}", "config") from None
            except ValueError:
                raise Transient("Reddit: response is not valid JSON", "parse") from None

        body = self.retrier.call(once)
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, dict) or not isinstance(data.get("children"), list):
            raise SourceError(f"Reddit source {self.name!r}: {path} did not return a Listing", "schema")
        return RawPage(records=data["children"], next=data.get("after"), info=self.retrier.info())

    def fetch(self, query: Query, cursor: dict[str, Any] | None, now: datetime) -> Iterator[Page]:
        scan = descending_scan(cursor, lambda after, floor: self._listing(query, after), _key, self.max_pages)
        for records, page_cursor, info in scan:
            yield to_page(records, page_cursor, normalise_thing, query, info, {"source": self.name})


def _key(thing: Any) -> tuple[float, int] | None:
    try:
        data = thing["data"]
        return (float(data["created_utc"]), int(data["id"], 36))
    except (KeyError, TypeError, ValueError):
        return None


def normalise_thing(thing: dict[str, Any]) -> Post:
    """A listing child (`t3` submission or `t1` comment) → Post."""
    kind = require(thing, "kind")
    data = require(thing, "data")
    fullname = str(require(data, "name"))
    relation: Relation = "original"
    ref = None
    links: list[str] = []
    if kind == "t3":
        title = data.get("title") or ""
        text = "\n\n".join(p for p in (title, data.get("selftext") or "") if p)
        parent, thread = None, fullname
        replies = as_int(data.get("num_comments"))
        relation, ref = crosspost_relation(data)
        if not data.get("is_self") and isinstance(data.get("url"), str):
            links.append(data["url"])  # a link submission: the article it shares
    elif kind == "t1":
        text = require(data, "body")
        parent, thread = data.get("parent_id"), data.get("link_id")
        replies = None
        relation, ref = ("reply", parent) if parent else ("original", None)
    else:
        raise ValueError(f"unexpected listing kind {kind!r}")
    if not isinstance(text, str) or not text:
        raise ValueError("no text")
    author = data.get("author")
    permalink = data.get("permalink")
    return Post(
        id=post_id("reddit", fullname),
        source="reddit",
        text=text,
        created_at=utc(float(require(data, "created_utc"))),
        url=f"https://www.reddit.com{permalink}" if permalink else None,
        author=Author(
            id=data.get("author_fullname"),
            handle=author if author and author != "[deleted]" else None,
            name=None,
            followers=None,  # not in listings; one /about call per author is not worth the rate limit
            verified=None,
        ),
        engagement=Engagement(likes=as_int(data.get("score")) if (data.get("score") or 0) >= 0 else 0, replies=replies),
        parent_id=post_id("reddit", parent) if parent else None,
        thread_id=post_id("reddit", thread) if thread else None,
        relation=relation,
        ref_id=post_id("reddit", ref) if ref else None,
        entities=from_text(text, links),
    )


def crosspost_relation(data: dict[str, Any]) -> tuple[Relation, str | None]:
    """A crosspost (`crosspost_parent`, the original's fullname) that only repeats the original's title is
    a repost; one with a title or text of its own is a quote."""
    parent = data.get("crosspost_parent")
    if not isinstance(parent, str) or not parent:
        return "original", None
    originals = data.get("crosspost_parent_list") or []
    original = originals[0] if originals and isinstance(originals[0], dict) else {}
    same_words = (data.get("title") or "").strip() == (original.get("title") or "").strip() and not data.get("selftext")
    return ("repost" if original and same_words else "quote"), parent
