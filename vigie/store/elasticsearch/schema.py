"""Elasticsearch index layout of Vigie: the one place mappings, templates and the ILM policy are defined.

The adapter (`vigie.store.elasticsearch.adapter`), `vigie es setup`, the exported `dashboards/index-template.json`
and the Kibana field-coverage test all read these functions, so the dashboards can never reference a
field the cluster does not map.

Layout for a prefix `P` (default `vigie`):
- `P-posts`: write alias over `P-posts-000001`, `-000002`, ... (ILM rolls over by size/age and deletes
  after the retention). An alias rather than a data stream because posts are *updated* (engagement grows,
  analysis is re-run): data streams are append-only.
- `P-alerts`, `P-risk`, `P-cursors`, `P-quarantine`, `P-outbox`, `P-leases`: single indices, never rolled over (small, kept for
  audit; `P-risk` holds one small document per topic and bucket, purged by date by `Store.purge`).
- `P-neardups`: the near-duplicate index's state (one small document per recent post that could be a copy,
  `vigie.core.neardup.NearDupEntry`), a single index too: the pipeline prunes it to the last two windows as
  it goes (`prune_near_dups`), so it stays small whatever the retention of posts.

Post documents are `Post.to_dict()` plus a few derived top-level fields (`DERIVED_FIELDS`) that detection
aggregates and sorts on, so every query is a plain field access (no scripts: cheaper, and they run on
clusters where scripting is disabled).
"""

from __future__ import annotations

import json
from typing import Any

from vigie.store.health import ERROR_KINDS

SCHEMA_VERSION = 1

# Derived fields added to each post document (removed again when a Post is read back).
DERIVED_FIELDS = (
    "topics",  # topics the post counts for: NLP-matched, else those it was fetched for
    "reach",  # author followers (0 when unknown)
    "engagement_total",  # likes + reposts + replies + quotes
    "negative_rank",  # engagement_total + reach / 100: how far a negative post travels
    "negative_band",  # P(neg) rounded to 0.1 (1 for a backend without probabilities): sorted on first
    "crisis_risk",  # analysis.crisis.risk, 0 when not analysed (sortable without `missing`)
    "has_crisis",  # at least one crisis category (what Bucket.crisis_terms counts)
    "author_key",  # author id, else handle: what `authors` counts distinct
    "sentiment",  # analysis.sentiment.label, flattened for Kibana filters
    "doc_hash",  # hash of the post content: unchanged re-fetches are skipped, not rewritten
    "indexed_at",  # when Vigie last wrote the document
    "schema_version",
)

_KEYWORD = {"type": "keyword"}
_DATE = {"type": "date"}
_LONG = {"type": "long"}
_FLOAT = {"type": "float"}
_OPAQUE = {"type": "object", "enabled": False}  # kept in _source, never indexed (arbitrary keys)
_STORED_ONLY = {"type": "keyword", "index": False, "doc_values": False}


def text_field() -> dict[str, Any]:
    """Free text searchable in French and English, plus an exact `keyword` sub-field (ignore_above keeps
    long posts indexable: the keyword is skipped, the text is not)."""
    return {
        "type": "text",
        "fields": {
            # French folded: "écœuré", "ecoeure" and "ÉCŒURÉ" match each other (posts drop accents at random).
            "fr": {"type": "text", "analyzer": "french_folded"},
            "en": {"type": "text", "analyzer": "english"},
            "keyword": {"type": "keyword", "ignore_above": 1024},
        },
    }


