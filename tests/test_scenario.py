"""Scenario generator: determinism, realism checks on the story it tells, the bundled demo files."""

from __future__ import annotations

import collections
import json
import re
import statistics
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from listeners.replay import ReplayListener
from vigie.app.cli.samples import samples
from vigie.core.config import load_config
from vigie.core.models import utc
from vigie.sim.scenario import BACKGROUND_SHAPES, DEMO_SEED, SHAPES, feedback_suite, config_yaml, generate, scenario_suite, suite_shapes, write
from vigie.sim.scenario.events import SPREAD, spread_factor
from vigie.sim.scenario.organic import ORGANIC_ROLES
from vigie.sim.scenario.rhythm import LOCAL_OFFSET

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "samples" / "demo"
CRISIS_WORDS = re.compile(
    r"boycott|arnaque|scandal|avocat|plainte|dgccrf|rembours|dangere|lawsuit|honte|brûl|brul|danger|victim|sued|"
    r"class action|disgust|inadmissible|rappel", re.I)
POSITIVE_WORDS = re.compile(
    r"génial|genial|incroyable|magnifique|adore|love|amazing|craque|bravo|top|parfait|bluff|coup de coeur|"
    r"trop bien|gorgeous|perfect|beautiful|valide|merci|envie|convaincu|hype|excited|belle|hâte|hate|joli|beau|"
    r"régal|best", re.I)


@pytest.fixture(scope="module")
def demo():
    return generate(DEMO_SEED)


def _t(rec) -> datetime:
    return utc(rec["created_at"])


def _event(scenario, kind):
    (ev,) = [e for e in scenario.truth["events"] if e["kind"] == kind]
    return {k: utc(v) if k in ("onset", "peak", "end") else v for k, v in ev.items()}


