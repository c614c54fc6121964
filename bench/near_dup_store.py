"""What keeping copy clusters in the store costs the NLP step: load + save of the near-duplicate state per batch.

    .venv/bin/python bench/near_dup_store.py                    # 20,000 bench posts, batches of 500, SQLite
    .venv/bin/python bench/near_dup_store.py --batch-size 5000 --posts 40000

Runs the near-duplicate index alone (signatures computed up front, as the worker processes do) over the posts
of bench/score.py spread over 30 hours, three ways: cache only (what `Analyzer.analyze` costs without a store),
cache + store (`vigie.pipeline.near_dups.sync` before each batch and `save` after it: one long process), and a
new process per batch (an empty cache loaded from the store every batch: one `vigie run` per bucket). Prints
CPU milliseconds per batch and per post for each, and checks the three give the same clusters.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--posts", type=int, default=20000)
    parser.add_argument("--batch-size", type=int, default=500)
    args = parser.parse_args()

    from bench.score import generate
    from nlp.dedup import NearDuplicateIndex, Signatures
    from vigie.pipeline import near_dups
    from vigie.store import open_file_store

    posts = generate(args.posts)
    first = min(p.created_at for p in posts)
    for i, p in enumerate(posts):  # 30 hours of traffic: the window (24 h) fills, then evicts
        p.created_at = first + timedelta(seconds=i * 30 * 3600 / len(posts))
    batches = [posts[i:i + args.batch_size] for i in range(0, len(posts), args.batch_size)]
    probe = NearDuplicateIndex()
    signatures = [Signatures.of([p.text for p in b], probe.num_perm).minhashes() for b in batches]
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for mode in ("cache only", "cache + store", "new process per batch"):
            store = open_file_store(Path(tmp) / f"{mode[:5]}.db") if mode != "cache only" else None
            index = NearDuplicateIndex()
            out: list[str | None] = []
            c0 = time.process_time()
            for batch, sigs in zip(batches, signatures):
                if mode == "new process per batch":
                    index = NearDuplicateIndex()
                if store is not None:
                    near_dups.sync(store, index)
                out += index.assign(batch, sigs)
                if store is not None:
                    near_dups.save(store, index)
            cpu = time.process_time() - c0
            results[mode] = out
            print(f"{mode:>22}: {1000 * cpu / len(batches):7.1f} CPU ms per batch of {args.batch_size}, "
                  f"{1e6 * cpu / len(posts):6.1f} CPU µs per post, {sum(1 for c in out if c)} posts in clusters")
            if store is not None:
                store.close()
    same = len({tuple(v) for v in results.values()}) == 1
    print(f"same clusters in the three modes: {'yes' if same else 'NO'}")


if __name__ == "__main__":
    main()