def posts_mappings() -> dict[str, Any]:
    """Explicit mapping of post documents. `dynamic: false`: a field added to `Post` later is kept in
    `_source` but not indexed until it is mapped here, instead of every post being rejected."""
    return {
        "dynamic": False,
        "_meta": {"managed_by": "vigie", "schema_version": SCHEMA_VERSION},
        "properties": {
            "id": _KEYWORD,
            "source": _KEYWORD,
            "url": {"type": "keyword", "ignore_above": 2048},
            "text": text_field(),
            "lang": _KEYWORD,
            "created_at": _DATE,
            "fetched_at": _DATE,
            "author": {
                "properties": {
                    "id": _KEYWORD,
                    "handle": _KEYWORD,
                    "name": {"type": "text", "fields": {"keyword": {"type": "keyword", "ignore_above": 256}}},
                    "followers": _LONG,
                    "verified": {"type": "boolean"},
                    "created_at": _DATE,
                }
            },
            "engagement": {
                "properties": {k: _LONG for k in ("likes", "reposts", "replies", "quotes", "views")}
            },
            "parent_id": _KEYWORD,
            "thread_id": _KEYWORD,
            "topic_ids": _KEYWORD,
            "raw_ref": _STORED_ONLY,
            "relation": _KEYWORD,  # original | repost | quote | reply
            "ref_id": _KEYWORD,
            "entities": {"properties": {"hashtags": _KEYWORD, "mentions": _KEYWORD,
                                        "links": {"type": "keyword", "ignore_above": 2048}, "domains": _KEYWORD}},
            "analysis": {
                "properties": {
                    "lang": _KEYWORD,
                    "sentiment": {"properties": {"label": _KEYWORD, "score": _FLOAT, "model": _KEYWORD,
                                                 "probs": {"properties": {k: _FLOAT for k in ("neg", "neu", "pos")}}}},
                    "crisis": {"properties": {"risk": _FLOAT, "categories": _KEYWORD, "terms": _KEYWORD}},
                    "topic_ids": _KEYWORD,
                    "entities": _KEYWORD,
                    "near_dup_cluster": _KEYWORD,
                    "model_versions": _OPAQUE,
                    "notes": _STORED_ONLY,
                }
            },
            # derived (see DERIVED_FIELDS)
            "topics": _KEYWORD,
            "reach": _LONG,
            "engagement_total": _LONG,
            "negative_rank": {"type": "double"},
            "negative_band": _FLOAT,
            "crisis_risk": _FLOAT,
            "has_crisis": {"type": "boolean"},
            "author_key": _KEYWORD,
            "sentiment": _KEYWORD,
            "doc_hash": _KEYWORD,
            "indexed_at": _DATE,
            "schema_version": {"type": "integer"},
        },
    }


def alerts_mappings() -> dict[str, Any]:
    return {
        "dynamic": False,
        "_meta": {"managed_by": "vigie", "schema_version": SCHEMA_VERSION},
        "properties": {
            "id": _KEYWORD,
            "dedup_key": _KEYWORD,
            "topic_id": _KEYWORD,
            "topics": _KEYWORD,  # [topic_id], written by the adapter: the name dashboards filter every index on
            "level": _KEYWORD,
            "state": _KEYWORD,
            "risk": _FLOAT,
            "peak_risk": _FLOAT,
            "peak_level": _KEYWORD,
            "opened_at": _DATE,
            "updated_at": _DATE,
            "resolved_at": _DATE,
            "calm_buckets": {"type": "integer"},
            "calm_peak": _FLOAT,
            "acknowledged_by": _KEYWORD,
            "acknowledged_at": _DATE,
            "drivers": {
                "properties": {
                    "name": _KEYWORD,
                    "points": _FLOAT,
                    "value": {"type": "double"},
                    "baseline": {"type": "double"},
                    "explanation": {"type": "text"},
                }
            },
            "deliveries": {
                "properties": {
                    "channel": _KEYWORD,
                    "event": _KEYWORD,
                    "status": _KEYWORD,
                    "attempts": {"type": "integer"},
                    "response": _KEYWORD,
                    "error": {"type": "text"},
                    "at": _DATE,
                }
            },
            "evidence": _OPAQUE,
            "history": _OPAQUE,
            "links": {"properties": {"kibana": {"type": "keyword", "index": False}}},
            # Issue 20: "risk" or "coverage" (a blind source); which sources were blind (kept, not indexed).
            "kind": _KEYWORD,
            "coverage": _OPAQUE,
            "story": story_mappings(),
        },
    }


