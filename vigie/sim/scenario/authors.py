"""Synthetic authors (heavy-tailed audiences, 1/9/90 participation), platform ids, urls and engagement.

All handles are invented; urls use the reserved `.example` domain (RFC 2606) so no link can point at a
real person.
"""

from __future__ import annotations

import bisect
import itertools
import math
import random
from dataclasses import dataclass
from datetime import datetime
from typing import Any

FIRST_FR = ["camille", "lucas", "manon", "hugo", "chloe", "theo", "lea", "louis", "ines", "nathan", "jade", "enzo",
            "sarah", "mathis", "julie", "antoine", "clara", "maxime", "emma", "paul", "lina", "romain", "zoe", "karim",
            "amandine", "yanis", "pauline", "quentin", "nadia", "florian", "margaux", "sofiane", "elodie", "bastien"]
FIRST_EN = ["james", "olivia", "liam", "ava", "noah", "mia", "ethan", "grace", "jack", "chloe", "ryan", "emily",
            "sean", "hannah", "owen", "aisha", "leo", "nora", "dylan", "maya"]
WORDS = ["cuisine", "gourmand", "chef", "pixel", "velo", "miam", "cafe", "lune", "foodie", "kitchen", "maker",
         "bricole", "daily", "papote", "home", "tribu", "crumble", "tartine", "geek", "breizh"]
PLATFORMS = ["x", "bluesky", "mastodon", "reddit"]
PLATFORM_WEIGHTS = [0.6, 0.17, 0.1, 0.13]
MASTODON_HOSTS = ["piaille.example", "mamot.example", "masto.example"]
SUBREDDITS = ["france", "cuisine", "conseiljuridique", "BuyItForLife", "Cooking"]

_B32 = "234567abcdefghijklmnopqrstuvwxyz"  # Bluesky's sortable base32


@dataclass
class Person:
    id: str
    handle: str
    name: str
    followers: int
    verified: bool
    platform: str
    lang: str  # language they write in

    def as_author(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "handle": self.handle, "name": self.name, "followers": self.followers}
        if self.verified:  # platforms mostly show the badge only when there is one
            out["verified"] = True
        return out


def heavy_tail_followers(rng: random.Random) -> int:
    """Pareto tail (alpha ~0.95): median ~40, one account in a few hundred above 10k."""
    return min(int(12 * rng.paretovariate(0.95)) + rng.randrange(40), 1_500_000)


class AuthorPool:
    """Who posts: 1 % heavy posters, 9 % regulars, 90 % occasional (weights 25 / 4 / 1)."""

    def __init__(self, rng: random.Random, size: int, fr_share: float = 0.7, prefix: str = "u"):
        self.rng = rng
        self.people: list[Person] = []
        self._serial = itertools.count(1)
        self.prefix = prefix
        self._weights: list[float] = []
        for _ in range(size):
            lang = "fr" if rng.random() < fr_share else "en"
            self.people.append(self.new_person(lang))
            r = rng.random()
            self._weights.append(25.0 if r < 0.01 else 4.0 if r < 0.10 else 1.0)
        self._cum = list(itertools.accumulate(self._weights))
        self._on: dict[tuple[str, str | None], tuple[list[int], list[float]]] = {}

    def new_person(self, lang: str, *, followers: int | None = None, platform: str | None = None,
                   handle: str | None = None, name: str | None = None, verified: bool | None = None) -> Person:
        rng = self.rng
        n = next(self._serial)
        first = rng.choice(FIRST_FR if lang == "fr" else FIRST_EN)
        if handle is None:
            style = rng.randrange(4)
            handle = (f"{first}_{rng.choice('abcdefghjlmnprstv')}{rng.randrange(10, 99)}" if style == 0 else
                      f"{first}.{rng.choice(WORDS)}" if style == 1 else
                      f"{rng.choice(WORDS)}_{first}{rng.randrange(100)}" if style == 2 else
                      f"{first}{rng.choice(WORDS)}{n % 97}")
        followers = heavy_tail_followers(rng) if followers is None else followers
        return Person(
            id=f"{self.prefix}{n}",
            handle=handle,
            name=name or f"{first.capitalize()} {rng.choice('ABCDEFGHJLMNPRSTV')}.",
            followers=followers,
            verified=(rng.random() < 0.6) if verified is None and followers > 50_000 else bool(verified),
            platform=platform or rng.choices(PLATFORMS, PLATFORM_WEIGHTS)[0],
            lang=lang,
        )

    def pick(self, lang: str | None = None, platform: str | None = None) -> Person:
        """An author by activity weight, preferring one who writes in `lang`; with `platform`, always one
        on that platform (and in `lang`)."""
        if platform is not None:
            return self._pick_on(platform, lang)
        for _ in range(8):
            person = self.people[bisect.bisect(self._cum, self.rng.random() * self._cum[-1])]
            if lang is None or person.lang == lang:
                return person
        return person

    def _pick_on(self, platform: str, lang: str | None) -> Person:
        """One draw among the pool's authors on `platform` (events pick per platform for every post: a
        rejection loop would miss rare pairs such as English Mastodon users and invent one-off authors)."""
        key = (platform, lang)
        if key not in self._on:
            members = [i for i, p in enumerate(self.people)
                       if p.platform == platform and (lang is None or p.lang == lang)]
            self._on[key] = (members, list(itertools.accumulate(self._weights[i] for i in members)))
        members, cum = self._on[key]
        if not members:  # tiny pools only
            return self.new_person(lang or "fr", platform=platform)
        return self.people[members[min(bisect.bisect(cum, self.rng.random() * cum[-1]), len(members) - 1)]]


