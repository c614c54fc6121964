"""Bluesky through the `atproto` client: `app.bsky.feed.searchPosts` (sort=latest) with an app password,
plus `app.bsky.actor.getProfiles` for the authors' follower counts (search results do not carry them).

Cursor: a descending scan (`listeners.paging`) keyed on (`indexedAt`, uri) — the time the AppView saw
the post, which unlike `createdAt` cannot be back-dated — resuming with the API's own `cursor`.
Responses are read as raw JSON (`invoke_query`) so that one malformed post is quarantined instead of
failing the whole page's model validation.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from atproto import Client, models
from atproto_client import exceptions as at_exc
from atproto_client.request import Request

from listeners.base import Page, Query, SourceError
from listeners.http import RateLimited, Retrier, RetryPolicy, Transient, policy_from, reset_wait
from listeners.paging import InvalidResume, RawPage, as_int, descending_scan, require, to_page
from listeners.plan import native_queries
from vigie.core.config import SecretMissing, env_secret
from vigie.core.entities import build as build_entities, from_text as entities_from_text
from vigie.core.models import Author, Engagement, Post, PostEntities, Relation, iso, post_id, utc

DEFAULT_BASE_URL = "https://bsky.social"


class _BadRequest(Exception):
    """HTTP 400 from an XRPC call (the caller knows whether it means a stale cursor or a bad query)."""
PROFILES_BATCH = 25  # getProfiles accepts at most 25 actors


class BlueskyListener:
    source = "bluesky"

    def __init__(
        self,
        name: str = "bluesky",
        handle_env: str = "BLUESKY_HANDLE",
        app_password_env: str = "BLUESKY_APP_PASSWORD",
        base_url: str | None = None,
        max_pages: int = 10,
        page_size: int = 100,
        with_profiles: bool = True,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ):
        self.name = name
        self.handle_env = handle_env
        self.app_password_env = app_password_env
        self.base_url = base_url or DEFAULT_BASE_URL
        self.max_pages = max_pages
        self.page_size = page_size
        self.with_profiles = with_profiles
        self.policy = policy or RetryPolicy()
        self.retrier = Retrier(f"Bluesky source {name!r}", self.policy, sleep=sleep, clock=clock)
        self._client: Client | None = None

    @classmethod
    def from_config(cls, name: str, cfg: Any, **kwargs: Any) -> "BlueskyListener":
        kwargs.setdefault("policy", policy_from(cfg))
        return cls(
            name=name, handle_env=cfg.handle_env, app_password_env=cfg.app_password_env, base_url=cfg.base_url,
            max_pages=cfg.max_pages, **kwargs,
        )

    def plan(self, topics: list[Any]) -> list[Query]:
        return native_queries(topics, "bluesky")

    def _auth_hint(self) -> str:
        return (
            f"Set {self.handle_env} to the account handle and {self.app_password_env} to an app password "
            "(Settings → Privacy and security → App passwords), not the account password."
        )

    def _call(self, fn: Callable[[], Any]) -> Any:
        """One XRPC call with atproto's errors mapped onto retry / rate-limit / stop."""

        def once() -> Any:
            try:
                response = fn()
            except at_exc.UnauthorizedError as exc:
                status = exc.response.status_code if exc.response else "401"
                raise SourceError(f"Bluesky source {self.name!r}: access refused (HTTP {status}). {self._auth_hint()}", "auth") from None
            except at_exc.RateLimitExceededError as exc:
                headers = exc.response.headers if exc.response else {}
                raise RateLimited(reset_wait(headers, self.retrier.clock()), "Bluesky: HTTP 429") from None
            except at_exc.InvokeTimeoutError:
                raise Transient("Bluesky: timeout") from None
            except at_exc.NetworkError as exc:
                raise Transient(f"Bluesky: {exc.response.status_code if exc.response else 'connection failed'}") from None
            except at_exc.BadRequestError:
                raise _BadRequest() from None
            except at_exc.RequestException as exc:
                status = exc.response.status_code if exc.response else 0
                if status >= 500:
                    raise Transient(f"Bluesky: HTTP {status}") from None
                raise SourceError(f"Bluesky source {self.name!r}: HTTP {status}", "config") from None
            except (ValueError, at_exc.ModelError):
                # A 200 whose body is cut short: pydantic-core's JSON error, or atproto's ModelError when
                # the response cannot become the model it should (login's session, typed queries).
                raise Transient("Bluesky: response is not valid JSON", "parse") from None
            self.retrier.observe(response.headers if hasattr(response, "headers") else None)
            return response

        return self.retrier.call(once)

    def client(self) -> Client:
        if self._client is None:
            try:
                handle = env_secret(self.handle_env, f"Bluesky source {self.name!r}")
                password = env_secret(self.app_password_env, f"Bluesky source {self.name!r}")
            except SecretMissing as exc:
                raise SourceError(str(exc), "auth") from None
            client = Client(base_url=self.base_url, request=Request(timeout=self.policy.timeout_s))
            # One session per listener: createSession is rate limited far more tightly than search.
            try:
                self._call(lambda: client.login(handle, password, fetch_bsky_profile=False))
            except _BadRequest:
                raise SourceError(f"Bluesky source {self.name!r}: login refused (HTTP 400). {self._auth_hint()}", "auth") from None
            self._client = client
        return self._client

    def _search(self, query: Query, resume: Any) -> RawPage:
        client = self.client()
        params = models.AppBskyFeedSearchPosts.Params(q=query.text, sort="latest", limit=self.page_size, cursor=resume or None)
        try:
            response = self._call(lambda: client.invoke_query("app.bsky.feed.searchPosts", params=params))
        except _BadRequest:
            if resume:
                raise InvalidResume() from None  # an expired cursor: the scan restarts from the newest
            raise SourceError(f"Bluesky source {self.name!r}: searchPosts refused the query {query.text!r}", "config") from None
        body = response.content
        if not isinstance(body, dict) or not isinstance(body.get("posts", []), list):
            raise SourceError(f"Bluesky source {self.name!r}: unexpected searchPosts response", "schema")
        posts = body.get("posts") or []
        profiles = self._profiles(client, posts) if self.with_profiles else {}
        records = [{"post": p, "profile": profiles.get(p.get("author", {}).get("did")) if isinstance(p, dict) and isinstance(p.get("author"), dict) else None} for p in posts]
        return RawPage(records=records, next=body.get("cursor") if posts else None, info=self.retrier.info())

    def _profiles(self, client: Client, posts: list[Any]) -> dict[str, dict[str, Any]]:
        dids = sorted({p["author"]["did"] for p in posts if isinstance(p, dict) and isinstance(p.get("author"), dict) and p["author"].get("did")})
        out: dict[str, dict[str, Any]] = {}
        for i in range(0, len(dids), PROFILES_BATCH):
            batch = dids[i : i + PROFILES_BATCH]
            params = models.AppBskyActorGetProfiles.Params(actors=batch)
            try:
                response = self._call(lambda: client.invoke_query("app.bsky.actor.getProfiles", params=params))
            except _BadRequest:
                continue  # follower counts are a bonus: posts are kept without them
            for profile in (response.content or {}).get("profiles") or []:
                if isinstance(profile, dict) and profile.get("did"):
                    out[profile["did"]] = profile
        return out

    def fetch(self, query: Query, cursor: dict[str, Any] | None, now: datetime) -> Iterator[Page]:
        scan = descending_scan(cursor, lambda resume, floor: self._search(query, resume), _key, self.max_pages)
        for records, page_cursor, info in scan:
            yield to_page(records, page_cursor, normalise_post, query, info, {"source": self.name})


