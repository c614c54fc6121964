"""X (Twitter) API v2 recent search through tweepy: `search_recent_tweets` with since_id, pagination,
author expansion (followers, verified), public metrics and `note_tweet` (full text of long posts).

Cursor: a descending scan (`listeners.paging`) keyed on the tweet id; `since_id` = floor. Within a run
pages follow `next_token`; a run that stopped half-way resumes with `until_id` (tokens expire).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import requests
import tweepy

from listeners.base import Page, Query, SourceError
from listeners.http import RateLimited, Retrier, RetryPolicy, TimeoutAdapter, Transient, policy_from, reset_wait
from listeners.paging import RawPage, as_int, descending_scan, require, to_page
from listeners.plan import native_queries
from vigie.core.config import SecretMissing, env_secret
from vigie.core.entities import build as build_entities
from vigie.core.models import Author, Engagement, Post, PostEntities, Relation, post_id, utc

# tweepy logs request headers (the bearer token) at DEBUG: never let a debug run write the secret.
logging.getLogger("tweepy.client").setLevel(logging.INFO)

API_ORIGIN = "https://api.twitter.com"
TWEET_FIELDS = ["created_at", "public_metrics", "lang", "conversation_id", "referenced_tweets", "author_id", "note_tweet",
                "entities"]
USER_FIELDS = ["public_metrics", "verified", "username", "name", "created_at"]
EXPANSIONS = ["author_id"]


class XListener:
    source = "x"

    def __init__(
        self,
        name: str = "x",
        token_env: str = "X_BEARER_TOKEN",
        base_url: str | None = None,
        max_pages: int = 10,
        page_size: int = 100,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ):
        self.name = name
        self.token_env = token_env
        self.base_url = base_url
        self.max_pages = max_pages
        self.page_size = page_size
        self.policy = policy or RetryPolicy()
        self.retrier = Retrier(f"X source {name!r}", self.policy, sleep=sleep, clock=clock)
        self._client: tweepy.Client | None = None

    @classmethod
    def from_config(cls, name: str, cfg: Any, **kwargs: Any) -> "XListener":
        kwargs.setdefault("policy", policy_from(cfg))
        return cls(name=name, token_env=cfg.token_env, base_url=cfg.base_url, max_pages=cfg.max_pages, **kwargs)

    def plan(self, topics: list[Any]) -> list[Query]:
        return native_queries(topics, "x")

    def client(self) -> tweepy.Client:
        if self._client is None:
            try:
                token = env_secret(self.token_env, f"X source {self.name!r}")
            except SecretMissing as exc:
                raise SourceError(str(exc), "auth") from None
            client = tweepy.Client(bearer_token=token, return_type=requests.Response, wait_on_rate_limit=False)
            # Timeouts always (tweepy sets none); base_url redirects api.twitter.com (mirror, fixture server).
            adapter = TimeoutAdapter(self.policy.timeout_s, origin=API_ORIGIN, base_url=self.base_url)
            client.session.mount("https://", adapter)
            client.session.mount("http://", adapter)
            self._client = client
        return self._client

    def _search(self, query: Query, resume: Any, floor: Any, run: dict[str, Any]) -> RawPage:
        params: dict[str, Any] = {
            "max_results": self.page_size,
            "expansions": EXPANSIONS,
            "tweet_fields": TWEET_FIELDS,
            "user_fields": USER_FIELDS,
        }
        if floor:
            params["since_id"] = str(floor[0])
        if resume and resume.get("next_token") in run["tokens"]:
            params["next_token"] = resume["next_token"]  # a token is only valid with the params that made it
            if run["until_id"]:
                params["until_id"] = run["until_id"]
        elif resume and resume.get("until_id"):
            run["until_id"] = params["until_id"] = resume["until_id"]
        # (a resume without until_id restarts the scan from the newest: duplicates, never a loss)
        client = self.client()

        def once() -> Any:
            try:
                response = client.search_recent_tweets(query.text, **params)
                body = response.json()
            except tweepy.TooManyRequests as exc:
                if b"UsageCapExceeded" in (exc.response.content or b"")[:2000]:
                    # The project's monthly post cap is spent: waiting 15 minutes will not help.
                    raise SourceError(f"X source {self.name!r}: the project's monthly usage cap is spent "
                                      "(UsageCapExceeded); nothing is fetched until it resets or the plan changes.",
                                      "quota") from None
                raise RateLimited(reset_wait(exc.response.headers, self.retrier.clock()), "X: HTTP 429 Too Many Requests") from None
            except (tweepy.Unauthorized, tweepy.Forbidden) as exc:
                raise SourceError(
                    f"X source {self.name!r}: access refused (HTTP {exc.response.status_code}). Set {self.token_env} to a "
                    "valid app bearer token of a project with recent-search access (Basic tier or above).", "auth"
                ) from None
            except tweepy.TwitterServerError as exc:
                raise Transient(f"X: HTTP {exc.response.status_code}") from None
            except (requests.Timeout, requests.ConnectionError) as exc:
                raise Transient(f"X: {'timeout' if isinstance(exc, requests.Timeout) else 'connection failed'}") from None
            except ValueError:
                raise Transient("X: response is not valid JSON", "parse") from None
            except tweepy.BadRequest as exc:
                # Recent search only reaches 7 days back: a since_id/until_id older than that is refused.
                # Search the whole window instead (what is older is out of reach anyway) and say so.
                text = " ".join(exc.api_messages)
                stale = [k for k in ("since_id", "until_id") if k in params and k in text]
                if not stale:
                    raise SourceError(f"X source {self.name!r}: request refused: {text[:300]}", "config") from None
                for key in stale:
                    params.pop(key)
                params.pop("next_token", None)
                raise Transient(f"X: {'/'.join(stale)} outside the 7-day search window; searching the whole window") from None
            except tweepy.HTTPException as exc:
                raise SourceError(f"X source {self.name!r}: HTTP {exc.response.status_code}: {'; '.join(exc.api_messages)[:300]}", "schema") from None
            self.retrier.observe(response.headers)
            return body

        body = self.retrier.call(once)
        if not isinstance(body, dict):
            raise SourceError(f"X source {self.name!r}: unexpected response shape ({type(body).__name__})", "schema")
        tweets = body.get("data") or []
        users = {u.get("id"): u for u in (body.get("includes") or {}).get("users") or [] if isinstance(u, dict)}
        meta = body.get("meta") or {}
        token = meta.get("next_token")
        nxt = None
        if token:
            run["tokens"].add(token)
            ids = [int(t["id"]) for t in tweets if isinstance(t, dict) and str(t.get("id", "")).isdigit()]
            # X may send an empty page with a next_token: then the scan's lower bound is unchanged.
            oldest = meta.get("oldest_id") or (min(ids) if ids else (resume or {}).get("until_id"))
            nxt = {"next_token": token, "until_id": str(oldest) if oldest else None}
        records = [{"tweet": t, "user": users.get(t.get("author_id")) if isinstance(t, dict) else None} for t in tweets]
        return RawPage(records=records, next=nxt, info=self.retrier.info())

    def fetch(self, query: Query, cursor: dict[str, Any] | None, now: datetime) -> Iterator[Page]:
        # Tokens minted in this run are followed; a resumed scan restarts below the last stored page.
        run: dict[str, Any] = {"tokens": set(), "until_id": None}
        scan = descending_scan(
            cursor,
            lambda resume, floor: self._search(query, resume, floor, run),
            _key,
            self.max_pages,
        )
        for records, page_cursor, info in scan:
            yield to_page(records, page_cursor, normalise_tweet, query, info, {"source": self.name})


def _key(record: dict[str, Any]) -> tuple[int] | None:
    tweet = record.get("tweet")
    try:
        return (int(tweet["id"]),)  # type: ignore[index]
    except (KeyError, TypeError, ValueError):
        return None


def normalise_tweet(record: dict[str, Any]) -> Post:
    """One search result (tweet + its expanded author) → Post."""
    tweet = record["tweet"]
    if not isinstance(tweet, dict):
        raise TypeError(f"tweet is a {type(tweet).__name__}, not an object")
    native = str(require(tweet, "id"))
    if not native.isdigit():
        raise ValueError(f"tweet id {native!r} is not numeric")
    note = tweet.get("note_tweet") or {}
    text = note.get("text") or require(tweet, "text")  # note_tweet holds the full text of long posts
    if not isinstance(text, str):
        raise TypeError("text is not a string")
    user = record.get("user") or {}
    metrics = tweet.get("public_metrics") or {}
    user_metrics = user.get("public_metrics") or {}
    relation, ref = tweet_relation(tweet.get("referenced_tweets") or [])
    conversation = tweet.get("conversation_id")
    handle = user.get("username")
    return Post(
        id=post_id("x", native),
        source="x",
        text=text,
        created_at=utc(require(tweet, "created_at")),
        url=f"https://x.com/{handle}/status/{native}" if handle else f"https://x.com/i/web/status/{native}",
        lang=tweet.get("lang"),
        author=Author(
            id=tweet.get("author_id"),
            handle=handle,
            name=user.get("name"),
            followers=as_int(user_metrics.get("followers_count")),
            verified=bool(user["verified"]) if "verified" in user else None,
            created_at=utc(user["created_at"]) if user.get("created_at") else None,
        ),
        engagement=Engagement(
            likes=as_int(metrics.get("like_count")),
            reposts=as_int(metrics.get("retweet_count")),
            replies=as_int(metrics.get("reply_count")),
            quotes=as_int(metrics.get("quote_count")),
            views=as_int(metrics.get("impression_count")),
        ),
        parent_id=post_id("x", ref) if relation == "reply" else None,
        thread_id=post_id("x", str(conversation)) if conversation else None,
        relation=relation,
        ref_id=post_id("x", ref) if ref else None,
        entities=tweet_entities(tweet),
    )


# A retweet is amplification, a quote has its own words, a reply answers; a quote that replies is a quote
# (its words comment on the quoted post, which is what the story is about).
_REF_TYPES: tuple[tuple[str, Relation], ...] = (("retweeted", "repost"), ("quoted", "quote"), ("replied_to", "reply"))


def tweet_relation(refs: list[Any]) -> tuple[Relation, str | None]:
    """`referenced_tweets` -> (relation, referenced tweet id)."""
    by_type = {r.get("type"): str(r.get("id")) for r in refs if isinstance(r, dict) and r.get("id")}
    for kind, relation in _REF_TYPES:
        if kind in by_type:
            return relation, by_type[kind]
    return "original", None


def tweet_entities(tweet: dict[str, Any]) -> PostEntities | None:
    """X's own `entities` (exact hashtags, mentions, and links with their `expanded_url`: the text only
    has t.co links). None when the tweet has none, so the text is read instead."""
    entities = tweet.get("entities")
    if not isinstance(entities, dict):
        return None
    urls = [u.get("unwound_url") or u.get("expanded_url") or u.get("url") for u in entities.get("urls") or []
            if isinstance(u, dict)]
    return build_entities(
        [h.get("tag") for h in entities.get("hashtags") or [] if isinstance(h, dict)],
        [m.get("username") for m in entities.get("mentions") or [] if isinstance(m, dict)],
        [u for u in urls if u],
    )