def test_same_seed_same_bytes_and_different_seeds_differ(tmp_path, demo):
    write(demo, tmp_path / "a")
    write(generate(DEMO_SEED), tmp_path / "b")
    write(generate(DEMO_SEED + 1), tmp_path / "c")
    for name in ("posts.jsonl", "truth.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
        assert (tmp_path / "a" / name).read_bytes() != (tmp_path / "c" / name).read_bytes()


def test_bundled_demo_is_what_the_generator_produces_for_the_documented_seed(tmp_path, demo):
    posts, truth = write(demo, tmp_path)  # default: 2 malformed lines, as bundled
    assert (DEMO / "posts.jsonl").read_bytes() == posts.read_bytes(), \
        "samples/demo is stale: run `vigie samples generate --seed 7 --out samples/demo --force-config`"
    assert (DEMO / "truth.json").read_bytes() == truth.read_bytes()
    assert (DEMO / "vigie.yml").read_text(encoding="utf-8") == config_yaml(demo)


def test_bundled_demo_size_volume_languages_and_config(demo):
    assert (DEMO / "posts.jsonl").stat().st_size < 2.5e6  # the organic spikes add ~0.15 MB, the reposts ~0.3 MB
    assert 5000 <= len(demo.posts) <= 7500  # ~5,700 posts and ~850 reposts; the size limit above is the hard one
    langs = collections.Counter(p.get("lang") for p in demo.posts if p.get("lang"))
    assert 0.6 < langs["fr"] / (langs["fr"] + langs["en"]) < 0.8
    config = load_config(DEMO / "vigie.yml")
    assert [t.id for t in config.topics] == ["brivolle", "cuivrelle"]
    assert config.sources["replay"].path == (DEMO / "posts.jsonl").resolve()
    assert config.store.type == "sqlite" and config.channels[0].type == "console"
    assert config.channels[0].min_level == "watch"


def test_example_config_loads():
    config = load_config(ROOT / "vigie.example.yml")
    assert config.topics and config.store.type == "sqlite"
    assert any(c.type == "console" for c in config.channels)


def test_truth_events_are_ordered_and_inside_the_scenario(demo):
    truth = demo.truth
    start, end = utc(truth["start"]), utc(truth["end"])
    assert end - start == timedelta(days=7) and truth["seed"] == DEMO_SEED and truth["brand"] == "Brivolle"
    assert sorted(e["kind"] for e in truth["events"]) == ["bad_buzz", "positive_viral"]
    for ev in truth["events"]:
        assert start < utc(ev["onset"]) < utc(ev["peak"]) < utc(ev["end"]) <= end
        assert ev["description"] and ev["topic_id"] == "brivolle"
    buzz, positive = _event(demo, "bad_buzz"), _event(demo, "positive_viral")
    assert buzz["onset"].date() != positive["onset"].date()
    assert timedelta(hours=2) < buzz["peak"] - buzz["onset"] < timedelta(hours=12)  # "some hours after onset"
    assert all(start <= _t(p) < end for p in demo.posts)
    assert [p["created_at"] for p in demo.posts] == sorted(p["created_at"] for p in demo.posts)


def test_bad_buzz_window_is_far_more_negative_than_a_normal_day(demo):
    buzz = _event(demo, "bad_buzz")
    window = [p for p in demo.posts if buzz["onset"] <= _t(p) < buzz["end"]]
    normal_start = utc(demo.truth["start"]) + timedelta(days=1)  # Tuesday: no event
    spikes = [(utc(o["onset"]), utc(o["end"])) for o in demo.truth["organic"]]  # organic, non-crisis spikes
    normal = [p for p in demo.posts if normal_start <= _t(p) < normal_start + timedelta(days=1)
              and not any(a <= _t(p) < b for a, b in spikes)]
    hours = (buzz["end"] - buzz["onset"]).total_seconds() / 3600
    crisis_rate = sum(bool(CRISIS_WORDS.search(p["text"])) for p in window) / hours
    normal_rate = sum(bool(CRISIS_WORDS.search(p["text"])) for p in normal) / 24
    assert crisis_rate > 15 * max(normal_rate, 0.1), (crisis_rate, normal_rate)
    assert len(window) / hours > 2.5 * len(normal) / 24  # and far more posts altogether


def test_bad_buzz_story_onset_amplifier_copy_campaign(demo):
    buzz = _event(demo, "bad_buzz")
    records = list(zip(demo.posts, demo.roles))
    first = next(p for p, r in records if r == "onset")
    assert _t(first) == buzz["onset"]
    (amp,) = [p for p, r in records if r == "amplifier"]
    assert amp["author"]["followers"] >= 250_000 and amp["engagement"]["reposts"] > 500
    assert buzz["onset"] < _t(amp) < buzz["peak"]
    before = [r for p, r in records if buzz["onset"] <= _t(p) < _t(amp) and r != "ordinary"]
    assert 2 <= len(before) <= 12  # a few angry posts at onset, before the explosion
    copies = [p for p, r in records if r == "copy"]
    assert len(copies) > 150
    assert statistics.median(p["author"]["followers"] for p in copies) < 40
    replies = [p for p, r in records if r == "reply" and p.get("parent_id") == amp["id"]]
    assert len(replies) > 30


def _normalise(text: str) -> str:
    text = re.sub(r"[@#]\w+", " ", text.lower())
    return " ".join(re.findall(r"[^\W\d_]+", text))


def test_near_identical_texts_come_only_from_the_copy_campaign(demo):
    from datasketch import MinHash, MinHashLSH

    def shingles(text):
        words = _normalise(text).split()
        return {" ".join(words[i:i + 3]) for i in range(max(1, len(words) - 2))}

    lsh = MinHashLSH(threshold=0.8, num_perm=64)
    hashes = []
    for i, post in enumerate(demo.posts):
        if post.get("relation") == "repost":
            continue  # a repost carries its original's text by nature: amplification, not a copy
        m = MinHash(num_perm=64, seed=1)
        m.update_batch([s.encode() for s in shingles(post["text"])])
        lsh.insert(i, m)
        hashes.append((i, m))
    biggest = collections.Counter()
    for i, m in hashes:
        role = demo.roles[i] if demo.roles[i] in ("copy", "giveaway", "spam") else "other"
        biggest[role] = max(biggest[role], len(lsh.query(m)))
    assert biggest["copy"] >= 80
    # Organic copy storms (giveaways, spam) are near-identical by design; nothing else is.
    assert biggest["other"] * 3 < biggest["copy"], biggest


def test_positive_viral_moment_is_positive_without_crisis_vocabulary(demo):
    ev = _event(demo, "positive_viral")
    event_posts = [p for p, r in zip(demo.posts, demo.roles)
                   if r in ("viral_source", "praise", "question", "mild")]
    assert all(ev["onset"] <= _t(p) < ev["onset"] + timedelta(hours=16) for p in event_posts)
    assert sum(_t(p) < ev["end"] for p in event_posts) > 0.85 * len(event_posts)
    assert len(event_posts) > 300
    praise = [p for p, r in zip(demo.posts, demo.roles) if r in ("viral_source", "praise")]
    assert len(praise) > 0.6 * len(event_posts)  # the rest: questions ("dispo où ?") and mild regrets
    assert sum(bool(POSITIVE_WORDS.search(p["text"])) for p in praise) > 0.85 * len(praise)
    assert not any(CRISIS_WORDS.search(p["text"]) for p in event_posts)
    window = [p for p in demo.posts if ev["onset"] <= _t(p) < ev["onset"] + timedelta(hours=4)]
    spikes = [(utc(o["onset"]), utc(o["end"])) for o in demo.truth["organic"]]  # organic, non-crisis spikes
    assert len(window) > 3 * len([p for p in demo.posts if ev["onset"] - timedelta(days=1) <= _t(p) <
                                  ev["onset"] - timedelta(days=1) + timedelta(hours=4)
                                  and not any(a <= _t(p) < b for a, b in spikes)])


def test_daily_and_weekly_rhythm(demo):
    by_hour = collections.Counter()
    weekday, weekend = 0, 0
    for p, r in zip(demo.posts, demo.roles):
        if r != "ordinary":
            continue
        lt = _t(p) + LOCAL_OFFSET
        by_hour[lt.hour] += 1
        if lt.weekday() >= 5:
            weekend += 1
        else:
            weekday += 1
    night = sum(by_hour[h] for h in (2, 3, 4))
    evening = sum(by_hour[h] for h in (19, 20, 21))
    lunch = sum(by_hour[h] for h in (12, 13))
    morning = sum(by_hour[h] for h in (9, 10))
    assert evening > 8 * night and lunch > 1.2 * morning
    assert weekend / 2 < 0.95 * weekday / 5  # quieter weekend days


def test_authors_heavy_tailed_and_participation_skewed(demo):
    authors = {p["author"]["id"]: p["author"]["followers"] for p in demo.posts}
    followers = sorted(authors.values())
    assert statistics.median(followers) < 200 and followers[-1] >= 250_000
    top = followers[-max(1, len(followers) // 100):]
    assert sum(top) > 0.5 * sum(followers)  # the top 1 % hold most of the audience
    counts = sorted(collections.Counter(p["author"]["id"] for p in demo.posts).values(), reverse=True)
    assert sum(counts[: len(counts) // 10]) > 0.3 * sum(counts)  # 10 % of authors write > 30 % of posts


def test_engagement_grows_with_followers_and_virality(demo):
    def likes(pred):
        vals = [p["engagement"]["likes"] for p, r in zip(demo.posts, demo.roles)
                if "engagement" in p and "likes" in p["engagement"] and pred(p, r)]
        return statistics.median(vals)

    small = likes(lambda p, r: r == "ordinary" and p["author"]["followers"] < 50)
    large = likes(lambda p, r: r == "ordinary" and p["author"]["followers"] > 2000)
    assert large > 10 * max(small, 1)


def test_second_quiet_topic(demo):
    rival = [p for p in demo.posts if "cuivrelle" in p["text"].lower()]
    assert 100 < len(rival) < 400  # quiet: tens of posts a day


def test_every_post_outside_a_thread_matches_a_topic_keyword(demo):
    keys = ("brivolle", "brivole", "mijoteo", "kettla", "aircroq", "cuivrelle")
    missed = [p["text"] for p in demo.posts if not p.get("parent_id") and not any(k in p["text"].lower() for k in keys)]
    assert missed == []


def test_bundled_file_carries_exactly_two_malformed_lines(tmp_path, demo):
    listener = ReplayListener(DEMO / "posts.jsonl")
    pages = list(listener.fetch(listener.plan([])[0], None, datetime(2100, 1, 1, tzinfo=timezone.utc)))
    reasons = [r.reason for page in pages for r in page.rejected]
    assert len(reasons) == 2 and "invalid JSON" in reasons[0] and "'text'" in reasons[1]
    assert sum(len(page.posts) for page in pages) == len(demo.posts)
    posts, _ = write(demo, tmp_path, malformed=0)
    # malformed=0: no broken line; the demo's collector outage is one line of its own.
    assert len(posts.read_text(encoding="utf-8").splitlines()) == len(demo.posts) + len(demo.truth["outages"]) == \
        len(demo.posts) + 1
    with pytest.raises(ValueError):
        write(demo, tmp_path, malformed=3)


def test_as_posts_matches_what_the_replay_listener_reads(demo):
    from vigie.sim.scenario import as_posts

    listener = ReplayListener(DEMO / "posts.jsonl")
    pages = list(listener.fetch(listener.plan([])[0], None, datetime(2100, 1, 1, tzinfo=timezone.utc)))
    replayed = [p for page in pages for p in page.posts]
    direct = as_posts(demo)
    assert [(p.id, p.text, p.created_at, p.author, p.parent_id) for p in direct] == \
        [(p.id, p.text, p.created_at, p.author, p.parent_id) for p in replayed]


def test_demo_outage_silences_x_during_the_bad_buzz_rise_and_gets_its_own_source(demo):
    from vigie.sim.scenario import OutageSpec

    [outage] = demo.truth["outages"]
    buzz = next(e for e in demo.truth["events"] if e["kind"] == "bad_buzz")
    start, end = utc(outage["start"]), utc(outage["end"])
    assert outage["source"] == "x" and end - start == timedelta(minutes=45)
    assert utc(buzz["onset"]) < start < end < utc(buzz["peak"])  # during the rise
    line = next(json.loads(raw) for raw in (DEMO / "posts.jsonl").read_text(encoding="utf-8").splitlines()
                if '"kind":"outage"' in raw)
    assert (line["source"], line["start"], line["end"]) == ("x", outage["start"], outage["end"])
    config = load_config(DEMO / "vigie.yml")
    assert config.sources["x"].platforms == ["x"] and config.sources["replay"].skip_platforms == ["x"]
    # Outages draw nothing from the random stream: without one, the same posts.
    assert generate(DEMO_SEED, outages=()).posts == demo.posts
    assert generate(DEMO_SEED, shapes=["bad_buzz"]).truth["outages"] == []
    assert OutageSpec.parse("reddit:30:90") == OutageSpec("reddit", 30, 90)
    with pytest.raises(ValueError, match="PLATFORM:AFTER_MINUTES:MINUTES"):
        OutageSpec.parse("x:soon")


def test_unknown_shape_and_bad_days_are_refused():
    with pytest.raises(ValueError, match="unknown event shape"):
        generate(1, shapes=["tsunami"])
    with pytest.raises(ValueError, match="days"):
        generate(1, days=0)


# -- event shapes and the backtest suite --------------------------------------------------------------

@pytest.fixture(scope="module")
def shaped():
    return {shape: generate(500 + i, shapes=(shape,)) for i, shape in enumerate(SHAPES)}


def test_every_shape_has_consistent_truth(shaped):
    for shape, sc in shaped.items():
        start, end = utc(sc.truth["start"]), utc(sc.truth["end"])
        if shape in BACKGROUND_SHAPES:
            assert sc.truth["events"] == []
            continue
        (ev,) = sc.truth["events"]
        assert ev["shape"] == shape and ev["kind"] in ("bad_buzz", "positive_viral")
        assert start < utc(ev["onset"]) < utc(ev["peak"]) < utc(ev["end"]) <= end, shape
        assert ev["severity"] in ("watch", "warning", "crisis")


def test_shapes_tell_their_story(shaped):
    def ev(shape):
        e = shaped[shape].truth["events"][0]
        return utc(e["onset"]), utc(e["peak"])

    onset, peak = ev("slow_burn")
    assert peak - onset > timedelta(days=1)
    onset, peak = ev("flash_viral")
    assert peak - onset <= timedelta(minutes=90)
    onset, _ = ev("night_event")
    assert 0 <= (onset + LOCAL_OFFSET).hour < 4
    onset, _ = ev("weekend_event")
    assert (onset + LOCAL_OFFSET).weekday() >= 5
    raid = shaped["bot_raid"]
    raid_posts = [p for p, r in zip(raid.posts, raid.roles) if r not in ("ordinary", "repost") + ORGANIC_ROLES]
    assert raid_posts and all(p["author"]["followers"] < 40 for p in raid_posts)
    media = shaped["media_spike"]
    onset, _ = ev("media_spike")
    articles = [p for p in media.posts if p["source"] == "feeds" and onset <= _t(p) < onset + timedelta(hours=1)]
    assert len(articles) >= 4
    low = shaped["low_volume"]
    per_day = len([p for p in low.posts if "cuivrelle" not in p["text"].lower() and p.get("relation") != "repost"]) / 7
    assert per_day < 40


def test_feedback_suite_recurring_complaint_waves_are_organic():
    """The feedback suite: outage-complaint waves recur on the brand (organic, max level watch, at varying
    hours) beside one true event; the default suite's shapes never include them."""
    scenarios = list(feedback_suite(2))
    assert [sc.truth["shapes"] for sc in scenarios] == [["recurring_complaints", "bad_buzz"],
                                                        ["recurring_complaints", "flash_viral"]]
    for sc in scenarios:
        waves = [o for o in sc.truth["organic"] if o["shape"] == "recurring_complaints"]
        assert len(waves) >= 3 and {o["topic_id"] for o in waves} == {"brivolle"}
        assert all(o["max_level"] == "watch" and o["posts"] > 50 for o in waves)
        assert len({(utc(o["onset"]) + LOCAL_OFFSET).hour for o in waves}) > 1  # no fixed hour to learn
        assert len({utc(o["onset"]).date() for o in waves}) == len(waves)  # at most one a day
        [event] = sc.truth["events"]
        assert event["kind"] == "bad_buzz"
        wave_roles = [r for p, r in zip(sc.posts, sc.roles) if r == "complaint"]
        assert len(wave_roles) >= sum(o["posts"] for o in waves)
    assert not any("recurring_complaints" in suite_shapes(i) for i in range(50))


# -- spill-over: a story starts on one platform and reaches the others later ------------------------------

AUTHOR_PLATFORMS = {"x", "bluesky", "reddit", "mastodon"}


def _event_posts(scenario, ev):
    """The event's own posts on author platforms (press articles on feeds keep their own timing)."""
    onset, end = utc(ev["onset"]), utc(ev["end"])
    return [p for p, r in zip(scenario.posts, scenario.roles)
            if r not in ("ordinary", "repost") + ORGANIC_ROLES and p["source"] != "feeds" and onset <= _t(p) <= end]


def _minutes_after_onset(ev):
    return {src: (utc(at) - utc(ev["onset"])).total_seconds() / 60 for src, at in ev["platforms"].items()}


def test_bad_buzz_starts_on_x_and_spills_over_to_the_other_platforms(demo):
    (ev,) = [e for e in demo.truth["events"] if e["kind"] == "bad_buzz"]
    joins = _minutes_after_onset(ev)
    assert list(joins) == sorted(joins, key=joins.get) and joins["x"] == 0
    assert 20 <= joins["bluesky"] <= 40 and 45 <= joins["reddit"] <= 90 and 60 <= joins["mastodon"] <= 120
    posts = _event_posts(demo, ev)
    onset = utc(ev["onset"])
    first = [p for p in posts if _t(p) < onset + timedelta(minutes=min(30.0, joins["bluesky"]))]
    assert first and {p["source"] for p in first} == {"x"}  # the victims' posts, all on X
    for p in posts:  # nothing on a platform before the story reached it
        assert _t(p) >= utc(ev["platforms"][p["source"]]), p
    reddit = [p for p in posts if p["source"] == "reddit"]
    assert reddit and min(map(_t, reddit)) >= onset + timedelta(minutes=45)
    # From the peak on, every platform carries the story, X still the largest (its usual ~60 % share plus
    # the copy-paste campaign and the replies under the amplifier).
    late = collections.Counter(p["source"] for p in posts if _t(p) >= utc(ev["peak"]))
    assert set(late) == AUTHOR_PLATFORMS and min(late.values()) >= 10, late
    assert late.most_common(1)[0][0] == "x"
    records = {p["id"]: p for p in demo.posts}
    replies = [p for p in posts if p.get("parent_id")]
    assert replies and all(records[p["parent_id"]]["source"] == p["source"] for p in replies)


def test_every_shape_follows_its_spread_schedule(shaped):
    for shape, sc in shaped.items():
        if shape in BACKGROUND_SHAPES:
            continue
        (ev,) = sc.truth["events"]
        joins = _minutes_after_onset(ev)
        posts = _event_posts(sc, ev)
        assert posts, shape
        for p in posts:
            assert p["source"] in ev["platforms"] and _t(p) >= utc(ev["platforms"][p["source"]]), (shape, p)
        origin = next(iter(joins))
        origins = {src for src, m in joins.items() if m == 0}  # a bot raid starts on two at once
        assert joins[origin] == 0 and min(posts, key=_t)["source"] in origins, shape
        if shape == "bot_raid":
            assert set(joins) == {"x", "bluesky"} and {p["source"] for p in posts} <= {"x", "bluesky"}
        elif shape == "low_volume":
            assert len(joins) == 1 and origin in ("reddit", "mastodon")
            assert {p["source"] for p in posts} == {origin}
        elif shape == "slow_burn":
            assert origin == "reddit" and 12 * 60 <= joins["x"] <= 24 * 60
            assert joins["x"] < min(joins["bluesky"], joins["mastodon"])
        elif shape == "flash_viral":
            assert origin == "x" and max(joins.values()) <= 30 and set(joins) == AUTHOR_PLATFORMS
        elif shape == "media_spike":
            assert origin == "x" and 30 <= joins["reddit"] <= 60
            articles = [p for p in sc.posts if p["source"] == "feeds" and _t(p) >= utc(ev["onset"])]
            assert min(map(_t, articles)) == utc(ev["onset"])  # the press first, reactions from +10 min
        elif shape == "positive_viral":
            assert origin == "x" and all(30 <= m <= 60 for src, m in joins.items() if src != "x")
        if shape not in ("bot_raid", "low_volume"):  # the story ends up everywhere
            assert {p["source"] for p in posts} == AUTHOR_PLATFORMS, shape


def test_spread_schedule_is_drawn_from_the_seed():
    def joins(seed):
        return [e["platforms"] for e in generate(seed, days=3, shapes=("slow_burn",)).truth["events"]]

    assert joins(11) == joins(11) and joins(11) != joins(12)
    lone = {next(iter(e["platforms"])) for seed in range(8)
            for e in generate(seed, days=2, shapes=("low_volume",)).truth["events"]}
    assert lone == {"reddit", "mastodon"}  # the lone platform is drawn, not fixed


def test_a_joining_platform_ramps_to_its_usual_share():
    onset = datetime(2026, 3, 2, 9, tzinfo=timezone.utc)
    spread = {"x": onset, "reddit": onset + timedelta(minutes=60)}
    assert spread_factor(spread, "x", onset) == 1.0
    assert spread_factor(spread, "reddit", onset + timedelta(minutes=59)) == 0.0
    assert spread_factor(spread, "reddit", onset + timedelta(minutes=75)) == pytest.approx(0.5)
    assert spread_factor(spread, "reddit", onset + timedelta(hours=3)) == 1.0
    assert spread_factor(spread, "mastodon", onset + timedelta(days=1)) == 0.0
    assert spread_factor({}, "mastodon", onset) == 1.0  # no schedule: everywhere at once
    for shape, schedule in SPREAD.items():  # each schedule names its platforms once and starts somewhere
        names = [j.platform for j in schedule]
        assert len(set(names)) == len(names) and any(j.hi == 0 and j.after is None for j in schedule), shape


def test_seasonal_noise_swings_more_than_ordinary_weeks():
    def weekday_swing(shapes):
        days = collections.Counter(_t(p).weekday() for p in generate(2, shapes=shapes, background="poisson").posts)
        counts = [days[d] for d in range(5)]
        return max(counts) / min(counts)

    assert weekday_swing(()) < 1.3 < weekday_swing(("seasonal_noise",))


def test_an_event_cut_by_the_end_of_the_scenario_says_so():
    (ev,) = generate(5, days=2, shapes=("slow_burn",)).truth["events"]  # builds over days: cannot finish
    assert ev["truncated"] is True and ev["end"] == "2026-03-04T00:00:00Z"
    assert utc(ev["onset"]) < utc(ev["peak"]) <= utc(ev["end"])
    (ev,) = generate(5, shapes=("flash_viral",)).truth["events"]
    assert ev["truncated"] is False


def test_suite_is_seeded_and_deterministic():
    first = [s.truth for s in scenario_suite(n=4, base_seed=77, days=3)]
    again = [s.truth for s in scenario_suite(n=4, base_seed=77, days=3)]
    assert first == again
    assert [t["seed"] for t in first] == [77, 78, 79, 80]
    assert [tuple(t["shapes"]) for t in first] == [suite_shapes(i) for i in range(4)]
    kinds = {suite_shapes(i)[0] for i in range(50)}
    assert kinds >= {"bad_buzz", "slow_burn", "flash_viral", "bot_raid", "night_event", "weekend_event",
                     "media_spike", "positive_viral", "seasonal_noise", "low_volume"}


def test_cli_generate_writes_files_and_a_config_that_loads(tmp_path):
    out = tmp_path / "sc"
    result = CliRunner().invoke(samples, ["generate", "--seed", "3", "--out", str(out), "--days", "2",
                                          "--start", "2026-01-05T00:00:00Z", "--shape", "bot_raid"])
    assert result.exit_code == 0, result.output
    truth = json.loads((out / "truth.json").read_text(encoding="utf-8"))
    assert truth["start"] == "2026-01-05T00:00:00Z" and truth["shapes"] == ["bot_raid"]
    config = load_config(out / "vigie.yml")
    assert config.sources["replay"].path == (out / "posts.jsonl").resolve()
    assert "bot_raid" in result.output
    (out / "vigie.yml").write_text("# mine\n" + (out / "vigie.yml").read_text(encoding="utf-8"))
    again = CliRunner().invoke(samples, ["generate", "--seed", "3", "--out", str(out), "--days", "2"])
    assert again.exit_code == 0 and "kept" in again.output
    assert (out / "vigie.yml").read_text(encoding="utf-8").startswith("# mine")
    bad = CliRunner().invoke(samples, ["generate", "--out", str(out), "--shape", "tsunami"])
    assert bad.exit_code != 0 and "unknown event shape" in bad.output


def test_realistic_background_is_bursty_with_organic_spikes_and_poisson_stays_calm():
    import statistics

    def dispersion(scenario):
        start = utc(scenario.truth["start"])
        counts = [0] * (7 * 288)
        for p, r in zip(scenario.posts, scenario.roles):
            if r == "ordinary" and "cuivrelle" not in p["text"].lower():
                counts[int((_t(p) - start).total_seconds() // 300)] += 1
        # variance / mean around a 1-hour moving mean (the measure used on real brand traffic)
        resid, means = [], []
        for i in range(6, len(counts) - 6):
            m = sum(counts[i - 6:i + 6]) / 12
            resid.append((counts[i] - m) ** 2)
            means.append(m)
        return statistics.mean(resid) / max(statistics.mean(means), 1e-9)

    real = generate(1003, shapes=("bad_buzz",))
    calm = generate(1003, shapes=("bad_buzz",), background="poisson")
    assert real.truth["background"]["kind"] == "realistic" and calm.truth["background"]["kind"] == "poisson"
    assert dispersion(calm) < 1.5 < 4 < dispersion(real)
    assert calm.truth["organic"] == [] and len(real.truth["organic"]) >= 3
    shapes = {o["shape"] for o in real.truth["organic"]}
    assert shapes <= {"news", "launch", "giveaway", "tv", "spam", "complaints"}
    assert all(o["max_level"] == "watch" and o["kind"] == "organic" and o["posts"] > 0 for o in real.truth["organic"])
    for d in real.truth["background"]["dispersion"].values():
        assert 1.6 <= d <= 375
    with pytest.raises(ValueError, match="unknown background"):
        generate(1003, background="calm")


def test_reposts_amplify_real_originals_and_leave_every_other_post_unchanged(demo):
    plain = generate(DEMO_SEED, reposts=False)
    reposts = [p for p in demo.posts if p.get("relation") == "repost"]
    assert [p for p in demo.posts if p.get("relation") != "repost"] == plain.posts  # drawn last: same bytes
    assert demo.truth["reposts"] == len(reposts) and plain.truth["reposts"] == 0
    assert 0.08 < len(reposts) / len(plain.posts) < 0.3
    assert [r for p, r in zip(demo.posts, demo.roles) if p.get("relation") == "repost"] == ["repost"] * len(reposts)
    assert [p["created_at"] for p in demo.posts] == sorted(p["created_at"] for p in demo.posts)
    originals = {(p["source"], p["id"]): p for p in plain.posts}
    seen = set()
    for r in reposts:
        original = originals[(r["source"], r["ref_id"])]  # on the original's platform
        assert r["source"] in ("x", "bluesky", "mastodon") and r["created_at"] > original["created_at"]
        assert r["author"]["id"] != original["author"]["id"] and (r["author"]["id"], r["ref_id"]) not in seen
        seen.add((r["author"]["id"], r["ref_id"]))
        assert r["text"] == (f"RT @{original['author']['handle']}: {original['text']}" if r["source"] == "x"
                             else original["text"])
        assert len([1 for s in seen if s[1] == r["ref_id"]]) <= original["engagement"]["reposts"]
    # The amplifier's post that set the bad buzz off travels: it is among the most reposted.
    per_original = collections.Counter(r["ref_id"] for r in reposts)
    amplifier = next(p for p, role in zip(plain.posts, plain.roles) if role == "amplifier")
    assert per_original[amplifier["id"]] >= 10


def test_reposts_add_reach_and_never_posts_to_the_series(tmp_path):
    """What the store counts from a scenario with reposts: the same posts, negatives, authors and copy
    clusters as without them, and more reach (SQLite, the replay listener's reading of the records)."""
    from vigie.sim import evaluation as ev

    start = datetime(2026, 3, 2, tzinfo=timezone.utc)
    series = {}
    for with_reposts in (False, True):
        scenario = generate(11, start=start, days=2, shapes=("flash_viral",), reposts=with_reposts)
        store = ev.open_file_store(tmp_path / f"{with_reposts}.db")
        ev.fill_store(scenario, store, "oracle")
        series[with_reposts] = store.series("brivolle", start, start + timedelta(days=2), timedelta(hours=1))
        store.close()
    plain, amplified = series[False], series[True]
    counted = ("count", "negative", "positive", "authors", "crisis_terms", "crisis_categories", "sources", "max_dup_cluster")
    assert [[getattr(b, f) for f in counted] for b in plain] == [[getattr(b, f) for f in counted] for b in amplified]
    assert sum(b.reposts for b in plain) == 0 and sum(b.reposts for b in amplified) > 20
    assert sum(b.reach for b in amplified) > sum(b.reach for b in plain)
    assert sum(b.negative_reach for b in amplified) > sum(b.negative_reach for b in plain)  # the story's reposts
