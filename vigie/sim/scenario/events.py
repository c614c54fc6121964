"""Events laid over the ordinary chatter: how many posts per minute, and who says what when.

An event's intensity (extra posts per minute) has three phases: a *seed* phase (a few angry posts by the
people concerned), then after the amplification (a high-follower account picks it up) a rise to the peak
and an exponential decay. The daily rhythm modulates it (people sleep during a crisis too). The ground
truth's `peak` is the maximum of that intensity and `end` the time it falls below 10 % of the peak, both
computed from the curve, not from the noisy sample, so the truth does not depend on luck.

A story also *spreads*: it starts on its origin platform(s) and the others join later, as real bad buzzes do
(United Breaks Guitars, Dell Hell, KitKat: a video, a blog, a tweet thread first; Reddit, then the press,
hours later). `SPREAD` gives, per shape, when each author platform joins (minutes after the onset, drawn
per scenario from its random stream; `after` counts from another platform's join):

  bad_buzz, night_event, weekend_event  x at onset; bluesky +20-40 min; reddit +45-90; mastodon +60-120
  flash_viral     x at onset; bluesky, reddit and mastodon each +15-30 min
  bot_raid        x and bluesky at onset, nothing else (the raid's own accounts)
  media_spike     reactions on x at onset (the articles are on feeds from the onset); reddit +30-60 min;
                  bluesky +45-90; mastodon +60-120
  slow_burn       reddit at onset (forum complaints); x +12-24 h; bluesky 1-4 h and mastodon 2-8 h after x
  positive_viral  x at onset; bluesky, reddit and mastodon each +30-60 min
  low_volume      one platform only, reddit or mastodon (drawn), for the whole story

An event post goes to a platform drawn with the platforms' usual shares (`PLATFORM_WEIGHTS`), each share
ramping from 0 at its join time to full over `SPREAD_RAMP` (30 min); origins are at full share from the
onset. Before a platform joins, its share is spread over those already there, so the event's volume (and
its ground truth) is unchanged: only where the posts appear changes. Replies stay on their parent's
platform; press articles (feeds) keep their own timing (from 90 min after the amplification in a bad buzz,
at the onset of a media spike). Ordinary chatter is not affected.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from vigie.sim.scenario import texts
from vigie.sim.scenario.authors import PLATFORM_WEIGHTS, PLATFORMS, AuthorPool, Person
from vigie.sim.scenario.rhythm import activity, sample_times

BAD, POSITIVE = "bad_buzz", "positive_viral"


@dataclass(frozen=True)
class Join:
    """`platform` joins a story `lo`-`hi` minutes after the onset, or after platform `after` joined."""

    platform: str
    lo: float = 0.0
    hi: float = 0.0
    after: str | None = None


_BUZZ = (Join("x"), Join("bluesky", 20, 40), Join("reddit", 45, 90), Join("mastodon", 60, 120))
SPREAD: dict[str, tuple[Join, ...]] = {
    "bad_buzz": _BUZZ,
    "night_event": _BUZZ,
    "weekend_event": _BUZZ,
    "flash_viral": (Join("x"), Join("bluesky", 15, 30), Join("reddit", 15, 30), Join("mastodon", 15, 30)),
    "bot_raid": (Join("x"), Join("bluesky")),
    "media_spike": (Join("x"), Join("reddit", 30, 60), Join("bluesky", 45, 90), Join("mastodon", 60, 120)),
    "slow_burn": (Join("reddit"), Join("x", 12 * 60, 24 * 60), Join("bluesky", 60, 240, after="x"),
                  Join("mastodon", 120, 480, after="x")),
    "positive_viral": (Join("x"), Join("bluesky", 30, 60), Join("reddit", 30, 60), Join("mastodon", 30, 60)),
}
LONE_PLATFORMS = {"low_volume": ("reddit", "mastodon")}  # a story that never leaves its forum or instance
SPREAD_RAMP = timedelta(minutes=30)
USUAL_SHARE = dict(zip(PLATFORMS, PLATFORM_WEIGHTS))
COPY_SHARE = {"x": 0.85, "bluesky": 0.15}  # where copy-paste campaigns run


def draw_spread(shape: str, onset: datetime, rng: random.Random) -> dict[str, datetime]:
    """When each author platform joins an event of `shape` (whole seconds, in join order); `{}` for a shape
    without a schedule (then posts go everywhere from the onset, in the usual shares)."""
    if shape in LONE_PLATFORMS:
        return {rng.choice(LONE_PLATFORMS[shape]): onset}
    joins: dict[str, datetime] = {}
    for j in SPREAD.get(shape, ()):
        since = onset if j.after is None else joins[j.after]
        joins[j.platform] = since + timedelta(seconds=round(rng.uniform(j.lo, j.hi) * 60))
    return dict(sorted(joins.items(), key=lambda kv: kv[1]))


def spread_factor(spread: dict[str, datetime], platform: str, t: datetime) -> float:
    """How much of `platform`'s usual share of an event it carries at `t`: 1 for an origin (joined at the
    onset, the earliest join), 0 before its join, then a linear ramp over SPREAD_RAMP."""
    if not spread:
        return 1.0
    joined = spread.get(platform)
    if joined is None or t < joined:
        return 0.0
    if joined == min(spread.values()):
        return 1.0
    return min((t - joined) / SPREAD_RAMP, 1.0)


@dataclass
class EventSpec:
    """One event of a scenario. `shape` names the story told by the posts (see `SHAPES`)."""

    topic_id: str
    kind: str  # "bad_buzz" | "positive_viral": what a detector must (or must not) escalate
    shape: str
    onset: datetime
    seed_minutes: float = 75.0  # from the first post to the amplification
    seed_rate: float = 0.05  # posts per minute before the amplification
    rise_minutes: float = 270.0  # amplification -> peak
    peak_rate: float = 3.0  # posts per minute at the peak (before the daily modulation)
    half_life_minutes: float = 240.0
    rise_power: float = 2.0  # 1 = linear build-up, 2 = accelerating
    modulation: float = 0.5  # 0 = ignores the time of day, 1 = fully follows it
    grievance: str = "lid_burns"
    amplifier_followers: int = 250_000
    copy_share: float = 0.25  # share of copy-pasted outrage once the campaign starts
    en_share: float = 0.22
    severity: str = "crisis"  # the highest level this event deserves ("watch" for positive ones)
    description: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    spread: dict[str, datetime] = field(default_factory=dict)  # platform -> join time (`draw_spread`)

    @property
    def origin(self) -> str:
        """The platform the story starts on (x when there is no schedule)."""
        return next(iter(self.spread), "x")

    @property
    def amplified_at(self) -> datetime:
        return self.onset + timedelta(minutes=self.seed_minutes)

    def intensity(self, t: datetime) -> float:
        """Extra posts per minute at `t`."""
        minutes = (t - self.onset).total_seconds() / 60.0
        if minutes < 0:
            return 0.0
        if minutes < self.seed_minutes:
            return self.seed_rate
        x = minutes - self.seed_minutes
        if x < self.rise_minutes:
            base = max(self.seed_rate, self.peak_rate * (x / self.rise_minutes) ** self.rise_power)
        else:
            base = self.peak_rate * 0.5 ** ((x - self.rise_minutes) / self.half_life_minutes)
        mod = (1 - self.modulation) + self.modulation * min(activity(t), 1.6) / 1.6
        return base * mod

    def horizon(self) -> datetime:
        return self.amplified_at + timedelta(minutes=self.rise_minutes + 7 * self.half_life_minutes)

    def peak_and_end(self, limit: datetime) -> tuple[datetime, datetime, bool]:
        """Peak of the intensity curve (minute grid), when it falls below 10 % of that peak, and whether the
        scenario ends first (`truncated`: then the peak is the highest point seen and the end is `limit`)."""
        t, step = self.onset, timedelta(minutes=1)
        best_t, best = t, -1.0
        stop = min(self.horizon(), limit)
        values: list[tuple[datetime, float]] = []
        while t < stop:
            v = self.intensity(t)
            values.append((t, v))
            if v >= best:  # ties: the latest (a plateau peaks at its end, a flat start is no peak)
                best_t, best = t, v
            t += step
        for when, v in values:
            if when > best_t and v < 0.1 * best:
                return best_t, when, False
        return best_t, limit, True


@dataclass
class Draft:
    """A post before ids and engagement are assigned."""

    t: datetime
    person: Person
    text: str
    lang: str
    role: str
    virality: float = 1.0
    parent: "Draft | None" = None
    platform: str | None = None
    native: str | None = None  # filled when the record is built
    slug: str | None = None


OUTLETS = [
    ("quotidien-conso", "Le Quotidien Conso", 310_000),
    ("ouest-matin", "Ouest Matin", 540_000),
    ("eco-hebdo", "L'Éco Hebdo", 190_000),
    ("cuisine-actu", "Cuisine Actu", 85_000),
]


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", texts.strip_accents(text.lower())).strip("-")[:60]


class EventWriter:
    """Turns an `EventSpec` into drafts, using the scenario's author pool and random stream."""

    def __init__(self, rng: random.Random, pool: AuthorPool, brand_account: Person):
        self.rng = rng
        self.pool = pool
        self.brand_account = brand_account
        self.outlets = [pool.new_person("fr", followers=f, platform="feeds", handle=h, name=n, verified=True)
                        for h, n, f in OUTLETS]
        self.campaign: list[Person] = []

    def _platform(self, spec: EventSpec, t: datetime, shares: dict[str, float] = USUAL_SHARE) -> str | None:
        """A platform for an event post at `t`: `shares` weighted by how far each platform has joined the
        story (see `spread_factor`); None when none of them has joined yet."""
        weights = [(p, w * spread_factor(spec.spread, p, t)) for p, w in shares.items()]
        total = sum(w for _, w in weights)
        if total <= 0:
            return None
        x = self.rng.random() * total
        for platform, w in weights:
            x -= w
            if x < 0:
                return platform
        return next(p for p, w in reversed(weights) if w > 0)  # float rounding on the last one

    def _author(self, spec: EventSpec, t: datetime, lang: str) -> Person:
        """Who writes an event post at `t`: someone on a platform the story has reached by then."""
        if not spec.spread:
            return self.pool.pick(lang)
        return self.pool.pick(lang, platform=self._platform(spec, t))

    def write(self, spec: EventSpec, limit: datetime) -> list[Draft]:
        if spec.kind == POSITIVE:
            return self._positive(spec, limit)
        if spec.shape == "media_spike":
            return self._media(spec, limit)
        return self._bad_buzz(spec, limit)

    # -- negative stories ------------------------------------------------------------------------
    def _bad_buzz(self, spec: EventSpec, limit: datetime) -> list[Draft]:
        rng, g = self.rng, texts.GRIEVANCES[spec.grievance]
        bot_raid = spec.shape == "bot_raid"
        drafts: list[Draft] = []
        if not bot_raid:
            victim = self._author(spec, spec.onset, "fr")
            drafts.append(Draft(spec.onset, victim, self._fr(g.onset_fr[0], g), "fr", "onset", 1.5))
        amp_person = self.pool.new_person(
            "fr", followers=spec.amplifier_followers, platform=spec.origin, handle="conso_vigilante",
            name="Conso Vigilante", verified=True)
        amplifier = None
        if spec.amplifier_followers and not bot_raid:
            amplifier = Draft(spec.amplified_at, amp_person, self._fr(g.amplifier, g), "fr", "amplifier", 12.0)
            drafts.append(amplifier)
        campaign_from = spec.amplified_at + timedelta(minutes=0 if bot_raid else 45)
        for t in sample_times(rng, spec.onset + timedelta(seconds=60), min(spec.horizon(), limit), spec.intensity):
            if bot_raid or (t >= campaign_from and rng.random() < spec.copy_share):
                drafts.append(self._copy(spec, t, g))
                continue
            if t < spec.amplified_at:
                text = self._fr(rng.choice(g.onset_fr), g, mood="neg")
                drafts.append(Draft(t, self._author(spec, t, "fr"), text, "fr", "onset", 1.5))
                continue
            r = rng.random()
            if r < spec.en_share:
                person = self._author(spec, t, "en")
                text = texts.dress(texts.render(rng.choice(g.angry_en), rng, "en", product=g.product), rng, "en", "neg")
                text = texts.roughen(text, rng, "en", mood="neg", emoji=0.1)
                drafts.append(Draft(t, person, text, "en", "angry", 2.5))
            elif r < spec.en_share + 0.16 and amplifier is not None:
                # A thread reply names the account it answers, not the brand: only the thread links it.
                text = "@" + amplifier.person.handle + " " + self._fr(rng.choice(g.replies_fr), g, mood="neg")
                replier = self.pool.pick("fr", platform=amplifier.person.platform)
                drafts.append(Draft(t, replier, text, "fr", "reply", 1.0, parent=amplifier))
            elif r < spec.en_share + 0.19 and t > spec.amplified_at + timedelta(minutes=90):
                outlet = rng.choice(self.outlets)
                headline = texts.render(rng.choice(g.media), rng, "fr", product=g.product)
                drafts.append(Draft(t, outlet, headline, "fr", "media", 1.0, platform="feeds", slug=_slug(headline)))
            elif r < spec.en_share + 0.22 and amplifier is not None:
                # The brand answers under the post that set it off, on that post's platform (its community
                # team has an account on each; `_record` would otherwise cut the thread).
                text = "@" + amplifier.person.handle + " " + texts.render(rng.choice(g.brand_replies), rng, "fr")
                drafts.append(Draft(t, self.brand_account, text, "fr", "brand_reply", 0.5, parent=amplifier,
                                    platform=amplifier.person.platform))
            elif r < spec.en_share + 0.30:
                text = self._fr(rng.choice(g.defenders), g, tags=0.0, mood="neu")
                drafts.append(Draft(t, self._author(spec, t, "fr"), text, "fr", "defender", 1.0))
            else:
                text = self._fr(rng.choice(g.angry_fr), g, mood="neg")
                drafts.append(Draft(t, self._author(spec, t, "fr"), text, "fr", "angry", 2.5))
        return drafts

    def _copy(self, spec: EventSpec, t: datetime, g: texts.Grievance) -> Draft:
        """Copy-pasted outrage from new, low-follower accounts (some post it twice), on X and Bluesky once
        the story is there (a slow burn's campaign may start while it is still on a forum: then there)."""
        rng = self.rng
        if self.campaign and rng.random() < 0.15:
            person = rng.choice(self.campaign)
        else:
            platform = self._platform(spec, t, COPY_SHARE) or self._platform(spec, t)
            person = self.pool.new_person("fr", followers=rng.randrange(0, 40), platform=platform)
            self.campaign.append(person)
        base = texts.render(rng.choice(g.copy_bases), rng, "fr", product=g.product, brand=texts.BRAND)
        return Draft(t, person, texts.mutate_copy(base, rng), "fr", "copy", 0.3)

    def _fr(self, template: str, g: texts.Grievance, tags: float = 0.1, mood: str | None = None) -> str:
        text = texts.render(template, self.rng, "fr", product=g.product)
        if mood:
            text = texts.dress(text, self.rng, "fr", mood)
        return texts.roughen(text, self.rng, "fr", mood=mood or "neu", tags=tags, emoji=0.05)

    def _media(self, spec: EventSpec, limit: datetime) -> list[Draft]:
        """Press coverage first (several outlets within the hour), then sad or worried reactions."""
        rng, drafts = self.rng, []
        for i, outlet in enumerate(self.outlets):
            headline = texts.render(texts.MEDIA_HEADLINES[i % len(texts.MEDIA_HEADLINES)], rng, "fr")
            t = spec.onset + timedelta(minutes=i * rng.uniform(5, 20))
            drafts.append(Draft(t, outlet, headline, "fr", "media", 3.0, platform="feeds", slug=_slug(headline)))
        for t in sample_times(rng, spec.onset + timedelta(minutes=10), min(spec.horizon(), limit), spec.intensity):
            lang = "en" if rng.random() < spec.en_share else "fr"
            text = texts.roughen(texts.render(rng.choice(
                texts.MEDIA_REACTIONS_EN if lang == "en" else texts.MEDIA_REACTIONS), rng, lang), rng, lang, mood="neg")
            drafts.append(Draft(t, self._author(spec, t, lang), text, lang, "media_reaction", 1.0))
        return drafts

    # -- a positive viral moment ----------------------------------------------------------------
    def _positive(self, spec: EventSpec, limit: datetime) -> list[Draft]:
        rng = self.rng
        chef = self.pool.new_person("fr", followers=spec.amplifier_followers or 180_000, platform=spec.origin,
                                    handle="margaux_aux_fourneaux", name="Margaux aux Fourneaux", verified=True)
        source = Draft(spec.onset, chef, texts.render(texts.POSITIVE_SOURCE, rng, "fr", brand=texts.BRAND), "fr",
                       "viral_source", 10.0)
        drafts = [source]
        for t in sample_times(rng, spec.onset + timedelta(seconds=60), min(spec.horizon(), limit), spec.intensity):
            r = rng.random()
            if r < 0.70:
                lang = "en" if rng.random() < spec.en_share else "fr"
                pool = texts.POSITIVE_REACTIONS_EN if lang == "en" else texts.POSITIVE_REACTIONS_FR
                role, virality = "praise", 1.5
            elif r < 0.92:
                lang = "en" if rng.random() < spec.en_share else "fr"
                pool = texts.POSITIVE_QUESTIONS_EN if lang == "en" else texts.POSITIVE_QUESTIONS
                role, virality = "question", 1.0
            else:
                lang = "en" if rng.random() < spec.en_share else "fr"
                pool = texts.POSITIVE_MILD_EN if lang == "en" else texts.POSITIVE_MILD
                role, virality = "mild", 1.0
            text = texts.dress(texts.render(rng.choice(pool), rng, lang), rng, lang,
                               "pos" if role == "praise" else "neu")
            if not texts.mentions_brand(text):
                text += " #Brivolle"
            parent = source if rng.random() < 0.3 else None
            # A reply is written where its parent is; other reactions wherever the moment has reached.
            person = self.pool.pick(lang, platform=chef.platform) if parent else self._author(spec, t, lang)
            text = texts.roughen(text, rng, lang, mood="pos" if role == "praise" else "neu")
            drafts.append(Draft(t, person, text, lang, role, virality, parent=parent))
        return drafts
