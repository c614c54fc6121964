"""A topic's usual self: robust, seasonal expectations per bucket, learnt from its history before the window.

* **Seasonality**: expected values come from the same hour of the day in the baseline (the same hour of
  the week when the baseline spans at least two weeks), shrunk towards the global level so that one odd
  night does not make a rule. Buckets before the topic's first post are not counted as "zero traffic".
* **Robust**: trimmed means (the busiest 10 % of buckets left out), so yesterday's burst does not inflate
  today's expectations; the usual tone (negative share, net negativity) and each source's share come from
  ordinary buckets only.
* **Cold start**: with less than `COLD_START_HOURS` of history, expectations are pulled towards
  conservative priors (a busy topic); the Detector says so in the assessment's notes.

Which stretch of history and how often it is re-read is the Detector's business (`alerts.detect`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from alerts.stats import quantile, trimmed_mean
from vigie.config import DetectionConfig
from vigie.models import Bucket

# Features a baseline keeps an expectation for (per bucket).
FEATURES = ("count", "negative", "negative_reach", "negative_engagement", "crisis_terms", "authors")

# Conservative priors for a topic with little history, per 5-minute bucket: a fairly busy topic, so a new
# topic's first few dozen posts do not look like a crisis.
PRIORS_PER_5MIN = {"count": 4.0, "negative": 0.6, "negative_reach": 2_000.0, "negative_engagement": 30.0,
                   "crisis_terms": 0.2, "authors": 4.0}
PRIOR_NEGATIVE_SHARE = 0.2
PRIOR_NET_NEGATIVITY = -0.2
COLD_START_HOURS = 24.0
SLOT_WEIGHT = 0.7  # seasonal slot vs global level in an expectation
MIN_SLOT_SAMPLES = 6  # fewer samples in a slot: use the global level only


@dataclass
class Baseline:
    """Summary of a topic's history before the window: expectations per bucket, by seasonal slot."""

    end: datetime  # exclusive end (an hour boundary)
    history_hours: float  # hours from the topic's first post inside the baseline range to its end
    first_at: datetime | None  # start of the first non-empty bucket in the baseline range
    weekly: bool  # slots are hours of the week (else hours of the day)
    global_mean: dict[str, float]
    slot_mean: dict[int, dict[str, float]]
    slot_samples: dict[int, int]
    negative_share: float
    net_negativity: float  # (negative - positive) / count: below zero for a topic people mostly like
    dup_p95: float
    bucket_minutes: int
    source_share: dict[str, float] = field(default_factory=dict)  # usual share of posts per source
    # expected() memo: the look-back drivers ask for the same (feature, bucket) many times per assessment,
    # and a Baseline lives for an hour of assessments (bounded: look-back + one hour of buckets).
    _memo: dict[tuple[str, datetime], float] = field(default_factory=dict, repr=False, compare=False)

    @property
    def cold(self) -> bool:
        return self.history_hours < COLD_START_HOURS

    def slot(self, t: datetime) -> int:
        return t.weekday() * 24 + t.hour if self.weekly else t.hour

    def expected(self, feature: str, t: datetime) -> float:
        """Expected value of `feature` in the bucket starting at `t`."""
        key = (feature, t)
        value = self._memo.get(key)
        if value is None:
            value = self._memo[key] = self._expected(feature, t)
        return value

    def _expected(self, feature: str, t: datetime) -> float:
        glob = self.global_mean[feature]
        slot = self.slot(t)
        if self.slot_samples.get(slot, 0) >= MIN_SLOT_SAMPLES:
            value = SLOT_WEIGHT * self.slot_mean[slot][feature] + (1 - SLOT_WEIGHT) * glob
        else:
            value = glob
        if self.cold:
            prior = PRIORS_PER_5MIN[feature] * self.bucket_minutes / 5
            trust = self.history_hours / COLD_START_HOURS
            value = trust * value + (1 - trust) * max(value, prior)
        return value


def build_baseline(buckets: list[Bucket], end: datetime, cfg: DetectionConfig) -> Baseline:
    """Robust seasonal summary of `buckets` (all before `end`)."""
    first = next((i for i, b in enumerate(buckets) if b.count > 0), None)
    history = buckets[first:] if first is not None else []
    history_hours = (end - history[0].start).total_seconds() / 3600 if history else 0.0
    weekly = cfg.baseline_hours >= 14 * 24
    by_slot: dict[int, list[Bucket]] = {}
    for b in history:
        by_slot.setdefault(b.start.weekday() * 24 + b.start.hour if weekly else b.start.hour, []).append(b)

    def means(group: list[Bucket]) -> dict[str, float]:
        return {f: trimmed_mean([float(getattr(b, f)) for b in group]) for f in FEATURES}

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
    return Baseline(
        end=end,
        history_hours=history_hours,
        first_at=history[0].start if history else None,
        weekly=weekly,
        global_mean=means(history) if history else {f: 0.0 for f in FEATURES},
        slot_mean={s: means(g) for s, g in by_slot.items()},
        slot_samples={s: len(g) for s, g in by_slot.items()},
        negative_share=share,
        net_negativity=net,
        dup_p95=quantile([float(b.max_dup_cluster) for b in history], 0.95),
        bucket_minutes=cfg.bucket_minutes,
        source_share={src: n / total for src, n in per_source.items()} if total >= 20 else {},
    )
