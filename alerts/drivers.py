"""The drivers of the risk index: each signal's contribution in points, with the sentence that explains it.

* **Counts**: a window count is judged with a negative-binomial upper-tail probability (the topic's own
  overdispersion at that time scale, learnt by the baseline) *and* a ratio over the expectation (both
  must be high), with a floor of one expected post per window: 3 negatives instead of 0 at night is
  unsurprising, 40 instead of 5 is a burst, and on a bursty topic a busy lunchtime is neither. Negative volume and share are also judged over 1 h
  and 3 h (a low-volume topic's trickle of complaints), and a CUSUM over the last 3 h (the `sustained`
  driver) catches slow, steady excess; these look-back drivers fade once the last hour no longer carries
  their pace.
* **Negativity gate**: drivers that grow with any traffic (negative volume, reach, engagement, authors,
  coordination, spread, sustained excess) are damped when the balance of negative over positive posts is
  not above its usual level. A positive surge also brings more negative posts in absolute terms; the gate
  keeps it at most at watch level.
* **Composition over volume**: what escalates is negative excess *beyond what the volume predicts*: a
  negative share above the usual one (significantly, given the posts), crisis categories above their
  usual rate per post (everyday "service" complaints grow with any crowd; safety, boycott or legal terms
  the topic rarely sees do not), near-duplicate copies of negative content, and negative posts reaching
  far more followers or interactions than the usual negative post would. `composition_evidence` reads
  those drivers; the Detector holds a surge without such evidence below warning.

Pure functions of (buckets, baseline, config): the Detector (`alerts.detect`) reads the store and sums them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from alerts.baseline import COLD_START_HOURS, FEATURES, SPAN_SCALES, Baseline
from alerts.stats import nb_log10_sf, ramp
from vigie.core.config import DetectionConfig
from vigie.core.models import Bucket, Driver

MIN_EXPECTED_PER_WINDOW = 1.0  # floor on any expected count over the window (Poisson tails on ~0 are meaningless)
LONGER_SCALES = SPAN_SCALES[1:]  # negative volume is also judged over 2 and 6 windows (1 h and 3 h by default)
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
COMPOSITION_DRIVERS = ("crisis_terms", "coordination", "reach", "engagement")
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
COLD_CATEGORY_RATE = 0.05  # a young topic's prior rate per post for a category it has not shown yet
SHARE_ALPHA = 0.05  # overdispersion of the negative count given the window's posts


def count_strength(observed: float, expected: float, alpha: float = 0.0) -> tuple[float, float]:
    """How alarming a window count is, in [0, 1], and its ratio over the (floored) expectation.

    Both the surprise under NB(expected, alpha) (>= 1e-2 starts, 1e-8 is full) and the ratio (x1.5
    starts, x6 is full) must be high: a large topic's +20 % is significant but not a crisis; 3 posts
    instead of 0 is a large ratio but not significant; x3 on a bursty topic is a usual lunchtime.
    """
    exp = max(expected, MIN_EXPECTED_PER_WINDOW)
    ratio = observed / exp
    surprise = nb_log10_sf(int(round(observed)), exp, alpha)
    strength = min(ramp(surprise, 2.0, 8.0), ramp(math.log(max(ratio, 1e-9)), math.log(1.5), math.log(6.0)))
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


def negativity_gate(buckets: list[Bucket], base: Baseline) -> tuple[float, str]:
    """Factor in [0.25, 1] for drivers that grow with any traffic, and the note that explains damping.

    It follows the net balance (negative - positive) / posts over `buckets`: 0.25 at or below the topic's
    usual balance, 1 when it is 25 points above. A positive surge carries some complaints too (on a small
    topic its negative share may even rise) but its balance tips positive; a bad buzz tips it negative.
    """
    count = sum(b.count for b in buckets)
    if not count:
        return 1.0, ""
    net = (sum(b.negative for b in buckets) - sum(b.positive for b in buckets)) / count
    gate = 0.25 + 0.75 * ramp(net - base.net_negativity, 0.0, 0.25)
    note = "" if gate >= 0.999 else f", damped: net negativity {net:+.0%} vs usual {base.net_negativity:+.0%}"
    return gate, note


def negative_cusum(buckets: list[Bucket], base: Baseline) -> tuple[float, int]:
    """One-sided CUSUM of standardised negative-post excess over the buckets (oldest first).

    S = max(0, S + (x - e) / sqrt(e + alpha e^2 + 0.25) - allowance) with the topic's per-bucket
    overdispersion alpha: one extra complaint now and then decays away,
    a steady excess (a slow burn, or 1 angry post per bucket on a topic that usually has 2 a day) builds
    up. Recomputed from the look-back at every call, so it stays a pure function of the store and `now`.
    Returns (S, negatives in the run that built S).
    """
    s, run = 0.0, 0
    alpha = base.dispersion("negative", 1)
    for b in buckets:
        e = base.expected("negative", b.start)
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
    damped: str  # the note that explains the gate, "" when it is 1
    spans: list[int]  # lengths (in buckets) of the window and of the longer spans that fit in `recent`

    _fades: dict[int, tuple[float, str]] = field(default_factory=dict, repr=False)

    def part(self, span: int) -> list[Bucket]:
        return self.window if span == len(self.window) else self.recent[-span:]

    def fade(self, span: int) -> tuple[float, str]:
        """`still_active` for the last `span` buckets, computed once per assessment (several drivers ask)."""
        if span not in self._fades:
            self._fades[span] = still_active(self.window, self.recent[-span:], self.base, self.cfg.bucket_minutes)
        return self._fades[span]

    def over(self, span: int) -> str:
        return "" if span == len(self.window) else f" over the last {span * self.cfg.bucket_minutes / 60:g} h"


def driver(name: str, weight: float, strength: float, value: float, baseline: float | None, text: str) -> Driver | None:
    """A driver worth `weight * strength` points, with its explanation; None below 0.05 points."""
    points = weight * strength
    if points < 0.05:
        return None
    return Driver(name, round(points, 1), round(value, 3), None if baseline is None else round(baseline, 3),
                  f"{text}: +{points:.0f}")


def negative_volume(s: Signals) -> Driver | None:
    """Negative posts at several time scales (the window, and longer spans of `recent`): a burst shows in
    the window, a low-volume topic's steady trickle of complaints only over an hour or more. Each span is
    gated by its own balance, so a long positive surge cannot lend its complaints to a window."""
    best: tuple[float, int, float, int, str] = (0.0, sum(b.negative for b in s.window), s.exp["negative"],
                                                len(s.window), s.damped)
    for span in s.spans:
        part = s.part(span)
        n_obs = sum(b.negative for b in part)
        n_exp = sum(s.base.expected("negative", b.start) for b in part)
        strength, _ = count_strength(n_obs, n_exp, s.base.dispersion("negative", span))
        if span == len(s.window):
            g, note = s.gate, s.damped
        else:
            g, note = negativity_gate(part, s.base)
            active, fading = s.fade(span)
            g, note = g * active, note + fading
        if strength * g > best[0] + 1e-9:
            best = (strength * g, n_obs, n_exp, span, note)
    strength, n_obs, n_exp, span, note = best
    ratio = n_obs / max(n_exp, MIN_EXPECTED_PER_WINDOW)
    return driver("negative_volume", s.cfg.weights.negative_volume, strength, n_obs, n_exp,
                  f"negative volume ×{ratio:.1f} over baseline{s.over(span)} ({n_obs} vs {shown(n_exp)}){note}")


def negative_share(s: Signals) -> Driver | None:
    """Negative share, over the same spans: a share needs posts to mean something (full weight from 30),
    and a small topic gathers them only over an hour or more. Longer spans fade like the volume."""
    count = sum(b.count for b in s.window)
    best: tuple[float, float, int, int] = (0.0, sum(b.negative for b in s.window) / count if count else 0.0,
                                           count, len(s.window))
    for span in s.spans:
        part = s.part(span)
        n = sum(b.count for b in part)
        neg = sum(b.negative for b in part)
        share = neg / n if n else 0.0
        # The excess must also be significant given the posts: negatives against what the volume alone
        # predicts (n x usual share). Given the volume, the mix is far less bursty than the counts (a
        # cascade multiplies every kind of post), hence a small fixed overdispersion, not the counts'.
        surprise = nb_log10_sf(neg, n * s.base.negative_share, SHARE_ALPHA) if n else 0.0
        strength = (ramp(share - s.base.negative_share, 0.05, 0.35) * ramp(n, 5, 30)
                    * ramp(surprise, 1.0, 3.0))
        if span != len(s.window):
            strength *= s.fade(span)[0]
        if strength > best[0] + 1e-9:
            best = (strength, share, n, span)
    strength, share, n, span = best
    return driver("negative_share", s.cfg.weights.negative_share, strength, share, s.base.negative_share,
                  f"negative share {share:.0%} vs usual {s.base.negative_share:.0%} ({n} posts{s.over(span)})")


def reach(s: Signals) -> Driver | None:
    """Followers of the authors of negative posts, against the usual (×3 starts, ×30 is full). The usual is
    what the window's negative posts would reach as usual negative posts (amplification, not volume)."""
    value = sum(b.negative_reach for b in s.window)
    negatives = sum(b.negative for b in s.window)
    usual = max(s.exp["negative_reach"], s.base.reach_per_negative * negatives)
    ratio = (value + 1) / (max(usual, 1_000.0) + 1)
    strength = ramp(math.log10(max(ratio, 1e-9)), math.log10(3), math.log10(30)) * s.gate
    return driver("reach", s.cfg.weights.reach, strength, value, usual,
                  f"reach of negative authors {human(value)} followers, ×{ratio:.1f} over baseline "
                  f"({human(usual)}){s.damped}")


