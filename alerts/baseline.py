"""A topic's usual self: robust, seasonal expectations per bucket and how bursty its counts are.

* **Seasonality**: expected values come from the same hour of the *week* when the history holds that hour
  at least twice, else from the same hour of the *day*, else from the global level; a slot is shrunk
  towards the global level so that one odd night does not make a rule. Buckets before the topic's first
  post are not counted as "zero traffic".
* **Robust**: an hour-of-day slot is the median over days of that hour's mean (with 3 days or more; else a
  trimmed mean, the busiest 10 % of buckets left out), so yesterday's burst does not inflate today's
  expectations; the usual tone (negative share, net negativity), each source's share, each crisis
  category's rate per post and the reach / engagement per negative post come from ordinary buckets only.
* **Level shifts**: when each of the last four 6-hour blocks of the history is above (or each below) its
  seasonal expectation, the expectations follow the topic's new level (the median block's ratio):
  a lasting change of audience is absorbed within a day, a burst (one or two blocks) is not.
* **Overdispersion**: for the counts the drivers judge (posts, negative posts, distinct authors, posts with
  crisis vocabulary, and each source's posts), the baseline learns the negative-binomial `alpha` of sums
  over the detector's time scales (the window, 2 and 6 windows) from its own residuals
  (`alerts.stats.nb_dispersion`, robust to a past crisis), shrunk towards a prior when history is short.
  Learning it at each scale also takes care of bursts that last several buckets (a cascade is not 6
  independent draws).
* **Cold start**: with less than `COLD_START_HOURS` of history, expectations are pulled towards
  conservative priors (a busy topic); the Detector says so in the assessment's notes.
* **Sparse topics** (median 0 posts per bucket) are flagged: their expectations are floored at one post
  per window by the drivers and judged over the longer spans too.

Which stretch of history and how often it is re-read is the Detector's business (`alerts.detect`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from itertools import compress, repeat
from operator import attrgetter

import numpy as np

from alerts.stats import median, nb_dispersion, quantile
from vigie.core.gc_pause import collector_paused
from vigie.core.config import DetectionConfig
from vigie.core.models import Bucket

# Features a baseline keeps an expectation for (per bucket).
FEATURES = ("count", "negative", "negative_reach", "negative_engagement", "crisis_terms", "authors")
# Count features whose overdispersion is learnt (the ones judged with a count tail).
DISPERSED = ("count", "negative", "crisis_terms", "authors")
# Time scales (in windows) the count drivers judge: the window, then 2 and 6 windows (1 h and 3 h).
SPAN_SCALES = (1, 2, 6)

# Conservative priors for a topic with little history, per 5-minute bucket: a fairly busy topic, so a new
# topic's first few dozen posts do not look like a crisis.
PRIORS_PER_5MIN = {"count": 4.0, "negative": 0.6, "negative_reach": 2_000.0, "negative_engagement": 30.0,
                   "crisis_terms": 0.2, "authors": 4.0}
PRIOR_NEGATIVE_SHARE = 0.2
PRIOR_NET_NEGATIVITY = -0.2
# Prior overdispersion (variance = mu + ALPHA_PRIOR * mu^2) and how many blocks of history it is worth:
# moderately bursty, the middle of what real brand traffic shows, until the topic's own residuals say more.
ALPHA_PRIOR = 0.3
ALPHA_PRIOR_BLOCKS = 12
COLD_START_HOURS = 24.0
SLOT_WEIGHT = 0.7  # seasonal slot vs global level in an expectation
MIN_SLOT_SAMPLES = 6  # fewer samples in an hour-of-day slot: use the global level only
LEVEL_BLOCK_HOURS = 6
LEVEL_BLOCKS = 4
LEVEL_LIMITS = (0.33, 3.0)
MIN_BLOCK_POSTS = 20  # a 6-hour block with fewer posts says nothing about the topic's usual mix


def week_slot(t: datetime) -> int:
    """Hour of the week of `t` (0 = Monday 00:00-01:00): the seasonal slot an expectation depends on."""
    return t.weekday() * 24 + t.hour


@dataclass
class Baseline:
    """Summary of a topic's history before the window: expectations per bucket, by seasonal slot."""

    end: datetime  # exclusive end (an hour boundary)
    history_hours: float  # hours from the topic's first post inside the baseline range to its end
    first_at: datetime | None  # start of the first non-empty bucket in the baseline range
    global_mean: dict[str, float]
    day_mean: dict[int, dict[str, float]]  # hour of day -> means
    day_samples: dict[int, int]
    week_mean: dict[int, dict[str, float]]  # hour of week -> means
    week_samples: dict[int, int]
    negative_share: float
    net_negativity: float  # (negative - positive) / count: below zero for a topic people mostly like
    dup_p95: float
    bucket_minutes: int
    source_share: dict[str, float] = field(default_factory=dict)  # usual share of posts per source
    category_rate: dict[str, float] = field(default_factory=dict)  # crisis category -> posts with it per post
    mix_posts: int = 0  # ordinary posts the usual mix (tone, sources, category rates) was learnt from
    reach_per_negative: float = 0.0  # usual followers behind one negative post
    engagement_per_negative: float = 0.0  # usual interactions on one negative post
    level: float = 1.0  # the topic's current level over its seasonal expectation (lasting shifts)
    # (feature, span in buckets) -> NB alpha of sums over that span; ("source:x", span) for sources.
    alpha: dict[tuple[str, int], float] = field(default_factory=dict)
    median_count: float = 0.0
    week_min_samples: int = 24  # an hour-of-week slot is used once it holds this many buckets (2 visits)
    # expected() memo: an expectation depends on the hour of the week only (seasonal slot, level and
    # cold-start trust are fixed for the Baseline's hour of life), so each feature keeps one value per slot;
    # the drivers ask for the same few slots hundreds of times per assessment.
    _memo: dict[str, list[float | None]] = field(default_factory=dict, repr=False, compare=False)
    _alpha_seen: dict | None = field(default=None, repr=False, compare=False)
    _alpha_memo: dict[tuple[str, int], float] = field(default_factory=dict, repr=False, compare=False)

    @property
    def cold(self) -> bool:
        return self.history_hours < COLD_START_HOURS

    @property
    def sparse(self) -> bool:
        """Median 0 posts per bucket: most buckets are empty, only longer spans carry information."""
        return self.median_count == 0 and not self.cold

    def dispersion(self, feature: str, span: int) -> float:
        """NB alpha of a sum of `feature` over `span` buckets (the nearest learnt span at or above it)."""
        if self._alpha_seen is not self.alpha:  # memo of the answers below, for this `alpha` table
            self._alpha_seen, self._alpha_memo = self.alpha, {}
        key = (feature, span)
        value = self._alpha_memo.get(key)
        if value is None:
            spans = sorted(s for f, s in self.alpha if f == feature)
            if not spans:
                value = ALPHA_PRIOR
            else:
                value = self.alpha[(feature, next((s for s in spans if s >= span), spans[-1]))]
            self._alpha_memo[key] = value
        return value

    def expected(self, feature: str, t: datetime) -> float:
        """Expected value of `feature` in the bucket starting at `t`."""
        return self.expected_in(feature, [t])[0]

    def expected_in(self, feature: str, starts: list[datetime]) -> list[float]:
        """Expected values of `feature` in the buckets starting at `starts` (what `expected` gives for each)."""
        return self.expected_at(feature, starts, [week_slot(t) for t in starts])

    def expected_at(self, feature: str, starts: list[datetime], slots: list[int]) -> list[float]:
        """`expected_in` when the caller has the hours of the week of `starts` already (`week_slot`)."""
        table = self._memo.get(feature)
        if table is None:
            table = self._memo[feature] = [None] * 168
        out = [table[slot] for slot in slots]
        if None in out:  # slots not asked for yet (a few per hour of the Baseline's life)
            for i, (t, slot) in enumerate(zip(starts, slots)):
                if out[i] is None:
                    value = table[slot]
                    if value is None:
                        value = table[slot] = self._expected(feature, t)
                    out[i] = value
        return out

    def seasonal(self, feature: str, t: datetime) -> float:
        """Seasonal expectation before the level and cold-start adjustments."""
        glob = self.global_mean[feature]
        week = t.weekday() * 24 + t.hour
        if self.week_samples.get(week, 0) >= self.week_min_samples:
            return SLOT_WEIGHT * self.week_mean[week][feature] + (1 - SLOT_WEIGHT) * glob
        if self.day_samples.get(t.hour, 0) >= MIN_SLOT_SAMPLES:
            return SLOT_WEIGHT * self.day_mean[t.hour][feature] + (1 - SLOT_WEIGHT) * glob
        return glob

    def _expected(self, feature: str, t: datetime) -> float:
        value = self.seasonal(feature, t) * self.level
        if self.cold:
            prior = PRIORS_PER_5MIN[feature] * self.bucket_minutes / 5
            trust = self.history_hours / COLD_START_HOURS
            value = trust * value + (1 - trust) * max(value, prior)
        return value


