"""Reposts (retweets, Bluesky reposts, Mastodon boosts) of the generated posts, as a listener collects them.

On X, Bluesky and Mastodon a search for a brand returns the reposts of matching posts too, and on real
brand-mention traffic they are a large share of what is collected. A repost is amplification of its
original: Vigie must count it towards the original's reach, never as a new post, a new negative voice or a
copy (`Post.is_repost`; the store's series, the near-duplicate index and the story leave them out). The
generator writes them so that every backtest and the demo exercise that rule on realistic traffic: a repost
wave of a negative post must not look like a copy-paste campaign.

Each original on those platforms gets a share of the reposts its engagement counts (`SEEN_SHARE`, at most
`MAX_PER_POST`: a search API returns the reposts made while the query runs, not the whole history), by authors
of the same platform, at delays drawn from a decaying attention curve (`DELAY_MINUTES` mean). Reposts are drawn
after every other post from the same random stream, so the other posts keep their bytes.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from vigie.core.models import iso, utc
from vigie.sim.scenario.authors import AuthorPool, Ids

PLATFORMS = ("x", "bluesky", "mastodon")  # Reddit crossposts and feed items are not reposts of a search hit
SEEN_SHARE = 0.5
MAX_PER_POST = 40
DELAY_MINUTES = 35.0
ROLE = "repost"


def repost_records(rng: random.Random, pool: AuthorPool, ids: Ids, posts: list[dict[str, Any]],
                   end: datetime) -> list[dict[str, Any]]:
    """Repost records (replay JSONL schema, `relation: repost`, `ref_id` the original's native id) of `posts`,
    before `end`, in no particular order."""
    out: list[dict[str, Any]] = []
    for original in posts:
        platform = original["source"]
        count = int((original.get("engagement") or {}).get("reposts") or 0)
        if platform not in PLATFORMS or count <= 0 or original.get("relation") == "repost" or original.get("parent_id"):
            continue  # a reply is collected through its thread, not by the search its reposts would need to match
        made = utc(datetime.fromisoformat(original["created_at"].replace("Z", "+00:00")))
        seen = sum(1 for _ in range(min(count, MAX_PER_POST)) if rng.random() < SEEN_SHARE)
        who: set[str] = set()
        for _ in range(seen):
            at = (made + timedelta(minutes=rng.expovariate(1 / DELAY_MINUTES), seconds=1)).replace(microsecond=0)
            person = pool.pick(platform=platform)
            if at >= end or person.id in who or person.id == original["author"]["id"]:
                continue  # one repost per account and post, never one's own
            who.add(person.id)
            out.append(_record(original, person.as_author(), ids.make(platform, at), at))
    return out


def _record(original: dict[str, Any], author: dict[str, Any], native: str, at: datetime) -> dict[str, Any]:
    platform = original["source"]
    # What each platform's API shows as a repost's text: X writes "RT @author: <text>"; Bluesky and Mastodon
    # show the original's own text (the listeners read the reposted record).
    text = f"RT @{original['author']['handle']}: {original['text']}" if platform == "x" else original["text"]
    rec: dict[str, Any] = {"id": native, "source": platform, "created_at": iso(at), "text": text}
    if "lang" in original:
        rec["lang"] = original["lang"]
    rec["author"] = author
    rec["relation"] = "repost"
    rec["ref_id"] = original["id"]
    return rec
