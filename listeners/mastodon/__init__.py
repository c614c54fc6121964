"""Mastodon, one folder: `config.py` (`MastodonSource`), `native.py` (topic query → hashtags to follow),
`listener.py` (`MastodonListener`; imported when a Mastodon source is built) and, here, its scheduling facts."""

from listeners.lazy import listener_attributes
from listeners.mastodon.config import MastodonSource
from listeners.mastodon.native import to_native
from vigie.core.platform import Platform, Pool, register

PLATFORM = register(Platform(
    name="mastodon",
    config=MastodonSource,
    listener="listeners.mastodon.listener:MastodonListener",
    native=to_native,
    pool=Pool("vigie_mastodon", 2, "Mastodon instance: 300 requests / 5 min per token"),
    every_minutes=5,
    # Timelines page back by id without a documented time limit (servers prune remote statuses): 7 days assumed.
    lookback_hours=24 * 7,
))

__all__ = ["PLATFORM", "MastodonSource", "to_native"]
__getattr__ = listener_attributes(__name__)