def _story_post() -> dict[str, Any]:
    return {"properties": {
        "id": _KEYWORD, "source": _KEYWORD, "author": _KEYWORD, "followers": _LONG, "text": {"type": "text"},
        "url": {"type": "keyword", "index": False}, "created_at": _DATE, "engagement": _LONG,
        "sentiment": _KEYWORD, "reposts": _LONG, "reach": _LONG,
    }}


def story_mappings() -> dict[str, Any]:
    """An alert's story (`vigie.core.models.Story`), searchable: which alerts named this account as first report
    or amplifier, which carried a rising hashtag or domain, how large their copy clusters were. `sources` (one key
    per source) and `notes` stay in `_source` only (the alerts mapping is `dynamic: false`)."""
    return {"properties": {
        "start": _DATE, "end": _DATE, "computed_at": _DATE,
        "posts": _LONG, "negative": _LONG, "reposts": _LONG,
        "first_post": _story_post(), "first_by": _KEYWORD, "first_key": _KEYWORD,
        "amplifiers": _story_post(), "press": _story_post(),
        "clusters": {"properties": {
            "id": _KEYWORD, "size": _LONG, "authors": _LONG, "young_or_small": _FLOAT, "first_seen": _DATE,
            "text": {"type": "text"}, "representative_id": _KEYWORD,
        }},
        "rising": {"properties": {"kind": _KEYWORD, "key": _KEYWORD, "window": _LONG, "baseline": _LONG, "z": _FLOAT}},
    }}


def risk_mappings() -> dict[str, Any]:
    """One document per topic and assessed bucket (`RiskPoint`). Driver points are mapped one float field
    per driver, so a Kibana chart can stack what moved the risk; an unknown future driver is kept in
    `_source` (dynamic: false) until the mapping names it. The drivers come from the core's registry (the
    store never imports detection)."""
    from vigie.core.drivers import driver_names

    return {
        "dynamic": False,
        "properties": {
            "topic_id": _KEYWORD,
            "topics": _KEYWORD,  # [topic_id], as on posts and alerts (dashboard filters)
            "at": _DATE,
            "risk": _FLOAT,
            "level": _KEYWORD,
            "drivers": {"dynamic": False, "properties": {name: _FLOAT for name in driver_names()}},
            "notes": _STORED_ONLY,
            "blind": _KEYWORD,  # sources of the topic blind over this bucket (issue 20): gap shading, filters
        },
    }


def cursors_mappings() -> dict[str, Any]:
    """Cursors are opaque values read back by id; collection health records (vigie/store/health.py) also
    carry `health`, their indexed view, for the Kibana collection-health dashboard."""
    health = {
        "source": _KEYWORD, "last_attempt": _DATE, "last_success": _DATE, "failing": {"type": "boolean"},
        "failing_since": _DATE, "last_error_kind": _KEYWORD, "last_error_at": _DATE,
        "quota_remaining": _LONG, "quota_reset_at": _DATE,
        "errors": {"properties": {kind: _LONG for kind in ERROR_KINDS}}, "errors_total": _LONG,
        "posts_hour": _LONG, "posts_24h": _LONG,
    }
    return {
        "dynamic": False,
        "properties": {"source": _KEYWORD, "query": _KEYWORD, "value": _OPAQUE, "updated_at": _DATE,
                       "health": {"properties": health}},
    }


def outbox_mappings() -> dict[str, Any]:
    """The transactional outbox (vigie/pipeline/outbox.py): one document per message owed to a channel, id =
    hash(alert dedup key, event key, channel), written with `op_type=create` so a replayed bucket never
    resets an entry. `alert` is the alert as it was at the event, kept whole and never indexed."""
    return {
        "dynamic": False,
        "properties": {
            "id": _KEYWORD, "alert_id": _KEYWORD, "topic_id": _KEYWORD, "channel": _KEYWORD, "event": _KEYWORD,
            "key": _KEYWORD, "status": _KEYWORD, "seq": {"type": "integer"}, "attempts": {"type": "integer"},
            "rounds": {"type": "integer"}, "bucket_at": _DATE, "enqueued_at": _DATE, "next_attempt_at": _DATE,
            "expires_at": _DATE, "done_at": _DATE, "last_error": {"type": "text"}, "response": _STORED_ONLY,
            "alert": _OPAQUE,
        },
    }


