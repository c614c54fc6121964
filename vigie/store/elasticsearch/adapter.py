"""Elasticsearch adapter of the store contract (production store; see `schema` for the index layout).

Client/server pairing: the pinned `elasticsearch==8.19.x` client talks to Elasticsearch 8.x and 9.x
servers (a 9.x server accepts the 8.x client's `compatible-with=8` headers; a 9.x client would be
refused by an 8.x server).

Write semantics:
- Deterministic `_id` = `Post.id`. Before each bulk, the ids are looked up across the `P-posts` alias
  (all rolled-over indices): an unchanged post is skipped, a changed one is re-indexed *into the index
  that already holds it* (so rollover never duplicates a post), a new one goes to the write alias.
- Bulk responses are inspected item by item: 429/503 (and 502/504) are retried with exponential
  back-off; any other rejection (mapping/parsing errors) sends the post to quarantine with the reason.
  If retryable errors persist after `max_retries`, `StoreError` is raised: nothing is dropped, and the
  pipeline does not advance the listener cursor, so the next run fetches the posts again.
- Refresh: writes are visible to the next read of the pipeline (detection right after ingest).
  `upsert_posts` sends its bulk chunks without refresh and refreshes the posts alias once at the end
  (`refresh="wait_for"` on every chunk would block each one up to the 1 s refresh interval); alerts,
  cursors and quarantine entries are single writes with `refresh="wait_for"`. `refresh=False` turns
  both off for bulk loads (call `refresh()` after).

Reads are exact for everything detection uses, except `authors` (distinct authors), which is a
`cardinality` aggregation: exact in practice below `precision_threshold` (40 000 per bucket), approximate
above it. Dates are indexed with millisecond precision (the `_source` keeps microseconds).
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import random
import re
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from typing import Any

from elasticsearch import (
    ApiError,
    AuthenticationException,
    AuthorizationException,
    ConnectionError as EsConnectionError,
    ConnectionTimeout,
    Elasticsearch,
    TransportError,
    UnsupportedProductError,
)

from vigie.core.config import ConfigError, env_secret
from vigie.core.faults import crash_point
from vigie.core.models import (
    OUTBOX_OPEN,
    Alert,
    AlertState,
    Bucket,
    Cursor,
    OutboxEntry,
    Post,
    Quarantined,
    RiskPoint,
    UpsertResult,
    iso,
    utc,
)
from vigie.core.neardup import NearDupEntry
from vigie.store.base import Lease, LeaseLost, RankBy, bucket_starts, iter_batches, quarantine_fingerprint, record_text
from vigie.store.elasticsearch.schema import (
    DERIVED_FIELDS,
    SCHEMA_VERSION,
    Names,
    component_templates,
    ilm_policy,
    index_templates,
    posts_mappings,
    single_indices,
)
from vigie.store.health import HEALTH_CURSOR, indexed_view

log = logging.getLogger(__name__)

RETRYABLE = frozenset({429, 502, 503, 504})
PAGE = 1000
PURGE_TIMEOUT_S = 600
# `near_dups(after=...)`: entries written up to this long before the last one read are read again, so a
# writer whose clock is a little behind, or whose refresh came late, is not missed (re-read entries are
# skipped by the caller).
NEAR_DUP_OVERLAP_MS = 120_000
# `update_cursor`: attempts before giving up on a document other writers keep changing. Each conflict means
# another writer's update went through, so running out takes that many updates of one record in a row.
CONFLICT_ATTEMPTS = 50


class StoreError(RuntimeError):
    """A store operation failed; the message says what to check and never contains a secret."""


def redact_url(url: str) -> str:
    """`https://user:pass@host` -> `https://***@host`: URLs may embed credentials."""
    return re.sub(r"//[^/@]+@", "//***@", url)


def _topics_of(post: Post) -> list[str]:
    """Same rule as the SQLite adapter: NLP-matched topics are authoritative, else the fetched-for ones."""
    if post.analysis is not None:
        return sorted(set(post.analysis.topic_ids))
    return sorted(set(post.topic_ids))


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def post_document(post: Post, now: datetime | None = None) -> dict[str, Any]:
    """The indexed document: `Post.to_dict()` plus the derived fields detection sorts and aggregates on."""
    doc = post.to_dict()
    content = json.dumps(doc, ensure_ascii=False, sort_keys=True, default=str)
    analysis = post.analysis
    reach = _int(post.author.followers)
    engagement = sum(_int(v) for v in (post.engagement.likes, post.engagement.reposts,
                                       post.engagement.replies, post.engagement.quotes))
    doc.update(
        topics=_topics_of(post),
        reach=reach,
        engagement_total=engagement,
        negative_rank=engagement + reach / 100.0,
        negative_band=analysis.sentiment.negative_band if analysis else 0.0,
        crisis_risk=float(analysis.crisis.risk) if analysis else 0.0,
        has_crisis=bool(analysis and analysis.crisis.categories),
        author_key=post.author.id or post.author.handle,
        sentiment=analysis.sentiment.label if analysis else None,
        doc_hash=hashlib.sha1(content.encode()).hexdigest(),
        indexed_at=iso(now or datetime.now(timezone.utc)),
        schema_version=SCHEMA_VERSION,
    )
    return doc


def post_from_document(source: dict[str, Any]) -> Post:
    data = {k: v for k, v in source.items() if k not in DERIVED_FIELDS}
    return Post.from_dict(data)


def _ms(dt: datetime) -> int:
    return int(round(utc(dt).timestamp() * 1000))


class ElasticsearchStore:
    """Store contract over an Elasticsearch cluster (8.x/9.x) through the official client."""

    def __init__(
        self,
        client: Elasticsearch,
        prefix: str = "vigie",
        *,
        retention_days: int = 90,
        refresh: str | bool = "wait_for",
        chunk_size: int = 500,
        max_retries: int = 5,
        initial_backoff: float = 0.5,
        max_backoff: float = 30.0,
        auto_setup: bool = True,
        sleep: Callable[[float], None] = time.sleep,
        url_hint: str = "",
        series_slice: int = 1000,
    ):
        self.es = client
        self.names = Names(prefix)
        self.retention_days = retention_days
        self.refresh_mode = refresh
        self.chunk_size = chunk_size
        self.max_retries = max_retries
        self.initial_backoff = initial_backoff
        self.max_backoff = max_backoff
        self.auto_setup = auto_setup
        self._sleep = sleep
        self._url = url_hint or "the configured Elasticsearch URL"
        self._ready_checked = False
        self.series_slice = series_slice  # histogram buckets per `series` request

    # -- construction ------------------------------------------------------------------------
    @classmethod
    def from_config(cls, cfg: Any, **client_options: Any) -> "ElasticsearchStore":
        """Build from `store:` (`vigie.store.elasticsearch.config.ElasticsearchConfig`): URL (or `url_env`), API
        key or basic auth read from the environment, CA certificate for TLS. `client_options` go to
        `Elasticsearch(...)`."""
        url = env_secret(cfg.url_env, "Elasticsearch URL") if cfg.url_env else cfg.url
        options: dict[str, Any] = {"request_timeout": 30, "retry_on_timeout": True, "max_retries": 3}
        if cfg.api_key_env:  # an API key wins over basic auth when both are configured
            options["api_key"] = env_secret(cfg.api_key_env, "Elasticsearch API key")
        elif cfg.username_env or cfg.password_env:
            if not (cfg.username_env and cfg.password_env):
                raise ConfigError("store: basic auth needs both username_env and password_env")
            options["basic_auth"] = (
                env_secret(cfg.username_env, "Elasticsearch user name"),
                env_secret(cfg.password_env, "Elasticsearch password"),
            )
        if cfg.ca_certs:
            if not cfg.ca_certs.exists():
                raise ConfigError(f"store.ca_certs: file {cfg.ca_certs} does not exist")
            options["ca_certs"] = str(cfg.ca_certs)
        options.update(client_options)
        try:
            client = Elasticsearch(url, **options)
        except ValueError as exc:  # e.g. a URL without scheme or port
            raise ConfigError(f"store.url: {redact_url(url)!r} is not a usable Elasticsearch URL ({exc})") from None
        return cls(client, prefix=cfg.prefix, retention_days=cfg.retention_days, url_hint=redact_url(url))

    # -- errors --------------------------------------------------------------------------------
    @contextmanager
    def _errors(self, action: str) -> Iterator[None]:
        """Turn client exceptions into messages that say what to check (no secrets: the client's
        messages never contain credentials and URLs are redacted)."""
        try:
            yield
        except StoreError:
            raise
        except AuthenticationException:
            raise StoreError(
                f"{action}: Elasticsearch at {self._url} refused the credentials (401). Check the API key or "
                "user/password environment variables named in store.api_key_env / username_env / password_env."
            ) from None
        except AuthorizationException as exc:
            raise StoreError(
                f"{action}: the credentials are valid but lack a privilege (403): {exc.message}. The role needs "
                f"manage_ilm, manage_index_templates and write/read on {self.names.prefix}-*."
            ) from None
        except UnsupportedProductError:
            raise StoreError(
                f"{action}: the server at {self._url} is not Elasticsearch (no X-Elastic-Product header). "
                "Check store.url points at an Elasticsearch 8.x/9.x cluster, not Kibana or a proxy page."
            ) from None
        except (EsConnectionError, ConnectionTimeout) as exc:
            raise StoreError(
                f"{action}: Elasticsearch at {self._url} is unreachable ({type(exc).__name__}: {exc.message}). "
                "Check the URL, that the cluster runs, and TLS (store.ca_certs) for https."
            ) from None
        except ApiError as exc:
            if exc.meta.status in (200, 404) and not isinstance(exc.body, dict):
                raise StoreError(
                    f"{action}: the server at {self._url} did not answer like Elasticsearch "
                    f"(HTTP {exc.meta.status}, non-JSON body)."
                ) from None
            raise StoreError(f"{action}: Elasticsearch error {exc.meta.status}: {exc.message} {_reason(exc)}") from None
        except TransportError as exc:
            raise StoreError(f"{action}: transport error talking to {self._url}: {exc.message}") from None

    def check(self) -> dict[str, Any]:
        """`GET /`: proves the URL, credentials and product; returns the cluster's info."""
        with self._errors("connecting"):
            info = self.es.info().body
        if not isinstance(info, dict) or "version" not in info:
            raise StoreError(f"connecting: the server at {self._url} did not answer like Elasticsearch")
        return info

    def _ready(self) -> None:
        """First use: check the cluster and, if `vigie es setup` never ran, run it (idempotent)."""
        if self._ready_checked:
            return
        self.check()
        if self.auto_setup:
            with self._errors("checking indices"):
                # The outbox and leases indices are the newest: a cluster set up by an older version gets
                # them here.
                present = (self.es.indices.exists_alias(name=self.names.posts).body
                           and self.es.indices.exists(index=self.names.risk).body
                           and self.es.indices.exists(index=self.names.leases).body
                           and self.es.indices.exists(index=self.names.near_dups).body)
            if not present:
                log.info("Elasticsearch: %s or %s missing, running setup", self.names.posts, self.names.risk)
                self.setup()
        self._ready_checked = True

    # -- setup (capability `installable`: `vigie es setup`, the maintenance DAG) ---------------
    def ilm_available(self) -> bool:
        """Whether the cluster runs ILM (it decides between the ILM policy and `purge` for retention)."""
        with self._errors("checking ILM"):
            try:
                self.es.ilm.get_status()
                return True
            except ApiError as exc:
                if exc.meta.status in (400, 404, 405, 410):  # "no handler found" (OpenSearch, serverless)
                    return False
                raise

    def setup(self) -> list[str]:
        """Create or update the ILM policy, templates, write alias and auxiliary indices. Idempotent:
        safe on every deploy. Returns one line per action for the CLI."""
        self.check()
        done: list[str] = []
        n = self.names
        with self._errors("setup"):
            ilm = self.ilm_available()
            if ilm:
                self.es.ilm.put_lifecycle(name=n.policy, policy=ilm_policy(self.retention_days))
                done.append(f"ILM policy {n.policy}: rollover 7d/50gb, delete after {self.retention_days}d")
            else:
                done.append("ILM not available on this server: no rollover/retention policy (not Elasticsearch?)")
            for name, body in component_templates(n, ilm=ilm).items():
                self.es.cluster.put_component_template(name=name, **body)
                done.append(f"component template {name}")
            for name, body in index_templates(n).items():
                self.es.indices.put_index_template(name=name, **body)
                done.append(f"index template {name}")
            done.append(self._posts_alias())
            for index, mappings in single_indices(n):
                # An index another process creates between our check and our create is an existing one.
                if self.es.indices.exists(index=index).body or not self._create(index):
                    self._update_mapping(index, mappings)
                    done.append(f"index {index}: exists, mapping updated")
                else:
                    done.append(f"index {index}")
        return done

    def _posts_alias(self) -> str:
        """The posts write alias over `P-posts-000001`, created or brought up to date.

        First use is concurrent (Airflow starts one ingest task per platform, each opening the store on a
        fresh cluster): every step tolerates another process doing the same step at the same moment. A
        create that finds the index already there is success, and what exists is read again; only a
        `P-posts` that stays a concrete index on a second reading is an error (another process's alias,
        seen half-made or between our two checks, is not)."""
        n = self.names
        for attempt in range(3):
            if self.es.indices.exists_alias(name=n.posts).body:
                # `text` is left out: an existing index keeps the analyzers it was created with (they
                # cannot change on an open index); the next rollover index gets the template's.
                mappings = posts_mappings()
                self._update_mapping(n.posts, {**mappings, "properties": {
                    k: v for k, v in mappings["properties"].items() if k != "text"}})
                return f"write alias {n.posts}: exists, mapping updated"
            if self.es.indices.exists(index=n.posts).body:
                if attempt:
                    raise StoreError(
                        f"setup: {n.posts} exists as a concrete index, not as the write alias Vigie expects. "
                        f"Reindex it into {n.posts_first} with the alias, or choose another store.prefix."
                    )
                continue  # maybe the alias another process just made: read again
            if self._create(n.posts_first, aliases={n.posts: {"is_write_index": True}}):
                return f"index {n.posts_first} with write alias {n.posts}"
        raise StoreError(f"setup: {n.posts_first} exists but the write alias {n.posts} never appeared; "
                         f"run `vigie es setup` again or check the cluster's aliases")

    def _create(self, index: str, **kwargs: Any) -> bool:
        """Create `index`; False when it already exists (another process created it: not an error)."""
        try:
            self.es.indices.create(index=index, **kwargs)
            return True
        except ApiError as exc:
            if _already_exists(exc):
                return False
            raise

    def _update_mapping(self, index: str, mappings: dict[str, Any]) -> None:
        """Additive mapping changes reach existing indices; a type change is refused by Elasticsearch and
        reported (it needs a reindex)."""
        try:
            self.es.indices.put_mapping(index=index, properties=mappings["properties"],
                                        dynamic=mappings.get("dynamic"))
        except ApiError as exc:
            raise StoreError(
                f"setup: the mapping of {index} conflicts with this version of Vigie ({exc.message}: "
                f"{_reason(exc)}). Reindex into a new prefix or delete the index."
            ) from None

    def refresh(self) -> None:
        with self._errors("refresh"):
            self.es.indices.refresh(index=",".join([self.names.posts, self.names.alerts, self.names.risk,
                                                    self.names.cursors, self.names.quarantine, self.names.outbox,
                                                    self.names.near_dups]))

    # -- posts (PostStore) ---------------------------------------------------------------------
    def upsert_posts(self, posts: Sequence[Post]) -> UpsertResult:
        result = UpsertResult()
        if not posts:
            return result
        self._ready()
        latest: dict[str, Post] = {}
        for post in posts:  # the last version of a post in a batch wins, as it would on re-fetch
            latest[post.id] = post
        for chunk in iter_batches(list(latest.values()), self.chunk_size):
            result += self._upsert_chunk(chunk)
        if self.refresh_mode and (result.inserted or result.updated):
            with self._errors("refresh"):
                self.es.indices.refresh(index=self.names.posts)
        return result

    def _locate(self, ids: list[str]) -> dict[str, tuple[str, str | None]]:
        """id -> (concrete index, doc_hash) for the ids already stored, across every rolled-over index."""
        with self._errors("looking up posts"):
            resp = self.es.search(index=self.names.posts, query={"ids": {"values": ids}}, size=len(ids),
                                  source=["doc_hash"], ignore_unavailable=True)
        return {h["_id"]: (h["_index"], (h.get("_source") or {}).get("doc_hash")) for h in resp["hits"]["hits"]}

    def _upsert_chunk(self, chunk: list[Post]) -> UpsertResult:
        result = UpsertResult()
        now = datetime.now(timezone.utc)
        existing = self._locate([p.id for p in chunk])
        pending: list[tuple[Post, dict[str, Any], str]] = []
        for post in chunk:
            try:
                doc = post_document(post, now)
            except (TypeError, ValueError) as exc:  # a listener produced a post we cannot serialise
                self.quarantine(post.source, _safe_record(post), f"store: cannot serialise post: {exc}",
                                {"post_id": post.id, "stage": "store"})
                result.quarantined += 1
                continue
            where = existing.get(post.id)
            if where and where[1] == doc["doc_hash"]:
                continue  # unchanged: re-runs are no-ops
            pending.append((post, doc, where[0] if where else self.names.posts))
        attempt = 0
        while pending:
            retry: list[tuple[Post, dict[str, Any], str]] = []
            operations: list[dict[str, Any]] = []
            for post, doc, index in pending:
                operations += [{"index": {"_index": index, "_id": post.id}}, doc]
            resp = None
            with self._errors("bulk write"):
                try:  # the transport's own retries are off: we count and back off ourselves
                    resp = self.es.options(max_retries=0).bulk(operations=operations, refresh=False)
                except ApiError as exc:
                    if exc.meta.status not in RETRYABLE:
                        raise
            if resp is None:
                retry = pending
            else:
                for (post, doc, _index), item in zip(pending, resp["items"]):
                    outcome = item.get("index") or next(iter(item.values()))
                    status = int(outcome.get("status", 500))
                    if 200 <= status < 300:
                        if outcome.get("result") == "created":
                            result.inserted += 1
                        else:
                            result.updated += 1
                    elif status in RETRYABLE:
                        retry.append((post, doc, _index))
                    else:
                        err = outcome.get("error") or {}
                        reason = f"elasticsearch rejected the post ({status} {_describe(err)})"
                        self.quarantine(post.source, post.to_dict(), reason,
                                        {"post_id": post.id, "stage": "store", "error_type": _describe_type(err)})
                        result.quarantined += 1
            if not retry:
                break
            attempt += 1
            if attempt > self.max_retries:
                raise StoreError(
                    f"bulk write: {len(retry)} post(s) still refused as overloaded (429/503) after "
                    f"{self.max_retries} retries; nothing was dropped, the run can be repeated."
                )
            result.retried += len(retry)
            delay = min(self.max_backoff, self.initial_backoff * 2 ** (attempt - 1))
            log.warning("Elasticsearch overloaded: retrying %d post(s) in %.1fs", len(retry), delay)
            self._sleep(delay)
            pending = retry
        return result

    def get_post(self, post_id: str) -> Post | None:
        self._ready()
        with self._errors("reading a post"):
            resp = self.es.search(index=self.names.posts, query={"ids": {"values": [post_id]}}, size=1)
        hits = resp["hits"]["hits"]
        return post_from_document(hits[0]["_source"]) if hits else None

    def count_posts(self, topic_id: str | None = None) -> int:
        self._ready()
        query = {"term": {"topics": topic_id}} if topic_id is not None else {"match_all": {}}
        with self._errors("counting posts"):
            return int(self.es.count(index=self.names.posts, query=query)["count"])

    def _topic_range(self, topic_id: str | None, start: datetime | None, end: datetime | None,
                     *extra: dict[str, Any]) -> dict[str, Any]:
        filters: list[dict[str, Any]] = list(extra)
        if topic_id is not None:
            filters.append({"term": {"topics": topic_id}})
        rng: dict[str, Any] = {}
        if start is not None:
            rng["gte"] = _ms(start)
        if end is not None:
            rng["lt"] = _ms(end)
        if rng:
            filters.append({"range": {"created_at": {**rng, "format": "epoch_millis"}}})
        return {"bool": {"filter": filters}}

    def _scan(self, index: str, query: dict[str, Any], sort: list[dict[str, Any]],
              limit: int | None, action: str, page: int = PAGE) -> Iterator[dict[str, Any]]:
        """Sorted hits, paged with search_after (no scroll/PIT: short reads, and osmem lacks PIT)."""
        after: list[Any] | None = None
        seen = 0
        while limit is None or seen < limit:
            size = page if limit is None else min(page, limit - seen)
            kwargs: dict[str, Any] = {"search_after": after} if after is not None else {}
            with self._errors(action):
                resp = self.es.search(index=index, query=query, sort=sort, size=size, **kwargs)
            hits = resp["hits"]["hits"]
            for hit in hits:
                yield hit
            seen += len(hits)
            if len(hits) < size:
                return
            after = hits[-1]["sort"]

    def posts(
        self, topic_id: str | None, start: datetime | None = None, end: datetime | None = None, limit: int | None = None
    ) -> list[Post]:
        self._ready()
        sort = [{"created_at": "asc"}, {"id": "asc"}]
        hits = self._scan(self.names.posts, self._topic_range(topic_id, start, end), sort, limit, "reading posts")
        return [post_from_document(h["_source"]) for h in hits]

    def iter_posts(self, topic_id: str | None, start: datetime | None = None, end: datetime | None = None,
                   page_size: int = PAGE) -> Iterator[Post]:
        """Like `posts`, one page of `page_size` in memory at a time (search_after on created_at, id)."""
        self._ready()
        sort = [{"created_at": "asc"}, {"id": "asc"}]
        for hit in self._scan(self.names.posts, self._topic_range(topic_id, start, end), sort, None, "reading posts",
                              page=page_size):
            yield post_from_document(hit["_source"])

    # -- detection inputs (PostStore: series, top_posts) ---------------------------------------
    def series(self, topic_id: str, start: datetime, end: datetime, bucket: timedelta) -> list[Bucket]:
        start, end = utc(start), utc(end)
        starts = bucket_starts(start, end, bucket)
        buckets = [Bucket(topic_id=topic_id, start=s) for s in starts]
        if not buckets:
            return buckets
        self._ready()
        width = int(bucket.total_seconds() * 1000)
        if width < 1:
            raise ValueError("bucket must be at least one millisecond")
        lo = _ms(start)
        posts_aggs = {
            "neg": {"filter": {"term": {"sentiment": "neg"}},
                    "aggs": {"reach": {"sum": {"field": "reach"}}, "engagement": {"sum": {"field": "engagement_total"}}}},
            "pos": {"filter": {"term": {"sentiment": "pos"}}},
            "reach": {"sum": {"field": "reach"}},
            "engagement": {"sum": {"field": "engagement_total"}},
            "authors": {"cardinality": {"field": "author_key", "precision_threshold": 40000}},
            "crisis": {"filter": {"term": {"has_crisis": True}}},
            "categories": {"terms": {"field": "analysis.crisis.categories", "size": 100}},
            "sources": {"terms": {"field": "source", "size": 100}},
            "dup": {"terms": {"field": "analysis.near_dup_cluster", "size": 1, "order": {"_count": "desc"}}},
        }
        aggs = {
            "b": {
                # fixed_interval + offset align the buckets on `start`, as the SQLite adapter does.
                "date_histogram": {"field": "created_at", "fixed_interval": f"{width}ms",
                                   "offset": f"{lo % width}ms", "min_doc_count": 1},
                "aggs": {
                    # Reposts are amplification, not posts (models.Bucket): only their reach is counted.
                    # Documents written before `relation` existed have none: they are posts.
                    "posts": {"filter": {"bool": {"must_not": [{"term": {"relation": "repost"}}]}}, "aggs": posts_aggs},
                    "reposts": {"filter": {"term": {"relation": "repost"}},
                                "aggs": {"reach": {"sum": {"field": "reach"}},
                                         "neg": {"filter": {"term": {"sentiment": "neg"}},
                                                 "aggs": {"reach": {"sum": {"field": "reach"}}}}}},
                },
            }
        }
        # Each histogram bucket carries ~20 sub-buckets; slicing the window keeps every request far below
        # the cluster's search.max_buckets (65 536 by default) even for 1-minute buckets over days.
        for first in range(0, len(buckets), self.series_slice):
            last = min(len(buckets), first + self.series_slice)
            slice_end = end if last == len(buckets) else starts[last]
            with self._errors("series"):
                resp = self.es.search(index=self.names.posts, size=0,
                                      query=self._topic_range(topic_id, starts[first], slice_end), aggs=aggs)
            self._fill(buckets, resp["aggregations"]["b"]["buckets"], lo, width)
        return buckets

    @staticmethod
    def _fill(buckets: list[Bucket], raws: list[dict[str, Any]], lo: int, width: int) -> None:
        for whole in raws:
            i = (int(whole["key"]) - lo) // width
            if not 0 <= i < len(buckets) or not whole["doc_count"]:
                continue
            b = buckets[i]
            raw, reposts = whole["posts"], whole["reposts"]
            b.reposts = int(reposts["doc_count"])
            b.repost_reach = int(reposts["reach"]["value"] or 0)
            b.count = int(raw["doc_count"])
            b.negative = int(raw["neg"]["doc_count"])
            b.negative_reach = int(raw["neg"]["reach"]["value"] or 0) + int(reposts["neg"]["reach"]["value"] or 0)
            b.negative_engagement = int(raw["neg"]["engagement"]["value"] or 0)
            b.positive = int(raw["pos"]["doc_count"])
            b.reach = int(raw["reach"]["value"] or 0) + b.repost_reach
            b.engagement = int(raw["engagement"]["value"] or 0)
            b.authors = int(raw["authors"]["value"] or 0)
            b.crisis_terms = int(raw["crisis"]["doc_count"])
            b.crisis_categories = {c["key"]: int(c["doc_count"]) for c in raw["categories"]["buckets"]}
            b.sources = {s["key"]: int(s["doc_count"]) for s in raw["sources"]["buckets"]}
            dup = raw["dup"]["buckets"]
            b.max_dup_cluster = int(dup[0]["doc_count"]) if dup else 0

    def top_posts(
        self, topic_id: str, start: datetime, end: datetime, by: RankBy = "engagement", limit: int = 5
    ) -> list[Post]:
        order = {
            "engagement": [{"engagement_total": "desc"}, {"reach": "desc"}],
            "reach": [{"reach": "desc"}, {"engagement_total": "desc"}],
            # Confidently negative first (P(neg) bands), then the ones that travel (as the SQLite store).
            "negative": [{"negative_band": {"order": "desc", "missing": 1.0}}, {"negative_rank": "desc"}],
            "crisis": [{"crisis_risk": "desc"}, {"engagement_total": "desc"}],
            "recent": [{"created_at": "desc"}],
        }.get(by)
        if order is None:
            raise ValueError(f"unknown ranking {by!r}; expected engagement, reach, negative, crisis or recent")
        self._ready()
        extra = [{"term": {"sentiment": "neg"}}] if by == "negative" else []
        query = self._topic_range(topic_id, start, end, *extra)
        query["bool"]["must_not"] = [{"term": {"relation": "repost"}}]  # a repost is its original again
        with self._errors("top posts"):
            resp = self.es.search(index=self.names.posts, query=query,
                                  sort=[*order, {"id": "asc"}], size=int(limit))
        return [post_from_document(h["_source"]) for h in resp["hits"]["hits"]]

    # -- retention (MaintenanceStore.purge) ----------------------------------------------------
    def purge(self, before: datetime) -> int:
        """Delete the posts created before `before`, across every index behind the posts alias.

        The production retention is the ILM policy `setup` installs (whole rolled-over indices are
        dropped `retention_days` after rollover, which costs the cluster nothing). This is for clusters
        without ILM (OpenSearch, some managed offerings): a `delete_by_query`, i.e. one tombstone per
        document until segments merge. Alerts, cursors and quarantine live in other indices: untouched.
        `conflicts="proceed"`: a post re-indexed while the query runs is kept, not an error.
        """
        self._ready()
        # Months of posts take longer than the client's default timeout; a retried request after a
        # timeout is harmless (already-deleted posts no longer match).
        client = self.es.options(request_timeout=PURGE_TIMEOUT_S)
        with self._errors("purging old posts"):
            resp = client.delete_by_query(index=self.names.posts, query=self._topic_range(None, None, before),
                                          conflicts="proceed", refresh=self.refresh_mode is not False)
        failures = resp.get("failures") or []
        if failures:
            raise StoreError(f"purging old posts: {len(failures)} failure(s), first: {failures[0]}")
        with self._errors("purging old risk points"):
            client.delete_by_query(index=self.names.risk, conflicts="proceed", refresh=self.refresh_mode is not False,
                                   query={"range": {"at": {"lt": _ms(before), "format": "epoch_millis"}}})
        self.prune_near_dups(before)
        return int(resp.get("deleted", 0))

    # -- near-duplicate index state (NearDupStore) ---------------------------------------------
    def save_near_dups(self, entries: Sequence[NearDupEntry]) -> int:
        if not entries:
            return 0
        self._ready()
        written = int(time.time() * 1000)
        added = 0
        for chunk in iter_batches(list(entries), self.chunk_size):
            operations: list[dict[str, Any]] = []
            for e in chunk:
                operations += [{"create": {"_index": self.names.near_dups, "_id": e.post_id}}, {
                    "post_id": e.post_id, "created_at": iso(e.created_at), "author": e.author,
                    "cluster_id": e.cluster_id, "cluster_at": iso(e.cluster_at), "sketch": e.sketch,
                    "signature": base64.b64encode(e.signature).decode() if e.signature is not None else None,
                    "written_at": written}]
            with self._errors("saving near-duplicate entries"):
                resp = self.es.bulk(operations=operations, refresh=False)
            for item in resp["items"]:
                outcome = item.get("create") or next(iter(item.values()))
                status = int(outcome.get("status", 500))
                if 200 <= status < 300:
                    added += 1
                elif status != 409:  # 409: the post has its entry already (a re-run), kept as is
                    raise StoreError(f"saving near-duplicate entries: rejected ({status} "
                                     f"{_describe(outcome.get('error') or {})})")
        if self.refresh_mode:  # the other processes' next read must see them
            with self._errors("refresh"):
                self.es.indices.refresh(index=self.names.near_dups)
        return added

    def near_dups(self, since: datetime, after: Any = None) -> tuple[list[NearDupEntry], Any]:
        self._ready()
        filters: list[dict[str, Any]] = [{"range": {"created_at": {"gte": _ms(since), "format": "epoch_millis"}}}]
        if after is not None:
            filters.append({"range": {"written_at": {"gte": int(after) - NEAR_DUP_OVERLAP_MS}}})
        mark = int(after) if after is not None else int(time.time() * 1000) - NEAR_DUP_OVERLAP_MS
        out = []
        for hit in self._scan(self.names.near_dups, {"bool": {"filter": filters}},
                              [{"created_at": "asc"}, {"post_id": "asc"}], None, "reading near-duplicate entries"):
            src = hit["_source"]
            mark = max(mark, int(src.get("written_at") or 0))
            sig = src.get("signature")
            out.append(NearDupEntry(src["post_id"], utc(src["created_at"]), src["author"], src["cluster_id"],
                                    utc(src["cluster_at"]), src["sketch"], base64.b64decode(sig) if sig else None))
        return out, mark

    def near_dup_newest(self) -> datetime | None:
        self._ready()
        with self._errors("reading near-duplicate entries"):
            resp = self.es.search(index=self.names.near_dups, size=1, sort=[{"created_at": "desc"}],
                                  source=["created_at"])
        hits = resp["hits"]["hits"]
        return utc(hits[0]["_source"]["created_at"]) if hits else None

    def prune_near_dups(self, before: datetime) -> int:
        self._ready()
        with self._errors("pruning near-duplicate entries"):
            resp = self.es.delete_by_query(index=self.names.near_dups, conflicts="proceed",
                                           refresh=self.refresh_mode is not False,
                                           query={"range": {"created_at": {"lt": _ms(before),
                                                                           "format": "epoch_millis"}}})
        return int(resp.get("deleted", 0))

    # -- risk points (RiskStore) ---------------------------------------------------------------
    @staticmethod
    def _risk_doc_id(topic_id: str, at: datetime) -> str:
        return hashlib.sha1(json.dumps([topic_id, iso(at)]).encode()).hexdigest()

    def save_risk(self, points: Sequence[RiskPoint]) -> None:
        if not points:
            return
        self._ready()
        operations: list[dict[str, Any]] = []
        for point in points:
            operations += [{"index": {"_index": self.names.risk, "_id": self._risk_doc_id(point.topic_id, point.at)}},
                           {**point.to_dict(), "topics": [point.topic_id]}]  # dashboards filter on `topics`
        # No refresh wait: nothing in the pipeline reads risk points back; dashboards and reports see them
        # after the next refresh (1 s by default).
        with self._errors("saving risk points"):
            resp = self.es.bulk(operations=operations, refresh=False)
        if resp.get("errors"):
            failed = [item["index"] for item in resp["items"] if item["index"].get("error")]
            raise StoreError(f"saving risk points: {len(failed)} rejected, first: {_describe(failed[0]['error'])}")

    def risk_series(self, topic_id: str, start: datetime, end: datetime) -> list[RiskPoint]:
        self._ready()
        query = {"bool": {"filter": [{"term": {"topic_id": topic_id}},
                                     {"range": {"at": {"gte": _ms(start), "lt": _ms(end), "format": "epoch_millis"}}}]}}
        hits = self._scan(self.names.risk, query, [{"at": "asc"}], None, "reading risk points")
        return [RiskPoint.from_dict(h["_source"]) for h in hits]

    # -- cursors (CursorStore) -----------------------------------------------------------------
    @staticmethod
    def _cursor_id(source: str, query: str) -> str:
        return hashlib.sha1(json.dumps([source, query]).encode()).hexdigest()

    def get_cursor(self, source: str, query: str) -> Cursor | None:
        self._ready()
        with self._errors("reading a cursor"):
            resp = self.es.options(ignore_status=404).get(index=self.names.cursors, id=self._cursor_id(source, query))
        if not resp.body.get("found"):
            return None
        src = resp["_source"]
        return Cursor(source=source, query=query, value=src["value"], updated_at=utc(src["updated_at"]))

    @staticmethod
    def _cursor_doc(source: str, query: str, value: dict[str, Any], updated_at: datetime | None) -> dict[str, Any]:
        doc = {"source": source, "query": query, "value": value,
               "updated_at": iso(updated_at or datetime.now(timezone.utc))}
        if source == HEALTH_CURSOR:  # a source's collection health: its fields indexed for Kibana
            doc["health"] = indexed_view(query, value)
        return doc

    def set_cursor(self, cursor: Cursor) -> None:
        self._ready()
        doc = self._cursor_doc(cursor.source, cursor.query, cursor.value, cursor.updated_at)
        with self._errors("saving a cursor"):
            # No refresh wait: cursors are only read back by id, and a GET by id is real-time in
            # Elasticsearch. Detection writes one per topic and bucket; waiting for a refresh each time
            # made a catch-up cost about a second per topic and bucket.
            self.es.index(index=self.names.cursors, id=self._cursor_id(cursor.source, cursor.query), document=doc,
                          refresh=False)

    def update_cursor(self, source: str, query: str, change: Callable[[dict[str, Any] | None], dict[str, Any]],
                      updated_at: datetime | None = None) -> dict[str, Any]:
        """No transactions here: read with `_seq_no`/`_primary_term`, write only if unchanged (as the lease
        does), and on a conflict (another writer won) read again and re-apply `change` to its result."""
        self._ready()
        doc_id = self._cursor_id(source, query)
        for attempt in range(CONFLICT_ATTEMPTS):
            with self._errors("updating a cursor"):
                got = self.es.options(ignore_status=404).get(index=self.names.cursors, id=doc_id)
                value = change(got["_source"]["value"] if got.body.get("found") else None)
                doc = self._cursor_doc(source, query, value, updated_at)
                if self._write_if_unchanged(self.names.cursors, doc_id, doc, got):
                    return value
            # Jitter: writers that collided do not collide again in lockstep.
            time.sleep(random.uniform(0, 0.005 * min(attempt + 1, 10)))
        raise StoreError(f"updating cursor {source!r}/{query!r}: other writers changed it {CONFLICT_ATTEMPTS} times "
                         "in a row between our read and our write; try again")

    def _write_if_unchanged(self, index: str, doc_id: str, document: dict[str, Any], got: Any) -> bool:
        """Optimistic concurrency: write `document` only if the document is still what `got` (a GET of it,
        404 allowed) read: `if_seq_no`/`if_primary_term` when it existed, `op_type=create` when it did not.
        False when another writer got there first (409): re-read, or give up."""
        try:
            if got.body.get("found"):
                self.es.index(index=index, id=doc_id, document=document, if_seq_no=got["_seq_no"],
                              if_primary_term=got["_primary_term"], refresh=False)
            else:
                self.es.index(index=index, id=doc_id, document=document, op_type="create", refresh=False)
            return True
        except ApiError as exc:
            if exc.meta.status == 409:
                return False
            raise

    # -- alerts (AlertStore) -------------------------------------------------------------------
    @staticmethod
    def _alert_doc_id(dedup_key: str) -> str:
        return hashlib.sha1(dedup_key.encode()).hexdigest()

    def save_alert(self, alert: Alert) -> None:
        self._ready()
        with self._errors("saving an alert"):
            # `topics` as on posts: one field name for every dashboard filter and alert deep link.
            self.es.index(index=self.names.alerts, id=self._alert_doc_id(alert.dedup_key),
                          document={**alert.to_dict(), "topics": [alert.topic_id]}, refresh=self.refresh_mode)

    def get_alert(self, alert_id: str) -> Alert | None:
        self._ready()
        query = {"bool": {"should": [{"term": {"id": alert_id}}, {"term": {"dedup_key": alert_id}}],
                          "minimum_should_match": 1}}
        with self._errors("reading an alert"):
            resp = self.es.search(index=self.names.alerts, query=query, size=1, sort=[{"opened_at": "asc"}])
        hits = resp["hits"]["hits"]
        return Alert.from_dict(hits[0]["_source"]) if hits else None

    def _alerts(self, filters: list[dict[str, Any]], must_not: list[dict[str, Any]] | None = None) -> list[Alert]:
        self._ready()
        query = {"bool": {"filter": filters, "must_not": must_not or []}}
        hits = self._scan(self.names.alerts, query, [{"opened_at": "asc"}, {"id": "asc"}], None, "reading alerts")
        return [Alert.from_dict(h["_source"]) for h in hits]

    def open_alerts(self, topic_id: str | None = None) -> list[Alert]:
        filters = [{"term": {"topic_id": topic_id}}] if topic_id is not None else []
        return self._alerts(filters, [{"term": {"state": "resolved"}}])

    def alert_history(self, topic_id: str | None = None, since: datetime | None = None) -> list[Alert]:
        filters: list[dict[str, Any]] = []
        if topic_id is not None:
            filters.append({"term": {"topic_id": topic_id}})
        if since is not None:
            filters.append({"range": {"opened_at": {"gte": _ms(since), "format": "epoch_millis"}}})
        return self._alerts(filters)

    def last_alert(self, topic_id: str, state: AlertState | None = None) -> Alert | None:
        filters: list[dict[str, Any]] = [{"term": {"topic_id": topic_id}}]
        if state is not None:
            filters.append({"term": {"state": AlertState(state).value}})
        self._ready()
        with self._errors("reading the last alert"):
            resp = self.es.search(index=self.names.alerts, query={"bool": {"filter": filters}}, size=1,
                                  sort=[{"opened_at": "desc"}, {"id": "desc"}])
        hits = resp["hits"]["hits"]
        return Alert.from_dict(hits[0]["_source"]) if hits else None

    # -- detect-and-deliver (OutboxStore, LeaseStore) -------------------------------------------
    def commit_bucket(self, alerts: Sequence[Alert], outbox: Sequence[OutboxEntry], risk: Sequence[RiskPoint],
                      cursors: Sequence[Cursor], lease: Lease | None = None) -> None:
        """No transaction on Elasticsearch: the order makes a crash harmless. Outbox first (created only if
        absent), so an alert change is never stored without the messages it owes; the cursor last, so a
        crash before it re-assesses the bucket, which finds its outbox entries already there."""
        self._ready()
        if lease is not None:
            if not self.acquire_lease(lease.name, lease.owner, lease.ttl_s, must_hold=True):
                raise LeaseLost(f"lease {lease.name!r} is held by another process")
        self._create_outbox(outbox)
        crash_point("after_outbox")
        for alert in alerts:
            self.save_alert(alert)
        crash_point("after_alert")
        self.save_risk(risk)
        for cursor in cursors:
            self.set_cursor(cursor)
        crash_point("after_cursor")

    def _create_outbox(self, entries: Sequence[OutboxEntry]) -> int:
        if not entries:
            return 0
        operations: list[dict[str, Any]] = []
        for e in entries:
            operations += [{"create": {"_index": self.names.outbox, "_id": e.id}}, e.to_dict()]
        with self._errors("writing the outbox"):
            # No refresh wait: outbox reads refresh the (small) outbox index first (`_outbox`).
            resp = self.es.bulk(operations=operations, refresh=False)
        added = 0
        for item in resp["items"]:
            outcome = item.get("create") or next(iter(item.values()))
            status = int(outcome.get("status", 500))
            if 200 <= status < 300:
                added += 1
            elif status != 409:  # 409: already there (a replayed bucket), kept as is
                raise StoreError(f"writing the outbox: rejected ({status} {_describe(outcome.get('error') or {})})")
        return added

    def enqueue(self, entries: Sequence[OutboxEntry]) -> int:
        self._ready()
        return self._create_outbox(entries)

    def _outbox(self, filters: list[dict[str, Any]]) -> list[OutboxEntry]:
        """Searches are near-real-time: refresh the outbox index first, so a pass never sees an entry's
        previous state (an entry already sent, read back as pending, would be sent twice). One refresh
        per read instead of a refresh wait on every write, whatever `refresh` the store was built with."""
        self._ready()
        with self._errors("refreshing the outbox"):
            self.es.indices.refresh(index=self.names.outbox)
        hits = self._scan(self.names.outbox, {"bool": {"filter": filters}},
                          [{"bucket_at": "asc"}, {"seq": "asc"}, {"id": "asc"}], None, "reading the outbox")
        return [OutboxEntry.from_dict(h["_source"]) for h in hits]

    def outbox_open(self) -> list[OutboxEntry]:
        return self._outbox([{"terms": {"status": list(OUTBOX_OPEN)}}])

    def outbox_entries(self, alert_id: str | None = None) -> list[OutboxEntry]:
        return self._outbox([{"term": {"alert_id": alert_id}}] if alert_id is not None else [])

    def record_delivery(self, entry: OutboxEntry, alert: Alert | None = None) -> None:
        """The alert's delivery log first, then the entry: after a crash in between, the outbox still says
        `sending` and the delivery step finds the outcome in the alert's log (vigie/pipeline/outbox.py)."""
        self._ready()
        if alert is not None:
            self.save_alert(alert)
        with self._errors("saving an outbox entry"):
            self.es.index(index=self.names.outbox, id=entry.id, document=entry.to_dict(), refresh=False)

    def acquire_lease(self, name: str, owner: str, ttl_s: float, now: float | None = None,
                      stale: Callable[[str], bool] | None = None, *, must_hold: bool = False) -> bool:
        """Optimistic concurrency (`_write_if_unchanged`): read the lease document, write it back only if
        nobody wrote it since. A concurrent writer gets 409 and loses (no retry: the lease is theirs now).
        `must_hold`: renew only."""
        self._ready()
        now = time.time() if now is None else now
        doc = {"name": name, "owner": owner, "expires_at": now + ttl_s}
        with self._errors("taking the detection lease"):
            got = self.es.options(ignore_status=404).get(index=self.names.leases, id=name)
            if got.body.get("found"):
                held = got["_source"]
                theirs = held.get("owner") != owner
                if theirs and (must_hold or (float(held.get("expires_at") or 0) > now
                                             and not (stale is not None and stale(str(held.get("owner")))))):
                    return False
            elif must_hold:
                return False
            return self._write_if_unchanged(self.names.leases, name, doc, got)

    def release_lease(self, name: str, owner: str) -> None:
        self._ready()
        with self._errors("releasing the detection lease"):
            got = self.es.options(ignore_status=404).get(index=self.names.leases, id=name)
            if not got.body.get("found") or got["_source"].get("owner") != owner:
                return
            # Lost to a concurrent writer (False): the lease is not ours any more, nothing to give back.
            self._write_if_unchanged(self.names.leases, name, {"name": name, "owner": "", "expires_at": 0}, got)

    # -- quarantine (QuarantineStore) ----------------------------------------------------------
    def quarantine(self, source: str, record: Any, reason: str, context: dict[str, Any] | None = None) -> bool:
        self._ready()
        text = record_text(record)
        context = context or {}
        fingerprint = quarantine_fingerprint(source, text, reason, context)
        doc = {"fingerprint": fingerprint, "source": source, "reason": reason, "record": text,
               "context": json.loads(json.dumps(context, default=str)), "at": iso(datetime.now(timezone.utc))}
        with self._errors("quarantine"):
            try:
                self.es.index(index=self.names.quarantine, id=fingerprint, document=doc, op_type="create",
                              refresh=self.refresh_mode)
            except ApiError as exc:
                if exc.meta.status == 409:  # the same record seen again (a re-run): not a new problem
                    return False
                raise
        return True

    def quarantined(self, source: str | None = None) -> list[Quarantined]:
        self._ready()
        query = {"bool": {"filter": [{"term": {"source": source}}] if source is not None else []}}
        hits = self._scan(self.names.quarantine, query, [{"at": "asc"}, {"fingerprint": "asc"}], None,
                          "reading quarantine")
        return [Quarantined(source=h["_source"]["source"], reason=h["_source"]["reason"],
                            record=h["_source"]["record"], context=h["_source"].get("context") or {},
                            at=utc(h["_source"]["at"])) for h in hits]

    def close(self) -> None:
        self.es.close()