def crisis_terms(s: Signals) -> Driver | None:
    """Crisis categories above their usual rate per post, the strongest category counting (not gated: the
    words themselves say what kind of story it is). Each category is expected at its usual rate times the
    posts (or the usual volume if higher): an everyday category ("service client injoignable") grows with
    any crowd and scores only beyond that, a category the topic rarely or never sees (safety, boycott,
    legal) scores on a handful of posts. Judged over the window and, like negative volume, over 1 h and
    3 h (a small topic gathers a handful of such posts only over an hour or more; longer spans fade)."""
    # Given the posts, a category's count is far less bursty than the counts themselves (a cascade
    # multiplies every kind of post): judged like the share, with a small overdispersion.
    alpha = SHARE_ALPHA
    # A young topic has not shown its everyday categories yet: an unseen category is not "rare" until the
    # history says so (trust grows with the hours of history, as the cold-start priors fade).
    trust = 1.0 if not s.base.cold else s.base.history_hours / COLD_START_HOURS
    best, best_cat, best_exp, best_n, best_span = 0.0, "", 0.0, 0, len(s.window)
    window_cats: dict[str, int] = {}
    for span in s.spans:
        part = s.part(span)
        posts = max(sum(b.count for b in part), sum(s.base.expected("count", b.start) for b in part))
        active = 1.0 if span == len(s.window) else s.fade(span)[0]
        cats: dict[str, int] = {}
        for b in part:
            for cat, n in b.crisis_categories.items():
                cats[cat] = cats.get(cat, 0) + n
        if span == len(s.window):
            window_cats = cats
        for cat, n in cats.items():
            rate = s.base.category_rate.get(cat, 0.0)
            if s.base.cold:
                rate = trust * rate + (1 - trust) * max(rate, COLD_CATEGORY_RATE)
            strength, _ = count_strength(n, rate * posts, alpha)
            strength *= rarity(rate) * trust * active
            if strength > best + 1e-9:
                best, best_cat, best_exp, best_n, best_span = strength, cat, rate * posts, n, span
    crisis = sum(b.crisis_terms for b in s.window)
    top = ", ".join(f"{c} ×{n}" for c, n in sorted(window_cats.items(), key=lambda kv: (-kv[1], kv[0]))[:3])
    usual = (f"; {best_cat} ×{best_n}{s.over(best_span)} vs {shown(best_exp)} expected at its usual rate"
             if best_cat else "")
    return driver("crisis_terms", s.cfg.weights.crisis_terms, best, crisis, s.exp["crisis_terms"],
                  f"crisis vocabulary in {crisis} posts vs {shown(s.exp['crisis_terms'])} usual"
                  + (f" ({top}{usual})" if top or usual else ""))


