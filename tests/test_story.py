"""Story-level alerts (alerts/story.py): what an alert is about, read from a real store's posts (SQLite, and
Elasticsearch through osmem-server), stored with the alert, and the evidence chosen to explain it."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from alerts import story
from test_store_contract import store  # noqa: F401 (the fixture: a real SQLite file, and Elasticsearch on osmem)
from vigie.core.entities import from_text
from vigie.core.models import Alert, Analysis, Author, Engagement, Level, Post, Sentiment, Story
from vigie.sim.sample_alerts import T0, make_alert

T = datetime(2026, 3, 4, 12, 0, tzinfo=timezone.utc)
TOPIC = "acme"


def post(native: str, at: datetime, text: str, *, label: str = "neg", source: str = "x", followers: int = 100,
         author: str | None = None, likes: int = 0, cluster: str | None = None, relation: str = "original",
         ref_id: str | None = None, created: datetime | None = None) -> Post:
    handle = author or f"user_{native}"
    return Post(id=f"{source}:{native}", source=source, text=text, created_at=at,
                author=Author(id=handle, handle=handle, followers=followers, created_at=created),
                engagement=Engagement(likes=likes), topic_ids=[TOPIC], relation=relation, ref_id=ref_id,  # type: ignore[arg-type]
                entities=from_text(text),
                analysis=Analysis(lang="fr", sentiment=Sentiment(label, {"neg": -0.8, "neu": 0.0, "pos": 0.8}[label], "t"),
                                  topic_ids=[TOPIC], near_dup_cluster=cluster))


def scenario() -> dict[str, list[Post]]:
    """A day of ordinary chatter, then a story: a first report two hours before the window, an amplifier with
    reposts, a copy campaign by young low-follower accounts, angry posts on three platforms and a press item."""
    ordinary = [post(f"o{i}", T - timedelta(hours=27) + timedelta(minutes=7 * i),
                     f"super petit dejeuner avec mon grille-pain acme numero {i} #acme", label="pos",
                     source=("x", "reddit")[i % 2]) for i in range(200)]
    first = post("first", T - timedelta(hours=2), "le couvercle de ma cocotte acme explose en pleine cuisson, brulure grave",
                 followers=40)
    amplifier = post("amp", T - timedelta(minutes=50), "scandale: couvercle de cocotte qui explose en pleine cuisson, "
                     "brulure et acme refuse de rembourser, on relaie #boycottacme", followers=250_000, likes=5_000,
                     author="conso_vigilante")
    reposts = [post(f"rp{i}", T - timedelta(minutes=45 - i), amplifier.text, followers=1_000, relation="repost",
                    ref_id=amplifier.id) for i in range(10)]
    copy_text = "signez la petition contre la cocotte acme dangereuse #boycottacme"
    copies = [post(f"c{i}", T - timedelta(minutes=40 - 3 * i), copy_text, followers=10 if i < 4 else 500,
                   cluster="x:c0", created=T - timedelta(days=400)) for i in range(6)]
    angry = [post(f"a{i}", T - timedelta(minutes=35 - 3 * i), f"cocotte acme dangereuse, boycott total #boycottacme {i}",
                  source=("x", "bluesky", "reddit")[i % 3], likes=3) for i in range(10)]
    press = [post("press", T - timedelta(minutes=20), "Cocotte Acme : enquete apres des brulures", source="feeds",
                  followers=300_000)]
    return {"ordinary": ordinary, "first": [first], "amplifier": [amplifier], "reposts": reposts, "copies": copies,
            "angry": angry, "press": press}


def test_the_story_names_first_report_amplifier_copies_rising_words_sources_and_press(store):
    parts = scenario()
    store.upsert_posts([p for ps in parts.values() for p in ps])
    reading = story.build_story(store, TOPIC, T - timedelta(hours=1), T, query="acme OR #acme")
    s = reading.story
    amp = parts["amplifier"][0]

    # Amplification: the 250k account first, its reposts counted as its reach, never as posts of their own.
    assert s.amplifiers[0].id == amp.id and s.amplifiers[0].followers == 250_000
    assert s.amplifiers[0].reposts == 10 and s.amplifiers[0].reach == 250_000 + 10 * 1_000
    assert s.reposts == 10
    originals = len(parts["amplifier"]) + len(parts["copies"]) + len(parts["angry"]) + len(parts["press"])
    assert s.posts == originals and sum(s.sources.values()) == originals
    assert s.sources == {"x": 1 + 6 + 4, "bluesky": 3, "reddit": 3, "feeds": 1}
    assert all(a.source != "feeds" for a in s.amplifiers)  # the press is the press pickup, not an amplifier

    # The copy campaign: size, distinct authors, share of low-follower accounts, first seen, representative.
    c = s.clusters[0]
    assert (c.id, c.size, c.authors) == ("x:c0", 6, 6)
    assert c.young_or_small == pytest.approx(4 / 6, abs=1e-3)
    assert c.first_seen == parts["copies"][0].created_at and c.text == parts["copies"][0].text

    # Rising against the baseline day, with their counts; the topic's own words and hashtag never rise.
    tags = {t.key: t for t in s.rising if t.kind == "hashtags"}
    assert tags["boycottacme"].window == 1 + 6 + 10 and tags["boycottacme"].baseline == 0
    terms = {t.key for t in s.rising if t.kind == "terms"}
    assert "cocotte" in terms and "acme" not in terms and "acme" not in tags

    # The first report: traced back from the story's markers to the victim's post, before the window.
    assert s.first_post is not None and s.first_post.id == parts["first"][0].id
    assert [p.id for p in s.press] == ["feeds:press"]

    # Evidence explains the drivers first (amplifier, first report, the copy cluster), then the top negatives.
    top = [parts["angry"][0], parts["angry"][1], amp]
    evidence = story.choose_evidence(reading, top, 5)
    assert [e.id for e in evidence] == [amp.id, parts["first"][0].id, "x:c0", parts["angry"][0].id, parts["angry"][1].id]


def test_a_story_is_stored_with_its_alert_and_comes_back_the_same(store):
    parts = scenario()
    store.upsert_posts([p for ps in parts.values() for p in ps])
    alert = make_alert(level=Level.CRISIS, risk=90)
    alert.story = story.build_story(store, TOPIC, T - timedelta(hours=1), T, query="acme").story
    store.save_alert(alert)
    again = store.get_alert(alert.id)
    assert again is not None and again.story == alert.story
    assert Story.from_dict(alert.story.to_dict()) == alert.story
    assert Alert.from_dict({**alert.to_dict(), "story": {"garbage": 1}}).story is None  # an unreadable story: alert loads


def test_no_story_markers_no_first_post():
    quiet = Story(start=T - timedelta(hours=1), end=T)
    assert quiet.first_post is None and Story.from_dict(quiet.to_dict()) == quiet


def test_a_story_is_told_at_open_escalation_and_new_peaks_only():
    alert = make_alert(risk=60, peak_risk=60)
    alert.story = Story(start=T, end=T)
    before = make_alert(risk=58, peak_risk=58)
    assert story.story_due("open", alert, None) and story.story_due("escalate", alert, before)
    assert story.story_due("update", alert, before)  # a new peak (60 > 58)
    assert not story.story_due("update", alert, make_alert(risk=70, peak_risk=70))  # below the peak: kept
    assert not story.story_due("resolve", alert, before)


def test_a_story_growing_at_its_worst_level_is_retold_every_half_hour_for_six_hours():
    alert = make_alert(level=Level.CRISIS, risk=100)
    alert.story = Story(start=T0, end=T0, computed_at=T0)
    same = make_alert(level=Level.CRISIS, risk=100)
    for minutes, due in ((25, False), (30, True), (6 * 60, True), (6 * 60 + 5, False)):
        alert.updated_at = T0 + timedelta(minutes=minutes)
        assert story.story_due("update", alert, same) is due, minutes
    alert.updated_at, alert.level = T0 + timedelta(minutes=40), Level.WARNING  # stepped down: the worst story stays
    assert not story.story_due("update", alert, same)


def test_an_escalation_back_below_the_peak_keeps_the_story_of_the_worst_moment():
    # A crisis that fell to watch overnight and rises to warning again (a late repost) keeps its crisis story.
    tail = make_alert(level=Level.WARNING, risk=63, peak_risk=100)
    tail.peak_level, tail.story = Level.CRISIS, Story(start=T, end=T)
    assert not story.story_due("escalate", tail, make_alert(level=Level.WATCH, risk=40, peak_risk=100))
    worse = make_alert(level=Level.CRISIS, risk=80)
    worse.story = Story(start=T, end=T)
    assert story.story_due("escalate", worse, make_alert(level=Level.WARNING, risk=60))
