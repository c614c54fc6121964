"""Copy clusters of a replay ingested by one long process vs one process per 5-minute bucket (issue 18).

    .venv/bin/python bench/copy_clusters.py                        # the bundled demo, both modes, compared
    .venv/bin/python bench/copy_clusters.py --mode per-bucket      # one mode only
    .venv/bin/python bench/copy_clusters.py --config my.yml --start 2026-03-02T00:00:00Z --end ...
    .venv/bin/python bench/copy_clusters.py --mode both --cli --start 2026-03-06T11:00:00Z --end 2026-03-06T12:00:00Z
                                    # per-bucket through the real CLI: one `vigie run --now T` process per bucket

Both modes walk the simulated clock bucket by bucket and ingest what was created before each bucket's end,
exactly as `vigie demo` (one process) and cron running `vigie run --now T` every 5 minutes do. "per-bucket"
opens the store again and starts every bucket with an empty near-duplicate cache, which is all a new
`vigie run` process starts with that matters here (models and lexicons hold no state across batches); the
real CLI is also run for a few buckets by tests/test_near_dup_store.py. Detection is left out (it does not
change the clusters; `--detect` adds it). Prints, per mode: posts in copy clusters, clusters, the largest
cluster, entries in the store's near-duplicate state (and merge records: clusters renamed after an older copy,
or two clusters racing tasks started for one text, merged), and whether the two modes assigned the same
cluster to every post.
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


def run_cli(config_path: Path, start, end, workdir: Path) -> dict[str, str | None]:
    """One `vigie run --config C --now T` process per bucket (detection and console alerts included)."""
    import os
    import subprocess

    import yaml

    from vigie.core.config import load_config
    from vigie.core.models import iso
    from vigie.pipeline.loop import bucket_floor, bucket_times
    from vigie.store import open_file_store

    raw = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    for source in raw.get("sources", {}).values():
        if source.get("path"):
            source["path"] = str((config_path.parent / source["path"]).resolve())
    raw["store"] = {"type": "sqlite", "path": str(workdir / "cli.db")}
    config_file = workdir / "cli.yml"
    config_file.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    minutes = load_config(config_file).detection.bucket_minutes
    step = timedelta(minutes=minutes)
    vigie = [sys.executable, "-c", "from vigie.app.cli.main import main; main()"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    began = time.perf_counter()
    for t in bucket_times(bucket_floor(start, minutes) + step, end + step, step):
        done = subprocess.run(vigie + ["run", "--config", str(config_file), "--now", iso(t)], env=env,
                              capture_output=True, text=True)
        if done.returncode not in (0, 3):  # 3: a source failed (the simulated outage), the rest ran
            raise SystemExit(f"vigie run --now {iso(t)} exited {done.returncode}:\n{done.stdout}{done.stderr}")
    seconds = time.perf_counter() - began
    store = open_file_store(workdir / "cli.db")
    try:
        clusters = {p.id: (p.analysis.near_dup_cluster if p.analysis else None) for p in store.iter_posts(None)}
    finally:
        store.close()
    _summary("cli", clusters, None, seconds)
    return clusters


def _source_task(config_path: Path, db: Path, source: str, start, end, barrier) -> None:
    """One Airflow-style ingest task: only `source`, bucket after bucket, in step with the other tasks."""
    from vigie.core.config import load_config
    from vigie.pipeline.loop import bucket_floor, bucket_times
    from vigie.pipeline.steps import Runtime, ingest_source
    from vigie.store import file_store_config

    config = load_config(config_path)
    config.store = file_store_config(db)
    config.nlp.workers = 1
    rt = Runtime.from_config(config, notifiers=[])
    step = timedelta(minutes=config.detection.bucket_minutes)
    try:
        for t in bucket_times(bucket_floor(start, config.detection.bucket_minutes) + step, end + step, step):
            barrier.wait()  # every task starts the bucket together: they race as parallel tasks do
            ingest_source(rt, source, t)
    finally:
        rt.close()


def run_parallel(config_path: Path, start, end, workdir: Path) -> dict[str, str | None]:
    """One process per source, all ingesting the same bucket at the same time into one SQLite file."""
    import multiprocessing

    from vigie.core.config import load_config
    from vigie.store import open_file_store

    sources = list(load_config(config_path).sources)
    db = workdir / "parallel.db"
    open_file_store(db).close()  # created once, before the tasks race to create it
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(len(sources))
    began = time.perf_counter()
    tasks = [ctx.Process(target=_source_task, args=(config_path, db, s, start, end, barrier)) for s in sources]
    for task in tasks:
        task.start()
    for task in tasks:
        task.join()
        if task.exitcode:
            raise SystemExit(f"a source task failed (exit code {task.exitcode})")
    store = open_file_store(db)
    try:
        clusters = {p.id: (p.analysis.near_dup_cluster if p.analysis else None) for p in store.iter_posts(None)}
        entries = store.near_dups(start - timedelta(days=365))[0]
    finally:
        store.close()
    _summary("parallel", clusters, entries, time.perf_counter() - began)
    return clusters


def _summary(mode: str, clusters: dict[str, str | None], entries: list | None, seconds: float) -> None:
    sizes = Counter(c for c in clusters.values() if c)
    stored = "-" if entries is None else (f"{sum(not e.is_merge for e in entries)} "
                                          f"+ {sum(e.is_merge for e in entries)} merge records")
    print(f"{mode:>10}: {len(clusters)} posts, {sum(sizes.values())} in copy clusters, {len(sizes)} clusters, "
          f"largest {max(sizes.values(), default=0)}, near-duplicate entries stored: {stored}  ({seconds:.0f} s)")


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
        entries = rt.store.near_dups(start - timedelta(days=365))[0]
    finally:
        rt.close()
    _summary(mode, clusters, entries, seconds)
    return clusters


def main() -> None:
    from vigie.core.models import utc
    from vigie.pipeline.replay import replay_span
    from vigie.sim.demo import BUNDLED_DEMO, ensure_bundled_demo

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", type=Path, default=BUNDLED_DEMO / "vigie.yml")
    parser.add_argument("--mode", choices=("one", "per-bucket", "both", "parallel"), default="both",
                        help="parallel: one process per source ingesting the same buckets at the same time "
                             "(Airflow's ingest tasks), compared with one process")
    parser.add_argument("--start", default=None, help="ISO time (default: the replay file's first post)")
    parser.add_argument("--end", default=None, help="ISO time (default: the replay file's last post)")
    parser.add_argument("--detect", action="store_true", help="also run detection at every bucket")
    parser.add_argument("--cli", action="store_true",
                        help="per-bucket mode through the real CLI: one `vigie run --now T` process per bucket (slow: "
                             "a few seconds per bucket; limit the window with --start/--end)")
    args = parser.parse_args()
    if args.config == BUNDLED_DEMO / "vigie.yml":
        ensure_bundled_demo()
    from vigie.core.config import load_config

    replay = next(s for s in load_config(args.config).sources.values() if getattr(s, "path", None))
    start, end = replay_span(replay.path, args.start, args.end)
    start, end = utc(start), utc(end)
    modes = {"both": ("one", "per-bucket"), "parallel": ("one", "parallel")}.get(args.mode, (args.mode,))
    with tempfile.TemporaryDirectory() as tmp:
        results = {}
        for mode in modes:
            if mode == "parallel":
                results[mode] = run_parallel(args.config, start, end, Path(tmp))
            elif mode == "per-bucket" and args.cli:
                results[mode] = run_cli(args.config, start, end, Path(tmp))
            else:
                results[mode] = run(args.config, mode, start, end, args.detect, Path(tmp))
    if len(results) == 2:
        one, per = results.values()
        differ = [pid for pid in one if one[pid] != per.get(pid)]
        print(f"same cluster for every post: {'yes' if not differ else 'no'} ({len(differ)} posts differ)")


if __name__ == "__main__":
    main()
