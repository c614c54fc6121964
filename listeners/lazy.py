"""A platform package (`listeners/<platform>/`) names its listener's classes and helpers without importing
its listener module: that module imports the platform's client library (tweepy, praw, atproto...), which only
a source of that type needs. `from listeners.x import XListener` imports it then, on first use."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any


def listener_attributes(package: str) -> Callable[[str], Any]:
    """A module `__getattr__` for `package` that looks unknown names up in `package.listener`."""

    def __getattr__(name: str) -> Any:
        if name.startswith("__"):  # dunder probes (copy, inspect, pytest) must not import a client library
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(f"{package}.listener"), name)

    return __getattr__
