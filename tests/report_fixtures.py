"""A small, deterministic store for the report and notebook tests: two fictional topics over three days,
one bad buzz (with its alert escalating watch → warning → crisis → resolved) and one positive viral moment.

All texts are written by the project. The alerts are built by hand (not by the detector) so the report
tests depend only on the store contract and the domain records.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from vigie.core.config import VigieConfig, load_config
from vigie.core.models import (
    Alert, AlertState, Analysis, Author, Crisis, Driver, Engagement, EvidenceItem, HistoryEntry, Level, Post, Sentiment,
    iso,
)
from vigie.store.sqlite import SqliteStore

T0 = datetime(2026, 3, 2, 0, 0, tzinfo=timezone.utc)  # a Monday
DAYS = 3
ONSET = T0 + timedelta(days=1, hours=14)
PEAK = T0 + timedelta(days=1, hours=19)
END = T0 + timedelta(days=2, hours=2)
VIRAL_PEAK = T0 + timedelta(days=2, hours=12)

CALM = [
    ("fr", "neu", 0.0, "Quelqu'un sait si la box Lumio marche avec la fibre de l'immeuble ?"),
    ("fr", "pos", 0.6, "Installation Lumio faite en dix minutes, le technicien était top."),
    ("fr", "neg", -0.4, "Encore une coupure Lumio ce matin, un peu pénible."),
    ("en", "neu", 0.0, "Does Lumio ship the new router with the basic plan?"),
    ("en", "pos", 0.5, "Lumio support sorted my billing question in five minutes, nice."),
    ("en", "neg", -0.3, "Lumio app logged me out again, annoying."),
]
CRISIS = [
    ("fr", -0.8, "Lumio m'a prélevé trois fois ce mois-ci, c'est une arnaque, remboursez-moi !", ["fraud"]),
    ("fr", -0.9, "Scandale : Lumio facture des clients résiliés. Boycott !", ["boycott", "fraud"]),
    ("en", -0.7, "Lumio double-charged thousands of customers and support hangs up on us. Class action?",
     ["legal", "service"]),
]
VIRAL = [("fr", 0.8, "La pub Lumio avec le chat pianiste est géniale, je la regarde en boucle 😂"),
         ("en", 0.7, "That Lumio cat piano ad made my day, who made this?")]


def _post(i: int, t: datetime, lang: str, label: str, score: float, text: str, topic: str, rng: random.Random,
          categories: list[str] | None = None, followers: int | None = None) -> Post:
    source = rng.choice(["x", "x", "reddit", "mastodon", "feeds"])
    return Post(
        id=f"{source}:{topic}-{i}", source=source, text=text, created_at=t,
        url=f"https://example.org/{source}/{topic}/{i}",
        author=Author(id=f"u{i % 97}", handle=f"user{i % 97}", followers=followers or rng.randint(10, 3000)),
        engagement=Engagement(likes=rng.randint(0, 30), reposts=rng.randint(0, 8), replies=rng.randint(0, 5)),
        topic_ids=[topic],
        analysis=Analysis(lang=lang, sentiment=Sentiment(label, score, "lexicon"),
                          crisis=Crisis(risk=0.8 if categories else 0.0, categories=categories or [],
                                        terms=["arnaque"] if categories else []),
                          topic_ids=[topic]),
    )


def make_posts(seed: int = 7) -> list[Post]:
    rng = random.Random(seed)
    posts: list[Post] = []
    i = 0
    for hour in range(DAYS * 24):
        t0 = T0 + timedelta(hours=hour)
        # Daily rhythm: quiet nights, busier evenings.
        base = 2 if t0.hour < 7 else 6 if t0.hour < 18 else 9
        for topic in ("lumio", "lumio-support"):
            for _ in range(rng.randint(base // 2, base)):
                lang, label, score, text = rng.choice(CALM)
                posts.append(_post(i, t0 + timedelta(minutes=rng.randint(0, 59)), lang, label, score, text, topic, rng))
                i += 1
        if ONSET <= t0 < END:
            # The bad buzz grows until the peak, then decays.
            dist = abs((t0 - PEAK).total_seconds()) / 3600
            for _ in range(max(0, int(40 - 7 * dist))):
                lang, score, text, cats = rng.choice(CRISIS)
                posts.append(_post(i, t0 + timedelta(minutes=rng.randint(0, 59)), lang, "neg", score, text, "lumio",
                                   rng, cats, followers=rng.choice([50, 200, 120000])))
                i += 1
        dist = abs((t0 - VIRAL_PEAK).total_seconds()) / 3600
        for _ in range(max(0, int(30 - 8 * dist))):
            lang, score, text = rng.choice(VIRAL)
            posts.append(_post(i, t0 + timedelta(minutes=rng.randint(0, 59)), lang, "pos", score, text, "lumio", rng))
            i += 1
    return posts


def make_alerts(posts: list[Post]) -> list[Alert]:
    """One bad-buzz episode on `lumio` and a short watch on `lumio-support`."""
    evidence = [
        EvidenceItem(id=p.id, url=p.url, author=p.author.handle, followers=p.author.followers, text=p.text,
                     engagement=p.engagement.total, sentiment="neg", created_at=p.created_at)
        for p in posts if p.analysis and p.analysis.crisis.categories
    ][:3]
    opened = ONSET + timedelta(minutes=40)
    steps = [(0, "open", "watch", 41.0), (35, "escalate", "warning", 61.0), (95, "escalate", "crisis", 78.0),
             (200, "update", "crisis", 92.0), (330, "update", "warning", 64.0), (540, "resolve", None, 18.0)]
    history = [HistoryEntry(at=opened + timedelta(minutes=m), event=e, level=Level(lv) if lv else None, risk=r)
               for m, e, lv, r in steps]
    key = Alert.make_dedup_key("lumio", opened)
    crisis = Alert(
        id=Alert.make_id(key), dedup_key=key, topic_id="lumio", level=Level.WARNING, risk=18.0, opened_at=opened,
        updated_at=opened + timedelta(minutes=540), state=AlertState.RESOLVED,
        resolved_at=opened + timedelta(minutes=540), peak_risk=92.0, peak_level=Level.CRISIS, history=history,
        drivers=[
            Driver("negative_volume", 38.5, 120.0, 6.0, "120 negative posts in 30 min vs 6 usually (x20)"),
            Driver("crisis_terms", 18.0, 0.7, 0.02, "70% of posts use fraud/boycott/legal vocabulary"),
            Driver("reach", 12.0, 480000, 20000, "a 120k-follower account amplified it"),
        ],
        evidence=evidence,
    )
    w_open = T0 + timedelta(days=0, hours=20)
    key2 = Alert.make_dedup_key("lumio-support", w_open)
    watch = Alert(
        id=Alert.make_id(key2), dedup_key=key2, topic_id="lumio-support", level=Level.WATCH, risk=22.0,
        opened_at=w_open, updated_at=w_open + timedelta(hours=1), state=AlertState.RESOLVED,
        resolved_at=w_open + timedelta(hours=1), peak_risk=38.0, peak_level=Level.WATCH,
        history=[HistoryEntry(at=w_open, event="open", level=Level.WATCH, risk=38.0),
                 HistoryEntry(at=w_open + timedelta(hours=1), event="resolve", risk=22.0)],
        drivers=[Driver("negative_share", 9.0, 0.4, 0.2, "negative share 40% vs 20% usually")],
    )
    return [crisis, watch]


TRUTH: dict[str, Any] = {
    "events": [
        {"topic_id": "lumio", "kind": "bad_buzz", "onset": iso(ONSET), "peak": iso(PEAK), "end": iso(END),
         "description": "Double billing of cancelled customers, amplified by a 120k-follower account"},
        {"topic_id": "lumio", "kind": "positive_viral", "onset": iso(VIRAL_PEAK - timedelta(hours=4)),
         "peak": iso(VIRAL_PEAK), "end": iso(VIRAL_PEAK + timedelta(hours=4)),
         "description": "Cat-piano advert goes viral"},
    ]
}

CONFIG_YAML = """\
topics:
  - id: lumio
    name: Lumio (brand)
    query: lumio
  - id: lumio-support
    name: Lumio customer support
    query: lumio AND (support OR service)
    thresholds: {{watch: 30, warning: 50, crisis: 70}}
store:
  type: sqlite
  path: {db}
"""


def write_config(directory: Path, db: Path) -> Path:
    path = directory / "vigie.yml"
    path.write_text(CONFIG_YAML.format(db=str(db)), encoding="utf-8")
    return path


def build_store(directory: Path, *, with_data: bool = True) -> tuple[SqliteStore, VigieConfig, Path]:
    """A filled (or empty) SQLite store and its config file in `directory`."""
    db = directory / "r.db"
    config_path = write_config(directory, db)
    store = SqliteStore(db)
    if with_data:
        posts = make_posts()
        store.upsert_posts(posts)
        for alert in make_alerts(posts):
            store.save_alert(alert)
    return store, load_config(config_path), config_path
