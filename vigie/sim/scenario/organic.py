"""Real-looking background traffic: overdispersed, bursty counts and organic spikes that are not crises.

Real brand-mention counts on X at 5-minute resolution (10 large companies, 2 months each) have an index of
dispersion around a 1-hour moving mean of 1.6 to 375 (median about 9), their busiest 5 minutes are 29 to
290 times the median, and they carry organic bursts several times a week (a press release, a launch, a
giveaway retweet storm, a TV programme, spam, a wave of complaints about an outage). A detector tuned on
calm Poisson chatter pages on all of them. This module makes the generator's default background look
like that:

* **Overdispersion**: the ordinary posting rate of each 5-minute bucket is multiplied by a gamma-distributed
  factor of mean 1 whose variance is chosen so that the bucket counts have the topic's target index of
  dispersion D at its average rate mu (a gamma-Poisson mixture: variance/mean = 1 + mu * CV^2). Each
  scenario draws D per topic (`draw_dispersion`: log-normal, median 9, clipped to the real range).
* **Organic spikes** (`place_organic`, `OrganicWriter`): news, launches, giveaway copy storms, TV segments,
  spam, complaint micro-bursts, several per week on the brand and about one on the competitor. Each is
  recorded in the ground truth under `organic` with `max_level: watch`: a detector may notice them, it must
  not page anyone for them.

`background="poisson"` (`vigie samples generate --background poisson`) keeps the calm Poisson chatter of
earlier versions, for unit tests that need a quiet reference.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from vigie.core.models import iso
from vigie.sim.scenario import texts
from vigie.sim.scenario.authors import AuthorPool
from vigie.sim.scenario.rhythm import LOCAL_OFFSET, activity, sample_times

BACKGROUNDS = ("realistic", "poisson")
# Roles of organic-spike posts besides "ordinary" (news, TV and launches are ordinary chatter, only more).
ORGANIC_ROLES = ("complaint", "giveaway", "spam")
DISPERSION_MEDIAN = 9.0
DISPERSION_SIGMA = 1.1  # log-normal spread: 5-95 % about 1.6 to 55
DISPERSION_RANGE = (1.6, 375.0)
BUCKET = timedelta(minutes=5)
ORGANIC_MAX_LEVEL = "watch"


def draw_dispersion(rng: random.Random) -> float:
    """A topic's index of dispersion, drawn over the range real brand traffic shows."""
    d = DISPERSION_MEDIAN * math.exp(rng.gauss(0.0, DISPERSION_SIGMA))
    return round(min(DISPERSION_RANGE[1], max(DISPERSION_RANGE[0], d)), 2)


def bucket_factors(rng: random.Random, buckets: int, dispersion: float, mean_per_bucket: float) -> list[float]:
    """Multipliers of the posting rate, one per 5-minute bucket, of mean 1, such that counts have index of
    dispersion `dispersion` at `mean_per_bucket` posts per bucket (gamma-Poisson mixture)."""
    cv2 = max(dispersion - 1.0, 0.0) / max(mean_per_bucket, 1e-6)
    if cv2 <= 0:
        return [1.0] * buckets
    shape = 1.0 / cv2
    return [rng.gammavariate(shape, cv2) for _ in range(buckets)]


@dataclass(frozen=True)
class OrganicSpec:
    """One organic, non-crisis spike: `extra` posts per minute at its peak (before the daily rhythm)."""

    topic_id: str
    shape: str  # news | launch | giveaway | tv | spam | complaints
    onset: datetime
    rise_minutes: float
    decay_minutes: float  # half-life after the peak
    peak_rate: float
    description: str

    def intensity(self, t: datetime) -> float:
        minutes = (t - self.onset).total_seconds() / 60
        if minutes < 0:
            return 0.0
        if minutes < self.rise_minutes:
            return self.peak_rate * max(0.05, minutes / self.rise_minutes)
        return self.peak_rate * 0.5 ** ((minutes - self.rise_minutes) / self.decay_minutes)

    @property
    def peak(self) -> datetime:
        return self.onset + timedelta(seconds=round(self.rise_minutes * 60))

    @property
    def end(self) -> datetime:
        # intensity below 10 % of the peak: log2(10) half-lives after the peak
        return self.peak + timedelta(seconds=round(self.decay_minutes * 60 * math.log2(10)))

    def horizon(self) -> datetime:
        return self.peak + timedelta(minutes=self.decay_minutes * 6)