def leases_mappings() -> dict[str, Any]:
    """One document per lease (the detect-and-deliver step), updated only with `if_seq_no` /
    `if_primary_term` (optimistic concurrency): of two processes taking it at once, one gets a 409."""
    return {"dynamic": False,
            "properties": {"name": _KEYWORD, "owner": _KEYWORD, "expires_at": {"type": "double"}}}


def near_dups_mappings() -> dict[str, Any]:
    """One document per post of the near-duplicate index (id = post id, written with `op_type=create`: the
    first analysis decides). `signature`: base64 MinHash values of a representative, kept, never indexed;
    `written_at`: epoch ms when written, how a process finds what the others added since its last read."""
    return {
        "dynamic": False,
        "properties": {"post_id": _KEYWORD, "created_at": _DATE, "author": _KEYWORD, "cluster_id": _KEYWORD,
                       "cluster_at": _DATE, "sketch": _KEYWORD, "signature": _STORED_ONLY, "written_at": _LONG},
    }


def quarantine_mappings() -> dict[str, Any]:
    # The record is kept verbatim and never indexed: whatever it holds, it cannot be rejected again.
    return {
        "dynamic": False,
        "properties": {
            "fingerprint": _KEYWORD,
            "source": _KEYWORD,
            "reason": {"type": "text", "fields": {"keyword": {"type": "keyword", "ignore_above": 1024}}},
            "record": {"type": "text", "index": False},
            "context": _OPAQUE,
            "at": _DATE,
        },
    }


def ilm_policy(retention_days: int, rollover_max_age: str = "7d", rollover_max_size: str = "50gb") -> dict[str, Any]:
    """Hot phase rolls the write index over by age or primary shard size; indices are deleted
    `retention_days` after rollover."""
    return {
        "_meta": {"managed_by": "vigie"},
        "phases": {
            "hot": {
                "min_age": "0ms",
                "actions": {
                    "rollover": {"max_age": rollover_max_age, "max_primary_shard_size": rollover_max_size}
                },
            },
            "delete": {"min_age": f"{int(retention_days)}d", "actions": {"delete": {}}},
        },
    }


class Names:
    """Index, alias, template and policy names for one prefix."""

    def __init__(self, prefix: str = "vigie"):
        if not prefix or prefix != prefix.lower() or any(c in prefix for c in ' "*\\<|,>/?#:'):
            raise ValueError(f"invalid Elasticsearch prefix {prefix!r}: lowercase, no spaces or \\/*?\"<>|,#:")
        self.prefix = prefix
        self.posts = f"{prefix}-posts"  # write alias
        self.posts_pattern = f"{prefix}-posts-*"
        self.posts_first = f"{prefix}-posts-000001"
        self.alerts = f"{prefix}-alerts"
        self.risk = f"{prefix}-risk"
        self.cursors = f"{prefix}-cursors"
        self.quarantine = f"{prefix}-quarantine"
        self.outbox = f"{prefix}-outbox"
        self.leases = f"{prefix}-leases"
        self.near_dups = f"{prefix}-neardups"
        self.policy = f"{prefix}-posts-policy"

    def component(self, what: str) -> str:
        return f"{self.prefix}-{what}"


def analysis_settings() -> dict[str, Any]:
    """`french_folded`: Elasticsearch's `french` analyzer rebuilt (elision, lowercase, stop words, light
    stemmer) with `asciifolding` after the stemmer, so accented and unaccented spellings meet."""
    return {
        "filter": {
            "french_elision": {"type": "elision", "articles_case": True,
                               "articles": ["l", "m", "t", "qu", "n", "s", "j", "d", "c", "jusqu", "quoiqu",
                                            "lorsqu", "puisqu"]},
            "french_stop": {"type": "stop", "stopwords": "_french_"},
            "french_stemmer": {"type": "stemmer", "language": "light_french"},
        },
        "analyzer": {
            "french_folded": {"tokenizer": "standard",
                              "filter": ["french_elision", "lowercase", "french_stop", "french_stemmer", "asciifolding"]},
        },
    }


