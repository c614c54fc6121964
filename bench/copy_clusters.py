"""Copy clusters of a replay ingested by one long process vs one process per 5-minute bucket (issue 18).

    .venv/bin/python bench/copy_clusters.py                        # the bundled demo, both modes, compared
    .venv/bin/python bench/copy_clusters.py --mode per-bucket      # one mode only
    .venv/bin/python bench/copy_clusters.py --config my.yml --start 2026-03-02T00:00:00Z --end ...

Both modes walk the simulated clock bucket by bucket and ingest what was created before each bucket's end,
exactly as `vigie demo` (one process) and cron running `vigie run --now T` every 5 minutes do. "per-bucket"
opens the store again and starts every bucket with an empty near-duplicate cache, which is all a new
`vigie run` process starts with that matters here (models and lexicons hold no state across batches); the
real CLI is also run for a few buckets by tests/test_near_dup_store.py. Detection is left out (it does not
change the clusters; `--detect` adds it). Prints, per mode: posts in copy clusters, clusters, the largest
cluster, entries in the store's near-duplicate state, and whether the two modes assigned the same cluster to
every post.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def run(config_path: Path, mode: str, start, end, detect: bool, workdir: Path) -> dict[str, str | None]:
    from vigie.core.config import load_config
    from vigie.pipeline.loop import bucket_floor, bucket_times
    from vigie.pipeline.steps import Runtime, detect_and_alert, ingest_all
    from vigie.store import file_store_config, open_store

    config = load_config(config_path)
    config.store = file_store_config(workdir / f"{mode}.db")
    step = timedelta(minutes=config.detection.bucket_minutes)
    rt = Runtime.from_config(config, notifiers=[])
    began = time.perf_counter()
    try:
        for t in bucket_times(bucket_floor(start, config.detection.bucket_minutes) + step, end + step, step):
            if mode == "per-bucket":  # a new process: a new store connection and an empty near-duplicate cache
                rt.store.close()
                rt.store = open_store(config.store)
                rt.analyzer.dedup = type(rt.analyzer.dedup)()
            ingest_all(rt, t)
            if detect:
                detect_and_alert(rt, t)
        seconds = time.perf_counter() - began
        clusters = {p.id: (p.analysis.near_dup_cluster if p.analysis else None) for p in rt.store.iter_posts(None)}
        entries = len(rt.store.near_dups(start - timedelta(days=365))[0]) if hasattr(rt.store, "near_dups") else None
    finally:
        rt.close()
    sizes = Counter(c for c in clusters.values() if c)
    print(f"{mode:>10}: {len(clusters)} posts, {sum(sizes.values())} in copy clusters, {len(sizes)} clusters, "
          f"largest {max(sizes.values(), default=0)}, near-duplicate entries stored: {entries}  ({seconds:.0f} s)")
    return clusters


def main() -> None:
    from vigie.core.models import utc
    from vigie.pipeline.replay import replay_span
    from vigie.sim.demo import BUNDLED_DEMO, ensure_bundled_demo

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", type=Path, default=BUNDLED_DEMO / "vigie.yml")
    parser.add_argument("--mode", choices=("one", "per-bucket", "both"), default="both")
    parser.add_argument("--start", default=None, help="ISO time (default: the replay file's first post)")
    parser.add_argument("--end", default=None, help="ISO time (default: the replay file's last post)")
    parser.add_argument("--detect", action="store_true", help="also run detection at every bucket")
    args = parser.parse_args()
    if args.config == BUNDLED_DEMO / "vigie.yml":
        ensure_bundled_demo()
    from vigie.core.config import load_config

    replay = next(s for s in load_config(args.config).sources.values() if getattr(s, "path", None))
    start, end = replay_span(replay.path, args.start, args.end)
    start, end = utc(start), utc(end)
    modes = ("one", "per-bucket") if args.mode == "both" else (args.mode,)
    with tempfile.TemporaryDirectory() as tmp:
        results = {mode: run(args.config, mode, start, end, args.detect, Path(tmp)) for mode in modes}
    if len(results) == 2:
        one, per = results["one"], results["per-bucket"]
        differ = [pid for pid in one if one[pid] != per.get(pid)]
        print(f"same cluster for every post: {'yes' if not differ else 'no'} ({len(differ)} posts differ)")


if __name__ == "__main__":
    main()
