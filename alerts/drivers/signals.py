"""What every risk driver shares: the reading of the window (`Signals`), count strength, the negativity gate,
the fading of look-back drivers, and the composition rules the Detector applies to the drivers' sum.
The drivers themselves are the other modules of this package (see its `__init__`)."""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from alerts.baseline import SPAN_SCALES, Baseline, week_slot
from alerts.stats import nb_log10_sf, ramp
from vigie.core.config import DetectionConfig
from vigie.core.messages import Message, N_, text as message_text
from vigie.core.models import Bucket, Driver, Post

T = TypeVar("T")

MIN_EXPECTED_PER_WINDOW = 1.0  # floor on any expected count over the window (Poisson tails on ~0 are meaningless)
LONGER_SCALES = SPAN_SCALES[1:]  # negative volume is also judged over 2 and 6 windows (1 h and 3 h by default)
# A story that rises in 20-60 minutes (a flash story, a bot raid) shows in its first buckets long before a
# 30-minute sum is significant: negative volume and share are also judged over the last SHORT_SPAN buckets
# (15 min with 5-minute buckets), with the overdispersion of single buckets (sums over fewer buckets are
# burstier than over the window; the one-bucket alpha is the conservative choice). That alpha is large on
# bursty traffic (1.5-3.5 on the suite's sparse topics: 12 negatives instead of 1 is then only p ~ 1e-3),
# so the tail counts from p 0.1 and fully from 1e-4 there (the ratio, x1.5 to x6, must be high too).
# Measured on the tune split (oracle): with the window's ramp (1e-2 to 1e-8) the short span changed no
# alert at all.
SHORT_SPAN = 3
SHORT_SURPRISE = (1.0, 4.0)  # log10 of the NB tail: where a short-span count starts to count / is full
SUSTAINED_HOURS = 3.0  # look-back of the sequential (CUSUM) driver
CUSUM_ALLOWANCE = 0.5  # standardised excess per bucket that is "normal wobble" and does not accumulate
# The look-back drivers (negative volume over 1 h / 3 h, the CUSUM) count only while the window still carries
# its share of their excess: the window's excess per bucket over the look-back's, 25 % -> nothing, 60 % -> all.
# They exist to see a slow or sparse build-up early (a steady trickle keeps ~100 %), not to hold an alert for
# hours after a burst has died down (its last 30 minutes fall to a few % of the 3-hour pace).
ACTIVE_SHARE = (0.25, 0.6)
MIN_ENGAGEMENT_PER_HOUR = 100.0  # floor on the expected pace of interactions on negative posts


