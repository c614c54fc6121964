"""Synthetic social-media scenarios with ground truth: the demo data and the detection backtests.

`generate(seed, start, days)` builds a week of French (~70 %) and English posts about **Brivolle**, a
fictional French maker of small kitchen appliances, and its fictional competitor **Cuivrelle** (a second,
quiet topic): daily and weekly rhythm, ordinary chatter (mostly neutral/positive, some complaints), and
events laid over it. The default story (`shapes=None`) is the demo's: one bad buzz (the Mijoteo 3
multicooker's lid opens under pressure and burns people; the brand says "misuse" and refuses refunds: a few
angry posts, picked up by a 250k-follower account, then reposts, crisis vocabulary and copy-pasted outrage,
peaking hours later and decaying) and, on another day, one positive viral moment that must not raise a
crisis. `shapes=` selects other stories for backtests (see `SHAPES`), and `scenario_suite` yields many
seeded scenarios. Each story starts on its origin platform and spills over to the others later, on a
schedule per shape (`events.SPREAD`); the truth records when each platform joined.

Everything is drawn from one `random.Random(seed)`: no global state, no wall clock, so a seed always gives
the same bytes. Texts come from the project's own templates (`texts.py`).
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from vigie.core.models import Post, iso, utc
from vigie.sim.scenario import texts
from vigie.sim.scenario.authors import AuthorPool, Ids, engagement, url_for
from vigie.sim.scenario.events import BAD, POSITIVE, Draft, EventSpec, EventWriter, draw_spread
from vigie.sim.scenario.reposts import ROLE as REPOST_ROLE
from vigie.sim.scenario.reposts import repost_records
from vigie.sim.scenario.organic import (BACKGROUNDS, RECURRING_SHAPE, OrganicWriter, bucket_factors, draw_dispersion,
                                       place_organic, place_recurring, truth_record)
from vigie.sim.scenario.rhythm import LOCAL_OFFSET, activity, day_factors, sample_times

DEMO_SEED = 7
DEFAULT_START = datetime(2026, 3, 2, tzinfo=timezone.utc)  # a Monday
MALFORMED_DEMO = 2  # lines the bundled demo file carries on purpose, to show quarantine at work

# The demo's story; `scenario_suite` draws from SUITE_SHAPES.
DEMO_SHAPES = ("bad_buzz", "positive_viral")


@dataclass(frozen=True)
class OutageSpec:
    """A collector outage: `platform`'s collector is down for `minutes`, starting `after_minutes` after the
    onset of the scenario's first bad event (the start when there is none). Written as an `outage` line of
    the replay file (`listeners/replay/listener.py`) and recorded in the truth under `outages`."""

    platform: str
    after_minutes: float
    minutes: float
    error: str = "network"

    @classmethod
    def parse(cls, text: str) -> "OutageSpec":
        """`PLATFORM:AFTER:MINUTES`, e.g. `x:150:45` (the CLI's `--outage`)."""
        parts = text.split(":")
        try:
            platform, after, minutes = parts[0].strip(), float(parts[1]), float(parts[2])
        except (IndexError, ValueError):
            raise ValueError(f"expected an outage as PLATFORM:AFTER_MINUTES:MINUTES (e.g. x:150:45), found {text!r}") from None
        if not platform or minutes <= 0 or after < 0 or len(parts) != 3:
            raise ValueError(f"expected an outage as PLATFORM:AFTER_MINUTES:MINUTES (e.g. x:150:45), found {text!r}")
        return cls(platform, after, minutes)


# The demo's collector outage: X silent for 45 minutes on the Friday, 2 h 30 min into the bad
# buzz (during its rise, before the first warning), then back, with the posts of the gap caught up.
DEMO_OUTAGES = (OutageSpec("x", 150, 45),)
SHAPES = ("bad_buzz", "positive_viral", "slow_burn", "flash_viral", "bot_raid", "night_event",
          "weekend_event", "media_spike", "seasonal_noise", "low_volume", RECURRING_SHAPE)
# Shapes that add no event to the truth: a busier background, a recurring organic pattern.
BACKGROUND_SHAPES = ("seasonal_noise", RECURRING_SHAPE)


@dataclass(frozen=True)
class TopicSpec:
    id: str
    name: str
    query: str
    aliases: tuple[str, ...]
    per_day: float  # ordinary posts per day (before the daily/weekly rhythm)
    competitor: bool = False
    moods: tuple[float, float, float] = (0.45, 0.38, 0.17)  # positive, neutral, complaint
    fr_share: float = 0.7
    organic_per_week: float = 5.0  # organic non-crisis spikes per week (realistic background only)


BRAND_TOPIC = TopicSpec(
    id="brivolle", name="Brivolle", per_day=480,
    query='brivolle OR brivole OR "@brivolle_fr" OR "#brivolle" OR mijoteo OR kettla OR aircroq',
    aliases=("Brivolle", "Brivole", "@Brivolle_FR", "#Brivolle", "Mijoteo", "Kettla", "AirCroq"),
)
COMPETITOR_TOPIC = TopicSpec(
    id="cuivrelle", name="Cuivrelle (concurrent)", per_day=30, competitor=True, moods=(0.45, 0.4, 0.15),
    organic_per_week=1.5,
    query='cuivrelle OR "#cuivrelle"', aliases=("Cuivrelle",),
)


@dataclass
class Scenario:
    """Posts in the replay JSONL schema (`listeners/replay/listener.py`) and the ground truth beside them."""

    seed: int
    posts: list[dict[str, Any]]
    truth: dict[str, Any]
    roles: list[str] = field(default_factory=list)  # why each post exists ("ordinary", "angry", "copy"...)
    topics: tuple[TopicSpec, ...] = (BRAND_TOPIC, COMPETITOR_TOPIC)


# -- generation -------------------------------------------------------------------------------------

def generate(seed: int, start: datetime = DEFAULT_START, days: int = 7,
             shapes: Sequence[str] | None = None, background: str = "realistic",
             outages: Sequence[OutageSpec] | None = None, reposts: bool = True) -> Scenario:
    """A seeded scenario of `days` days from `start` (UTC). `shapes` picks the events (default: the demo's
    bad buzz + positive viral moment); see `SHAPES`. `background` is "realistic" (overdispersed, bursty
    chatter with organic non-crisis spikes, see `vigie.sim.scenario.organic`) or "poisson" (calm chatter).
    `outages`: collector outages (`OutageSpec`); default: the demo's (`DEMO_OUTAGES`) with the demo's
    story, none otherwise. They draw nothing from the random stream: the posts stay the same bytes.
    `reposts`: also write the reposts a listener would collect on X, Bluesky and Mastodon
    (`vigie.sim.scenario.reposts`; drawn last, so the other posts are the same bytes either way)."""
    if outages is None:
        outages = DEMO_OUTAGES if shapes is None else ()
    if days < 1:
        raise ValueError(f"days must be >= 1, found {days}")
    if background not in BACKGROUNDS:
        raise ValueError(f"unknown background {background!r}; expected one of {', '.join(BACKGROUNDS)}")
    shapes = tuple(DEMO_SHAPES if shapes is None else shapes)
    unknown = [s for s in shapes if s not in SHAPES]
    if unknown:
        raise ValueError(f"unknown event shape(s) {unknown}; expected some of {', '.join(SHAPES)}")
    rng = random.Random(seed)
    start = utc(start).replace(microsecond=0)
    end = start + timedelta(days=days)
    brand = BRAND_TOPIC if "low_volume" not in shapes else replace(BRAND_TOPIC, per_day=12)
    topics = (brand, COMPETITOR_TOPIC)

    pool = AuthorPool(rng, size=2600)
    brand_account = pool.new_person("fr", followers=45_200, platform="x", handle=texts.BRAND_HANDLE,
                                    name="Brivolle France", verified=True)
    noise = "seasonal_noise" in shapes
    realistic = background == "realistic"
    dispersion = {t.id: draw_dispersion(rng) for t in topics} if realistic else {t.id: 1.0 for t in topics}
    drafts: list[tuple[str, Draft]] = []
    for topic in topics:
        drafts += [(topic.id, d) for d in _ordinary(rng, pool, topic, start, end, days, noise,
                                                     dispersion[topic.id])]
    organic: list[dict[str, Any]] = []
    if realistic:
        owriter = OrganicWriter(rng, pool, Draft, texts.BRAND_HANDLE)
        for topic in topics:
            for ospec in place_organic(rng, topic.id, start, days, topic.organic_per_week, topic.per_day / 1440):
                written = [d for d in owriter.write(ospec, end, topic.competitor, topic.moods, topic.fr_share)
                           if start <= d.t < end]
                drafts += [(topic.id, d) for d in written]
                organic.append(truth_record(ospec, len(written), end))
    if RECURRING_SHAPE in shapes:  # drawn only for the feedback suite: the default suite keeps its bytes
        owriter = OrganicWriter(rng, pool, Draft, texts.BRAND_HANDLE)
        for ospec in place_recurring(rng, brand.id, start, days, brand.per_day / 1440):
            written = [d for d in owriter.write(ospec, end, brand.competitor, brand.moods, brand.fr_share)
                       if start <= d.t < end]
            drafts += [(brand.id, d) for d in written]
            organic.append(truth_record(ospec, len(written), end))
    organic.sort(key=lambda e: (e["onset"], e["topic_id"]))

    specs = [_place(shape, rng, start, days, brand.id) for shape in shapes if shape not in BACKGROUND_SHAPES]
    specs = [replace(s, spread=draw_spread(s.shape, s.onset, rng)) for s in specs]  # where the story travels
    specs = [s for s in specs if s.onset < end - timedelta(minutes=30)]  # too late to tell anything
    writer = EventWriter(rng, pool, brand_account)
    events = []
    for spec in specs:
        written = [d for d in writer.write(spec, end) if start <= d.t < end]
        drafts += [(spec.topic_id, d) for d in written]
        peak, ev_end, truncated = spec.peak_and_end(end)
        events.append({
            "topic_id": spec.topic_id, "kind": spec.kind, "shape": spec.shape, "severity": spec.severity,
            "onset": iso(spec.onset), "peak": iso(peak), "end": iso(ev_end), "truncated": truncated,
            "posts": len(written), "description": spec.description,
            # When the story reached each author platform (see `events.SPREAD`), within the scenario.
            "platforms": {p: iso(at) for p, at in spec.spread.items() if at < end},
        })
    events.sort(key=lambda e: e["onset"])

    drafts.sort(key=lambda item: item[1].t)  # stable: equal times keep generation order
    ids = Ids()
    posts, roles = [], []
    for _, draft in drafts:
        posts.append(_record(draft, ids, rng))
        roles.append(draft.role)
    n_reposts = 0
    if reposts:
        extra = repost_records(rng, pool, ids, posts, end)
        n_reposts = len(extra)
        # Sorted by creation time; a repost made in the same second as an original comes after it (stable).
        merged = sorted(zip([*posts, *extra], [*roles, *[REPOST_ROLE] * n_reposts]), key=lambda pr: pr[0]["created_at"])
        posts, roles = [p for p, _r in merged], [r for _p, r in merged]
    first_bad = min((utc(e["onset"]) for e in events if e["kind"] == "bad_buzz"), default=start)
    outage_records = []
    for o in outages:
        o_start = (first_bad + timedelta(minutes=o.after_minutes)).replace(microsecond=0)
        o_end = min(end, o_start + timedelta(minutes=o.minutes))
        if o_start < end:
            outage_records.append({
                "source": o.platform, "start": iso(o_start), "end": iso(o_end), "error": o.error,
                "description": f"the {o.platform} collector is down ({o.error} errors) for "
                               f"{(o_end - o_start).total_seconds() / 60:g} min; its posts of the gap are "
                               "caught up when it comes back"})
    truth = {
        "brand": texts.BRAND,
        "seed": seed,
        "start": iso(start),
        "end": iso(end),
        "shapes": list(shapes),
        "topics": [{"id": t.id, "name": t.name, "query": t.query} for t in topics],
        "events": events,
        # Organic spikes (news, launches, giveaways, TV, spam, complaint micro-bursts): not crises; an alert
        # may reach `max_level` (watch) on them, anything above is a false alert.
        "organic": organic,
        "background": {"kind": background, "dispersion": dispersion},
        # Collector outages: a detector must raise a blind (coverage) alert, not read the gap as
        # a drop in volume. Written as `outage` lines of the replay file.
        "outages": outage_records,
        "posts": len(posts),
        # Reposts among them (retweets, Bluesky reposts, Mastodon boosts): amplification, never counted as posts.
        "reposts": n_reposts,
        "note": "Synthetic data generated by `vigie samples generate`; brands, people and urls are fictional.",
    }
    return Scenario(seed=seed, posts=posts, truth=truth, roles=roles, topics=topics)


def _ordinary(rng: random.Random, pool: AuthorPool, topic: TopicSpec, start: datetime, end: datetime,
              days: int, noise: bool, dispersion: float = 1.0) -> list[Draft]:
    """Everyday chatter following the daily/weekly rhythm; ~12 % are replies within a platform. With
    `dispersion` > 1 each 5-minute bucket's rate is multiplied by a gamma factor (bursty, overdispersed
    counts, see `vigie.sim.scenario.organic`)."""
    factors = day_factors(rng, days)
    hourly = [1.0] * ((days + 1) * 24)
    if noise:  # "seasonal noise": busier and quieter days, and hours that wobble, still no event
        factors = [1 + (f - 1) * 2.5 for f in factors]  # about x0.7 to x1.3 instead of x0.88 to x1.12
        hourly = [rng.lognormvariate(0, 0.25) for _ in hourly]
    per_minute = topic.per_day / 1440 / _mean_activity()
    bursts = bucket_factors(rng, (days + 1) * 288, dispersion, topic.per_day / 288) if dispersion > 1 else None

    def rate(t: datetime) -> float:
        elapsed = t - start
        value = per_minute * activity(t) * factors[elapsed.days] * hourly[int(elapsed.total_seconds() // 3600)]
        return value * bursts[int(elapsed.total_seconds() // 300)] if bursts else value

    drafts: list[Draft] = []
    recent: dict[str, list[Draft]] = {}
    for t in sample_times(rng, start, end, rate):
        person = pool.pick("fr" if rng.random() < topic.fr_share else "en")
        mood = rng.choices(("pos", "neu", "neg"), topic.moods)[0]
        text = texts.ordinary_text(rng, person.lang, mood, competitor_topic=topic.competitor)
        same = recent.setdefault(person.platform, [])
        parent = rng.choice(same) if same and rng.random() < 0.12 else None
        draft = Draft(t, person, text, person.lang, "ordinary", 1.0, parent=parent)
        drafts.append(draft)
        same.append(draft)
        if len(same) > 30:
            del same[0]
    return drafts


_MEAN_ACTIVITY: list[float] = []


def _mean_activity() -> float:
    """Mean of `activity` over a week, so `per_day` is the average daily volume."""
    if not _MEAN_ACTIVITY:
        t0 = DEFAULT_START
        values = [activity(t0 + timedelta(minutes=m)) for m in range(0, 7 * 1440, 5)]
        _MEAN_ACTIVITY.append(sum(values) / len(values))
    return _MEAN_ACTIVITY[0]


def _local_time(start: datetime, day: int, hour: float) -> datetime:
    """UTC time of `hour` (local, Paris winter time) on day `day` of the scenario."""
    midnight_local = (start + LOCAL_OFFSET).replace(hour=0, minute=0, second=0) + timedelta(days=day)
    return midnight_local - LOCAL_OFFSET + timedelta(seconds=round(hour * 3600))


def _place(shape: str, rng: random.Random, start: datetime, days: int, topic_id: str) -> EventSpec:
    """Where and how big each event shape is, drawn from the scenario's random stream."""
    late = min(days - 2, max(1, int(days * 0.6))) if days >= 3 else 0
    grievance = "lid_burns" if shape in ("bad_buzz", "flash_viral") else rng.choice(sorted(texts.GRIEVANCES))
    g = texts.GRIEVANCES[grievance]
    common = dict(topic_id=topic_id, grievance=grievance, description=g.description)
    if shape == "bad_buzz":
        onset = _local_time(start, late, rng.uniform(9.5, 11.5))
        return EventSpec(kind=BAD, shape=shape, onset=onset, peak_rate=3.4, half_life_minutes=170,
                         modulation=0.35, **common)
    if shape == "positive_viral":
        day = max(0, late - 2) if days >= 3 else 0
        onset = _local_time(start, day, rng.uniform(18.0, 19.5))
        return EventSpec(topic_id=topic_id, kind=POSITIVE, shape=shape, onset=onset, seed_minutes=0, seed_rate=0,
                         rise_minutes=60, peak_rate=2.8, half_life_minutes=110, amplifier_followers=180_000,
                         en_share=0.2, severity="watch", modulation=0.3,
                         description="Une cheffe suivie par 180k personnes encense le blender Tourbillon : "
                                     "vague de compliments et de questions, aucune crise.")
    if shape == "slow_burn":
        onset = _local_time(start, max(0, late - 2), rng.uniform(8, 20))
        return EventSpec(kind=BAD, shape=shape, onset=onset, seed_minutes=600, seed_rate=0.03,
                         rise_minutes=rng.uniform(2400, 3600), peak_rate=1.3, rise_power=1.0,
                         half_life_minutes=720, amplifier_followers=35_000, copy_share=0.05,
                         severity="warning", **common)
    if shape == "flash_viral":
        onset = _local_time(start, late, rng.uniform(11, 19))
        return EventSpec(kind=BAD, shape=shape, onset=onset, seed_minutes=10, seed_rate=0.1, rise_minutes=50,
                         peak_rate=6.0, half_life_minutes=70, modulation=0.2, **common)
    if shape == "bot_raid":
        onset = _local_time(start, late, rng.uniform(0, 24))
        return EventSpec(kind=BAD, shape=shape, onset=onset, seed_minutes=0, seed_rate=0, rise_minutes=20,
                         peak_rate=4.0, half_life_minutes=25, modulation=0.0, amplifier_followers=0,
                         copy_share=1.0, severity="warning", **common)
    if shape == "night_event":
        onset = _local_time(start, late, rng.uniform(0.5, 3.5))
        return EventSpec(kind=BAD, shape=shape, onset=onset, seed_minutes=40, rise_minutes=150, peak_rate=1.6,
                         half_life_minutes=180, modulation=0.2, **common)
    if shape == "weekend_event":
        # Saturday or Sunday of the scenario's first week (or its last day if shorter).
        weekend = [d for d in range(days) if (start + LOCAL_OFFSET + timedelta(days=d)).weekday() >= 5 and d >= 1]
        day = rng.choice(weekend) if weekend else days - 1
        return EventSpec(kind=BAD, shape=shape, onset=_local_time(start, day, rng.uniform(9, 16)), **common)
    if shape == "media_spike":
        onset = _local_time(start, late, rng.uniform(6.5, 9))
        return EventSpec(topic_id=topic_id, kind=BAD, shape=shape, onset=onset, seed_minutes=0, seed_rate=0,
                         rise_minutes=45, peak_rate=1.2, half_life_minutes=180, amplifier_followers=0,
                         severity="warning", en_share=0.15,
                         description="La presse annonce la fermeture d'une usine Brivolle : pic d'articles et de "
                                     "réactions tristes ou inquiètes, peu de colère.")
    if shape == "low_volume":
        onset = _local_time(start, late, rng.uniform(9, 18))
        return EventSpec(kind=BAD, shape=shape, onset=onset, seed_minutes=60, seed_rate=0.02, rise_minutes=180,
                         peak_rate=0.2, half_life_minutes=150, amplifier_followers=20_000, copy_share=0.1,
                         severity="warning", **common)
    raise ValueError(f"unknown event shape {shape!r}")


def _record(d: Draft, ids: Ids, rng: random.Random) -> dict[str, Any]:
    """A draft as one JSONL record (keys in a fixed order; absent values omitted to keep the file small)."""
    platform = d.platform or d.person.platform
    if d.parent is not None and (d.parent.native is None or d.parent.platform != platform):
        d.parent = None  # a reply lives on its parent's platform; cross-platform mentions are plain posts
    d.platform = platform
    d.native = ids.make(platform, d.t, reply=d.parent is not None)
    rec: dict[str, Any] = {"id": d.native, "source": platform, "created_at": iso(d.t), "text": d.text}
    if platform in ("x", "bluesky", "mastodon"):
        rec["lang"] = d.lang
    if platform in ("feeds", "reddit"):
        # Links only where they cannot be rebuilt from handle + id: keeps the demo file under 1.9 MB.
        rec["url"] = url_for(d.person, platform, d.native, rng, d.slug)
    rec["author"] = d.person.as_author()
    eng = engagement(rng, d.person, platform, d.virality,
                     luck=0.25 if d.role in ("amplifier", "viral_source") else 0.9)
    if eng:
        rec["engagement"] = eng
    if d.parent is not None:
        rec["parent_id"] = d.parent.native
        root = d.parent
        while root.parent is not None:
            root = root.parent
        rec["thread_id"] = root.native
    return rec


def as_posts(scenario: Scenario) -> list[Post]:
    """The scenario's records as `Post`s, exactly as the replay listener would build them (for backtests
    that feed the pipeline without writing files)."""
    from listeners.replay import record_to_post

    return [record_to_post(rec, raw_ref=f"scenario-{scenario.seed}:{i + 1}") for i, rec in enumerate(scenario.posts)]


# -- files ---------------------------------------------------------------------------------------------

def dumps_post(record: dict[str, Any]) -> str:
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))


def write(scenario: Scenario, folder: Path | str, malformed: int = MALFORMED_DEMO) -> tuple[Path, Path]:
    """Write `posts.jsonl` and `truth.json` into `folder`.

    `malformed` (0, 1 or 2; default 2) inserts that many deliberately broken lines so a replay shows
    quarantine at work: first a line cut in the middle (invalid JSON), then a record without `text`.
    They are extra lines: no generated post is lost. Returns the two paths.
    """
    if not 0 <= malformed <= 2:
        raise ValueError(f"malformed must be 0, 1 or 2, found {malformed}")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    lines = [dumps_post(p) for p in scenario.posts]
    n = len(scenario.posts)
    broken: list[tuple[int, str]] = []
    if malformed >= 1 and n:
        i = n // 5
        cut = dumps_post({**scenario.posts[i], "id": "broken-export-1"})
        broken.append((i, cut[: len(cut) * 3 // 5]))  # an export interrupted mid-line
    if malformed >= 2 and n:
        i = n // 3
        rec = {k: v for k, v in scenario.posts[i].items() if k != "text"}
        broken.append((i, dumps_post({**rec, "id": "broken-export-2"})))
    for i, line in sorted(broken + _outage_lines(scenario), reverse=True):
        lines.insert(i, line)
    posts_path, truth_path = folder / "posts.jsonl", folder / "truth.json"
    posts_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    truth = {**scenario.truth, "malformed_lines": malformed}
    truth_path.write_text(json.dumps(truth, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return posts_path, truth_path


def _outage_lines(scenario: Scenario) -> list[tuple[int, str]]:
    """(index among the posts, line) of each outage: before the first post created at or after its start."""
    out = []
    for o in scenario.truth.get("outages", []):
        at = next((i for i, p in enumerate(scenario.posts) if p["created_at"] >= o["start"]), len(scenario.posts))
        line = {"kind": "outage", "source": o["source"], "start": o["start"], "end": o["end"], "error": o["error"],
                "message": f"{o['source']} API unreachable"}
        out.append((at, dumps_post(line)))
    return out


def config_yaml(scenario: Scenario, posts_name: str = "posts.jsonl", db_path: str = "out/demo.db") -> str:
    """A complete Vigie config that replays this scenario (the bundled `samples/demo/vigie.yml`)."""
    lines = [
        "# Vigie demo configuration: replays a synthetic scenario (fictional brand Brivolle) through the real",
        "# pipeline. Generated by `vigie samples generate`; see vigie.example.yml for every option.",
        "topics:",
    ]
    for t in scenario.topics:
        lines += [
            f"  - id: {t.id}",
            f"    name: {json.dumps(t.name, ensure_ascii=False)}",
            f"    query: {_yaml_str(t.query)}",
            f"    aliases: [{', '.join(json.dumps(a, ensure_ascii=False) for a in t.aliases)}]",
            "    languages: [fr, en]",
        ]
    lines += [
        "sources:",
        "  # Relative paths are resolved against this file's folder.",
    ]
    down = sorted({o["source"] for o in scenario.truth.get("outages", [])})
    if down:
        # A platform whose collector fails in the scenario is its own source, so that it fails alone.
        skip = f", skip_platforms: [{', '.join(down)}]"
        lines.append(f"  replay: {{type: replay, path: {posts_name}{skip}}}")
        lines += [f"  {p}: {{type: replay, path: {posts_name}, platforms: [{p}]}}" for p in down]
    else:
        lines.append(f"  replay: {{type: replay, path: {posts_name}}}")
    lines += [
        "store:",
        "  # Relative to the working directory (`make demo` runs from the repository root).",
        "  type: sqlite",
        f"  path: {db_path}",
        "nlp:",
        "  sentiment: trained",
        "  languages: [fr, en]",
        "channels:",
        "  - {type: console, min_level: watch}",
        "",
    ]
    return "\n".join(lines)


def _yaml_str(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


# -- backtest suite ----------------------------------------------------------------------------------

SUITE_SHAPES = ("bad_buzz", "slow_burn", "flash_viral", "bot_raid", "night_event", "weekend_event",
                "media_spike", "positive_viral", "seasonal_noise", "low_volume")


def suite_shapes(i: int) -> tuple[str, ...]:
    """Shapes of the i-th suite scenario: cycles through SUITE_SHAPES; every third negative story also has
    a positive viral moment on another day (a detector must tell them apart)."""
    primary = SUITE_SHAPES[i % len(SUITE_SHAPES)]
    if primary in ("positive_viral", "seasonal_noise") or i % 3:
        return (primary,)
    return (primary, "positive_viral")


def scenario_suite(n: int = 50, base_seed: int = 1000, start: datetime = DEFAULT_START,
                   days: int = 7, background: str = "realistic") -> Iterator[Scenario]:
    """`n` seeded scenarios with ground truth, generated on demand (not committed): scenario i uses seed
    `base_seed + i` and `suite_shapes(i)`. Deterministic: the same arguments give the same suite."""
    for i in range(n):
        yield generate(base_seed + i, start=start, days=days, shapes=suite_shapes(i), background=background)


# -- feedback suite ----------------------------------------------------------------------------------

# The feedback suite's true events: one per scenario, cycling (crises, and a warning-severity bot raid).
FEEDBACK_EVENTS = ("bad_buzz", "flash_viral", "night_event", "weekend_event", "bot_raid")


def feedback_shapes(i: int) -> tuple[str, ...]:
    """Shapes of the i-th feedback-suite scenario: the brand's recurring outage-complaint waves (organic,
    `organic.RECURRING_SHAPE`) and one true negative event that must still be caught once analysts have
    marked the waves as false alarms."""
    return (RECURRING_SHAPE, FEEDBACK_EVENTS[i % len(FEEDBACK_EVENTS)])


def feedback_suite(n: int = 10, base_seed: int = 5000, start: datetime = DEFAULT_START,
                   days: int = 7, background: str = "realistic") -> Iterator[Scenario]:
    """`n` seeded scenarios where false alarms recur on one topic (`feedback_shapes`): what per-topic
    feedback can learn from. Separate from `scenario_suite`, whose scenarios it leaves unchanged."""
    for i in range(n):
        yield generate(base_seed + i, start=start, days=days, shapes=feedback_shapes(i), background=background)
