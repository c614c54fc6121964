"""Listeners: one module per platform, each turning a platform's API into pages of `Post` records.

`build_listener(name, cfg)` is the one registry. Each platform module is imported lazily, when a source
of its type is built, so a missing optional client library (tweepy, praw, atproto...) only breaks its
own source.
"""

from __future__ import annotations

import importlib
import inspect
from typing import Any

from listeners.base import Listener, SourceError

# config `type` → "module:class"; every class has `from_config(name, cfg)`.
REGISTRY = {
    "replay": "listeners.replay:ReplayListener",
    "x": "listeners.x:XListener",
    "reddit": "listeners.reddit:RedditListener",
    "feeds": "listeners.feeds:FeedsListener",
    "mastodon": "listeners.mastodon:MastodonListener",
    "bluesky": "listeners.bluesky:BlueskyListener",
}


def build_listener(name: str, cfg: Any, **options: Any) -> Listener:
    """The listener for source `name` configured by `cfg` (a `vigie.core.config` source model, by `cfg.type`).
    `options` are run-wide settings (`max_future`: the clock skew), passed to the listeners that take them."""
    kind = getattr(cfg, "type", None)
    target = REGISTRY.get(kind)  # type: ignore[arg-type]
    if target is None:
        raise SourceError(f"source {name!r}: unknown source type {kind!r} (known: {', '.join(REGISTRY)})", "config")
    module_name, class_name = target.split(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        # A missing client library stops this source only, with the fix.
        raise SourceError(
            f"source {name!r} ({kind}): a required library is not installed ({exc.name or exc}). "
            "Fix: pip install -r requirements.txt", "config"
        ) from None
    factory = getattr(module, class_name).from_config
    # Run-wide settings (the clock skew...) go to the listeners that declare them by name.
    accepted = {n for n, p in inspect.signature(factory).parameters.items() if p.kind is not p.VAR_KEYWORD}
    return factory(name, cfg, **{k: v for k, v in options.items() if k in accepted})


__all__ = ["REGISTRY", "build_listener"]