def authors(s: Signals) -> Driver | None:
    """Distinct authors against the usual: many people, not a few loud ones."""
    value = sum(b.authors for b in s.window)
    strength, ratio = count_strength(value, s.exp["authors"], s.base.dispersion("authors", len(s.window)))
    return driver("authors", s.cfg.weights.authors, strength * s.gate, value, s.exp["authors"],
                  f"distinct authors ×{ratio:.1f} over baseline ({value} vs {shown(s.exp['authors'])}){s.damped}")


def coordination(s: Signals) -> Driver | None:
    """The largest near-duplicate cluster in one bucket against the usual: copy-paste campaigns."""
    dup = max((b.max_dup_cluster for b in s.window), default=0)
    usual = max(s.base.dup_p95, 2.0)
    return driver("coordination", s.cfg.weights.coordination, ramp(dup - usual, 3, 20) * s.gate, dup, s.base.dup_p95,
                  f"largest near-duplicate cluster {dup} posts in one bucket (usual ≤{usual:.0f}){s.damped}")


def sustained(s: Signals) -> Driver | None:
    """The sequential detector: a CUSUM of the negative excess over the look-back (slow burns, low-volume
    topics), gated by the look-back's balance and faded once the last hour no longer carries its pace."""
    cusum, run = negative_cusum(s.recent, s.base)
    g, note = negativity_gate(s.recent, s.base)
    active, fading = s.fade(len(s.recent))
    return driver("sustained", s.cfg.weights.sustained, ramp(cusum, 5.0, 20.0) * g * active, cusum, None,
                  f"sustained negative excess over the last {len(s.recent) * s.cfg.bucket_minutes / 60:g} h "
                  f"(CUSUM {cusum:.1f}, {run} negative posts){note}{fading}")


