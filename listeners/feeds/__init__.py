"""RSS/Atom feeds and Discourse forums, one folder: `config.py` (`FeedsSource`), `listener.py`
(`FeedsListener`, feedparser; imported when a feeds source is built) and, here, its scheduling facts.
No server-side search: every entry is fetched and matched locally."""

from listeners.lazy import listener_attributes
from listeners.feeds.config import FeedsSource
from listeners.native import no_search
from vigie.core.platform import Platform, Pool, register

PLATFORM = register(Platform(
    name="feeds",
    config=FeedsSource,
    listener="listeners.feeds.listener:FeedsListener",
    native=no_search,
    pool=Pool("vigie_feeds", 4, "RSS/Atom and Discourse: independent hosts, be polite"),
    every_minutes=10,  # feeds rarely change more often
    lookback_hours=24,  # a feed keeps its last N items: 1 day assumed
))

__all__ = ["PLATFORM", "FeedsSource"]
__getattr__ = listener_attributes(__name__)