def _key(record: dict[str, Any]) -> tuple[str, str] | None:
    post = record.get("post")
    try:
        return (iso(utc(post["indexedAt"])), str(post["uri"]))  # type: ignore[index]
    except (KeyError, TypeError, ValueError):
        return None


def _rkey(uri: str) -> str:
    # at://did:plc:xyz/app.bsky.feed.post/3k2abc → the post's record key
    parts = uri.split("/")
    if len(parts) != 5 or not uri.startswith("at://") or parts[3] != "app.bsky.feed.post":
        raise ValueError(f"not a post URI: {uri!r}")
    return parts[4]


def normalise_post(record: dict[str, Any]) -> Post:
    """A search result (`postView`) or a feed item (`feedViewPost`: `post` plus, for a repost, a `reason`
    of type `app.bsky.feed.defs#reasonRepost` naming who reposted it) -> Post."""
    post = record["post"]
    if not isinstance(post, dict):
        raise TypeError(f"post is a {type(post).__name__}, not an object")
    reason = record.get("reason")
    if isinstance(reason, dict) and reason.get("$type") == "app.bsky.feed.defs#reasonRepost":
        return _repost(post, reason, record.get("profile") or {})
    uri = str(require(post, "uri"))
    rkey = _rkey(uri)
    author = require(post, "author")
    did = str(require(author, "did"))
    body = require(post, "record")
    text = body.get("text")
    if not isinstance(text, str):
        raise KeyError("record.text")
    langs = body.get("langs") or []
    reply = body.get("reply") or {}
    parent = (reply.get("parent") or {}).get("uri")
    root = (reply.get("root") or {}).get("uri")
    quoted = _quoted_uri(body.get("embed"))
    relation: Relation = "quote" if quoted else "reply" if parent else "original"
    ref = quoted or parent
    profile = record.get("profile") or {}
    handle = author.get("handle")
    return Post(
        id=post_id("bluesky", uri),
        source="bluesky",
        text=text,
        created_at=utc(require(body, "createdAt")),
        url=f"https://bsky.app/profile/{handle or did}/post/{rkey}",
        lang=langs[0] if langs else None,
        author=_author(author, profile),
        engagement=Engagement(
            likes=as_int(post.get("likeCount")),
            reposts=as_int(post.get("repostCount")),
            replies=as_int(post.get("replyCount")),
            quotes=as_int(post.get("quoteCount")),
        ),
        parent_id=post_id("bluesky", parent) if parent else None,
        thread_id=post_id("bluesky", root) if root else None,
        relation=relation,
        ref_id=post_id("bluesky", ref) if ref else None,
        entities=record_entities(body),
    )


