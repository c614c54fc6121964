"""Copy clusters across processes: the analyser's near-duplicate index is a cache of the store's state.

Every `vigie run`, Airflow task or long process ingests through `vigie.pipeline.steps`, which calls:
- `sync` before analysing a page: the first time, the index is loaded with the store's entries of the last
  window (bounded by age relative to the newest entry, i.e. the newest *accepted* post: future-dated posts
  are quarantined before analysis and never get an entry); afterwards, only the entries other processes
  wrote since the last read (one indexed read that usually returns this process's own last page, skipped);
- `save` right after the page's posts are stored: the entries of the posts the page added to the index;
- `forget` when a step of the page failed: the cache may hold entries the store does not, so it is dropped
  and loaded again before the next page.

- `settle` right after `save`: reads again what other processes wrote meanwhile and merges the clusters of a
  race (below), then stores the merge records.

The index's state after a page is a function of the entries of the window (nlp/dedup.py), merge records
included, so one process, or one process per bucket, give the same clusters. Parallel processes (one
Airflow task per source) see each other's entries at their next read; what they analyse at the same moment
they cannot see: two copies of one text analysed concurrently by two tasks, each the first of its kind for
its task, start two clusters. `settle` closes that race: of two processes that each analysed a page blind to
the other, the one whose `settle` read comes second sees the other's entries while its own page is still
"unsynced" (if A's read came before B's write, B's read comes after A's write), finds the matching
representatives, merges the two clusters (the earlier-ranked keeps its id) and stores a merge record; the
other process applies that record at its next read. Both relabel the members they hold (the stored posts'
`near_dup_cluster`, `steps.relabel_late_clusters`), so detection, the story and Kibana read the merged
cluster. Why not one write transaction around the read-analyse-write instead: analysis is most of a page's
time, and holding SQLite's write lock across it would serialise the tasks; Elasticsearch has no such lock.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from vigie.core.models import utc

# Entries stay in the store for two windows after the newest one: one window is what any process loads, the
# second keeps a late task (a backfill a few hours behind) from finding its window already pruned.
KEEP_WINDOWS = 2
# Pruning is a delete per call: at most once per this much progress of the newest post time.
PRUNE_EVERY = timedelta(hours=1)
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def sync(store: Any, index: Any, latest: datetime | None = None) -> int:
    """Bring `index` (an `nlp.dedup.NearDuplicateIndex`) up to date with `store` before a page is analysed;
    `latest`: the latest post time the clock rules accept (later posts never enter the index). Returns how
    many entries were loaded."""
    index.latest = utc(latest) if latest is not None else None
    if not index.loaded:
        if index.members or index.newest is not None:
            index.reset()  # what it holds may not be the store's (used before, or a failed page)
        newest = store.near_dup_newest()
        since = index.horizon(newest) if newest is not None else _EPOCH
        entries, mark = store.near_dups(since)
        loaded = index.load(entries)
        index.store_mark, index.loaded = mark, True
        index.record()
        return loaded
    entries, mark = store.near_dups(index.horizon() or _EPOCH, after=index.store_mark)
    index.store_mark = mark
    return index.load(entries, report_late=True)


def save(store: Any, index: Any) -> int:
    """Store the entries of the posts indexed since the last save; prune entries older than two windows
    (at most once per `PRUNE_EVERY` of progress). Returns how many entries were added."""
    added = store.save_near_dups(index.take_entries())
    newest = index.newest
    if newest is not None:
        pruned_at = getattr(index, "pruned_at", None)
        if pruned_at is None or newest - pruned_at >= PRUNE_EVERY:
            store.prune_near_dups(newest - KEEP_WINDOWS * index.window)
            index.pruned_at = newest
    return added


def settle(store: Any, index: Any) -> int:
    """After `save`: load what other processes wrote while this page was analysed, merging the clusters two
    processes started for the same copies at the same moment, and store the merge records. Returns how many
    entries were loaded."""
    loaded = sync(store, index, index.latest)
    store.save_near_dups(index.take_entries())
    return loaded


def forget(index: Any) -> None:
    """A page failed between analysis and storage: drop the cache, reloaded from the store next time."""
    index.reset()
