"""Language id's function-word fast path against lingua, on posts whose language is known.

    .venv/bin/python bench/langid_fast_path.py                         # + ../shared/data/sentiment if present
    .venv/bin/python bench/langid_fast_path.py --shared /path/to/shared/data/sentiment --show 20

For each set: how many posts the fast path decides (`nlp.langid.function_word_language`), how often lingua (the
same detector, configured for fr + en) gives the same answer, and, where the true language is known, how many
each gets right on those posts. Sets: the hand-written evaluation posts (bench/data/nlp_eval_{fr,en}.txt, language
= file), the public training tweets of the shared data (language = file; train split only, never copied into
the repository), the bundled demo (language = the platform's `lang` where the record has one) and the
generated posts of bench/score.py (language = template list). Prints the posts where the two disagree.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.score import EN as BENCH_EN  # noqa: E402
from bench.score import FR as BENCH_FR  # noqa: E402
from bench.score import generate  # noqa: E402
from nlp import text as T  # noqa: E402
from nlp.langid import LanguageIdentifier, _enough, function_word_language  # noqa: E402


def _eval_posts() -> list[tuple[str, str | None]]:
    out = []
    for lang in ("fr", "en"):
        for line in (ROOT / "bench" / "data" / f"nlp_eval_{lang}.txt").read_text(encoding="utf-8").splitlines():
            if line.strip() and not line.startswith("#"):
                out.append((line.split(" ", 2)[2], lang))
    return out


def _shared_posts(folder: Path) -> list[tuple[str, str | None]]:
    out = []
    for lang in ("fr", "en"):
        path = folder / f"{lang}_train_text.txt"
        if path.exists():
            out += [(line, lang) for line in path.read_text(encoding="utf-8").splitlines()]
    return out


def _demo_posts() -> list[tuple[str, str | None]]:
    from listeners.replay.listener import record_to_post
    from vigie.sim.demo import BUNDLED_DEMO, ensure_bundled_demo

    ensure_bundled_demo()
    out = []
    for line in (BUNDLED_DEMO / "posts.jsonl").read_text(encoding="utf-8").splitlines():
        try:
            post = record_to_post(json.loads(line))
        except (ValueError, TypeError, KeyError):
            continue  # outage markers and other non-post lines
        out.append((post.text, (post.lang or "")[:2] or None))
    return out


def _bench_posts() -> list[tuple[str, str | None]]:
    patterns = [(re.compile(re.escape(t).replace(re.escape("{b}"), r"\w+")), lang)
                for lang, templates in (("fr", BENCH_FR), ("en", BENCH_EN)) for t in templates]
    out = {}
    for post in generate(20000):
        out[post.text] = next((lang for pattern, lang in patterns if pattern.match(post.text)), None)
    return list(out.items())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data" / "sentiment")
    parser.add_argument("--show", type=int, default=10, help="disagreements printed per set")
    args = parser.parse_args()
    langid = LanguageIdentifier(["fr", "en"])
    sets = {"nlp_eval": _eval_posts(), "shared train tweets": _shared_posts(args.shared), "demo": _demo_posts(),
            "bench/score.py (distinct texts)": _bench_posts()}
    for name, items in sets.items():
        if not items:
            print(f"{name}: not found, skipped")
            continue
        prepared = [T.for_langid(T.clean(text)) for text, _ in items]
        todo = [i for i, p in enumerate(prepared) if _enough(p)]
        results = langid._detector.compute_language_confidence_values_in_parallel([prepared[i] for i in todo])
        decided = agree = known = lingua_right = fast_right = 0
        shown = 0
        for i, values in zip(todo, results):
            fast = function_word_language(prepared[i])
            if fast is None:
                continue
            best, runner_up = values[0], values[1].value if len(values) > 1 else 0.0
            lingua = best.language.iso_code_639_1.name.lower() if best.value - runner_up >= 0.2 else "und"
            decided += 1
            agree += lingua == fast
            truth = items[i][1]
            if truth:
                known += 1
                lingua_right += lingua == truth
                fast_right += fast == truth
            if lingua != fast and shown < args.show:
                shown += 1
                print(f"   lingua {lingua} / fast path {fast} / known {truth or '?'}: {items[i][0][:110]!r}")
        print(f"{name}: {len(items)} posts, fast path decides {decided} ({decided / len(items):.0%}), lingua agrees on "
              f"{agree}; language known for {known}: lingua right {lingua_right}, fast path right {fast_right}")


if __name__ == "__main__":
    main()