def _author(author: dict[str, Any], profile: dict[str, Any]) -> Author:
    verification = profile.get("verification") or author.get("verification") or {}
    created = profile.get("createdAt")  # the profile's creation time (getProfiles), when the AppView has it
    return Author(
        id=str(require(author, "did")),
        handle=author.get("handle"),
        name=author.get("displayName") or None,
        followers=as_int(profile.get("followersCount")),
        verified=(verification.get("verifiedStatus") == "valid") if verification else None,
        created_at=utc(created) if created else None,
    )


def _repost(post: dict[str, Any], reason: dict[str, Any], profile: dict[str, Any]) -> Post:
    """A repost has no record of its own in a feed: it is `reason.by` reposting `post` at `reason.indexedAt`.
    Its id is made of the reposter and the original (one repost per account and post), its text is the
    original's (what the reposter's followers see)."""
    original = str(require(post, "uri"))
    _rkey(original)
    by = require(reason, "by")
    did = str(require(by, "did"))
    body = require(post, "record")
    text = body.get("text")
    if not isinstance(text, str):
        raise KeyError("record.text")
    langs = body.get("langs") or []
    return Post(
        id=post_id("bluesky", f"repost:{did}:{original}"),
        source="bluesky",
        text=text,
        created_at=utc(require(reason, "indexedAt")),
        url=f"https://bsky.app/profile/{by.get('handle') or did}",
        lang=langs[0] if langs else None,
        author=_author(by, profile if profile.get("did") == did else {}),
        relation="repost",
        ref_id=post_id("bluesky", original),
        entities=record_entities(body),
    )


def _quoted_uri(embed: Any) -> str | None:
    """The post a record quotes: `app.bsky.embed.record` (record.uri) or `app.bsky.embed.recordWithMedia`
    (record.record.uri). Only posts count: embedding a list or a feed generator is not a quote."""
    if not isinstance(embed, dict):
        return None
    kind = embed.get("$type")
    inner = embed.get("record") if isinstance(embed.get("record"), dict) else {}
    if kind == "app.bsky.embed.recordWithMedia":
        inner = inner.get("record") if isinstance(inner.get("record"), dict) else {}
    elif kind != "app.bsky.embed.record":
        return None
    uri = inner.get("uri")
    return uri if isinstance(uri, str) and "/app.bsky.feed.post/" in uri else None


def record_entities(body: dict[str, Any]) -> PostEntities:
    """Rich-text facets give exact tags and full link targets (the text shows links shortened); mentions
    are facets on a DID, so the handle is read from the text; an external embed (link card) is a link."""
    tags: list[str] = []
    links: list[str] = []
    for facet in body.get("facets") or []:
        for feature in (facet.get("features") or []) if isinstance(facet, dict) else []:
            kind = feature.get("$type") if isinstance(feature, dict) else None
            if kind == "app.bsky.richtext.facet#tag" and feature.get("tag"):
                tags.append(feature["tag"])
            elif kind == "app.bsky.richtext.facet#link" and feature.get("uri"):
                links.append(feature["uri"])
    embed = body.get("embed") if isinstance(body.get("embed"), dict) else {}
    external = embed.get("external") or (embed.get("media") or {}).get("external") or {}
    if isinstance(external, dict) and external.get("uri"):
        links.append(external["uri"])
    from_text = entities_from_text(body.get("text") or "")
    return build_entities(tags or from_text.hashtags, from_text.mentions, links or from_text.links)
