"""One registry class for everything Vigie finds by name: platforms, channels, store backends, drivers, commands.

Why one class: each kind of plugin is "a folder or a module plus its tests"; what makes that true is a lookup by
name that nobody has to edit when a new one arrives. A registry knows the package that holds the built-in ones
(imported lazily, on the first lookup, so `import vigie.core.config` stays light and free of cycles) and the
entry-point group third-party packages can use (`[project.entry-points."vigie.platforms"]`, dlt-style).
A test or a plugin registers one more with `registry.register(name, item)` and nothing else changes.
"""

from __future__ import annotations

import importlib
import pkgutil
from importlib.metadata import entry_points
from typing import Callable, Generic, Iterator, TypeVar

T = TypeVar("T")


class UnknownName(KeyError):
    """A name no registered item answers to; the message lists the known ones (it reaches users via config errors)."""

    def __init__(self, kind: str, name: str, known: list[str]):
        self.kind, self.name, self.known = kind, name, known
        super().__init__(f"unknown {kind} {name!r}; known: {', '.join(known) or '(none)'}")

    def __str__(self) -> str:  # KeyError would quote the message
        return self.args[0]


class Registry(Generic[T]):
    """Name -> item, filled by the modules of `builtin_package` when they are imported, by the entry points of
    `group`, and by explicit `register` calls. Registration order is kept (it is the order users see)."""

    def __init__(self, kind: str, builtin_package: str | None = None, group: str | None = None):
        self.kind = kind
        self.builtin_package = builtin_package
        self.group = group
        self._items: dict[str, T] = {}
        self._loaded = False
        self._loading = False

    def register(self, name: str, item: T, *, replace: bool = False) -> T:
        if name in self._items and not replace and self._items[name] is not item:
            raise ValueError(f"{self.kind} {name!r} is registered twice")
        self._items[name] = item
        return item

    def decorator(self, name: str) -> Callable[[T], T]:
        """`@REGISTRY.decorator("name")` on a class or function registers it under `name`."""
        return lambda item: self.register(name, item)

    def unregister(self, name: str) -> None:
        self._items.pop(name, None)

    def load(self) -> None:
        """Import the built-in modules (each registers itself) and the entry points, once."""
        if self._loaded or self._loading:
            return
        self._loading = True
        try:
            if self.builtin_package:
                pkg = importlib.import_module(self.builtin_package)
                for info in pkgutil.iter_modules(pkg.__path__, pkg.__name__ + "."):
                    if not info.name.rsplit(".", 1)[-1].startswith("_"):
                        importlib.import_module(info.name)
            if self.group:
                for ep in entry_points(group=self.group):
                    if ep.name not in self._items:
                        self.register(ep.name, ep.load())
            self._loaded = True
        finally:
            self._loading = False

    def get(self, name: str) -> T:
        if name not in self._items:
            self.load()
        try:
            return self._items[name]
        except KeyError:
            raise UnknownName(self.kind, name, self.names()) from None

    def __contains__(self, name: object) -> bool:
        self.load()
        return name in self._items

    def names(self) -> list[str]:
        self.load()
        return list(self._items)

    def items(self) -> Iterator[tuple[str, T]]:
        self.load()
        return iter(list(self._items.items()))