def posts_settings(names: Names, ilm: bool) -> dict[str, Any]:
    # One shard suits the volumes of social listening (millions of posts); auto-expanded replicas keep a
    # single-node cluster green and give replicas on larger ones.
    settings: dict[str, Any] = {"index": {"number_of_shards": 1, "auto_expand_replicas": "0-1"},
                                "analysis": analysis_settings()}
    if ilm:
        settings["index"]["lifecycle"] = {"name": names.policy, "rollover_alias": names.posts}
    return settings


def component_templates(names: Names, ilm: bool = True) -> dict[str, dict[str, Any]]:
    """name -> body for `PUT _component_template/<name>`."""
    meta = {"managed_by": "vigie", "schema_version": SCHEMA_VERSION}
    return {
        names.component("posts-mappings"): {"template": {"mappings": posts_mappings()}, "_meta": meta},
        names.component("posts-settings"): {"template": {"settings": posts_settings(names, ilm)}, "_meta": meta},
    }


def single_indices(names: Names) -> list[tuple[str, dict[str, Any]]]:
    """The indices that are never rolled over, with their mappings."""
    return [(names.alerts, alerts_mappings()), (names.risk, risk_mappings()), (names.cursors, cursors_mappings()),
            (names.quarantine, quarantine_mappings()), (names.outbox, outbox_mappings()),
            (names.leases, leases_mappings()), (names.near_dups, near_dups_mappings())]


def index_templates(names: Names) -> dict[str, dict[str, Any]]:
    """name -> body for `PUT _index_template/<name>`. Priority 300 wins over the built-in templates."""
    meta = {"managed_by": "vigie", "schema_version": SCHEMA_VERSION}
    single = {"number_of_shards": 1, "auto_expand_replicas": "0-1"}
    templates: dict[str, dict[str, Any]] = {
        names.posts: {
            "index_patterns": [names.posts_pattern],
            "composed_of": [names.component("posts-mappings"), names.component("posts-settings")],
            "priority": 300,
            "_meta": meta,
        }
    }
    for index, mappings in single_indices(names):
        templates[index] = {"index_patterns": [index], "template": {"settings": single, "mappings": mappings},
                            "priority": 300, "_meta": meta}
    return templates


def export(prefix: str = "vigie", retention_days: int = 90) -> dict[str, Any]:
    """Everything `vigie es setup` installs, as one JSON document (`dashboards/index-template.json`)."""
    names = Names(prefix)
    return {
        "_comment": "Generated by `vigie es template` from vigie/store/elasticsearch/schema.py; do not edit by hand.",
        "ilm_policy": {names.policy: {"policy": ilm_policy(retention_days)}},
        "component_templates": component_templates(names, ilm=True),
        "index_templates": index_templates(names),
        "write_alias": {"alias": names.posts, "bootstrap_index": names.posts_first},
    }


def export_text(prefix: str = "vigie", retention_days: int = 90) -> str:
    return json.dumps(export(prefix, retention_days), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def field_types(mappings: dict[str, Any], base: str = "") -> dict[str, str]:
    """Flatten a mapping into {dotted field name: type}, sub-fields included (`text.keyword`)."""
    out: dict[str, str] = {}
    for name, spec in (mappings.get("properties") or {}).items():
        full = f"{base}{name}"
        if "properties" in spec:
            out[full] = "object"
            out.update(field_types(spec, full + "."))
            continue
        out[full] = spec.get("type", "object")
        for sub, sub_spec in (spec.get("fields") or {}).items():
            out[f"{full}.{sub}"] = sub_spec["type"]
    return out