# Drivers that say the *composition* changed (not only the volume), and how strong their evidence must
# be before the risk may pass warning (below COMPOSITION[0] the risk is held under warning, above
# COMPOSITION[1] it is free; in between the cap rises linearly).
# A changed tone alone (negative share) counts for half: a wave of ordinary complaints (a late delivery, a
# call centre that does not answer) changes the share too, and is not a crisis; with a rare crisis
# category, negative copies or an amplified negative post on top, the evidence is complete. Crisis needs
# more: a rare crisis category or negative copies (amplification, like the share, counts for half there).
COMPOSITION_DRIVERS = ("crisis_terms", "coordination", "reach", "engagement", "influencer")
AMPLIFICATION_DRIVERS = ("reach", "engagement", "influencer")  # evidence from half their strength; half for crisis
CRISIS_EVIDENCE_DRIVERS = ("crisis_terms", "coordination")
SHARE_EVIDENCE = 0.5
# For warning, the share alone counts for half too, unless it has held for two hours (`persistent_share`).
# Measured on the tune split (oracle): counting the window's share in full caught every event at its
# severity (24/24) but put 17 of 39 complaint micro-bursts and 1 of 11 positive moments at warning (0.25
# false warning+ per topic-week); at half, 0.05 but media stories and low-volume forums were warned late.
WARNING_SHARE_EVIDENCE = 0.5
COMPOSITION = (0.6, 0.9)
# Amplification counts as evidence from half its strength on (reach about x10 over the usual for that many
# negative posts): with heavy-tailed follower counts, one 13k-follower complainer among ten is luck.
AMPLIFICATION_FLOOR = 0.5
# Crisis categories the topic sees every day are weaker evidence: the rarity factor of a category goes
# from 0 at a usual rate of RARE_RATE[1] per post (5 %: "service" on a consumer brand) to 1 at RARE_RATE[0].
RARE_RATE = (0.003, 0.03)
# A crisis category is expected at its usual rate times the posts, floored at CATEGORY_FLOOR posts per span
# once the baseline learnt the topic's usual mix from MIN_MIX_POSTS ordinary posts (else at one post, the
# floor of every other count). With the floor at one, 6 posts of safety or boycott vocabulary on a quiet
# topic scored a fifth of the weight (p ~ 1e-3 against one expected post); against a quarter of a post,
# 4 posts start to count and 6 count nearly fully.
# Measured on the tune split (oracle): with the lower floor everywhere, a tiny topic (12 posts a day, its
# mix not learnt yet on day 2) took five "service" complaints for a rare category: a false crisis.
CATEGORY_FLOOR = 0.25
MIN_MIX_POSTS = 20
COLD_CATEGORY_RATE = 0.05  # a young topic's prior rate per post for a category it has not shown yet
SHARE_ALPHA = 0.05  # overdispersion of the negative count given the window's posts
# A negative share needs posts to mean something: it counts from SHARE_POSTS[0] posts, fully from SHARE_POSTS[1]
# (was 5 and 30: a sparse topic's first 10 posts of a story, 8 of them negative against a usual 15 %, scored
# a fifth of the weight although the excess is significant given the posts).
SHARE_POSTS = (3, 15)
# Given the posts, a crisis category's count is judged like the share (small fixed overdispersion): its NB tail
# counts from p 0.1 and fully from 1e-6 (was 1e-2 and 1e-8, the counts' ramp). On a topic that never shows
# safety vocabulary, 4 such posts in 15 minutes (p ~ 1e-4 against a quarter of a post) scored 0.3 of the weight.
# Measured on the tune split (issue 14h): with the counts' ramp the rare vocabulary of a bad buzz's first hour
# after its amplifier stayed under a third of the weight; with this one it counts, and no false warning+ is added.
CATEGORY_SURPRISE = (1.0, 6.0)


COUNT_SURPRISE = (2.0, 8.0)  # log10 of the NB tail of a window count: where it starts to count / is full


def count_strength(observed: float, expected: float, alpha: float = 0.0,
                   surprise_ramp: tuple[float, float] = COUNT_SURPRISE,
                   floor: float = MIN_EXPECTED_PER_WINDOW) -> tuple[float, float]:
    """How alarming a window count is, in [0, 1], and its ratio over the (floored) expectation.

    Both the surprise under NB(expected, alpha) (>= 1e-2 starts, 1e-8 is full) and the ratio (x1.5
    starts, x6 is full) must be high: a large topic's +20 % is significant but not a crisis; 3 posts
    instead of 0 is a large ratio but not significant; x3 on a bursty topic is a usual lunchtime.
    """
    exp = max(expected, floor)
    ratio = observed / exp
    if ratio <= 1.5:  # the ratio ramp is 0 there: no need for the tail (the same strength, cheaper)
        return 0.0, ratio
    surprise = nb_log10_sf(int(round(observed)), exp, alpha)
    strength = min(ramp(surprise, *surprise_ramp), ramp(math.log(max(ratio, 1e-9)), math.log(1.5), math.log(6.0)))
    return strength, ratio


def shown(expected: float) -> str:
    """An expectation as the ratio used it: floored at MIN_EXPECTED_PER_WINDOW, so "×8 (8 vs ≥1)" adds up."""
    if expected < MIN_EXPECTED_PER_WINDOW:
        return f"≤{MIN_EXPECTED_PER_WINDOW:.0f}"
    return f"{expected:.1f}"