def _slot_means(matrix: np.ndarray, groups: dict[int, list[int]],
                visits: np.ndarray | None = None) -> dict[int, dict[str, float]]:
    """Robust means of every feature for each slot's rows: with `visits` (which day each row belongs to)
    and at least 3 visits of the slot, the median over visits of each visit's mean (yesterday's 4-hour
    burst is one visit out of three: it does not move the median); else the trimmed mean (top 10 % out)."""
    out = {}
    visit_means: dict[int, np.ndarray] = {}
    if visits is not None and len(matrix):
        # per (slot, visit) means in one pass
        slot_of_row = np.empty(len(matrix), dtype=np.int64)
        for slot, rows in groups.items():
            slot_of_row[rows] = slot
        key = slot_of_row * 100_000 + (visits - visits.min())
        uniq, inverse = np.unique(key, return_inverse=True)
        sums = np.zeros((len(uniq), matrix.shape[1]))
        np.add.at(sums, inverse, matrix)
        means = sums / np.bincount(inverse)[:, None]
        slot_of_mean = uniq // 100_000
        for slot in groups:
            visit_means[slot] = means[slot_of_mean == slot]
    # Slots with the same number of visits (or of rows) are reduced together, stacked: the same medians and
    # trimmed means as slot by slot, in a few numpy calls instead of one per slot.
    medians: dict[int, list[int]] = {}
    trimmed: dict[int, list[int]] = {}
    for slot, rows in groups.items():
        per_visit = visit_means.get(slot)
        if per_visit is not None and len(per_visit) >= 3:
            medians.setdefault(len(per_visit), []).append(slot)
        else:
            trimmed.setdefault(len(rows), []).append(slot)
    for slots in medians.values():
        values = np.median(np.stack([visit_means[slot] for slot in slots]), axis=1).tolist()
        out.update((slot, dict(zip(FEATURES, v))) for slot, v in zip(slots, values))
    for n, slots in trimmed.items():
        keep = max(1, n - int(n * 0.1))
        block = np.sort(np.stack([matrix[groups[slot]] for slot in slots]), axis=1)
        values = block[:, :keep].mean(axis=1).tolist()
        out.update((slot, dict(zip(FEATURES, v))) for slot, v in zip(slots, values))
    return {slot: out[slot] for slot in groups}


