"""The detection bench's multi-process ingestion (issue 18): each 5-minute bucket analysed as a new
`vigie run --now T` analyses it, by an analyser whose near-duplicate index starts empty and knows the copy
clusters only through the store (`vigie.pipeline.near_dups`), with the late relabelling of the pipeline.

`vigie.sim.evaluation.fill_store` analyses a scenario in one process, in batches of 512 posts, without the
late relabelling: what one long process's clusters look like. This is what production's one-process-per-bucket
(cron or Airflow) gets; copy clusters are the store's, so the coordination driver sees them in both.
"""

from __future__ import annotations

from datetime import timedelta
from itertools import groupby
from typing import Any

from vigie.core.models import utc


def fill_store_per_bucket(scenario: Any, store: Any, config: Any, fresh: bool = True) -> int:
    """Analyse and store `scenario`'s posts bucket by bucket (creation time), each bucket with a fresh
    near-duplicate index loaded from `store` (`fresh=False`: one index throughout, as one long process
    running the same page cycle). Returns how many posts were relabelled late."""
    from listeners.replay import record_to_post
    from nlp.dedup import NearDuplicateIndex
    from vigie.pipeline.loop import bucket_floor
    from vigie.pipeline.steps import Runtime, analyze_and_store, relabel_late_clusters

    minutes = config.detection.bucket_minutes
    step = timedelta(minutes=minutes)
    posts = sorted((record_to_post(rec) for rec in scenario.posts), key=lambda p: (utc(p.created_at), p.id))
    config.nlp.workers = 1  # a bucket is a few dozen posts: worker processes would only add their start-up
    rt = Runtime.from_config(config, store=store, notifiers=[])  # models load once: they hold no cluster state
    relabelled = 0
    try:
        for start, batch in groupby(posts, key=lambda p: bucket_floor(utc(p.created_at), minutes)):
            page = list(batch)
            if fresh:
                rt.analyzer.dedup = NearDuplicateIndex()  # a new process: clusters from the store only
            analyze_and_store(rt, page, start + step)  # the pipeline's own page cycle (vigie.pipeline.steps)
            relabelled += relabel_late_clusters(rt)
    finally:
        rt.analyzer.close()
    return relabelled
