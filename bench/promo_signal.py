"""The promotional-post rule (nlp/promo.py) against sentiment quality, and its cost per post.

    .venv/bin/python bench/promo_signal.py --public ../shared/data/sentiment       # CV + hand-written set + cost
    .venv/bin/python bench/promo_signal.py --public ../shared/data/sentiment --show 20

1. Cross-validated (5 folds, the shipped models' settings and seed) on the public training tweets: every tweet is
   predicted by a model that never saw it; the rule then turns a predicted negative that is promotional without a
   complaint (and without a crisis term) neutral, as `nlp.pipeline` does. Printed: macro-F1 before / after, the
   tweets the rule reads as promotional per gold label, and the predictions it changed with their gold labels.
2. The hand-written set (bench/data/nlp_eval_*.txt) through the whole Analyzer: the same counts.
3. Cost: CPU time (`time.process_time`) of the rule's hook per post over a generated 7-day scenario's posts
   (`--cost-seed`, realistic background: ordinary chatter, events, organic spikes), best of 5.

The public tweets are read from the given directory and never copied anywhere.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.nlp_quality import load as load_handwritten, macro_f1  # noqa: E402


def apply_rule(texts: list[str], labels: list[str], promo, crisis) -> tuple[list[str], list[int], Counter]:
    """Predicted labels after the rule, the indexes it changed, and how many texts it reads as promotional."""
    out, changed, promotional = list(labels), [], Counter()
    for i, (text, label) in enumerate(zip(texts, labels)):
        reading = promo.read(text)
        if reading.promotional:
            promotional["promotional"] += 1
            promotional["with a complaint"] += reading.complaint is not None
        if label == "neg" and reading.neutral_promo and not crisis.score(text).terms:
            out[i] = "neu"
            changed.append(i)
    return out, changed, promotional


def report(name: str, texts: list[str], gold: list[str], pred: list[str], promo, crisis, show: int) -> None:
    after, changed, promotional = apply_rule(texts, pred, promo, crisis)
    by_gold = Counter(gold[i] for i, t in enumerate(texts) if promo.read(t).promotional)
    f1_before, _ = macro_f1(gold, pred)
    f1_after, _ = macro_f1(gold, after)
    flips = Counter(gold[i] for i in changed)
    print(f"[{name}] n={len(texts)}  macro-F1 {f1_before:.4f} -> {f1_after:.4f}  "
          f"promotional {promotional['promotional']} (gold {dict(sorted(by_gold.items()))}; "
          f"{promotional['with a complaint']} with a complaint)  "
          f"neg -> neu changed {len(changed)} (gold {dict(sorted(flips.items()))})")
    for i in changed[:show]:
        print(f"    gold {gold[i]}: {texts[i][:140]}")


def cost(analyzer, seed: int) -> None:
    from vigie.sim.scenario import as_posts, generate

    texts = [p.text for p in as_posts(generate(seed))]
    analyses = analyzer.analyze_texts(texts)
    saved = [a.sentiment for a in analyses]
    negative = sum(s.label == "neg" for s in saved)
    best = float("inf")
    for _ in range(5):
        for a, s in zip(analyses, saved):
            a.sentiment = s
        t0 = time.process_time()
        analyzer._promotional_not_negative(texts, analyses)  # the hook, exactly as the pipeline calls it
        best = min(best, time.process_time() - t0)
    neutralised = sum(a.sentiment.model == analyzer.promo.version for a in analyses)
    read_all = float("inf")
    for _ in range(5):
        t0 = time.process_time()
        for text in texts:
            analyzer.promo.read(text)
        read_all = min(read_all, time.process_time() - t0)
    print(f"[cost] scenario posts {len(texts)} ({negative} read negative, {neutralised} made neutral by the rule): "
          f"hook {best / len(texts) * 1e6:.2f} µs CPU per post (all posts; best of 5), "
          f"reading every post {read_all / len(texts) * 1e6:.2f} µs per post")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--public", type=Path, required=True, help="directory of <lang>_train_text.txt + labels")
    parser.add_argument("--show", type=int, default=10, help="print up to N changed predictions per set")
    parser.add_argument("--skip-cv", action="store_true")
    parser.add_argument("--cost-seed", type=int, default=7, help="seed of the generated scenario timed")
    args = parser.parse_args()

    from nlp.crisis import CrisisLexicon
    from nlp.labelled import read_labelled
    from nlp.pipeline import Analyzer
    from nlp.promo import PromoSignal
    from nlp.sentiment import LexiconSentiment
    from nlp.sentiment_training import cross_validate
    from nlp.sentiment_trained import CLASSES
    from vigie.core.config import NlpConfig

    promo, crisis = PromoSignal(), CrisisLexicon()
    if not args.skip_cv:
        lexicon = LexiconSentiment()
        for lang in ("fr", "en"):
            data = read_labelled(args.public / f"{lang}_train")
            cv = cross_validate(data, lang, lexicon, bootstrap=10)
            pred = [CLASSES[i] for i in cv.oof_probs.argmax(axis=1)]
            report(f"public {lang}, 5-fold CV", list(data.texts), list(data.labels), pred, promo, crisis, args.show)

    analyzer = Analyzer(NlpConfig(), [], workers=1)
    for lang in ("fr", "en"):
        rows = load_handwritten(lang)
        texts = [t for _, _, t in rows]
        gold = [g for g, _, _ in rows]
        analyses = analyzer.analyze_texts(texts)
        # the Analyzer already applied the rule: undo it to show "before"
        before = [a.sentiment.label if a.sentiment.model != promo.version else "neg" for a in analyses]
        report(f"hand-written {lang}, whole Analyzer", texts, gold, before, promo, crisis, args.show)
    cost(analyzer, args.cost_seed)


if __name__ == "__main__":
    main()