def _safe_record(post: Post) -> str:
    try:
        return json.dumps(post.to_dict(), ensure_ascii=False, sort_keys=True, default=str)
    except Exception:  # noqa: BLE001 - quarantine must keep *something* whatever the post holds
        return repr(post)


def _error_type(exc: ApiError) -> str:
    body = exc.body if isinstance(exc.body, dict) else {}
    err = body.get("error")
    return err.get("type", "") if isinstance(err, dict) else ""


def _already_exists(exc: ApiError) -> bool:
    """Elasticsearch says `resource_already_exists_exception` (400); other servers (OpenSearch-likes,
    proxies) may send a 400 whose reason only says so."""
    if _error_type(exc) == "resource_already_exists_exception":
        return True
    return exc.meta.status == 400 and "already exists" in _reason(exc).lower()


def _reason(exc: ApiError) -> str:
    body = exc.body if isinstance(exc.body, dict) else {}
    err = body.get("error")
    return _describe(err) if isinstance(err, dict) else ""


def _describe_type(err: dict[str, Any]) -> str:
    return str(err.get("type", "unknown"))


def _describe(err: dict[str, Any]) -> str:
    """`type: reason (caused by: type: reason)`: the mapping error a person needs to fix the data."""
    text = f"{err.get('type', 'error')}: {err.get('reason', '')}"
    cause = err.get("caused_by")
    if isinstance(cause, dict):
        text += f" (caused by {cause.get('type')}: {cause.get('reason')})"
    return text
