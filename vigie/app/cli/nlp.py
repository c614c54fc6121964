"""`vigie nlp ...`: train and evaluate the sentiment models (`vigie score` scores posts; see vigie/app/cli/score.py)."""

from __future__ import annotations

import json
import shlex
import sys
import time
from pathlib import Path

import click

from vigie.app.cli import COMMANDS, load_config_checked

SHIPPED_DIR = Path(__file__).resolve().parents[3] / "nlp" / "data"  # the repository's nlp/data
PUBLIC_NOTE = ("French: DEFT-2017 tweets (Benamara et al. 2017); English: SemEval-2017 Task 4 tweets (Rosenthal "
               "et al. 2017); both as the train split of the UMSAB benchmark (Barbieri et al. 2022, XLM-T). Only "
               "the train split was used; validation and test splits were never read.")


@COMMANDS.decorator("nlp")
@click.group("nlp")
def nlp() -> None:
    """Sentiment models: train one from labelled posts, measure any backend on a labelled file.

    \b
    Labelled files: CSV with `text,label` columns, JSONL with "text" and "label", or a
    X_text.txt / X_labels.txt pair; labels neg/neu/pos, negative/neutral/positive or 0/1/2.
    \b
    Examples:
      vigie nlp build-models --public ../shared/data/sentiment          # the shipped fr + en models
      vigie nlp train --data ours.csv --lang fr --out models/ours_fr.npz --mix-public ../shared/data/sentiment
      vigie nlp eval --data held_out.csv --lang fr
    """


def _fail(exc: Exception) -> click.ClickException:
    return click.ClickException(str(exc))


def _read(files: list[Path]):  # noqa: ANN202 - nlp.labelled.LabelledSet, imported lazily
    """All the labelled files as one set; a malformed one is a click error naming the file and line."""
    from nlp.labelled import LabelledFileError, LabelledSet, read_labelled

    data = LabelledSet()
    try:
        for f in files:
            data = data.extend(read_labelled(f))
    except LabelledFileError as exc:
        raise _fail(exc) from None
    return data


def _train_one(files: list[Path], lang: str, out: Path, folds: int, seed: int, c: float, bootstrap: int,
               cv: bool, command: str, extra_note: str = "") -> None:
    from nlp.sentiment import LexiconSentiment
    from nlp.sentiment_training import train, write_card

    data = _read(files)
    if out.suffix != ".npz":
        raise click.ClickException(f"--out {out}: the model file must end in .npz")
    click.echo(f"[{lang}] {len(data)} posts ({', '.join(f'{k} {v}' for k, v in data.counts().items())}) from "
               f"{len(data.sources)} file(s); {'%d-fold cross-validation, then ' % folds if cv else ''}fit on all")
    t0 = time.perf_counter()
    try:
        result = train(data, lang, LexiconSentiment(), C=c, folds=folds, seed=seed, bootstrap=bootstrap, evaluate=cv)
    except ValueError as exc:
        raise _fail(exc) from None
    model = result.model
    model.save(out)
    card = write_card(out.with_suffix(".md"), model, result.cv, command, limits=extra_note)
    if result.cv:
        r = result.cv
        click.echo(f"[{lang}] cross-validated macro-F1 {r.trained_f1:.3f} (95 % CI {r.trained_ci[0]:.3f}-"
                   f"{r.trained_ci[1]:.3f}); lexicon {r.lexicon_f1:.3f} ({r.lexicon_ci[0]:.3f}-{r.lexicon_ci[1]:.3f}); "
                   f"gain {r.trained_f1 - r.lexicon_f1:+.3f} ({r.gain_ci[0]:+.3f} to {r.gain_ci[1]:+.3f}); "
                   f"calibration error {r.ece_raw:.3f} -> {r.ece_calibrated:.3f} (T={r.temperature:.2f})")
    click.echo(f"[{lang}] wrote {out} ({out.stat().st_size / 1e6:.1f} MB, {model.name}) and {card} "
               f"in {time.perf_counter() - t0:.0f} s")


