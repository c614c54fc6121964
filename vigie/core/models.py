"""Domain records shared by every room of Vigie.

Plain dataclasses, one per concept, with `to_dict` / `from_dict` so that stores, listeners and
notifiers serialise them the same way. Times are timezone-aware UTC `datetime`s everywhere;
`utc()` is the one place that normalises them.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from enum import Enum
from typing import Any, Literal, get_args

from vigie.core.plain import as_plain, dataclass_fields
from vigie.core.secrets import scrub


def utc(value: datetime | str | float | int) -> datetime:
    """Return `value` as an aware UTC datetime (ISO-8601 strings and epoch seconds accepted)."""
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, (int, float)):
        dt = datetime.fromtimestamp(float(value), tz=timezone.utc)
    elif isinstance(value, str):
        text = value.strip()
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        dt = datetime.fromisoformat(text)
    else:
        raise TypeError(f"expected a datetime, ISO-8601 string or epoch seconds, got {type(value).__name__}")
    if dt.tzinfo is None:
        # Naive times are taken as UTC: every platform Vigie reads reports UTC.
        return dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(timezone.utc)


def iso(dt: datetime | None) -> str | None:
    return None if dt is None else utc(dt).isoformat().replace("+00:00", "Z")


def post_id(source: str, native_id: str) -> str:
    """Stable document id: the same platform post always maps to the same id (idempotent upserts)."""
    return f"{source}:{native_id}"


class Level(str, Enum):
    """Alert levels, ordered: comparisons use `rank`."""

    WATCH = "watch"
    WARNING = "warning"
    CRISIS = "crisis"

    @property
    def rank(self) -> int:
        return _LEVEL_RANK[self]


_LEVEL_RANK = {Level.WATCH: 1, Level.WARNING: 2, Level.CRISIS: 3}


class AlertState(str, Enum):
    OPEN = "open"
    ESCALATED = "escalated"
    RESOLVED = "resolved"


@dataclass
class Author:
    id: str | None = None
    handle: str | None = None
    name: str | None = None
    followers: int | None = None
    verified: bool | None = None
    # When the account was created, where the platform says (X, Mastodon, Bluesky profile): young accounts
    # carrying a story are a sign of coordination.
    created_at: datetime | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Author":
        created = data.get("created_at")
        return cls(**{**data, "created_at": utc(created) if created else None})


# How a post relates to another one. A repost (retweet, boost, Bluesky repost, Reddit crosspost without
# its own words) carries no words of its author: it is amplification of `ref_id`, never a copy nor a post
# of its own. A quote and a reply have their own text (and sentiment).
Relation = Literal["original", "repost", "quote", "reply"]
RELATIONS: tuple[str, ...] = get_args(Relation)


@dataclass
class PostEntities:
    """What a post points at: lower-case hashtags (no '#') and mentioned handles (no '@'), links (expanded
    where the platform gives it) and their registered domains. Listeners fill it from the platform's own
    entities where it has them; `vigie.core.entities.from_text` otherwise."""

    hashtags: list[str] = field(default_factory=list)
    mentions: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    domains: list[str] = field(default_factory=list)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "PostEntities":
        return cls(**{k: list(data.get(k) or []) for k in ("hashtags", "mentions", "links", "domains")})


@dataclass
class Engagement:
    likes: int | None = None
    reposts: int | None = None
    replies: int | None = None
    quotes: int | None = None
    views: int | None = None

    @property
    def total(self) -> int:
        """Interactions that spread or answer a post (views are exposure, not engagement)."""
        return sum(v or 0 for v in (self.likes, self.reposts, self.replies, self.quotes))


@dataclass
class Sentiment:
    label: str  # "neg" | "neu" | "pos"
    score: float  # [-1, 1]
    model: str
    # Calibrated class probabilities {"neg", "neu", "pos"} when the backend has them (trained, transformers);
    # None for the lexicon, whose compound score is not a probability.
    probs: dict[str, float] | None = None

    @property
    def p_neg(self) -> float:
        """P(negative): the model's probability, else 1/0 from the hard label (lexicon)."""
        if self.probs and "neg" in self.probs:
            return float(self.probs["neg"])
        return 1.0 if self.label == "neg" else 0.0

    @property
    def negative_band(self) -> float:
        """P(neg) floored to 0.1: the first key when ranking negative evidence (stores sort on it, then on
        reach and engagement, so equally confident posts still come in the order they travel). Floored, not
        rounded, so that SQL (`CAST(p * 10 AS INTEGER)`) and Python agree on every value."""
        return int(self.p_neg * 10) / 10