# shape: (weight, rise min range, half-life min range, peak as a multiple of the topic's mean rate, what)
ORGANIC_SHAPES: dict[str, tuple[float, tuple[float, float], tuple[float, float], tuple[float, float], str]] = {
    "news": (1.0, (5, 20), (30, 60), (4, 10), "Communiqué de presse / article : pic de partages et de commentaires "
                                               "au ton habituel."),
    "launch": (1.0, (30, 90), (60, 150), (3, 6), "Lancement d'un produit : plus de messages pendant quelques heures, "
                                                 "surtout positifs et neutres."),
    "giveaway": (1.0, (5, 15), (15, 40), (8, 20), "Jeu concours « RT pour gagner » : tempête de copies identiques, "
                                                  "positives ou neutres."),
    "tv": (0.8, (3, 10), (10, 25), (8, 20), "Passage à la télévision : pic bref le soir, ton habituel."),
    "spam": (0.6, (2, 10), (10, 30), (5, 12), "Spam : des comptes publient le même lien promotionnel."),
    "complaints": (1.0, (5, 20), (15, 40), (2, 5), "Micro-vague de plaintes ordinaires (livraison, SAV "
                                                   "injoignable) : rien de grave ni de nouveau."),
}


# A topic's *recurring* non-crisis pattern (the feedback suite, `vigie.sim.scenario.feedback_suite`): the
# brand's connected-appliance app goes down every day or two (saturated servers, a botched update), at no
# fixed hour, and a wave of outage complaints follows for a few hours. Bigger and longer than a complaint
# micro-burst (it holds a negative share for hours) and irregular (no hour-of-day baseline can learn it),
# so the detector raises it to warning again and again; an analyst who has marked it twice knows better.
RECURRING_SHAPE = "recurring_complaints"
RECURRING_DESCRIPTION = ("Vague de plaintes récurrente : l'appli Brivolle Connect tombe en panne un jour sur "
                         "deux environ, les clients râlent quelques heures ; rien de nouveau ni de grave.")


def place_recurring(rng: random.Random, topic_id: str, start: datetime, days: int,
                    mean_per_minute: float) -> list[OrganicSpec]:
    """Outage-complaint waves every 1-2 days, at a daytime or evening hour drawn each time."""
    out, day = [], rng.randrange(2)
    while day < days:
        local_midnight = (start + LOCAL_OFFSET).replace(hour=0, minute=0, second=0) + timedelta(days=day)
        onset = local_midnight - LOCAL_OFFSET + timedelta(seconds=round(rng.uniform(8, 21) * 3600))
        out.append(OrganicSpec(topic_id=topic_id, shape=RECURRING_SHAPE, onset=onset,
                               rise_minutes=rng.uniform(20, 40), decay_minutes=rng.uniform(90, 150),
                               peak_rate=max(0.4, mean_per_minute * rng.uniform(6, 10)),
                               description=RECURRING_DESCRIPTION))
        day += rng.choice((1, 2, 2))
    return out


def place_organic(rng: random.Random, topic_id: str, start: datetime, days: int, per_week: float,
                  mean_per_minute: float) -> list[OrganicSpec]:
    """Organic spikes for a topic: about `per_week` of them, at plausible local hours, shapes drawn."""
    count = max(0, int(round(per_week * days / 7 + rng.uniform(-1, 1))))
    names = sorted(ORGANIC_SHAPES)
    weights = [ORGANIC_SHAPES[n][0] for n in names]
    out = []
    for _ in range(count):
        shape = rng.choices(names, weights)[0]
        _, rise, half, mult, what = ORGANIC_SHAPES[shape]
        day = rng.randrange(days)
        hour = rng.uniform(19.5, 22) if shape == "tv" else rng.uniform(8, 22)
        local_midnight = (start + LOCAL_OFFSET).replace(hour=0, minute=0, second=0) + timedelta(days=day)
        onset = local_midnight - LOCAL_OFFSET + timedelta(seconds=round(hour * 3600))
        # At least a couple of extra posts per minute at the peak, so even a quiet topic's spike is visible.
        peak = max(0.4, mean_per_minute * rng.uniform(*mult))
        out.append(OrganicSpec(topic_id=topic_id, shape=shape, onset=onset, rise_minutes=rng.uniform(*rise),
                               decay_minutes=rng.uniform(*half), peak_rate=peak, description=what))
    return sorted(out, key=lambda s: s.onset)


