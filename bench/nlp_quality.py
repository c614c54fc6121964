"""NLP quality on Vigie's labelled evaluation set: sentiment macro-F1, crisis-flag precision/recall, lang id.

    .venv/bin/python bench/nlp_quality.py                               # trained backend (the default)
    .venv/bin/python bench/nlp_quality.py --backend lexicon
    .venv/bin/python bench/nlp_quality.py --backend transformers --model /path/to/model
    .venv/bin/python bench/nlp_quality.py --errors 10                   # also print misclassified posts

The set (bench/data/nlp_eval_{fr,en}.txt, 612 FR + 303 EN posts) was written by the Vigie team after the
lexicons, and is never used to tune them; it is small, written by a few people, about fictional consumer
brands, so read its figures as a regression check and a rough order of magnitude, not as a promise of
accuracy on real traffic. The crisis flag of a post is `crisis.risk >= --crisis-threshold`.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DATA = ROOT / "bench" / "data"
LABELS = ("neg", "neu", "pos")


def load(lang: str) -> list[tuple[str, int, str]]:
    rows = []
    for n, line in enumerate((DATA / f"nlp_eval_{lang}.txt").read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        label, crisis, text = line.split(" ", 2)
        if label not in LABELS or crisis not in ("0", "1"):
            raise SystemExit(f"nlp_eval_{lang}.txt:{n}: expected '<neg|neu|pos> <0|1> text', found {line[:60]!r}")
        rows.append((label, int(crisis), text))
    return rows


def macro_f1(gold: list[str], pred: list[str]) -> tuple[float, dict[str, float]]:
    per = {}
    for label in LABELS:
        tp = sum(g == p == label for g, p in zip(gold, pred))
        fp = sum(p == label != g for g, p in zip(gold, pred))
        fn = sum(g == label != p for g, p in zip(gold, pred))
        prec = tp / (tp + fp) if tp + fp else 0.0
        rec = tp / (tp + fn) if tp + fn else 0.0
        per[label] = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
    return sum(per.values()) / len(per), per


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default="trained", choices=["trained", "lexicon", "transformers", "auto"])
    parser.add_argument("--model", default=None)
    parser.add_argument("--crisis-threshold", type=float, default=0.3)
    parser.add_argument("--errors", type=int, default=0, help="print up to N misclassified posts per language")
    args = parser.parse_args()

    from nlp.pipeline import Analyzer
    from vigie.core.config import NlpConfig

    analyzer = Analyzer(NlpConfig(sentiment=args.backend, **({"model": args.model} if args.model else {})), [])
    print(f"backend: {analyzer.model_versions['sentiment']}   crisis: {analyzer.model_versions['crisis']}   "
          f"crisis flag: risk >= {args.crisis_threshold}")
    for lang in ("fr", "en"):
        rows = load(lang)
        analyses = analyzer.analyze_texts([text for _, _, text in rows])
        gold = [label for label, _, _ in rows]
        pred = [a.sentiment.label for a in analyses]
        f1, per = macro_f1(gold, pred)
        accuracy = sum(g == p for g, p in zip(gold, pred)) / len(rows)
        flags = [a.crisis.risk >= args.crisis_threshold for a in analyses]
        truth = [bool(c) for _, c, _ in rows]
        tp = sum(f and t for f, t in zip(flags, truth))
        precision = tp / sum(flags) if any(flags) else 0.0
        recall = tp / sum(truth) if any(truth) else 0.0
        lang_ok = sum(a.lang == lang for a in analyses) / len(rows)
        lang_und = sum(a.lang == "und" for a in analyses) / len(rows)
        counts = Counter(gold)
        print(f"[{lang}] n={len(rows)} ({', '.join(f'{k} {counts[k]}' for k in LABELS)}; crisis {sum(truth)})")
        print(f"  sentiment  macro-F1 {f1:.3f}  accuracy {accuracy:.3f}  "
              f"F1 neg {per['neg']:.3f} neu {per['neu']:.3f} pos {per['pos']:.3f}")
        print(f"  crisis     precision {precision:.3f}  recall {recall:.3f}  (flagged {sum(flags)})")
        print(f"  lang id    correct {lang_ok:.3f}  und {lang_und:.3f}")
        confusion = Counter(zip(gold, pred))
        print("  confusion  gold→pred " + "  ".join(f"{g}→{p}:{confusion[(g, p)]}" for g in LABELS for p in LABELS))
        if args.errors:
            shown = 0
            for (label, crisis, text), a in zip(rows, analyses):
                if a.sentiment.label != label and shown < args.errors:
                    shown += 1
                    print(f"    want {label} got {a.sentiment.label} ({a.sentiment.score:+.2f}): {text}")


if __name__ == "__main__":
    main()
