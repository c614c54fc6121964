"""Listeners: one folder per platform (`listeners/<platform>/`), each turning a platform's API into pages of
`Post` records; the code they share (base, http, paging, guard, text, native, plan) sits beside them.

Each platform package registers itself with the platform registry (`vigie.core.platform.PLATFORMS`, whose
built-in package is this one) when imported. `build_listener(name, cfg)` builds a source's listener from
it; the listener module is imported only then, so a missing optional client library (tweepy, praw,
atproto...) only breaks its own source.
"""

from __future__ import annotations

import importlib
import inspect
from typing import Any

# The built-in platforms, in the order users see them (config errors, Airflow pools and tasks).
from listeners import replay, x, reddit, feeds, mastodon, bluesky  # noqa: F401,E401  (they register)
from listeners.base import Listener, SourceError
from vigie.core.platform import PLATFORMS


def build_listener(name: str, cfg: Any, **options: Any) -> Listener:
    """The listener for source `name` configured by `cfg` (a platform's config model, by `cfg.type`).
    `options` are run-wide settings (`max_future`: the clock skew), passed to the listeners that take them."""
    kind = getattr(cfg, "type", None)
    if not isinstance(kind, str) or kind not in PLATFORMS:
        raise SourceError(f"source {name!r}: unknown source type {kind!r} (known: {', '.join(PLATFORMS.names())})", "config")
    target = PLATFORMS.get(kind).listener
    if isinstance(target, str):
        module_name, class_name = target.split(":")
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            # A missing client library stops this source only, with the fix.
            raise SourceError(
                f"source {name!r} ({kind}): a required library is not installed ({exc.name or exc}). "
                "Fix: pip install -r requirements.txt", "config"
            ) from None
        target = getattr(module, class_name)
    factory = target.from_config
    # Run-wide settings (the clock skew...) go to the listeners that declare them by name.
    accepted = {n for n, p in inspect.signature(factory).parameters.items() if p.kind is not p.VAR_KEYWORD}
    return factory(name, cfg, **{k: v for k, v in options.items() if k in accepted})


__all__ = ["build_listener"]