def human(n: float) -> str:
    if n >= 1_000_000:
        return f"{n / 1_000_000:.1f}M"
    if n >= 10_000:
        return f"{n / 1_000:.0f}k"
    if n >= 1_000:
        return f"{n / 1_000:.1f}k"
    return f"{n:.1f}" if n != int(n) else f"{int(n)}"


def negativity_gate(buckets: list[Bucket], base: Baseline,
                    totals: tuple[int, int, int] | None = None) -> tuple[float, Message]:
    """Factor in [0.25, 1] for drivers that grow with any traffic, and the note that explains damping.

    It follows the net balance (negative - positive) / posts over `buckets`: 0.25 at or below the topic's
    usual balance, 1 when it is 25 points above. A positive surge carries some complaints too (on a small
    topic its negative share may even rise) but its balance tips positive; a bad buzz tips it negative.
    `totals`: (posts, negatives, positives) of `buckets` when the caller has summed them already.
    """
    count, negative, positive = totals if totals is not None else (
        sum(b.count for b in buckets), sum(b.negative for b in buckets), sum(b.positive for b in buckets))
    if not count:
        return 1.0, []
    net = (negative - positive) / count
    gate = 0.25 + 0.75 * ramp(net - base.net_negativity, 0.0, 0.25)
    note = [] if gate >= 0.999 else N_(", damped: net negativity {net} vs usual {usual}", net=f"{net:+.0%}",
                                       usual=f"{base.net_negativity:+.0%}")
    return gate, note


def negative_cusum(buckets: list[Bucket], base: Baseline, expected: list[float] | None = None) -> tuple[float, int]:
    """One-sided CUSUM of standardised negative-post excess over the buckets (oldest first).

    S = max(0, S + (x - e) / sqrt(e + alpha e^2 + 0.25) - allowance) with the topic's per-bucket
    overdispersion alpha: one extra complaint now and then decays away,
    a steady excess (a slow burn, or 1 angry post per bucket on a topic that usually has 2 a day) builds
    up. Recomputed from the look-back at every call, so it stays a pure function of the store and `now`.
    Returns (S, negatives in the run that built S). `expected`: the buckets' expected negatives, when the
    caller already has them (`Signals.expectations`).
    """
    s, run = 0.0, 0
    alpha = base.dispersion("negative", 1)
    if expected is None:
        expected = [base.expected("negative", b.start) for b in buckets]
    for b, e in zip(buckets, expected):
        s = max(0.0, s + (b.negative - e) / math.sqrt(e + alpha * e * e + 0.25) - CUSUM_ALLOWANCE)
        run = run + b.negative if s > 0 else 0
    return s, run