# The bucket fields a build reads, extracted once per bucket (`BucketRows`): the build then works on columns.
_ROW = attrgetter("count", "negative", "positive", "negative_reach", "negative_engagement", "crisis_terms", "authors",
                  "max_dup_cluster", "sources", "crisis_categories", "start")


def bucket_row(b: Bucket) -> tuple:
    """What a baseline build reads of one bucket: its fields (`_ROW`), then its hour of the week and its day
    (the `toordinal` of its start, as the slot medians group visits)."""
    t = b.start
    return (*_ROW(b), t.weekday() * 24 + t.hour, t.toordinal())


@dataclass
class _Columns:
    """The history as columns (one list per bucket field, oldest first): the build sums and slices these
    instead of walking the Bucket objects once per figure. Values are the buckets' own (same types, same
    order), so every sum below adds the same numbers in the same order as a walk over the buckets would."""

    count: list
    negative: list
    positive: list
    negative_reach: list
    negative_engagement: list
    crisis_terms: list
    authors: list
    max_dup_cluster: list
    sources: list
    crisis_categories: list
    start: list
    slot: list  # hour of the week (`week_slot`)
    day: list  # `toordinal` of the start

    @classmethod
    def of(cls, rows: list[tuple]) -> "_Columns":
        if not rows:
            return cls(*([] for _ in range(13)))
        # zip(*rows) makes one short-lived iterator per row: hundreds of tracked objects that would set off
        # a young collection at every build (vigie.core.gc_pause); none of them is garbage.
        with collector_paused():
            return cls(*(list(c) for c in zip(*rows)))

    def __len__(self) -> int:
        return len(self.count)


def build_baseline(buckets: list[Bucket], end: datetime, cfg: DetectionConfig) -> Baseline:
    """Robust seasonal summary of `buckets` (all before `end`, oldest first, one per bucket)."""
    return build_baseline_from_rows([bucket_row(b) for b in buckets], end, cfg)


