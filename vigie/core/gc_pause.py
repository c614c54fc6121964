"""`collector_paused()`: Python's cyclic garbage collector off for a block that builds many live objects.

Every 700 tracked objects allocated and not freed trigger a young collection, every tenth of those an older
one, and those in turn a full collection that walks every object of the process. A batch of analyses (nlp) or
of rows to write (the SQLite store) allocates hundreds of thousands of objects that all stay alive until the
batch is done: none of them is garbage, yet they caused 5 full collections and tens of thousands of young ones
per 20,000 posts in bench/score.py (measured with `gc.callbacks`). Paused, a batch costs one young collection
when it ends. Reference counting still frees everything as usual; only cycles wait for the end of the block.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Disable the cyclic collector for the block; restore its previous state after (nesting is safe)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
