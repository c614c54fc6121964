"""Store benchmark: posts/s written, detection-cycle latency (`series` for 10 topics over 24 h in
5-minute buckets) and retention (`purge` of the oldest day), for the SQLite and Elasticsearch adapters.

    .venv/bin/python bench/store.py --posts 100000            # SQLite + Elasticsearch on osmem
    .venv/bin/python bench/store.py --posts 100000 --es-url https://es.example:9200   # a real cluster
                                                              # (auth: ES_API_KEY env var)

Without --es-url the Elasticsearch figures come from osmem-server, an in-memory test double started
here: they say NOTHING about a real cluster's speed (no disk, no replication, different engine). They
only show the adapter's own overhead and that it scales linearly.
"""

from __future__ import annotations

import argparse
import itertools
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from vigie.core.models import Analysis, Author, Crisis, Engagement, Post, Sentiment  # noqa: E402
from vigie.store.base import iter_batches  # noqa: E402

TOPICS = [f"topic{i}" for i in range(10)]
END = datetime(2026, 3, 9, tzinfo=timezone.utc)
SOURCES = ["x", "reddit", "mastodon", "bluesky", "feeds"]
CATEGORIES = ["safety", "legal", "boycott", "fraud", "outage", "service", "ethics"]


def synthetic_posts(n: int, days: int, seed: int = 7):
    rng = random.Random(seed)
    span = days * 86400
    for i in range(n):
        label = rng.choices(["neg", "neu", "pos"], [0.3, 0.5, 0.2])[0]
        cats = rng.sample(CATEGORIES, rng.choice([0, 0, 0, 1, 2]))
        topic = TOPICS[i % len(TOPICS)]
        source = rng.choice(SOURCES)
        yield Post(
            id=f"{source}:{i}",
            source=source,
            text=f"Message {i} sur {topic}: le service client est {'nul' if label == 'neg' else 'correct'}",
            created_at=END - timedelta(seconds=rng.randrange(span)),
            author=Author(id=f"a{rng.randrange(n // 5 + 1)}", handle=f"@a{i % 997}", followers=rng.randrange(50000)),
            engagement=Engagement(likes=rng.randrange(100), reposts=rng.randrange(20), replies=rng.randrange(10)),
            topic_ids=[topic],
            analysis=Analysis(
                lang=rng.choice(["fr", "en"]),
                sentiment=Sentiment(label, {"neg": -0.6, "neu": 0.0, "pos": 0.6}[label], "bench"),
                crisis=Crisis(risk=0.5 if cats else 0.0, categories=cats),
                topic_ids=[topic],
                near_dup_cluster=f"c{rng.randrange(500)}" if rng.random() < 0.2 else None,
            ),
        )


def bench(name: str, store, n: int, days: int, batch: int, cycles: int) -> None:
    t0 = time.perf_counter()
    written = 0
    for chunk in iter_batches(synthetic_posts(n, days), batch):
        res = store.upsert_posts(chunk)
        written += res.inserted + res.updated
    elapsed = time.perf_counter() - t0
    assert store.count_posts() == n, (store.count_posts(), n)
    latencies = []
    for _ in range(cycles):
        t = time.perf_counter()
        for topic in TOPICS:
            buckets = store.series(topic, END - timedelta(hours=24), END, timedelta(minutes=5))
            assert len(buckets) == 288
        latencies.append(time.perf_counter() - t)
    t = time.perf_counter()
    again = store.upsert_posts(list(itertools.islice(synthetic_posts(n, days), 5000)))  # re-run of a window
    rerun = time.perf_counter() - t
    print(f"{name:<28} {n:>9,} posts  write {written / elapsed:>9,.0f} posts/s ({elapsed:6.1f} s, batch {batch})  "
          f"detection cycle (10 topics x 24 h, 288 buckets) median {statistics.median(latencies) * 1000:7.1f} ms "
          f"[min {min(latencies) * 1000:.1f}, max {max(latencies) * 1000:.1f}]  "
          f"re-run of 5k unchanged: {rerun * 1000:.0f} ms ({again.inserted + again.updated} rewritten)")
    # Retention (the maintenance step): the oldest day goes, as `store.retention_days` would make it.
    t = time.perf_counter()
    purged = store.purge(END - timedelta(days=days - 1))
    took = time.perf_counter() - t
    assert store.count_posts() == n - purged
    print(f"{'':<28} purge of the oldest day: {purged:,} posts in {took * 1000:.0f} ms "
          f"({purged / took if took else 0:,.0f} posts/s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=7, help="posts spread over this many days before the end")
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--cycles", type=int, default=5)
    parser.add_argument("--only", choices=["sqlite", "es"], default=None)
    parser.add_argument("--es-url", default=None, help="a real cluster instead of osmem (API key from ES_API_KEY)")
    args = parser.parse_args()
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores; posts over {args.days} days, 10 topics")

    if args.only in (None, "sqlite"):
        from vigie.store import open_file_store

        with tempfile.TemporaryDirectory() as tmp:
            store = open_file_store(Path(tmp) / "bench.db")
            bench("sqlite (WAL, temp file)", store, args.posts, args.days, args.batch, args.cycles)
            store.close()

    if args.only in (None, "es"):
        from elasticsearch import Elasticsearch

        from vigie.store.elasticsearch import ElasticsearchStore

        if args.es_url:
            client = Elasticsearch(args.es_url, api_key=os.environ.get("ES_API_KEY") or None, request_timeout=120)
            store = ElasticsearchStore(client, prefix=f"vigie-bench-{int(time.time())}")
            bench("elasticsearch (real)", store, args.posts, args.days, args.batch, args.cycles)
            store.close()
        else:
            from osmem_server import OsmemServer

            from vigie.sim.osmem import osmem_client  # the osmem header shim, never used in production

            server = OsmemServer.start(japanese=False)
            try:
                store = ElasticsearchStore(osmem_client(server.url), prefix="bench")
                bench("elasticsearch on OSMEM (*)", store, args.posts, args.days, args.batch, args.cycles)
                store.close()
            finally:
                server.close()
            print("(*) osmem is an in-memory test double: its figures say nothing about a real cluster's speed.")


if __name__ == "__main__":
    main()
