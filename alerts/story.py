"""What an alert is about: the story behind a spike, read from the store's posts of the alert's window.

A crisis team asks: what is this about, who started it and who carries it, is it organised? `build_story`
answers from the posts of the story's window (from a little before the alert opened to the assessment) and a
baseline day before it:

* **rising terms, hashtags, domains and mentions**: log-odds with the pooled prior of `alerts.trends`
  (Monroe et al.), window against baseline, each with its counts;
* **copy clusters** (`Analysis.near_dup_cluster`): size, distinct authors, the share of young or
  low-follower accounts among them, first seen, and the representative text (the cluster's first post);
* **amplifiers**: negative posts ranked by reach × engagement, where reach is the author's followers plus the
  followers of those who reposted it in the window (a repost is amplification of its original, never a
  post of its own: `Post.relation`);
* **the first post**: the earliest post of the story's dominant marker (the rising term set, the top rising
  hashtag or the largest copy cluster, whichever the window's posts carry most), looked for in the window
  and the baseline day;
* the **source breakdown** and **press pickup** (news / feeds items in the window).

Cost: two paged reads (the window, the baseline day), each capped at `MAX_POSTS`; the pipeline calls it when
an alert opens, escalates or reaches a new peak, never at every assessment. Pure detection: it reads the
store protocol and the core models, never notify.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from itertools import islice

from alerts.detect import Assessment
from alerts.trends import count_entities, rising
from vigie.core.config import VigieConfig
from vigie.core.entities import URL_RE
from vigie.core.models import Alert, EvidenceItem, Post, Story, StoryCluster, StoryPost, StoryTrend, utc
from vigie.core.text import fold
from vigie.store.base import Store

LEAD = timedelta(hours=1)  # the story's window starts this long before the alert opened (its seed posts)...
STORY_REFRESH = timedelta(minutes=30)  # a story growing at the alert's worst level is retold this often...
MAX_SPAN = timedelta(hours=6)  # ... but covers at most this much (a slow burn's story is its recent part)
BASELINE = timedelta(hours=24)  # what "usual" is for the rising terms, and how far back the first post is sought
# The baseline of the rising terms stops this long before the window (as detection's does): the story's own
# first hours are not its "usual" vocabulary.
BASELINE_GUARD = timedelta(hours=3)
MIN_Z = 1.96  # a term, hashtag or domain is called rising from this z on (significant at 5 %)
MAX_POSTS = 20_000  # per read: a story of a huge topic is read from its first 20k posts of the span (said in notes)
PRESS_SOURCES = frozenset({"feeds", "news", "rss"})  # platforms whose items are press articles
TEXT_CHARS = 280
AMPLIFIERS, CLUSTERS, RISING, PRESS = 3, 3, 8, 5
MIN_RISING = 3  # a term must be in this many window posts to be called rising
TERM_SET = 5  # the first post carries at least 2 of the top TERM_SET rising terms
SHARED_TERMS, RARE_SHARE, TRACE_HOPS = 3, 0.01, 3  # tracing the first report back (`_trace_back`)
YOUNG_ACCOUNT = timedelta(days=30)
FEW_FOLLOWERS = 50

_WORD = re.compile(r"[a-z0-9]+")
_TAG_OR_HANDLE = re.compile(r"[#@][\w.]+")
# Words too common to say what a story is about (French and English, folded, 4 letters or more: shorter
# words are left out anyway).
STOPWORDS = frozenset("""
avec avoir cela cette ceux chez comme dans depuis donc elle elles encore etait etre fait faire il ils jamais
leur leurs mais meme moins nous nous notre ouais parce pour plus quand quel quelle quelque sans sera sont sous
suis tout toute toutes tous tres vous votre vraiment voila alors aussi apres avant bien bonjour merci rien
ici juste deja trop cest quoi sinon enfin
about after again also been before being could does doing dont from have having here into just like more most
much only other over really same should since some such than that their them then there these they this those
through very want were what when where which while will with would your yours youre thats
""".split())


@dataclass
class StoryReading:
    """A story and the posts it names, in the order a crisis team should read them (the evidence)."""

    story: Story
    drivers_posts: list[Post] = field(default_factory=list)  # the amplifier's post, the first post, cluster representatives


def story_window(opened_at: datetime, at: datetime, window_start: datetime) -> tuple[datetime, datetime]:
    """The span a story covers at `at` for an alert opened at `opened_at` (the detection window at least)."""
    start = min(utc(opened_at) - LEAD, utc(window_start))
    return max(start, utc(at) - MAX_SPAN), utc(at)


def post_terms(post: Post) -> set[str]:
    """The words a post carries (folded, 4+ letters, no stop words, no numbers, links, hashtags or handles)."""
    text = _TAG_OR_HANDLE.sub(" ", URL_RE.sub(" ", post.text or ""))
    return {w for w in _WORD.findall(fold(text)) if len(w) >= 4 and not w.isdigit() and w not in STOPWORDS}


def _read(store: Store, topic_id: str, start: datetime, end: datetime, notes: list[str], what: str) -> list[Post]:
    posts = list(islice(store.iter_posts(topic_id, start, end), MAX_POSTS + 1))
    if len(posts) > MAX_POSTS:
        notes.append(f"{what}: read from its first {MAX_POSTS} posts")
        posts = posts[:MAX_POSTS]
    return posts


def _negative(post: Post) -> bool:
    return post.analysis is not None and post.analysis.sentiment.label == "neg"


def story_post(post: Post, reposts: int = 0, reach_added: int = 0) -> StoryPost:
    a = post.analysis
    return StoryPost(id=post.id, source=post.source, author=post.author.handle or post.author.name or post.author.id,
                     followers=post.author.followers, text=(post.text or "")[:TEXT_CHARS], url=post.url,
                     created_at=post.created_at, engagement=post.engagement.total,
                     sentiment=a.sentiment.label if a else None, reposts=reposts, reach=post.reach + reach_added)


def evidence_item(post: Post) -> EvidenceItem:
    """One evidence post as the alert keeps it (a snapshot: the post itself may change or expire)."""
    analysis = post.analysis
    return EvidenceItem(
        id=post.id,
        url=post.url,
        source=post.source,
        author=post.author.handle or post.author.name or post.author.id,
        followers=post.author.followers,
        text=post.text[:500],
        engagement=post.engagement.total,
        sentiment=analysis.sentiment.label if analysis else None,
        # P(negative) from the sentiment model (None when the backend has no probabilities, e.g. the lexicon).
        p_neg=round(analysis.sentiment.probs["neg"], 3) if analysis and analysis.sentiment.probs else None,
        crisis_categories=list(analysis.crisis.categories) if analysis else [],
        created_at=post.created_at,
    )


def _amplifiers(store: Store, originals: Sequence[Post], reposts: Sequence[Post]) -> list[tuple[Post, int, int]]:
    """(post, reposts in the window, reposters' followers) of the negative posts that travel furthest, by
    reach × engagement. A repost's original may predate the window: it is read from the store."""
    by_ref: dict[str, list[Post]] = defaultdict(list)
    for r in reposts:
        if r.ref_id:
            by_ref[r.ref_id].append(r)
    known = {p.id: p for p in originals}
    for ref in sorted(by_ref, key=lambda k: -len(by_ref[k]))[:AMPLIFIERS * 3]:
        if ref not in known:
            post = store.get_post(ref)
            if post is not None and not post.is_repost:
                known[ref] = post
    scored = []
    for post in known.values():
        if not _negative(post):
            continue
        shares = by_ref.get(post.id, [])
        added = sum(r.reach for r in shares)
        scored.append((_amplifier_rank(story_post(post, len(shares), added)), post, len(shares), added))
    scored.sort(key=lambda s: s[0])
    return [(post, n, added) for rank, post, n, added in scored[:AMPLIFIERS] if rank[0] < 0]


def _amplifier_rank(p: StoryPost) -> tuple[float, datetime, str]:
    """How far an amplifier's post travels, best first: its author's and reposters' followers × (1 + its
    interactions as first fetched, or the reposts seen since if more: each one spread it again); ties by time, id."""
    return (-(p.reach * (1 + max(p.engagement or 0, p.reposts))), p.created_at or datetime.min.replace(tzinfo=timezone.utc), p.id)


def _clusters(store: Store, originals: Sequence[Post]) -> tuple[list[StoryCluster], dict[str, Post]]:
    members: dict[str, list[Post]] = defaultdict(list)
    for p in originals:
        cluster = p.analysis.near_dup_cluster if p.analysis else None
        if cluster:
            members[cluster].append(p)
    out, representatives = [], {}
    for cid, posts in sorted(members.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        authors = {p.author.id or p.author.handle or p.id for p in posts}
        if len(authors) < 2:
            continue
        # The cluster id is its first post's id (nlp/dedup.py): it may predate the window.
        first = next((p for p in posts if p.id == cid), None) or store.get_post(cid) or min(posts, key=lambda p: p.created_at)
        young = 0
        seen: set[str] = set()
        for p in posts:
            key = p.author.id or p.author.handle or p.id
            if key in seen:
                continue
            seen.add(key)
            created = p.author.created_at
            if (p.author.followers or 0) < FEW_FOLLOWERS or (created is not None and p.created_at - created < YOUNG_ACCOUNT):
                young += 1
        out.append(StoryCluster(id=cid, size=len(posts), authors=len(authors), young_or_small=round(young / len(authors), 3),
                                first_seen=min([first.created_at, *(p.created_at for p in posts)]),
                                text=(first.text or "")[:TEXT_CHARS], representative_id=first.id))
        representatives[cid] = first
        if len(out) >= CLUSTERS:
            break
    return out, representatives


def _term_counts(posts: Sequence[Post], leave_out: frozenset[str]) -> Counter:
    counts: Counter = Counter()
    for p in posts:
        if not p.is_repost:
            counts.update(post_terms(p) - leave_out)
    return counts


def _rising(window: Sequence[Post], baseline: Sequence[Post], topic_words: frozenset[str]) -> list[StoryTrend]:
    win, base = count_entities(window), count_entities(baseline)
    win_terms, base_terms = _term_counts(window, topic_words), _term_counts(baseline, topic_words)
    found: list[StoryTrend] = []
    for kind, w, b in (("terms", win_terms, base_terms), ("hashtags", win.counts["hashtags"], base.counts["hashtags"]),
                       ("domains", win.counts["domains"], base.counts["domains"]),
                       ("mentions", win.counts["mentions"], base.counts["mentions"])):
        for t in rising(w, b, kind=kind, window_total=win.posts, baseline_total=base.posts, min_count=MIN_RISING,
                        limit=RISING):
            if t.z >= MIN_Z:
                found.append(StoryTrend(kind, t.key, t.window, t.baseline, round(t.z, 2)))
    found.sort(key=lambda t: (-t.z, t.kind, t.key))
    return found


def _trace_back(first: Post, earlier: Sequence[Post], usual: Counter, usual_posts: int,
                leave_out: frozenset[str]) -> Post:
    """The first report of a story often predates its markers: the seed posts of the people concerned
    ("the lid of my Mijoteo 3 opened while cooking") come before the hashtag and the campaign that an
    amplifier starts. From the first post found, go back to the earliest post that shares at least
    `SHARED_TERMS` of its distinctive words (those in under 1 % of the baseline's posts), a few hops at most."""
    for _ in range(TRACE_HOPS):
        distinctive = {w for w in post_terms(first) - leave_out if usual[w] < RARE_SHARE * max(usual_posts, 1)}
        if len(distinctive) < SHARED_TERMS:
            break
        found = next((p for p in earlier if p.created_at < first.created_at and not p.is_repost
                      and len(post_terms(p) & distinctive) >= SHARED_TERMS), None)
        if found is None:
            break
        first = found
    return first


def topic_words(query: str) -> frozenset[str]:
    """The words of a topic's query: what the topic is, never what a story of it is about."""
    return frozenset(w for w in _WORD.findall(fold(query or "")) if w not in ("or", "and", "not", "near"))


def _first_post(window: Sequence[Post], earlier: Sequence[Post], rising_: Sequence[StoryTrend],
                clusters: Sequence[StoryCluster], representatives: dict[str, Post]) -> tuple[Post | None, str | None, list[str]]:
    """The earliest post of the story's dominant marker: its rising term set (≥ 2 of its top terms), its top
    rising hashtag or its largest copy cluster, whichever the window's posts carry most (on a tie, the one
    found earliest: the story's start rather than its campaign). `earlier`: the posts before the window
    where the first post may be, oldest first."""
    terms = [t.key for t in rising_ if t.kind == "terms"][:TERM_SET]
    tags = [t.key for t in rising_ if t.kind == "hashtags"][:1]
    posts = [p for p in [*earlier, *window] if not p.is_repost]  # oldest first (both reads are in time order)
    own = [p for p in window if not p.is_repost]
    candidates: list[tuple[int, str, list[str], Post]] = []
    if len(terms) >= 2:
        wanted = set(terms)
        first = next((p for p in posts if len(post_terms(p) & wanted) >= 2), None)
        if first is not None:
            candidates.append((sum(len(post_terms(p) & wanted) >= 2 for p in own), "terms", terms, first))
    if tags:
        first = next((p for p in posts if p.entities and tags[0] in p.entities.hashtags), None)
        if first is not None:
            candidates.append((sum(bool(p.entities and tags[0] in p.entities.hashtags) for p in own), "hashtag", tags,
                               first))
    if clusters and clusters[0].id in representatives:
        candidates.append((clusters[0].size, "cluster", [clusters[0].id], representatives[clusters[0].id]))
    candidates = [c for c in candidates if c[0] >= 2]
    if not candidates:
        return None, None, []
    _support, by, key, post = max(candidates, key=lambda c: (c[0], -c[3].created_at.timestamp()))
    return post, by, key


def build_story(store: Store, topic_id: str, start: datetime, end: datetime, *, now: datetime | None = None,
                press_sources: Iterable[str] = PRESS_SOURCES, query: str = "") -> StoryReading:
    """The story of a topic's posts in [start, end), against the `BASELINE` before `start` (`query`: the
    topic's query, whose words are left out of the rising terms). Amplifiers and clusters are looked for from
    the story's first post on (at most `BASELINE` before the window): the post that set a story off may
    predate the alert."""
    start, end = utc(start), utc(end)
    notes: list[str] = []
    window = _read(store, topic_id, start, end, notes, "window")
    before = _read(store, topic_id, start - BASELINE - BASELINE_GUARD, start, notes, "baseline")
    guard = start - BASELINE_GUARD
    originals = [p for p in window if not p.is_repost]
    reposts = [p for p in window if p.is_repost]
    press = set(press_sources)
    usual = [p for p in before if p.created_at < guard]
    leave_out = topic_words(query)
    rising_ = _rising(window, usual, leave_out)
    clusters, representatives = _clusters(store, originals)
    earlier = [p for p in before if p.created_at >= start - BASELINE]
    first, first_by, first_key = _first_post(window, earlier, rising_, clusters, representatives)
    if first is not None:
        first = _trace_back(first, [*earlier, *originals], _term_counts(usual, leave_out),
                            sum(1 for p in usual if not p.is_repost), leave_out)
    lead_in = [p for p in before if first is not None and p.created_at >= first.created_at]
    if lead_in:  # the story began before the window: its amplifiers and copies since then count
        clusters, representatives = _clusters(store, [p for p in [*lead_in, *originals] if not p.is_repost])
    story_posts = [p for p in [*lead_in, *originals] if not p.is_repost and p.source not in press]
    # Press articles are the press pickup, not amplifiers (an outlet's followers are not a crowd reposting).
    amplifiers = _amplifiers(store, story_posts, [*(p for p in lead_in if p.is_repost), *reposts])
    story = Story(
        start=start, end=end, computed_at=utc(now) if now else end,
        posts=len(originals), negative=sum(1 for p in originals if _negative(p)), reposts=len(reposts),
        first_post=story_post(first) if first else None, first_by=first_by, first_key=first_key,
        amplifiers=[story_post(p, n, added) for p, n, added in amplifiers],
        clusters=clusters, rising=rising_,
        sources=dict(sorted(Counter(p.source for p in originals).items(), key=lambda kv: (-kv[1], kv[0]))),
        press=[story_post(p) for p in originals if p.source in press][:PRESS],
        notes=notes,
    )
    explain: dict[str, Post] = {}
    for post in [*(p for p, _n, _a in amplifiers[:1]), *([first] if first else []),
                 *(representatives[c.id] for c in clusters)]:
        explain.setdefault(post.id, post)
    return StoryReading(story, list(explain.values()))


def story_due(kind: str, alert: Alert, previous: Alert | None) -> bool:
    """Is a story (and the evidence with it) to be told at this alert event? When the alert opens, escalates
    or reaches a new peak, or has none yet: bounded cost, never at every step of an open alert. The other
    steps (a step down, the tail) keep the story of the alert's worst moment: so does an escalation back to a
    level below the alert's peak (a crisis that fell to watch overnight and rises to warning again on a late
    repost keeps the story of its crisis, whose rising terms and copies the night's six hours no longer hold)."""
    if kind == "open" or alert.story is None:
        return True
    if kind == "escalate":
        return alert.peak_level is None or alert.level.rank >= alert.peak_level.rank
    if kind == "update" and alert.level == alert.peak_level and alert.story.computed_at is not None:
        # A story still growing at its worst level is retold every STORY_REFRESH during its first MAX_SPAN: alerts
        # open at the amplifier's post now (issue 14h), and a story told then, frozen once the risk reached 100,
        # named a copy campaign of 3 posts that had 30 by the afternoon. At most 12 retellings per alert, and
        # the story's span still starts an hour before the alert opened (its rising terms stay new).
        age, told = alert.updated_at - alert.opened_at, alert.updated_at - alert.story.computed_at
        if age <= MAX_SPAN and told >= STORY_REFRESH:
            return True
    return kind == "update" and previous is not None and alert.peak_risk > previous.peak_risk


def press_sources(config: VigieConfig) -> set[str]:
    """Source names whose items are press articles (a feeds source, whatever its name)."""
    return set(PRESS_SOURCES) | {name for name, src in config.sources.items()
                                 if getattr(src, "type", None) in PRESS_SOURCES}


def story_at(store: Store, config: VigieConfig, alert: Alert, a: Assessment) -> tuple[StoryReading, datetime]:
    """The story of `alert` at assessment `a` (live detection and the backtest call it at the same moments:
    open, escalate, new peak, notified update), and the start of the detection window (for the top negatives)."""
    cfg = config.detection
    width = timedelta(minutes=cfg.bucket_minutes)
    window_start = a.window[0].start if a.window else a.at - width * cfg.window_buckets
    start, end = story_window(alert.opened_at, a.at, window_start)
    query = next((t.query for t in config.topics if t.id == alert.topic_id), "")
    reading = build_story(store, alert.topic_id, start, end, press_sources=press_sources(config), query=query)
    if alert.story is not None:
        reading = keep_amplifiers(store, reading, alert.story)
    return reading, window_start




def keep_amplifiers(store: Store, reading: StoryReading, previous: Story) -> StoryReading:
    """An alert's story keeps the amplifiers its earlier stories named once they have left its span (`MAX_SPAN`):
    the account that set a bad buzz off stays named, with its post leading the evidence while it ranks first,
    for the alert's life. Alerts open at that post now (issue 14h), and a long crisis's later stories covered
    only its last six hours: the demo's crisis forgot the 250k account that started it."""
    story = reading.story
    named = {p.id for p in story.amplifiers}
    gone = [p for p in previous.amplifiers
            if p.id not in named and p.created_at is not None and p.created_at < story.start]
    if not gone:
        return reading
    story.amplifiers = sorted([*story.amplifiers, *gone], key=_amplifier_rank)[:AMPLIFIERS]
    top = story.amplifiers[0]
    if top.id not in named and all(p.id != top.id for p in reading.drivers_posts):
        post = store.get_post(top.id)
        if post is not None:
            reading.drivers_posts = [post, *reading.drivers_posts]
    return reading


def choose_evidence(reading: StoryReading | None, top: Iterable[Post], limit: int) -> list[EvidenceItem]:
    """Evidence posts that explain the drivers (the top amplifier's post, the first post, each copy cluster's
    representative), then the top negatives (`top`, in the store's ranking), without repeats."""
    chosen: dict[str, Post] = {}
    for post in [*(reading.drivers_posts if reading else []), *top]:
        chosen.setdefault(post.id, post)
        if len(chosen) >= limit:
            break
    return [evidence_item(p) for p in chosen.values()]
