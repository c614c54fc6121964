"""NLP throughput: posts/s of `Analyzer.analyze` on generated FR/EN social-media posts.

    .venv/bin/python bench/score.py                       # trained backend, 20,000 posts, batch 5000, all cores
    .venv/bin/python bench/score.py --workers 1 --batch-size 512          # one process (the old figure)
    .venv/bin/python bench/score.py --backend lexicon --posts 5000 --batch-size 64 128 512
    .venv/bin/python bench/score.py --backend transformers --model /path/to/model --posts 500

Sentences come from hand-written templates below (no downloaded data). The first figure includes everything
the NLP step does: language id, sentiment, crisis lexicon, topic queries and near-duplicate index; the second
(`analyse + sqlite`) also writes every analysed post to a fresh SQLite store (WAL, one transaction per batch),
i.e. the pipeline's ingest path end to end. Worker processes start before the timing (a one-off cost, printed).
The goal is >= 5,000 posts/s for both on the 2-core reference machine; the load average is printed because
other jobs on the machine lower the wall-clock figures (posts per CPU-second counts
the CPU of this process and of the worker processes: a figure less sensitive to the load than wall time; the
CPU µs per post are also given per side, worker processes and this process). The
1-minute load average is printed before and after each run: "before" says how busy the machine was (the run
itself adds about 2-3 to "after"); wall figures mean something only when "before" is well under 1.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from vigie.core.config import NlpConfig, Topic  # noqa: E402
from vigie.core.models import Author, Post  # noqa: E402

BRANDS = ["Brivolle", "Kettla", "Mijoteo", "Aircroq", "Cuivrelle"]
FR = [
    "{b} m'a encore livré un colis abîmé, franchement c'est nul",
    "Je viens de recevoir ma {b}, super contente 😍",
    "Le service client de {b} ne répond plus depuis 3 semaines, inadmissible",
    "Quelqu'un sait si {b} livre le dimanche ?",
    "Intoxication alimentaire après avoir utilisé la {b}, ma fille est aux urgences",
    "pas terrible la nouvelle appli {b}, elle plante tout le temps",
    "{b} c'est nuuuul, plus jamais !!! #boycott{b}",
    "Merci {b} pour le remboursement rapide, rien à dire",
    "Arnaque totale chez {b}, prélevé deux fois et toujours pas remboursé",
    "Fuite de données chez {b} ? mes données bancaires circulent sur le dark web",
    "@{b}_fr vous comptez répondre un jour ? ça fait 10 jours",
    "Test de la {b} : cuisson correcte, bruit un peu fort, prix raisonnable",
    "Le site {b} est en panne depuis ce matin, impossible de payer",
    "J'adore ma {b}, je recommande à tout le monde",
    "Pas de scandale ici, la {b} marche très bien chez moi",
]
EN = [
    "My {b} arrived broken and customer service keeps ignoring me",
    "Loving the new {b}, works great 😍",
    "{b} charged me twice, this is a scam. Filing a complaint with the BBB",
    "Does anyone know when {b} ships to Canada?",
    "The {b} caught fire on my counter, this is dangerous",
    "not bad at all, the {b} is quiet and fast",
    "{b} app is down again, can't log in",
    "Worst purchase ever, never again {b} 👎",
    "Thanks {b} for the quick refund!",
    "{b} leaked customer data? my card details were on the dark web",
]
TAILS = ["", " !", " 🙄", " https://t.co/abc123", " #fail", " lol", " vraiment.", " @support", " ...", " 😡😡"]


def generate(n: int, seed: int = 7) -> list[Post]:
    rng = random.Random(seed)
    start = datetime(2026, 1, 5, 8, tzinfo=timezone.utc)
    posts = []
    for i in range(n):
        template = rng.choice(FR if rng.random() < 0.65 else EN)
        text = template.format(b=rng.choice(BRANDS)) + rng.choice(TAILS)
        posts.append(Post(
            id=f"bench:{i}", source="replay", text=text, created_at=start + timedelta(seconds=3 * i),
            author=Author(id=f"u{rng.randrange(5000)}", handle=f"user{i % 5000}"),
        ))
    return posts


def _workers_cpu(analyzer) -> float:
    """CPU seconds (user + system) used so far by the analyzer's worker processes (Linux /proc)."""
    pool = getattr(analyzer, "_pool", None)
    total = 0.0
    for proc in getattr(pool, "_pool", []) if pool is not None else []:
        try:
            fields = Path(f"/proc/{proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError, ValueError):
            pass
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=20000)
    parser.add_argument("--batch-size", type=int, nargs="+", default=[5000])
    parser.add_argument("--backend", default="trained", choices=["trained", "lexicon", "transformers", "auto"])
    parser.add_argument("--workers", type=int, default=None, help="worker processes [default: one per core]")
    parser.add_argument("--model", default=None, help="model id or local path (transformers backend)")
    parser.add_argument("--spacy", default=None, metavar="PIPELINE", help="also run spaCy, e.g. fr_core_news_sm")
    parser.add_argument("--no-store", action="store_true", help="skip the analyse + SQLite figure")
    args = parser.parse_args()

    from nlp.pipeline import Analyzer
    from vigie.store import open_file_store

    config = NlpConfig(sentiment=args.backend, spacy_model=args.spacy, workers=args.workers,
                       parallel_min_batch=min(args.batch_size), **({"model": args.model} if args.model else {}))
    topics = [Topic(id=b.lower(), name=b, query=f'{b} OR "#{b}" OR "@{b}_fr"') for b in BRANDS]
    t0 = time.perf_counter()
    analyzer = Analyzer(config, topics)
    print(f"analyzer init: {time.perf_counter() - t0:.2f} s  ({analyzer.model_versions['sentiment']}), "
          f"{analyzer.workers} process(es) for batches of >= {analyzer.parallel_min_batch}")
    posts = generate(args.posts)
    if analyzer.workers > 1:
        t0 = time.perf_counter()
        analyzer.analyze_texts([p.text for p in posts[:analyzer.parallel_min_batch]])  # start the workers
        print(f"worker start-up (once per process): {time.perf_counter() - t0:.2f} s")
    try:
        for batch_size in args.batch_size:
            for with_store in (False,) if args.no_store else (False, True):
                analyzer.dedup = type(analyzer.dedup)()  # fresh index per run: same work for each run
                load_before = os.getloadavg()[0]
                with tempfile.TemporaryDirectory() as tmp:
                    store = open_file_store(Path(tmp) / "bench.db") if with_store else None
                    t0, c0, w0 = time.perf_counter(), time.process_time(), _workers_cpu(analyzer)
                    batches = [posts[i:i + batch_size] for i in range(0, len(posts), batch_size)]
                    # Pipelined (Analyzer.submit): the parent assigns near-duplicates to batch k (and stores
                    # it) while the workers analyse batch k+1.
                    pending = analyzer.submit(batches[0])
                    for k, batch in enumerate(batches):
                        following = analyzer.submit(batches[k + 1]) if k + 1 < len(batches) else None
                        for post, analysis in zip(batch, pending.result()):
                            post.analysis = analysis
                        if store is not None:
                            store.upsert_posts(batch)
                        pending = following
                    elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
                    cpu_all = cpu + _workers_cpu(analyzer) - w0
                    if store is not None:
                        assert store.count_posts() == len(posts)
                        store.close()
                    for post in posts:
                        post.analysis = None
                what = "analyse + sqlite" if with_store else "analyse (NLP step)"
                per_cpu = f"{len(posts) / cpu_all:8.0f} posts/CPU-s (all processes)  "
                # Where the CPU goes, per post: the workers (language, sentiment, crisis, topics, signatures,
                # pickling) and this process (near-duplicate index, SQLite writes, unpickling): the parent's
                # share is also its serial tail (the last batch is stored while the workers wait).
                per_cpu += (f"[CPU µs/post: workers {1e6 * (cpu_all - cpu) / len(posts):.0f} + "
                            f"parent {1e6 * cpu / len(posts):.0f} = {1e6 * cpu_all / len(posts):.0f}]  ")
                print(f"backend={args.backend}{' +spacy' if args.spacy else ''} {what:<18} batch={batch_size:5d} "
                      f"posts={len(posts)} workers={analyzer.workers}  {len(posts) / elapsed:8.0f} posts/s wall  "
                      f"{per_cpu}({elapsed:.2f} s, load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after, "
                      f"on {os.cpu_count()} cores)")
    finally:
        analyzer.close()


if __name__ == "__main__":
    main()
