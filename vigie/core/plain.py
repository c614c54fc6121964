"""`as_plain(obj)`: what `dataclasses.asdict(obj)` returns, built several times faster.

`dataclasses.asdict` re-reads each class's fields and tests every value against four kinds on every call, then
deep-copies each leaf through `copy.deepcopy`. Serialising a post that way cost about 0.6 ms, more than the
SQLite write itself (the store's share of the ingest path: bench/score.py). This function walks the same
structure with the field names cached per class and the leaves that need no copy (str, numbers, bool, None,
and the immutable date/time values) returned as they are; containers are rebuilt as `asdict` rebuilds them,
and any other value is deep-copied, as `asdict` does. The result is equal to `asdict`'s for every value
(tested on the demo posts and on containers of every kind).
"""

from __future__ import annotations

import copy
import dataclasses
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

# Values returned as they are: immutable, so a copy would be equal and indistinguishable but for its id().
_AS_IS = frozenset({str, int, float, bool, type(None), complex, bytes, datetime, date, time, timedelta, timezone})
_FIELDS: dict[type, tuple[str, ...] | None] = {}  # field names per class (None: not a dataclass)
_UNSEEN = object()


_FIELD_SETS: dict[type, frozenset[str]] = {}


def _field_names(cls: type) -> tuple[str, ...] | None:
    names = _FIELDS.get(cls, _UNSEEN)
    if names is _UNSEEN:
        names = _FIELDS[cls] = tuple(f.name for f in dataclasses.fields(cls)) if dataclasses.is_dataclass(cls) else None
        if names is not None:
            _FIELD_SETS[cls] = frozenset(names)
    return names  # type: ignore[return-value]


def dataclass_fields(obj: Any) -> dict[str, Any] | None:
    """One level of `as_plain`, read only: a dataclass instance's fields as a dict (values as they are), None
    for any other value. For a JSON encoder's `default` hook, which then walks the values itself. When the
    instance's `__dict__` holds exactly its fields (the usual case: no attribute added, none deleted) that dict
    itself is returned, not a copy: the caller must not modify it."""
    cls = obj.__class__
    names = _field_names(cls)
    if names is None:
        return None
    own = getattr(obj, "__dict__", None)
    if own is not None and own.keys() == _FIELD_SETS[cls]:
        return own  # type: ignore[no-any-return]
    return {name: getattr(obj, name) for name in names}


def as_plain(obj: Any) -> Any:
    """`dataclasses.asdict(obj)` for a dataclass instance (nested dataclasses → dicts, lists, tuples and dicts
    rebuilt, other values deep-copied); any other value converted the same way."""
    cls = obj.__class__
    if cls in _AS_IS:
        return obj
    if cls is list:
        return [v if v.__class__ in _AS_IS else as_plain(v) for v in obj]
    if cls is dict:
        return {k if k.__class__ in _AS_IS else as_plain(k): v if v.__class__ in _AS_IS else as_plain(v)
                for k, v in obj.items()}
    names = _field_names(cls)
    if names is not None:
        return {name: as_plain(getattr(obj, name)) for name in names}
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):  # a namedtuple: rebuilt from its fields
        return cls(*[as_plain(v) for v in obj])
    if isinstance(obj, (list, tuple)):
        return cls(as_plain(v) for v in obj)
    if isinstance(obj, dict):
        return cls((as_plain(k), as_plain(v)) for k, v in obj.items())
    return copy.deepcopy(obj)
