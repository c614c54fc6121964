"""X (Twitter), one folder: `config.py` (`XSource`), `native.py` (topic query → X search syntax),
`listener.py` (`XListener`, tweepy; imported when an X source is built) and, here, its scheduling facts."""

from listeners.lazy import listener_attributes
from listeners.x.config import XSource
from listeners.x.native import to_native
from vigie.core.platform import Platform, Pool, register

PLATFORM = register(Platform(
    name="x",
    config=XSource,
    listener="listeners.x.listener:XListener",
    native=to_native,
    # The pool caps concurrent calls across all workers: X's search limit is per app, so one at a time.
    pool=Pool("vigie_x", 1, "X API v2 recent search: app-level rate limit (450 requests / 15 min)"),
    every_minutes=2,  # recent search is the fastest-moving signal
    lookback_hours=24 * 7,  # recent search goes back 7 days
))

__all__ = ["PLATFORM", "XSource", "to_native"]
__getattr__ = listener_attributes(__name__)