_train_options = [
    click.option("--folds", type=click.IntRange(2, 20), default=5, show_default=True, help="Stratified CV folds."),
    click.option("--seed", type=int, default=0, show_default=True, help="Seed of the folds and the bootstrap."),
    click.option("--c", "c", type=float, default=None, help="Inverse L2 regularisation [default: 3.0]."),
    click.option("--bootstrap", type=click.IntRange(100, 100000), default=1000, show_default=True,
                 help="Bootstrap resamples for the confidence intervals."),
    click.option("--no-cv", is_flag=True, help="Skip cross-validation (no metrics, temperature 1)."),
]


def _with(options):  # noqa: ANN001, ANN202 - click decorator stacking
    def wrap(fn):  # noqa: ANN001, ANN202
        for option in reversed(options):
            fn = option(fn)
        return fn
    return wrap


@nlp.command("train")
@click.option("--data", "data_files", multiple=True, required=True, type=click.Path(path_type=Path),
              help="Labelled file (repeat to combine several).")
@click.option("--lang", required=True, help="Language of the posts (fr, en, ...): one model per language.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Model file to write (.npz); the model card goes beside it (.md).")
@click.option("--mix-public", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Also train on the public tweets of this language in DIR (DIR/<lang>_train_text.txt + labels).")
@_with(_train_options)
def train_cmd(data_files: tuple[Path, ...], lang: str, out: Path, mix_public: Path | None, folds: int, seed: int,
              c: float | None, bootstrap: int, no_cv: bool) -> None:
    """Train a sentiment model for one language, cross-validate it, write the model and its card.

    Use it with `nlp.sentiment: trained` and `nlp.trained_models: {LANG: OUT}` in the configuration.

    \b
    Example (a brand's own labelled posts, plus the public tweets):
      vigie nlp train --data labelled_fr.csv --lang fr --out models/brand_fr.npz --mix-public ../shared/data/sentiment
    """
    from nlp.sentiment_training import DEFAULT_C

    files = list(data_files) + ([mix_public / f"{lang}_train"] if mix_public else [])
    command = "vigie nlp " + " ".join(shlex.quote(a) for a in sys.argv[sys.argv.index("train"):]) \
        if "train" in sys.argv else f"vigie nlp train --lang {lang} ..."
    _train_one(files, lang, out, folds, seed, DEFAULT_C if c is None else c, bootstrap, not no_cv, command)


@nlp.command("build-models")
@click.option("--public", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Folder with fr_train_text.txt, fr_train_labels.txt, en_train_... (e.g. ../shared/data/sentiment).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=SHIPPED_DIR,
              show_default=True, help="Where to write sentiment_<lang>.npz and .md.")
@click.option("--lang", "langs", multiple=True, default=("fr", "en"), show_default=True)
@_with(_train_options)
def build_models(public: Path, out_dir: Path, langs: tuple[str, ...], folds: int, seed: int, c: float | None,
                 bootstrap: int, no_cv: bool) -> None:
    """Rebuild the shipped models (the defaults of `nlp.sentiment: trained`) from the public tweets.

    \b
    Example (the exact command behind nlp/data/sentiment_fr.npz and sentiment_en.npz):
      vigie nlp build-models --public ../shared/data/sentiment
    """
    from nlp.sentiment_training import DEFAULT_C

    for lang in langs:
        command = f"vigie nlp build-models --public {public} --lang {lang} --seed {seed} --folds {folds}"
        _train_one([public / f"{lang}_train"], lang, out_dir / f"sentiment_{lang}.npz", folds, seed,
                   DEFAULT_C if c is None else c, bootstrap, not no_cv, command,
                   extra_note=_public_limits())


def _public_limits() -> str:
    return (
        f"- Sources: {PUBLIC_NOTE} Licence: released for research by their authors; the restrictions of the "
        "original datasets and of the platform's terms apply. The tweets themselves are not in this repository.\n"
        "- About 1,840 tweets per language, balanced by construction (613 per class): real traffic about a brand is not "
        "balanced, so precision on the rarer class is lower in production than here.\n"
        "- The French tweets are mostly about politics, society and the environment, the English ones about "
        "celebrities, sports and news (2016-2017): brand complaints, product vocabulary and today's slang are "
        "under-represented. Retrain with your own labelled posts (`vigie nlp train --mix-public`).\n"
        "- Cross-validated figures come from the same distribution as the training tweets: an optimistic "
        "estimate for other traffic. Irony remains the main source of errors."
    )


@nlp.command("eval")
@click.option("--data", "data_files", multiple=True, required=True, type=click.Path(path_type=Path),
              help="Labelled file (CSV text,label / JSONL / X_text.txt pair); repeat to combine.")
@click.option("--lang", default=None, help="Language of every post [default: detect each post's language].")
@click.option("--backend", type=click.Choice(["trained", "lexicon", "transformers", "auto"]), default=None,
              help="Sentiment backend [default: the config's, else trained].")
@click.option("--model", default=None, help="transformers: model id or local path; trained: a .npz for --lang.")
@click.option("--config", "config_path", type=click.Path(dir_okay=False), default=None,
              help="Take the NLP settings from this configuration.")
@click.option("--json", "as_json", is_flag=True, help="Print the metrics as one JSON object.")
def eval_cmd(data_files: tuple[Path, ...], lang: str | None, backend: str | None, model: str | None,
             config_path: str | None, as_json: bool) -> None:
    """Macro-F1, per-class precision/recall and the confusion matrix of a backend on a labelled file.

    \b
    Examples:
      vigie nlp eval --data labelled.csv                          # trained (default), language detected
      vigie nlp eval --data labelled.csv --lang fr --backend lexicon
      vigie nlp eval --data labelled.csv --backend transformers --model /models/twitter-xlm-roberta-base-sentiment
    """
    from nlp.sentiment_training import evaluate_labels
    from vigie.core.config import NlpConfig

    data = _read(list(data_files))
    base = load_config_checked(config_path).nlp if config_path else NlpConfig()
    updates: dict[str, object] = {}
    if backend:
        updates["sentiment"] = backend
    if model:
        kind = backend or base.sentiment
        if kind == "trained":
            if not lang:
                raise click.ClickException("--model with the trained backend needs --lang (the model's language)")
            updates["trained_models"] = {lang: Path(model)}
        else:
            updates["model"] = model
    nlp_config = base.model_copy(update=updates)
    t0 = time.perf_counter()
    try:
        if lang:
            from nlp.sentiment import create_backend

            scorer = create_backend(nlp_config)
            name = scorer.name
            sentiments = [s for i in range(0, len(data), 512)
                          for s in scorer.score(data.texts[i:i + 512], [lang] * len(data.texts[i:i + 512]))]
        else:
            from nlp.pipeline import Analyzer

            analyzer = Analyzer(nlp_config, [])
            name = analyzer.model_versions["sentiment"]
            sentiments = [a.sentiment for a in analyzer.analyze_texts(data.texts)]
    except Exception as exc:  # noqa: BLE001 - a backend that cannot load is the user's fix, not a traceback
        if type(exc).__name__ in ("ModelLoadError", "TrainedModelError"):
            raise _fail(exc) from None
        raise
    result = evaluate_labels(data.labels, [s.label for s in sentiments])
    result.update(backend=name, files=data.sources, seconds=round(time.perf_counter() - t0, 2))
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False))
        return
    click.echo(f"backend {name}; {result['n']} posts from {', '.join(data.sources)}"
               f"{'; language ' + lang if lang else '; language detected per post'}")
    click.echo(f"macro-F1 {result['macro_f1']:.3f}   accuracy {result['accuracy']:.3f}")
    click.echo(f"{'class':<6}{'precision':>10}{'recall':>8}{'F1':>7}{'support':>9}")
    for c, v in result["per_class"].items():
        click.echo(f"{c:<6}{v['precision']:>10.3f}{v['recall']:>8.3f}{v['f1']:>7.3f}{v['support']:>9d}")
    click.echo("confusion (rows gold, columns predicted)")
    click.echo(f"{'':<6}" + "".join(f"{c:>6}" for c in result["labels"]))
    for c, row in zip(result["labels"], result["confusion"]):
        click.echo(f"{c:<6}" + "".join(f"{x:>6d}" for x in row))