def build_baseline_from_rows(rows: list[tuple], end: datetime, cfg: DetectionConfig) -> Baseline:
    """`build_baseline` from the buckets' `bucket_row`s, for a caller that keeps them (the Detector does: its
    72 h of history shift by one hour between two builds, so only the new buckets are extracted again)."""
    first = next((i for i, row in enumerate(rows) if row[0] > 0), None)
    cols = _Columns.of(rows[first:] if first is not None else [])
    n = len(cols)
    history_hours = (end - cols.start[0]).total_seconds() / 3600 if n else 0.0
    slots = np.array(cols.slot, dtype=np.int64)  # hour of the week of each bucket
    by_day = _groups(slots % 24)
    by_week = _groups(slots)
    # One row per bucket, the columns in the order of FEATURES.
    # (C order, as numpy lays out a matrix built row by row: every reduction below sees the same layout)
    matrix = np.ascontiguousarray(np.array([cols.count, cols.negative, cols.negative_reach, cols.negative_engagement,
                                            cols.crisis_terms, cols.authors], dtype=float).T.reshape(-1, len(FEATURES)))
    per_hour = max(1, 60 // cfg.bucket_minutes)
    by_week = {s: members for s, members in by_week.items() if len(members) >= 2 * per_hour}

    # Shares from the ordinary buckets only (the busiest 10 % left out): the first hours of a surge that
    # reached the baseline must not redefine the topic's usual tone.
    cap = max(1.0, quantile([float(c) for c in cols.count], 0.9))
    typical = [c <= cap for c in cols.count]
    total = sum(compress(cols.count, typical))
    neg = sum(compress(cols.negative, typical))
    share = neg / total if total >= 20 else PRIOR_NEGATIVE_SHARE
    per_source: dict[str, int] = {}
    for sources in compress(cols.sources, typical):
        for source, k in sources.items():
            per_source[source] = per_source.get(source, 0) + k
    net = (neg - sum(compress(cols.positive, typical))) / total if total >= 20 else PRIOR_NET_NEGATIVITY
    base = Baseline(
        end=end,
        history_hours=history_hours,
        first_at=cols.start[0] if n else None,
        global_mean=_slot_means(matrix, {0: list(range(n))})[0] if n else {f: 0.0 for f in FEATURES},
        day_mean=_slot_means(matrix, by_day, np.array(cols.day, dtype=np.int64)),
        day_samples={s: len(g) for s, g in by_day.items()},
        week_mean=_slot_means(matrix, by_week),
        week_samples={s: len(g) for s, g in by_week.items()},
        negative_share=share,
        net_negativity=net,
        dup_p95=quantile([float(d) for d in cols.max_dup_cluster], 0.95),
        bucket_minutes=cfg.bucket_minutes,
        source_share={src: k / total for src, k in per_source.items()} if total >= 20 else {},
        category_rate=_category_rates(cols, per_hour) if total >= 20 else {},
        mix_posts=total,
        reach_per_negative=sum(compress(cols.negative_reach, typical)) / neg if neg >= 5 else 0.0,
        engagement_per_negative=sum(compress(cols.negative_engagement, typical)) / neg if neg >= 5 else 0.0,
        median_count=median([float(c) for c in cols.count]) if n else 0.0,
        week_min_samples=2 * per_hour,
    )
    if n:
        base.level = _level(cols, base, per_hour)
        base.alpha = _dispersions(cols, slots, matrix, base, cfg.window_buckets)
    return base


def _groups(keys: np.ndarray) -> dict[int, np.ndarray]:
    """Rows of each key, in increasing order, the keys in order of first appearance: what appending each
    row's index to its key's list gives (the slot means stack their slots in this order)."""
    order = np.argsort(keys, kind="stable")  # stable: each key's rows stay in increasing order
    uniq, first = np.unique(keys[order], return_index=True)
    bounds = [*first.tolist(), len(keys)]
    members = {int(k): order[bounds[j]:bounds[j + 1]] for j, k in enumerate(uniq.tolist())}
    return {k: members[k] for k in sorted(members, key=lambda k: members[k][0])}


def _category_rates(cols: _Columns, per_hour: int) -> dict[str, float]:
    """Each crisis category's usual rate per post: the median over the history's 6-hour blocks, so an
    everyday category ("service") has its everyday rate and a category seen only during a past story (or
    the first hours of the current one, once they enter the baseline) stays rare."""
    size = LEVEL_BLOCK_HOURS * per_hour
    n = len(cols)
    blocks = [(max(0, i - size), i) for i in range(n, 0, -size)]
    # the buckets with crisis categories (few): (index, categories), oldest first
    marked = [(i, c) for i, c in enumerate(cols.crisis_categories) if c]
    rates: dict[str, list[float]] = {}
    counted = 0
    for lo, hi in blocks:
        posts = sum(cols.count[lo:hi])
        if posts < MIN_BLOCK_POSTS:  # too few posts to say what a block's mix is (bursty topics)
            continue
        counted += 1
        cats: dict[str, int] = {}
        for i, found in marked:
            if lo <= i < hi:
                for cat, k in found.items():
                    cats[cat] = cats.get(cat, 0) + k
        for cat, k in cats.items():
            rates.setdefault(cat, []).append(k / posts)
    if counted < 3:  # a very bursty or young topic: the pooled rate over the whole history
        posts = sum(cols.count) or 1
        pooled: dict[str, int] = {}
        for _i, found in marked:
            for cat, k in found.items():
                pooled[cat] = pooled.get(cat, 0) + k
        return {c: k / posts for c, k in pooled.items()}
    # blocks without the category count as 0: pad before taking the median
    return {c: median(v + [0.0] * (counted - len(v))) for c, v in rates.items()}


def _level(cols: _Columns, base: Baseline, per_hour: int) -> float:
    """The topic's level over its seasonal expectation when the last LEVEL_BLOCKS blocks all agree on the
    side (then the median block's ratio); 1 otherwise. A burst moves one or two blocks, not all of them."""
    size = LEVEL_BLOCK_HOURS * per_hour
    n = len(cols)
    if n < size * LEVEL_BLOCKS:
        return 1.0
    ratios = []
    seasonal: dict[int, float] = {}  # one value per hour of the week
    for i in range(n - size * LEVEL_BLOCKS, n):
        slot = cols.slot[i]
        if slot not in seasonal:
            seasonal[slot] = base.seasonal("count", cols.start[i])
    for k in range(LEVEL_BLOCKS):
        lo, hi = n - (k + 1) * size, n - k * size
        exp = sum([seasonal[slot] for slot in cols.slot[lo:hi]])
        obs = sum(cols.count[lo:hi])
        if exp < 10 or obs < 10:  # too few posts to tell a level from luck
            return 1.0
        ratios.append(obs / exp)
    if not (all(r > 1 for r in ratios) or all(r < 1 for r in ratios)):
        return 1.0
    level = median(ratios)
    return min(LEVEL_LIMITS[1], max(LEVEL_LIMITS[0], level))


def _dispersions(cols: _Columns, slots: np.ndarray, matrix: np.ndarray, base: Baseline,
                 window: int) -> dict[tuple[str, int], float]:
    """NB alpha per (feature, span) from non-overlapping blocks of the history, ending at its end."""
    uniq, first_rows = np.unique(slots, return_index=True)
    firsts = {int(slot): cols.start[int(i)] for slot, i in zip(uniq, first_rows)}
    sources = sorted(base.source_share)
    obs_by: dict[str, np.ndarray] = {}
    exp_by: dict[str, np.ndarray] = {}
    for f in DISPERSED:  # the seasonal expectation depends on the hour of the week only: one value per slot
        table = np.zeros(168)
        for slot, t in firsts.items():
            table[slot] = base.seasonal(f, t) * base.level
        exp_by[f] = table[slots]
        obs_by[f] = matrix[:, FEATURES.index(f)]
    for src in sources:  # each source's posts per bucket
        n = len(cols)
        obs_by["source:" + src] = np.fromiter(map(dict.get, cols.sources, repeat(src, n), repeat(0, n)), dtype=float,
                                              count=n)
        exp_by["source:" + src] = exp_by["count"] * base.source_share[src]
    out: dict[tuple[str, int], float] = {}
    n = len(cols)
    for span in sorted({1} | {window * scale for scale in SPAN_SCALES}):
        blocks = n // span
        if not blocks:
            continue
        names = list(DISPERSED) + (["source:" + s for s in sources] if span == window else [])
        for name in names:
            o = obs_by[name][n - blocks * span:].reshape(blocks, span).sum(axis=1)
            e = exp_by[name][n - blocks * span:].reshape(blocks, span).sum(axis=1)
            out[(name, span)] = _shrunk(nb_dispersion(o, e), blocks)
    return out


def _shrunk(alpha: float, blocks: int) -> float:
    return (alpha * blocks + ALPHA_PRIOR * ALPHA_PRIOR_BLOCKS) / (blocks + ALPHA_PRIOR_BLOCKS)