@dataclass
class Signals:
    """What every driver reads: the window, the look-back before it, the baseline, and what they share."""

    window: list[Bucket]
    recent: list[Bucket]  # the window plus a few hours before it, oldest first (the window alone if none)
    base: Baseline
    cfg: DetectionConfig
    exp: dict[str, float]  # expected value of each baseline feature over the window
    gate: float  # negativity gate of the window (see negativity_gate)
    damped: Message  # the note that explains the gate, empty when it is 1
    spans: list[int]  # lengths (in buckets) of the window and of the longer spans that fit in `recent`
    short: list[int] = field(default_factory=list)  # [SHORT_SPAN] when it is shorter than the window (see there)
    # The store's posts from a given time to the end of the window (oldest first; None when the caller has no
    # store, e.g. a driver test on buckets), read only when a driver asks, through `read_posts`: drivers that
    # need more than counts, such as `entity_spread` and `influencer`, gate their reading on the buckets first.
    posts: Callable[[datetime], Sequence[Post]] | None = None

    # Per-assessment memos: several drivers read the same spans (sums, expectations, gates, fades), and the
    # look-back holds 36 buckets; reading each once keeps an assessment well under a millisecond.
    _fades: dict[int, tuple[float, Message]] = field(default_factory=dict, repr=False)
    _expect: dict[tuple[str, bool], list[float]] = field(default_factory=dict, repr=False)
    _totals: dict[tuple[str, int], int] = field(default_factory=dict, repr=False)
    _gates: dict[int, tuple[float, Message]] = field(default_factory=dict, repr=False)
    _slots: dict[bool, tuple[list, list[int]]] = field(default_factory=dict, repr=False)  # (starts, hours of week)
    _columns: dict[str, list[int]] = field(default_factory=dict, repr=False)
    window_is_tail: bool = True  # the window is the last buckets of `recent` (as the Detector reads them)
    _posts: tuple[datetime, Sequence[Post]] | None = field(default=None, repr=False)

    def read_posts(self, since: datetime | None = None) -> Sequence[Post]:
        """The posts from `since` (default: the start of `recent`) to the end of the window, oldest first. The
        store is read at most once per assessment for a span (two drivers asking for the look-back read it
        once; a driver asking for the last hour does not read three)."""
        if self.posts is None or not self.recent:
            return []
        since = since or self.recent[0].start
        if self._posts is None or self._posts[0] > since:
            self._posts = (since, list(self.posts(since)))
        start, posts = self._posts
        if start == since:
            return posts
        return posts[bisect_left([p.created_at for p in posts], since):]

    def part(self, span: int) -> list[Bucket]:
        """The last `span` buckets: of the window for the window and the short span, of `recent` beyond."""
        if span <= len(self.window):
            return self.window if span == len(self.window) else self.window[len(self.window) - span:]
        return self.recent[-span:]

    def expectations(self, feature: str, span: int) -> list[float]:
        """The baseline's expectation of `feature` for each bucket of `part(span)`, oldest first (the same
        values, in the same order, as asking the baseline bucket by bucket)."""
        in_window = span <= len(self.window) and not self.window_is_tail
        key = (feature, in_window)
        values = self._expect.get(key)
        if values is None:
            buckets = self.window if in_window else self.recent
            if in_window not in self._slots:
                starts = [b.start for b in buckets]
                self._slots[in_window] = (starts, [week_slot(t) for t in starts])
            values = self._expect[key] = self.base.expected_at(feature, *self._slots[in_window])
        return values if in_window and span == len(values) else values[len(values) - span:]

    def total(self, attr: str, span: int) -> int:
        """Sum of a bucket attribute (count, negative, positive...) over `part(span)`."""
        key = (attr, span)
        value = self._totals.get(key)
        if value is None:
            if span <= len(self.window) and not self.window_is_tail:
                value = sum(getattr(b, attr) for b in self.part(span))
            else:
                column = self._columns.get(attr)
                if column is None:
                    column = self._columns[attr] = [getattr(b, attr) for b in self.recent]
                value = sum(column[len(column) - span:])
            self._totals[key] = value
        return value

    def gate_of(self, span: int) -> tuple[float, Message]:
        """`negativity_gate` of `part(span)` (the window's is `gate`)."""
        if span not in self._gates:
            self._gates[span] = negativity_gate(self.part(span), self.base, (
                self.total("count", span), self.total("negative", span), self.total("positive", span)))
        return self._gates[span]

    def fade(self, span: int) -> tuple[float, Message]:
        """`still_active` for the last `span` buckets, computed once per assessment (several drivers ask)."""
        if span not in self._fades:
            self._fades[span] = still_active(self.window, self.recent[-span:], self.base, self.cfg.bucket_minutes,
                                             self.expectations("negative", span) if span != len(self.window) else None)
        return self._fades[span]

    def over(self, span: int) -> Message:
        return [] if span == len(self.window) else N_(" over the last {hours} h", hours=f"{span * self.cfg.bucket_minutes / 60:g}")