class Ids:
    """Native ids shaped like each platform's, increasing with time (ties broken by a counter)."""

    def __init__(self) -> None:
        self._seq = itertools.count(1)

    def make(self, platform: str, t: datetime, reply: bool = False) -> str:
        seq = next(self._seq)
        ms = int(t.timestamp() * 1000)
        if platform == "x":
            return str(((ms - 1288834974657) << 22) + (seq % 4096))
        if platform == "mastodon":
            return str((ms << 16) + (seq % 65536))
        if platform == "bluesky":
            value = (ms * 1000 << 10) + (seq % 1024)
            return "".join(_B32[(value >> (5 * i)) & 31] for i in range(12, -1, -1))
        if platform == "reddit":
            return ("t1_" if reply else "t3_") + _base36(60_000_000 + seq * 7)
        return f"{platform}-{seq}"


def _base36(n: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while n:
        n, r = divmod(n, 36)
        out = digits[r] + out
    return out or "0"


def url_for(person: Person, platform: str, native: str, rng: random.Random, slug: str | None = None) -> str:
    if platform == "x":
        return f"https://x.example/{person.handle}/status/{native}"
    if platform == "bluesky":
        return f"https://bsky.example/profile/{person.handle}/post/{native}"
    if platform == "mastodon":
        return f"https://{MASTODON_HOSTS[hash_str(person.handle) % len(MASTODON_HOSTS)]}/@{person.handle}/{native}"
    if platform == "reddit":
        return f"https://reddit.example/r/{rng.choice(SUBREDDITS)}/comments/{native.split('_')[-1]}/"
    return f"https://{person.handle}.example/{slug or native}"


def hash_str(text: str) -> int:
    """A stable string hash (Python's `hash` is salted per process)."""
    h = 0
    for ch in text:
        h = (h * 131 + ord(ch)) & 0xFFFFFFFF
    return h


def engagement(rng: random.Random, person: Person, platform: str, virality: float = 1.0,
               luck: float = 0.9) -> dict[str, int]:
    """Interactions grow sub-linearly with audience and linearly with virality, with lognormal luck
    (`luck` is its sigma: the post that sets a story off is known to have travelled, so it gets little)."""
    base = 0.03 * (person.followers ** 0.8) * virality * rng.lognormvariate(0, luck)
    likes = int(base)
    reposts = int(likes * rng.uniform(0.05, 0.3) * (1 + math.log1p(virality) / 2))
    replies = int(likes * rng.uniform(0.03, 0.15))
    if platform == "reddit":
        return {"likes": likes + 1, "replies": replies}
    if platform == "feeds":
        return {}
    out = {"likes": likes, "reposts": reposts, "replies": replies}
    if platform in ("x", "bluesky"):
        out["quotes"] = int(reposts * rng.uniform(0, 0.2))
    if platform == "x":
        seen = person.followers * rng.uniform(0.1, 0.7) + likes * rng.uniform(15, 40)
        out["views"] = int(seen) + rng.randrange(5, 60)
    return out