@dataclass
class Crisis:
    risk: float = 0.0  # [0, 1]
    categories: list[str] = field(default_factory=list)
    terms: list[str] = field(default_factory=list)


@dataclass
class Analysis:
    lang: str = "und"
    sentiment: Sentiment = field(default_factory=lambda: Sentiment("neu", 0.0, "none"))
    crisis: Crisis = field(default_factory=Crisis)
    topic_ids: list[str] = field(default_factory=list)
    entities: list[str] = field(default_factory=list)
    near_dup_cluster: str | None = None
    model_versions: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # why a field is `und`/neutral, etc.


@dataclass
class Post:
    id: str
    source: str
    text: str
    created_at: datetime
    url: str | None = None
    lang: str | None = None  # as reported by the platform, if any
    fetched_at: datetime | None = None
    author: Author = field(default_factory=Author)
    engagement: Engagement = field(default_factory=Engagement)
    parent_id: str | None = None  # the post this one answers (replies only)
    thread_id: str | None = None
    topic_ids: list[str] = field(default_factory=list)  # topics the listener fetched it for
    raw_ref: str | None = None
    analysis: Analysis | None = None
    relation: Relation = "original"
    ref_id: str | None = None  # the post reposted, quoted or answered (None for an original)
    entities: PostEntities | None = None  # None: not extracted yet

    def __post_init__(self) -> None:
        if self.relation not in RELATIONS:
            raise ValueError(f"relation {self.relation!r} is not one of {', '.join(RELATIONS)}")

    @property
    def is_repost(self) -> bool:
        return self.relation == "repost"

    @property
    def native_id(self) -> str:
        return self.id.split(":", 1)[1] if ":" in self.id else self.id

    @property
    def reach(self) -> int:
        return self.author.followers or 0

    def to_dict(self) -> dict[str, Any]:
        data = as_plain(self)  # = as_plain(self), faster: the store serialises every post it writes
        data["created_at"] = iso(self.created_at)
        data["fetched_at"] = iso(self.fetched_at)
        data["author"]["created_at"] = iso(self.author.created_at)
        return data

    def to_json(self) -> str:
        """`json.dumps(self.to_dict(), ensure_ascii=False, sort_keys=True)` (the SQLite store's document, written
        for every post stored), about twice as fast: the encoder walks the dataclasses itself instead of
        encoding a copy of them as dicts. Same text (tested); a datetime anywhere in a post is written as
        `to_dict` writes its three, so a field added to `Post` with another conversion must be added here."""
        return _POST_JSON.encode(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Post":
        analysis = data.get("analysis")
        return cls(
            id=data["id"],
            source=data["source"],
            text=data["text"],
            created_at=utc(data["created_at"]),
            url=data.get("url"),
            lang=data.get("lang"),
            fetched_at=utc(data["fetched_at"]) if data.get("fetched_at") else None,
            author=Author.from_dict(data.get("author") or {}),
            engagement=Engagement(**(data.get("engagement") or {})),
            parent_id=data.get("parent_id"),
            thread_id=data.get("thread_id"),
            topic_ids=list(data.get("topic_ids") or []),
            raw_ref=data.get("raw_ref"),
            analysis=analysis_from_dict(analysis) if analysis else None,
            relation=data.get("relation") or "original",
            ref_id=data.get("ref_id"),
            entities=PostEntities.from_dict(data["entities"]) if data.get("entities") is not None else None,
        )


def _post_json_default(obj: Any) -> Any:
    """`Post.to_json`'s encoder hook: a dataclass → its fields (as `as_plain` would give them one level down),
    a datetime → `iso` (as `Post.to_dict` writes created_at, fetched_at and author.created_at); anything else is
    not JSON, as with `to_dict` + `json.dumps`."""
    fields = dataclass_fields(obj)
    if fields is not None:
        return fields
    if isinstance(obj, datetime):
        return iso(obj)
    raise TypeError(f"Object of type {obj.__class__.__name__} is not JSON serializable")


_POST_JSON = json.JSONEncoder(ensure_ascii=False, sort_keys=True, default=_post_json_default)


def analysis_from_dict(data: dict[str, Any]) -> Analysis:
    return Analysis(
        lang=data.get("lang", "und"),
        sentiment=Sentiment(**data["sentiment"]) if data.get("sentiment") else Sentiment("neu", 0.0, "none"),
        crisis=Crisis(**data["crisis"]) if data.get("crisis") else Crisis(),
        topic_ids=list(data.get("topic_ids") or []),
        entities=list(data.get("entities") or []),
        near_dup_cluster=data.get("near_dup_cluster"),
        model_versions=dict(data.get("model_versions") or {}),
        notes=list(data.get("notes") or []),
    )


@dataclass
class Bucket:
    """Detection input: what one topic looked like during one time bucket."""

    topic_id: str
    start: datetime
    count: int = 0
    negative: int = 0
    positive: int = 0
    reach: int = 0  # sum of author followers over all posts
    negative_reach: int = 0  # sum of author followers over negative posts
    engagement: int = 0  # interactions (likes + reposts + replies + quotes) on the bucket's posts
    negative_engagement: int = 0  # the same, on negative posts only
    authors: int = 0  # distinct authors
    crisis_terms: int = 0  # posts with at least one crisis-lexicon hit
    crisis_categories: dict[str, int] = field(default_factory=dict)
    sources: dict[str, int] = field(default_factory=dict)
    max_dup_cluster: int = 0  # size of the largest near-duplicate cluster seen in the bucket
    # Reposts are amplification, not posts: they are left out of every figure above except `reach` and
    # `negative_reach` (the reposter's followers now see the original; a repost's label is its original's,
    # whose text it carries). Their number and reach are here.
    reposts: int = 0
    repost_reach: int = 0

    @property
    def negative_share(self) -> float:
        return self.negative / self.count if self.count else 0.0


@dataclass
class Driver:
    """One signal's contribution to a risk index, in points (explainability)."""

    name: str
    points: float
    value: float
    baseline: float | None
    explanation: str  # in English
    # The explanation kept language-neutral (vigie/core/messages.py): the channels write it in their language.
    # None for a driver that gives only the English text (older stored alerts, a plugin driver).
    message: list[Any] | None = None


@dataclass
class Delivery:
    channel: str
    event: str  # "open" | "escalate" | "update" | "resolve"
    status: str  # "sent" | "failed" | "skipped"
    attempts: int = 0
    response: str | None = None  # provider response id (Slack ts, PagerDuty dedup key, ...)
    error: str | None = None
    at: datetime | None = None
    # Dedup key of the event within the alert ("open", "escalate:crisis", "update:warning:62", ...), set by
    # alerts.notify.deliver so a re-run or retry never sends the same thing twice to a channel.
    key: str | None = None
    # How a failure may end (set by notifiers, read by the outbox's back-off): False = the provider refused
    # for good (a 4xx), True = worth trying again later; `retry_after` = the provider's Retry-After (s).
    retryable: bool | None = None
    retry_after: float | None = None


def _time(value: Any) -> datetime | None:
    """A stored time, or None when there is none or it does not parse (old or hand-edited records still load)."""
    if value is None or value == "":
        return None
    try:
        return utc(value)
    except (TypeError, ValueError):
        return None


@dataclass
class EvidenceItem:
    """One post a crisis team should read first, as the alert keeps it (a snapshot of the post when the alert
    was opened or updated: the post itself may change or expire). Stored as a JSON object with these keys."""

    id: str
    url: str | None = None
    source: str | None = None
    author: str | None = None  # handle, else name, else platform id
    followers: int | None = None
    text: str = ""  # the first 500 characters
    engagement: int | None = None  # interactions (Engagement.total)
    sentiment: str | None = None  # neg | neu | pos
    p_neg: float | None = None  # the model's P(negative), None when the backend has no probabilities
    crisis_categories: list[str] = field(default_factory=list)
    created_at: datetime | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # keys this version does not know: kept, re-stored as found

    _KEYS = ("id", "url", "source", "author", "followers", "text", "engagement", "sentiment", "p_neg",
             "crisis_categories", "created_at")

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {key: getattr(self, key) for key in self._KEYS}
        data["crisis_categories"] = list(self.crisis_categories)
        data["created_at"] = iso(self.created_at)
        return {**data, **self.extra}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "EvidenceItem":
        known = {k: data.get(k) for k in cls._KEYS}
        created = data.get("created_at")
        extra = {k: v for k, v in data.items() if k not in cls._KEYS}
        if created is not None and _time(created) is None:
            extra["created_at"] = created
        return cls(id=str(known["id"] or ""), url=known["url"], source=known["source"], author=known["author"],
                   followers=known["followers"], text=str(known["text"] or ""), engagement=known["engagement"],
                   sentiment=known["sentiment"], p_neg=known["p_neg"],
                   crisis_categories=list(known["crisis_categories"] or []), created_at=_time(created), extra=extra)


def _int(value: Any) -> int | None:
    try:
        return None if value is None else int(value)
    except (TypeError, ValueError):
        return None


@dataclass
class StoryPost:
    """A post the story names (its first report, an amplifier, a press item), as snapshotted when the story was
    computed. `reposts` and `reach` count the reposts seen in the story's window (amplification of this post:
    its author's followers plus the reposters')."""

    id: str
    source: str | None = None
    author: str | None = None
    followers: int | None = None
    text: str = ""  # the first 280 characters
    url: str | None = None
    created_at: datetime | None = None
    engagement: int | None = None
    sentiment: str | None = None
    reposts: int = 0
    reach: int = 0

    def to_dict(self) -> dict[str, Any]:
        data = as_plain(self)
        data["created_at"] = iso(self.created_at)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "StoryPost":
        return cls(id=str(data.get("id") or ""), source=data.get("source"), author=data.get("author"),
                   followers=_int(data.get("followers")), text=str(data.get("text") or ""), url=data.get("url"),
                   created_at=_time(data.get("created_at")), engagement=_int(data.get("engagement")),
                   sentiment=data.get("sentiment"), reposts=_int(data.get("reposts")) or 0,
                   reach=_int(data.get("reach")) or 0)


@dataclass
class StoryCluster:
    """A copy cluster (near-duplicate texts by several authors) seen in the story's window."""

    id: str
    size: int  # posts of the cluster in the window
    authors: int  # distinct authors among them
    young_or_small: float  # share of those authors with a young account or few followers (0..1)
    first_seen: datetime | None = None
    text: str = ""  # the representative: the cluster's first post
    representative_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data = as_plain(self)
        data["first_seen"] = iso(self.first_seen)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "StoryCluster":
        return cls(id=str(data.get("id") or ""), size=_int(data.get("size")) or 0, authors=_int(data.get("authors")) or 0,
                   young_or_small=float(data.get("young_or_small") or 0.0), first_seen=_time(data.get("first_seen")),
                   text=str(data.get("text") or ""), representative_id=data.get("representative_id"))


@dataclass
class StoryTrend:
    """A term, hashtag, domain or mention rising against the topic's baseline (alerts/trends.py log-odds)."""

    kind: str  # "terms" | "hashtags" | "domains" | "mentions"
    key: str
    window: int  # posts of the story's window that carry it
    baseline: int  # posts of the baseline that carry it
    z: float

    def to_dict(self) -> dict[str, Any]:
        return as_plain(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "StoryTrend":
        return cls(kind=str(data.get("kind") or ""), key=str(data.get("key") or ""), window=_int(data.get("window")) or 0,
                   baseline=_int(data.get("baseline")) or 0, z=float(data.get("z") or 0.0))


@dataclass
class Story:
    """What an alert is about (alerts/story.py computes it when the alert opens, escalates or peaks): who
    started it, who carries it, whether it is organised, which words spread, where, and whether the press has it.
    Stored with the alert as a JSON object; `from_dict` tolerates missing keys (older alerts have no story)."""

    start: datetime  # the story's window: from a little before the alert opened to the assessment
    end: datetime
    computed_at: datetime | None = None
    posts: int = 0  # posts in the window (reposts not counted)
    negative: int = 0
    reposts: int = 0
    first_post: StoryPost | None = None
    first_by: str | None = None  # what the first post was found by: "terms" | "hashtag" | "cluster"
    first_key: list[str] = field(default_factory=list)  # the term set, hashtag or cluster id it carries
    amplifiers: list[StoryPost] = field(default_factory=list)
    clusters: list[StoryCluster] = field(default_factory=list)
    rising: list[StoryTrend] = field(default_factory=list)
    sources: dict[str, int] = field(default_factory=dict)  # posts per source in the window
    press: list[StoryPost] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # e.g. the window was read partially (a cap)

    def to_dict(self) -> dict[str, Any]:
        return {"start": iso(self.start), "end": iso(self.end), "computed_at": iso(self.computed_at),
                "posts": self.posts, "negative": self.negative, "reposts": self.reposts,
                "first_post": self.first_post.to_dict() if self.first_post else None, "first_by": self.first_by,
                "first_key": list(self.first_key), "amplifiers": [a.to_dict() for a in self.amplifiers],
                "clusters": [c.to_dict() for c in self.clusters], "rising": [r.to_dict() for r in self.rising],
                "sources": dict(self.sources), "press": [p.to_dict() for p in self.press], "notes": list(self.notes)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Story":
        first = data.get("first_post")
        return cls(start=utc(data["start"]), end=utc(data["end"]), computed_at=_time(data.get("computed_at")),
                   posts=_int(data.get("posts")) or 0, negative=_int(data.get("negative")) or 0,
                   reposts=_int(data.get("reposts")) or 0,
                   first_post=StoryPost.from_dict(first) if isinstance(first, dict) else None,
                   first_by=data.get("first_by"), first_key=[str(k) for k in data.get("first_key") or []],
                   amplifiers=[StoryPost.from_dict(a) for a in data.get("amplifiers") or [] if isinstance(a, dict)],
                   clusters=[StoryCluster.from_dict(c) for c in data.get("clusters") or [] if isinstance(c, dict)],
                   rising=[StoryTrend.from_dict(r) for r in data.get("rising") or [] if isinstance(r, dict)],
                   sources={str(k): int(v) for k, v in (data.get("sources") or {}).items()},
                   press=[StoryPost.from_dict(p) for p in data.get("press") or [] if isinstance(p, dict)],
                   notes=[str(n) for n in data.get("notes") or []])


@dataclass
class DriverNote:
    """A driver as an alert's history keeps it at a lifecycle event or a new peak (alerts.policy)."""

    name: str
    points: float
    explanation: str = ""
    extra: dict[str, Any] = field(default_factory=dict)  # keys this version does not know: kept as found

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "points": self.points, "explanation": self.explanation, **self.extra}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "DriverNote":
        points = data.get("points")
        return cls(name=str(data["name"]), points=0.0 if points is None else points,
                   explanation=str(data.get("explanation") or ""),
                   extra={k: v for k, v in data.items() if k not in ("name", "points", "explanation")})


@dataclass
class HistoryEntry:
    """One line of an alert's history, oldest first. Which fields are set depends on `event`:

    * `open`, `escalate`, `update`, `deescalate`, `resolve` (alerts.policy): `level`, `risk`, and `drivers`
      (the top five) at lifecycle events and each new peak; a coverage alert's (alerts.coverage) carry a
      `note` instead;
    * `ack` (alerts.policy.acknowledge): `by`, `level`, `risk`;
    * `action` (vigie.core.actions): `action`, `key`, `by`, `via`, `level`, `risk`, and per action `verdict` and
      `judged` (driver points when the person judged the alert), `until` and `topic` (mutes), `post_id`,
      `label`, `was` and `text` (a relabelled evidence post).

    Stored as a JSON object holding only the fields the event has (the shape every store and export has
    always kept; `judged` is stored under "drivers"); keys this version does not know are kept in `extra`."""

    at: datetime | None
    event: str
    action: str | None = None
    key: str | None = None
    by: str | None = None
    via: str | None = None
    level: Level | None = None
    risk: float | None = None
    verdict: str | None = None
    drivers: list[DriverNote] | None = None
    judged: dict[str, float] | None = None
    until: datetime | None = None
    topic: str | None = None
    post_id: str | None = None
    label: str | None = None
    was: str | None = None
    text: str | None = None
    note: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    # Stored keys, in the order the records have always been written (JSON documents stay byte-identical).
    _ORDER = ("at", "event", "action", "key", "by", "via", "level", "risk", "verdict", "drivers", "until", "topic",
              "post_id", "label", "was", "text", "note")

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for key in self._ORDER:
            if key == "at":
                value: Any = iso(self.at)
            elif key == "level":
                value = self.level.value if self.level is not None else None
            elif key == "drivers":
                value = ([d.to_dict() for d in self.drivers] if self.drivers is not None
                         else dict(self.judged) if self.judged is not None else None)
            elif key == "until":
                value = iso(self.until)
            else:
                value = getattr(self, key)
            # A relabel records what the post's label was, even unknown (None).
            if value is not None or (key == "was" and self.post_id is not None) or key == "at":
                data[key] = value
        return {**data, **self.extra}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "HistoryEntry":
        extra = {k: v for k, v in data.items() if k not in cls._ORDER}
        values: dict[str, Any] = {k: data.get(k) for k in cls._ORDER if k not in ("at", "level", "drivers", "until")}
        for key in ("at", "until"):
            raw = data.get(key)
            values[key] = _time(raw)
            if raw is not None and values[key] is None:
                extra[key] = raw  # kept as found
        level = data.get("level")
        values["level"] = Level(level) if level in _LEVEL_VALUES else None
        if level is not None and values["level"] is None:
            extra["level"] = level
        drivers = data.get("drivers")
        if isinstance(drivers, dict):
            values["judged"] = dict(drivers)
        elif isinstance(drivers, list):
            values["drivers"] = [DriverNote.from_dict(d) for d in drivers if isinstance(d, dict) and "name" in d]
        values["event"] = str(values.get("event") or "")
        return cls(**values, extra=extra)


_LEVEL_VALUES = {lv.value for lv in Level}


@dataclass
class Alert:
    id: str
    dedup_key: str
    topic_id: str
    level: Level
    risk: float  # 0-100
    opened_at: datetime
    updated_at: datetime
    state: AlertState = AlertState.OPEN
    drivers: list[Driver] = field(default_factory=list)
    evidence: list[EvidenceItem] = field(default_factory=list)
    resolved_at: datetime | None = None
    peak_risk: float = 0.0
    peak_level: Level | None = None
    calm_buckets: int = 0  # consecutive buckets below the exit threshold (hysteresis)
    calm_peak: float = 0.0  # highest risk during those calm buckets: the level an alert steps down to
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None
    history: list[HistoryEntry] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)
    links: dict[str, str] = field(default_factory=dict)
    # "risk" (a topic's bad buzz) or "coverage" (Vigie is blind on a source: alerts/coverage.py); channels
    # choose the kinds they take (`ChannelConfig.kinds`).
    kind: str = "risk"
    # Which sources were blind while this alert's risk was assessed ({source: since iso}), or, for a
    # coverage alert, the blind episode (reasons, since, until): vigie/store/health.py.
    coverage: dict[str, Any] = field(default_factory=dict)
    # What the alert is about (alerts/story.py), computed when it opens, escalates or peaks; None before.
    story: Story | None = None

    @staticmethod
    def make_dedup_key(topic_id: str, opened_at: datetime) -> str:
        """Topic + episode: one alert per episode; escalation updates it rather than opening another."""
        return f"vigie:{topic_id}:{utc(opened_at).strftime('%Y%m%dT%H%M%SZ')}"

    @staticmethod
    def make_id(dedup_key: str) -> str:
        return hashlib.sha1(dedup_key.encode()).hexdigest()[:12]

    def to_dict(self) -> dict[str, Any]:
        data = as_plain(self)
        data["level"] = self.level.value
        data["state"] = self.state.value
        data["peak_level"] = self.peak_level.value if self.peak_level else None
        for key in ("opened_at", "updated_at", "resolved_at", "acknowledged_at"):
            data[key] = iso(getattr(self, key))
        # Typed in memory, plain JSON objects once stored (same keys as ever: see HistoryEntry, EvidenceItem).
        data["evidence"] = [e.to_dict() for e in self.evidence]
        data["history"] = [h.to_dict() for h in self.history]
        data["story"] = self.story.to_dict() if self.story is not None else None
        for d, delivery in zip(data["deliveries"], self.deliveries):
            d["at"] = iso(delivery.at)
            # What a provider answered is stored: never with a secret in it (vigie.core.secrets), whichever
            # code path made the record.
            d["error"], d["response"] = scrub(d.get("error")), scrub(d.get("response"))
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Alert":
        return cls(
            id=data["id"],
            dedup_key=data["dedup_key"],
            topic_id=data["topic_id"],
            level=Level(data["level"]),
            risk=float(data["risk"]),
            opened_at=utc(data["opened_at"]),
            updated_at=utc(data["updated_at"]),
            state=AlertState(data.get("state", "open")),
            drivers=[Driver(**d) for d in data.get("drivers") or []],
            evidence=[EvidenceItem.from_dict(e) for e in data.get("evidence") or [] if isinstance(e, dict)],
            resolved_at=utc(data["resolved_at"]) if data.get("resolved_at") else None,
            peak_risk=float(data.get("peak_risk") or 0.0),
            peak_level=Level(data["peak_level"]) if data.get("peak_level") else None,
            calm_buckets=int(data.get("calm_buckets") or 0),
            calm_peak=float(data.get("calm_peak") or 0.0),
            acknowledged_by=data.get("acknowledged_by"),
            acknowledged_at=utc(data["acknowledged_at"]) if data.get("acknowledged_at") else None,
            history=[HistoryEntry.from_dict(h) for h in data.get("history") or [] if isinstance(h, dict)],
            deliveries=[
                Delivery(**{**d, "at": utc(d["at"]) if d.get("at") else None}) for d in data.get("deliveries") or []
            ],
            links=dict(data.get("links") or {}),
            kind=data.get("kind") or "risk",
            coverage=dict(data.get("coverage") or {}),
            story=_story(data.get("story")),
        )


def _story(data: Any) -> Story | None:
    """A stored story, or None (none yet, or a record this version cannot read: the alert still loads)."""
    if not isinstance(data, dict):
        return None
    try:
        return Story.from_dict(data)
    except (KeyError, TypeError, ValueError):
        return None


# Outbox statuses: `pending` and `sending` are still to do; the others are final.
OUTBOX_OPEN = ("pending", "sending")
OUTBOX_FINAL = ("sent", "unknown", "skipped", "failed", "expired")


@dataclass
class OutboxEntry:
    """One message owed to one channel: an alert event, committed with the alert change that caused it
    (the transactional outbox, vigie/pipeline/outbox.py) and drained until sent or given up.

    `id` is deterministic (alert dedup key + event key + channel), so re-detecting a bucket after a crash
    finds the entry it already wrote instead of adding a second one. `alert` is the alert as it was at
    the event: a message sent late still tells what happened then, not the alert's later state.
    Times: `bucket_at` is event time (the detector's clock); the others are wall-clock (back-off, expiry).
    """

    id: str
    alert_id: str
    topic_id: str
    channel: str
    event: str
    key: str
    bucket_at: datetime
    enqueued_at: datetime
    next_attempt_at: datetime
    expires_at: datetime
    alert: dict[str, Any] = field(default_factory=dict)
    seq: int = 0  # order of the events within one commit
    status: str = "pending"  # pending | sending | sent | unknown | skipped | failed | expired
    attempts: int = 0  # provider calls so far (retries inside a call included)
    rounds: int = 0  # delivery passes that tried it (drives the back-off)
    last_error: str | None = None
    response: str | None = None
    done_at: datetime | None = None

    @staticmethod
    def make_id(dedup_key: str, key: str, channel: str) -> str:
        return hashlib.sha1(f"{dedup_key}\n{key}\n{channel}".encode()).hexdigest()

    @property
    def is_open(self) -> bool:
        return self.status in OUTBOX_OPEN

    def to_dict(self) -> dict[str, Any]:
        data = as_plain(self)
        for key in ("bucket_at", "enqueued_at", "next_attempt_at", "expires_at", "done_at"):
            data[key] = iso(getattr(self, key))
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "OutboxEntry":
        values = dict(data)
        for key in ("bucket_at", "enqueued_at", "next_attempt_at", "expires_at"):
            values[key] = utc(values[key])
        values["done_at"] = utc(values["done_at"]) if values.get("done_at") else None
        return cls(**{k: v for k, v in values.items() if k in cls.__dataclass_fields__})


@dataclass
class RiskPoint:
    """The risk index of one topic at the end of one bucket, as the detector assessed it.

    Kept for every bucket (not only while an alert is open) so a dashboard or a notebook can draw the
    risk curve, and see which drivers moved it, without re-running detection. Idempotent on (topic, at).
    """

    topic_id: str
    at: datetime  # end of the last complete bucket assessed
    risk: float  # 0..100
    level: Level | None = None  # raw level implied by the risk (before hysteresis)
    drivers: dict[str, float] = field(default_factory=dict)  # driver name -> points
    notes: list[str] = field(default_factory=list)
    # Sources of the topic that were blind (failing, or collapsed) over this bucket's windows: the risk
    # may be understated there (vigie/store/health.py). Empty: full coverage.
    blind: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"topic_id": self.topic_id, "at": iso(self.at), "risk": self.risk,
                "level": self.level.value if self.level else None, "drivers": dict(self.drivers),
                "notes": list(self.notes), "blind": list(self.blind)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "RiskPoint":
        return cls(topic_id=data["topic_id"], at=utc(data["at"]), risk=float(data["risk"]),
                   level=Level(data["level"]) if data.get("level") else None,
                   drivers={k: float(v) for k, v in (data.get("drivers") or {}).items()},
                   notes=list(data.get("notes") or []), blind=list(data.get("blind") or []))


def risk_peaks(points: "list[RiskPoint]", per_step: int) -> list[tuple[datetime, float]]:
    """A risk curve coarsened to groups of `per_step` consecutive points, each as (its last time, its highest
    risk): fewer points to draw, and no peak lost (a mean or a sample would hide a 5-minute spike)."""
    per_step = max(1, per_step)
    return [(points[min(i + per_step, len(points)) - 1].at, max(p.risk for p in points[i : i + per_step]))
            for i in range(0, len(points), per_step)]


@dataclass
class Cursor:
    """Where a listener stopped, per (source, query). `value` is opaque JSON the listener understands."""

    source: str
    query: str
    value: dict[str, Any]
    updated_at: datetime | None = None


@dataclass
class Quarantined:
    source: str
    reason: str
    record: str  # the raw record, as text, so nothing is lost
    context: dict[str, Any] = field(default_factory=dict)
    at: datetime | None = None


@dataclass
class UpsertResult:
    inserted: int = 0
    updated: int = 0
    quarantined: int = 0
    retried: int = 0

    def __iadd__(self, other: "UpsertResult") -> "UpsertResult":
        self.inserted += other.inserted
        self.updated += other.updated
        self.quarantined += other.quarantined
        self.retried += other.retried
        return self