GIVEAWAY_FR = [
    "🎁 CONCOURS {brand} 🎁 RT + follow @{handle} pour tenter de gagner {un} ! Tirage au sort vendredi #concours #Brivolle",
    "JEU CONCOURS : gagnez {un} avec {brand} ! RT et mentionne 2 amis 🍀 #concours #Brivolle",
]
GIVEAWAY_EN = ["GIVEAWAY 🎁 RT + follow @{handle} to win {a} from {brand}! Winner picked Friday #giveaway #Brivolle"]
SPAM = [
    "{brand} {product_name} -70% aujourd'hui seulement 👉 bit.ly/{code} #Brivolle #promo",
    "Code promo {brand} exclusif {code} 🔥 livraison gratuite {product_name} #Brivolle",
]


class OrganicWriter:
    """Drafts for organic spikes, using the scenario's author pool and random stream."""

    def __init__(self, rng: random.Random, pool: AuthorPool, draft_type: type, brand_handle: str):
        self.rng, self.pool, self.Draft, self.handle = rng, pool, draft_type, brand_handle

    def write(self, spec: OrganicSpec, limit: datetime, competitor: bool, moods: tuple[float, float, float],
              fr_share: float) -> list:
        rng = self.rng
        drafts = []
        base_text = {}
        code = "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(6))
        product = rng.choice(texts.PRODUCTS)
        for t in sample_times(rng, spec.onset, min(spec.horizon(), limit), self._rate(spec)):
            lang = "fr" if rng.random() < fr_share else "en"
            if spec.shape in ("giveaway", "spam") and not competitor:
                key = (spec.shape, lang if spec.shape == "giveaway" else "fr")
                if key not in base_text:
                    pool = (GIVEAWAY_FR if key[1] == "fr" else GIVEAWAY_EN) if spec.shape == "giveaway" else SPAM
                    base_text[key] = rng.choice(pool).format(
                        brand=texts.BRAND, handle=self.handle, un=product.un, a=f"a {product.en}", product_name=product.bare, code=code)
                text = base_text[key] + ("" if rng.random() < 0.6 else " " + rng.choice(["🙏", "🍀", "!!", "❤️", "svp"]))
                person = self.pool.new_person(key[1], followers=rng.randrange(0, 300), platform="x") \
                    if spec.shape == "spam" else self.pool.pick(key[1])
                drafts.append(self.Draft(t, person, text, key[1], spec.shape, 0.3))
                continue
            if spec.shape in ("complaints", RECURRING_SHAPE):
                mood = "neg"
                role = "complaint"
            else:
                # news, TV, launches: the topic's usual mix of moods (a launch leans a little positive)
                mix = moods if spec.shape != "launch" else (moods[0] + 0.1, moods[1], max(0.0, moods[2] - 0.1))
                mood = rng.choices(("pos", "neu", "neg"), mix)[0]
                role = "ordinary"
            person = self.pool.pick(lang)
            text = texts.ordinary_text(rng, lang, mood, competitor_topic=competitor)
            drafts.append(self.Draft(t, person, text, lang, role, 1.0))
        return drafts

    @staticmethod
    def _rate(spec: OrganicSpec):
        def rate(t: datetime) -> float:
            return spec.intensity(t) * (0.5 + 0.5 * min(activity(t), 1.6) / 1.6)
        return rate


def truth_record(spec: OrganicSpec, posts: int, end_limit: datetime) -> dict:
    return {"topic_id": spec.topic_id, "kind": "organic", "shape": spec.shape, "max_level": ORGANIC_MAX_LEVEL,
            "onset": iso(spec.onset), "peak": iso(min(spec.peak, end_limit)), "end": iso(min(spec.end, end_limit)),
            "posts": posts, "description": spec.description}
