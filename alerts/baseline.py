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

import numpy as np

from alerts.stats import median, nb_dispersion, quantile
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
        out = []
        for t, slot in zip(starts, slots):
            value = table[slot]
            if value is None:
                value = table[slot] = self._expected(feature, t)
            out.append(value)
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


def build_baseline(buckets: list[Bucket], end: datetime, cfg: DetectionConfig) -> Baseline:
    """Robust seasonal summary of `buckets` (all before `end`, oldest first, one per bucket)."""
    first = next((i for i, b in enumerate(buckets) if b.count > 0), None)
    history = buckets[first:] if first is not None else []
    history_hours = (end - history[0].start).total_seconds() / 3600 if history else 0.0
    by_day: dict[int, list[int]] = {}
    by_week: dict[int, list[int]] = {}
    slots = [week_slot(b.start) for b in history]  # hour of the week of each bucket
    for i, slot in enumerate(slots):
        by_day.setdefault(slot % 24, []).append(i)
        by_week.setdefault(slot, []).append(i)
    # One row per bucket, the columns in the order of FEATURES.
    matrix = np.array([(b.count, b.negative, b.negative_reach, b.negative_engagement, b.crisis_terms, b.authors)
                       for b in history], dtype=float).reshape(-1, len(FEATURES))
    per_hour = max(1, 60 // cfg.bucket_minutes)
    by_week = {s: rows for s, rows in by_week.items() if len(rows) >= 2 * per_hour}

    # Shares from the ordinary buckets only (the busiest 10 % left out): the first hours of a surge that
    # reached the baseline must not redefine the topic's usual tone.
    cap = max(1.0, quantile([float(b.count) for b in history], 0.9))
    typical = [b for b in history if b.count <= cap]
    total = sum(b.count for b in typical)
    neg = sum(b.negative for b in typical)
    share = neg / total if total >= 20 else PRIOR_NEGATIVE_SHARE
    per_source: dict[str, int] = {}
    for b in typical:
        for source, n in b.sources.items():
            per_source[source] = per_source.get(source, 0) + n
    net = (neg - sum(b.positive for b in typical)) / total if total >= 20 else PRIOR_NET_NEGATIVITY
    base = Baseline(
        end=end,
        history_hours=history_hours,
        first_at=history[0].start if history else None,
        global_mean=_slot_means(matrix, {0: list(range(len(history)))})[0] if history else {f: 0.0 for f in FEATURES},
        day_mean=_slot_means(matrix, by_day, np.array([b.start.toordinal() for b in history], dtype=np.int64)),
        day_samples={s: len(g) for s, g in by_day.items()},
        week_mean=_slot_means(matrix, by_week),
        week_samples={s: len(g) for s, g in by_week.items()},
        negative_share=share,
        net_negativity=net,
        dup_p95=quantile([float(b.max_dup_cluster) for b in history], 0.95),
        bucket_minutes=cfg.bucket_minutes,
        source_share={src: n / total for src, n in per_source.items()} if total >= 20 else {},
        category_rate=_category_rates(history, per_hour) if total >= 20 else {},
        mix_posts=total,
        reach_per_negative=sum(b.negative_reach for b in typical) / neg if neg >= 5 else 0.0,
        engagement_per_negative=sum(b.negative_engagement for b in typical) / neg if neg >= 5 else 0.0,
        median_count=median([float(b.count) for b in history]) if history else 0.0,
        week_min_samples=2 * per_hour,
    )
    if history:
        base.level = _level(history, slots, base, per_hour)
        base.alpha = _dispersions(history, slots, matrix, base, cfg.window_buckets)
    return base


def _category_rates(history: list[Bucket], per_hour: int) -> dict[str, float]:
    """Each crisis category's usual rate per post: the median over the history's 6-hour blocks, so an
    everyday category ("service") has its everyday rate and a category seen only during a past story (or
    the first hours of the current one, once they enter the baseline) stays rare."""
    size = LEVEL_BLOCK_HOURS * per_hour
    blocks = [history[max(0, i - size): i] for i in range(len(history), 0, -size)]
    rates: dict[str, list[float]] = {}
    counted = 0
    for block in blocks:
        posts = sum(b.count for b in block)
        if posts < MIN_BLOCK_POSTS:  # too few posts to say what a block's mix is (bursty topics)
            continue
        counted += 1
        cats: dict[str, int] = {}
        for b in block:
            for cat, n in b.crisis_categories.items():
                cats[cat] = cats.get(cat, 0) + n
        for cat, n in cats.items():
            rates.setdefault(cat, []).append(n / posts)
    if counted < 3:  # a very bursty or young topic: the pooled rate over the whole history
        posts = sum(b.count for b in history) or 1
        pooled: dict[str, int] = {}
        for b in history:
            for cat, n in b.crisis_categories.items():
                pooled[cat] = pooled.get(cat, 0) + n
        return {c: n / posts for c, n in pooled.items()}
    # blocks without the category count as 0: pad before taking the median
    return {c: median(v + [0.0] * (counted - len(v))) for c, v in rates.items()}


def _level(history: list[Bucket], slots: list[int], base: Baseline, per_hour: int) -> float:
    """The topic's level over its seasonal expectation when the last LEVEL_BLOCKS blocks all agree on the
    side (then the median block's ratio); 1 otherwise. A burst moves one or two blocks, not all of them."""
    size = LEVEL_BLOCK_HOURS * per_hour
    if len(history) < size * LEVEL_BLOCKS:
        return 1.0
    ratios = []
    seasonal: dict[int, float] = {}  # one value per hour of the week

    def expected(i: int) -> float:
        value = seasonal.get(slots[i])
        if value is None:
            value = seasonal[slots[i]] = base.seasonal("count", history[i].start)
        return value

    for k in range(LEVEL_BLOCKS):
        lo, hi = len(history) - (k + 1) * size, len(history) - k * size
        block = history[lo:hi]
        exp = sum(expected(i) for i in range(lo, hi))
        obs = sum(b.count for b in block)
        if exp < 10 or obs < 10:  # too few posts to tell a level from luck
            return 1.0
        ratios.append(obs / exp)
    if not (all(r > 1 for r in ratios) or all(r < 1 for r in ratios)):
        return 1.0
    level = median(ratios)
    return min(LEVEL_LIMITS[1], max(LEVEL_LIMITS[0], level))


def _dispersions(history: list[Bucket], slot_list: list[int], matrix: np.ndarray, base: Baseline,
                 window: int) -> dict[tuple[str, int], float]:
    """NB alpha per (feature, span) from non-overlapping blocks of the history, ending at its end."""
    slots = np.array(slot_list)
    uniq, first_rows = np.unique(slots, return_index=True)
    firsts = {int(slot): history[int(i)].start for slot, i in zip(uniq, first_rows)}
    sources = sorted(base.source_share)
    obs_by: dict[str, np.ndarray] = {}
    exp_by: dict[str, np.ndarray] = {}
    for f in DISPERSED:  # the seasonal expectation depends on the hour of the week only: one value per slot
        table = np.zeros(168)
        for slot, t in firsts.items():
            table[slot] = base.seasonal(f, t) * base.level
        exp_by[f] = table[slots]
        obs_by[f] = matrix[:, FEATURES.index(f)]
    if sources:  # each source's posts per bucket, in one pass over the history
        column = {src: j for j, src in enumerate(sources)}
        per_source = np.zeros((len(sources), len(history)))
        for i, b in enumerate(history):
            for src, n in b.sources.items():
                j = column.get(src)
                if j is not None:
                    per_source[j, i] = n
    for j, src in enumerate(sources):
        obs_by["source:" + src] = per_source[j]
        exp_by["source:" + src] = exp_by["count"] * base.source_share[src]
    out: dict[tuple[str, int], float] = {}
    n = len(history)
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
