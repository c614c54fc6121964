"""Bluesky, one folder: `config.py` (`BlueskySource`), `native.py` (topic query → searchPosts queries),
`listener.py` (`BlueskyListener`, atproto; imported when a Bluesky source is built) and, here, its
scheduling facts."""

from listeners.bluesky.config import BlueskySource
from listeners.bluesky.native import to_native
from listeners.lazy import listener_attributes
from vigie.core.platform import Platform, Pool, register

PLATFORM = register(Platform(
    name="bluesky",
    config=BlueskySource,
    listener="listeners.bluesky.listener:BlueskyListener",
    native=to_native,
    pool=Pool("vigie_bluesky", 2, "Bluesky AppView: 3000 requests / 5 min per IP"),
    every_minutes=5,
    # Search pages back by cursor without a documented time limit (deep pagination is capped): 7 days assumed.
    lookback_hours=24 * 7,
))

__all__ = ["PLATFORM", "BlueskySource", "to_native"]
__getattr__ = listener_attributes(__name__)
