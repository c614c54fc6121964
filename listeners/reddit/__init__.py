"""Reddit, one folder: `config.py` (`RedditSource`), `native.py` (topic query → Reddit search syntax),
`listener.py` (`RedditListener`, praw; imported when a Reddit source is built) and, here, its scheduling facts."""

from listeners.lazy import listener_attributes
from listeners.reddit.config import RedditSource
from listeners.reddit.native import to_native
from vigie.core.platform import Platform, Pool, register

PLATFORM = register(Platform(
    name="reddit",
    config=RedditSource,
    listener="listeners.reddit.listener:RedditListener",
    native=to_native,
    # Reddit's OAuth limit is per client id: one request at a time across all workers.
    pool=Pool("vigie_reddit", 1, "Reddit OAuth: 100 queries/min per client id"),
    every_minutes=5,
    # Listings stop at ~1000 items whatever their age: 7 days assumed, which busy subreddits do not reach.
    lookback_hours=24 * 7,
))

__all__ = ["PLATFORM", "RedditSource", "to_native"]
__getattr__ = listener_attributes(__name__)