def engagement(s: Signals) -> Driver | None:
    """Engagement velocity: interactions on negative posts per hour. Listeners store a post's engagement as
    first fetched, minutes after publication, and so does the baseline: both measure how fast complaints
    are picked up (likes, reposts, replies), the early sign that a story is travelling."""
    hours = len(s.window) * s.cfg.bucket_minutes / 60
    pace = sum(b.negative_engagement for b in s.window) / hours
    negatives = sum(b.negative for b in s.window)
    usual = max(s.exp["negative_engagement"], s.base.engagement_per_negative * negatives) / hours
    ratio = (pace + 1) / (max(usual, MIN_ENGAGEMENT_PER_HOUR) + 1)
    strength = ramp(math.log10(max(ratio, 1e-9)), math.log10(3), math.log10(30)) * s.gate
    shown_usual = f"≤{human(MIN_ENGAGEMENT_PER_HOUR)}" if usual < MIN_ENGAGEMENT_PER_HOUR else human(round(usual))
    return driver("engagement", s.cfg.weights.engagement, strength, pace, usual,
                  f"engagement velocity on negative posts {human(round(pace))}/h, ×{ratio:.1f} over baseline "
                  f"({shown_usual}/h){s.damped}")


def spread(s: Signals) -> Driver | None:
    """Spread across sources: the same story rising on several platforms at once (X, then Reddit threads,
    then the press) is how a bad buzz leaves its niche. Each source's count is judged against its usual
    share of the topic's expected volume; the strongest source is left out, so one busy platform alone
    scores nothing here (it is already in the volume drivers)."""
    rising = source_surges(s.window, s.base, s.exp["count"], len(s.window))
    if not rising:
        return None
    value = sum(strength for _, strength, _ in rising[1:])
    listed = ", ".join(f"{src} ×{r:.1f}" for src, strength, r in rising if strength >= 0.25)
    return driver("spread", s.cfg.weights.spread, ramp(value, 0.5, 2.0) * s.gate, value, None,
                  f"rising on {sum(st >= 0.25 for _, st, _ in rising)} sources at once ({listed}){s.damped}")


# Every driver, in the order of `Weights` (a driver's name is its weight's name).
DRIVERS = (negative_volume, negative_share, reach, crisis_terms, authors, coordination, sustained, engagement,
           spread)


def compute_drivers(
    window: list[Bucket], base: Baseline, cfg: DetectionConfig, recent: list[Bucket] | None = None
) -> list[Driver]:
    """Each signal's contribution in points (max = its weight); only contributing drivers are returned.

    `recent` (the window plus a few hours before it, oldest first) feeds the look-back drivers."""
    recent = recent if recent is not None else window
    spans = [len(window)] + [k * len(window) for k in LONGER_SCALES if k * len(window) <= len(recent)]
    gate, damped = negativity_gate(window, base)
    signals = Signals(window=window, recent=recent, base=base, cfg=cfg,
                      exp={f: sum(base.expected(f, b.start) for b in window) for f in FEATURES},
                      gate=gate, damped=damped, spans=spans)
    return [d for d in (f(signals) for f in DRIVERS) if d is not None]


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
    for name in ("reach", "engagement"):
        if name in strength:
            strength[name] = ramp(strength[name], AMPLIFICATION_FLOOR, 1.0)
    share = strength.get("negative_share", 0.0)
    full = CRISIS_EVIDENCE_DRIVERS if for_crisis else COMPOSITION_DRIVERS
    best = max((strength.get(n, 0.0) for n in full), default=0.0)
    if for_crisis:
        share = max(share, strength.get("reach", 0.0), strength.get("engagement", 0.0))
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


def excess_per_bucket(buckets: list[Bucket], base: Baseline) -> float:
    return sum(b.negative - base.expected("negative", b.start) for b in buckets) / max(len(buckets), 1)


def still_active(window: list[Bucket], span: list[Bucket], base: Baseline, bucket_minutes: int) -> tuple[float, str]:
    """Factor in [0, 1] for a look-back driver over `span`: how much of the span's negative excess per bucket
    its recent part still carries (see ACTIVE_SHARE), and the note that says the signal is fading.

    The recent part is the window or the last third of the span, whichever is longer (30 min of a 1 h span,
    1 h of a 3 h span): in the sparse tail of a story, 30 minutes hold a handful of posts, and a factor read
    from them alone would swing the risk up and down from one bucket to the next."""
    if len(span) <= len(window):
        return 1.0, ""
    past = excess_per_bucket(span, base)
    if past <= 0:
        return 1.0, ""
    recent = span[-max(len(window), len(span) // 3):]
    share = excess_per_bucket(recent, base) / past
    factor = ramp(share, *ACTIVE_SHARE)
    if factor >= 0.999:
        return 1.0, ""
    return factor, (f", fading: the last {len(recent) * bucket_minutes} min carry {max(share, 0):.0%} of the "
                    f"{len(span) * bucket_minutes / 60:g} h pace")


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