def driver(name: str, weight: float, strength: float, value: float, baseline: float | None,
           text: str | Message) -> Driver | None:
    """A driver worth `weight * strength` points, with its explanation; None below 0.05 points. `text` is a
    message (vigie/core/messages.py: the channels translate it) or, from a plugin, plain English."""
    points = weight * strength
    if points < 0.05:
        return None
    if isinstance(text, str):
        return Driver(name, round(points, 1), round(value, 3), None if baseline is None else round(baseline, 3),
                      f"{text}: +{points:.0f}")
    message = text + N_(": +{points}", points=f"{points:.0f}")
    return Driver(name, round(points, 1), round(value, 3), None if baseline is None else round(baseline, 3),
                  message_text(message), message)


def rarity(rate: float) -> float:
    """1 for a crisis category the topic rarely or never sees, 0 for an everyday one (see RARE_RATE)."""
    if rate <= RARE_RATE[0]:
        return 1.0
    return 1.0 - ramp(math.log10(rate), math.log10(RARE_RATE[0]), math.log10(RARE_RATE[1]))


def persistent_share(recent: list[Bucket], base: Baseline, bucket_minutes: int) -> float:
    """Strength in [0, 1] of a negative share excess held over each of the last two hours (the weaker hour
    counts): a media story that saddens people or a slow burn on a forum keeps it for hours, a wave of
    everyday complaints (a late delivery, a call centre that does not answer) is over within the hour."""
    hour = max(1, 60 // bucket_minutes)
    if len(recent) < 2 * hour:
        return 0.0
    strengths = []
    for part in (recent[-hour:], recent[-2 * hour: -hour]):
        n = sum(b.count for b in part)
        neg = sum(b.negative for b in part)
        if not n:
            return 0.0
        surprise = nb_log10_sf(neg, n * base.negative_share, SHARE_ALPHA)
        strengths.append(ramp(neg / n - base.negative_share, 0.05, 0.35) * ramp(n, 5, 30) * ramp(surprise, 1.0, 3.0))
    return min(strengths)


def composition_evidence(drivers: list[Driver], cfg: DetectionConfig, for_crisis: bool = False,
                         persistent: float = 0.0) -> float:
    """How strongly the window's *composition* departs from the usual, in [0, 1]: the largest strength
    (points / weight) among the composition drivers (rare crisis categories, negative copies, amplified
    negative posts), plus half the strength of the negative share. A surge with the usual share of
    negatives, the usual mix of complaint categories, no negative copy campaign and no amplified negative
    post scores ~0; a wave of everyday complaints scores 0.5 at most. `for_crisis`: only rare categories
    and negative copies count fully, amplification counts for half like the share."""
    strength = {d.name: d.points / w for d in drivers if (w := getattr(cfg.weights, d.name, 0.0)) > 0}
    for name in AMPLIFICATION_DRIVERS:
        if name in strength:
            strength[name] = ramp(strength[name], AMPLIFICATION_FLOOR, 1.0)
    share = strength.get("negative_share", 0.0)
    full = CRISIS_EVIDENCE_DRIVERS if for_crisis else COMPOSITION_DRIVERS
    best = max((strength.get(n, 0.0) for n in full), default=0.0)
    if for_crisis:
        share = max(share, *(strength.get(name, 0.0) for name in AMPLIFICATION_DRIVERS))
        return min(1.0, best + SHARE_EVIDENCE * share)
    return min(1.0, max(best, WARNING_SHARE_EVIDENCE * share, persistent))


def composition_cap(drivers: list[Driver], cfg: DetectionConfig, warning: float, crisis: float,
                    persistent: float = 0.0) -> float:
    """The highest risk a window with this composition may have: just under the warning threshold without
    evidence (a volume event reaches watch at most), just under crisis without crisis evidence (see
    `composition_evidence`), free (100) with both."""
    below_warning, below_crisis = warning - 0.1, crisis - 0.1
    evidence = composition_evidence(drivers, cfg, persistent=persistent)
    cap = below_warning + (below_crisis - below_warning) * ramp(evidence, *COMPOSITION)
    if cap >= below_crisis:
        cap += (100.0 - below_crisis) * ramp(composition_evidence(drivers, cfg, for_crisis=True), *COMPOSITION)
    return round(cap, 1)


def strongest_span(s: "Signals", score: Callable[[int], tuple[float, "T"]]) -> tuple[float, int, "T", Message]:
    """The span (the window, 1 h, 3 h) where an amplification driver is strongest: `score(span)` gives its strength
    before damping and what its explanation needs; each span is damped by its own negativity gate and, beyond the
    window, faded like the other look-back drivers. Returns (strength, span, payload, note)."""
    best: tuple[float, int, T, Message] | None = None
    for span in s.spans:
        strength, payload = score(span)
        if best is not None and strength <= best[0] + 1e-9:
            continue  # damping only lowers it: it cannot win (the same result, cheaper)
        gate, note = s.gate_of(span)
        strength *= gate
        if span > len(s.window):
            fade, fading = s.fade(span)
            strength *= fade
            note = note + fading
        if best is None or strength > best[0] + 1e-9:
            best = (strength, span, payload, note)
    assert best is not None  # s.spans always holds the window
    return best


def excess_per_bucket(buckets: list[Bucket], base: Baseline, expected: list[float] | None = None) -> float:
    """Mean negative excess per bucket; `expected`: the buckets' expected negatives if already known."""
    if expected is None:
        expected = [base.expected("negative", b.start) for b in buckets]
    return sum(b.negative - e for b, e in zip(buckets, expected)) / max(len(buckets), 1)


def still_active(window: list[Bucket], span: list[Bucket], base: Baseline, bucket_minutes: int,
                 expected: list[float] | None = None) -> tuple[float, Message]:
    """Factor in [0, 1] for a look-back driver over `span`: how much of the span's negative excess per bucket
    its recent part still carries (see ACTIVE_SHARE), and the note that says the signal is fading.

    The recent part is the window or the last third of the span, whichever is longer (30 min of a 1 h span,
    1 h of a 3 h span): in the sparse tail of a story, 30 minutes hold a handful of posts, and a factor read
    from them alone would swing the risk up and down from one bucket to the next."""
    if len(span) <= len(window):
        return 1.0, []
    if expected is None:
        expected = [base.expected("negative", b.start) for b in span]
    past = excess_per_bucket(span, base, expected)
    if past <= 0:
        return 1.0, []
    tail = max(len(window), len(span) // 3)
    recent = span[-tail:]
    share = excess_per_bucket(recent, base, expected[-tail:]) / past
    factor = ramp(share, *ACTIVE_SHARE)
    if factor >= 0.999:
        return 1.0, []
    return factor, N_(", fading: the last {minutes} min carry {share} of the {hours} h pace",
                      minutes=len(recent) * bucket_minutes, share=f"{max(share, 0):.0%}",
                      hours=f"{len(span) * bucket_minutes / 60:g}")


def source_surges(window: list[Bucket], base: Baseline, expected_count: float,
                  span: int = 1) -> list[tuple[str, float, float]]:
    """(source, count strength, ratio over its usual share) for every source seen in the window, strongest
    first. A source the baseline never saw is expected at the count floor (one post per window)."""
    observed: dict[str, int] = {}
    for b in window:
        for source, n in b.sources.items():
            observed[source] = observed.get(source, 0) + n
    out = []
    for source, n in observed.items():
        alpha = base.alpha.get(("source:" + source, span), base.dispersion("count", span))
        strength, ratio = count_strength(n, base.source_share.get(source, 0.0) * expected_count, alpha)
        out.append((source, strength, ratio))
    return sorted(out, key=lambda r: (-r[1], -r[2], r[0]))
