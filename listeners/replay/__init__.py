"""Replay of a JSONL file of posts (demo, backtests, backfills), one folder: `config.py` (`ReplaySource`),
`listener.py` (`ReplayListener`, `record_to_post`, the JSONL schema) and, here, its scheduling facts.
No server-side search: the file is one stream, matched locally."""

from listeners.lazy import listener_attributes
from listeners.native import no_search
from listeners.replay.config import ReplaySource
from vigie.core.platform import Platform, Pool, register

PLATFORM = register(Platform(
    name="replay",
    config=ReplaySource,
    listener="listeners.replay.listener:ReplayListener",
    native=no_search,
    # A replay file is one stream whose cursor every topic shares: one reader at a time.
    pool=Pool("vigie_replay", 1, "Replay of JSONL files (one reader per file cursor)"),
    every_minutes=5,
    lookback_hours=24 * 365,
))

__all__ = ["PLATFORM", "ReplaySource"]
__getattr__ = listener_attributes(__name__)
