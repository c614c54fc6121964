"""Training and evaluating the trained sentiment backend (`vigie nlp train`, `vigie nlp eval`).

- `cross_validate`: stratified k-fold; every post is predicted once by a model that never saw it. Macro-F1 with
  a percentile bootstrap interval over posts (resampled predictions), the same for the lexicon on the same
  posts, and a paired bootstrap of the difference.
- Each training post is also seen once with its n-grams removed (lexicon features only, `lexicon_copy`): the
  model must then classify from the lexicon alone, so a post whose words never occurred in training (brand
  and product names, other domains) falls back on the lexicon's reading instead of the intercept's bias.
- Calibration: a softmax temperature fitted on the held-out folds' logits (one parameter, minimises the
  log-loss), stored in the model; `reliability` measures it.
- `train`: cross-validates, then fits on all the data with the same settings and seed; the result is
  deterministic (lbfgs on a fixed matrix, seeded folds): same data + seed → same `LinearModel.digest`.
- `write_card`: the model card beside the model (data, metrics, limits, date, sources).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse

from nlp.labelled import LABELS, LabelledSet
from nlp.sentiment_features import FeatureSpec
from nlp.sentiment_trained import CLASSES, LinearModel, softmax

DEFAULT_C = 3.0  # inverse L2 strength; chosen by 5-fold CV on the public training data (see the model card)
DEFAULT_LEXICON_COPY = 1.0  # weight of the lexicon-only copy of each training post (0 = no copy)


# ------------------------------------------------------------------------------------------------ metrics

def confusion(gold: list[str], pred: list[str]) -> np.ndarray:
    index = {c: i for i, c in enumerate(CLASSES)}
    m = np.zeros((3, 3), dtype=np.int64)
    for g, p in zip(gold, pred):
        m[index[g], index[p]] += 1
    return m


def per_class(m: np.ndarray) -> dict[str, dict[str, float]]:
    out = {}
    for i, c in enumerate(CLASSES):
        tp = m[i, i]
        prec = tp / m[:, i].sum() if m[:, i].sum() else 0.0
        rec = tp / m[i, :].sum() if m[i, :].sum() else 0.0
        f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
        out[c] = {"precision": float(prec), "recall": float(rec), "f1": float(f1), "support": int(m[i, :].sum())}
    return out


def macro_f1(gold: list[str], pred: list[str]) -> float:
    return float(np.mean([v["f1"] for v in per_class(confusion(gold, pred)).values()]))


def _macro_f1_codes(gold: np.ndarray, pred: np.ndarray) -> float:
    f1s = []
    for c in range(3):
        tp = np.sum((gold == c) & (pred == c))
        fp = np.sum((gold != c) & (pred == c))
        fn = np.sum((gold == c) & (pred != c))
        f1s.append(2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0)
    return float(np.mean(f1s))


def bootstrap_interval(gold: list[str], preds: list[list[str]], n: int = 1000, seed: int = 0,
                       level: float = 0.95) -> list[tuple[float, float]]:
    """Percentile interval of macro-F1 for each prediction list, from the same resampled posts (so the
    intervals of two systems, and their difference, are paired)."""
    index = {c: i for i, c in enumerate(CLASSES)}
    g = np.array([index[x] for x in gold])
    ps = [np.array([index[x] for x in p]) for p in preds]
    rng = np.random.default_rng(seed)
    stats = np.zeros((n, len(ps)))
    for b in range(n):
        idx = rng.integers(0, len(g), len(g))
        for k, p in enumerate(ps):
            stats[b, k] = _macro_f1_codes(g[idx], p[idx])
    lo, hi = (1 - level) / 2 * 100, (1 + level) / 2 * 100
    out = [(float(np.percentile(stats[:, k], lo)), float(np.percentile(stats[:, k], hi))) for k in range(len(ps))]
    if len(ps) == 2:
        diff = stats[:, 0] - stats[:, 1]
        out.append((float(np.percentile(diff, lo)), float(np.percentile(diff, hi))))
    return out


def reliability(probs: np.ndarray, gold_codes: np.ndarray, bins: int = 10) -> tuple[float, list[dict[str, float]]]:
    """Expected calibration error of the top-class confidence, and the reliability table (non-empty bins)."""
    conf = probs.max(axis=1)
    correct = probs.argmax(axis=1) == gold_codes
    table, ece = [], 0.0
    for b in range(bins):
        lo, hi = b / bins, (b + 1) / bins
        mask = (conf >= lo) & ((conf < hi) if b < bins - 1 else (conf <= hi))
        if mask.any():
            table.append({"from": lo, "to": hi, "n": int(mask.sum()), "confidence": float(conf[mask].mean()),
                          "accuracy": float(correct[mask].mean())})
            ece += mask.sum() / len(conf) * abs(conf[mask].mean() - correct[mask].mean())
    return float(ece), table


def fit_temperature(logits: np.ndarray, gold_codes: np.ndarray) -> float:
    """The softmax temperature that minimises the held-out log-loss (golden-section search on log T)."""
    def nll(log_t: float) -> float:
        p = softmax(logits / math.exp(log_t))
        return float(-np.mean(np.log(np.clip(p[np.arange(len(gold_codes)), gold_codes], 1e-12, None))))

    a, b = math.log(0.05), math.log(20.0)
    ratio = (math.sqrt(5) - 1) / 2
    c, d = b - ratio * (b - a), a + ratio * (b - a)
    for _ in range(60):
        if nll(c) < nll(d):
            b = d
        else:
            a = c
        c, d = b - ratio * (b - a), a + ratio * (b - a)
    return round(math.exp((a + b) / 2), 6)


# ------------------------------------------------------------------------------------------------ training

@dataclass
class CrossValidation:
    folds: int
    seed: int
    n: int
    trained_f1: float
    trained_ci: tuple[float, float]
    lexicon_f1: float
    lexicon_ci: tuple[float, float]
    gain_ci: tuple[float, float]
    accuracy: float
    per_class: dict[str, dict[str, float]]
    confusion: list[list[int]]
    ece_raw: float
    ece_calibrated: float
    reliability: list[dict[str, float]]
    temperature: float
    oof_probs: np.ndarray = field(repr=False, default_factory=lambda: np.zeros((0, 3)))

    def to_json(self) -> dict[str, Any]:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.__dict__.items() if k != "oof_probs"}


@dataclass
class TrainResult:
    model: LinearModel
    cv: CrossValidation | None


@dataclass
class _Fitted:
    """A fitted model on the full feature space (coef: n_features × 3)."""

    coef: np.ndarray
    intercept: np.ndarray

    def decision_function(self, X: Any) -> np.ndarray:
        return np.asarray(X @ self.coef) + self.intercept


def _fit(X: Any, y: np.ndarray, C: float, seed: int, n_ngram_cols: int = 0, lexicon_copy: float = 0.0) -> _Fitted:
    """L2 multinomial logistic regression (lbfgs) on the columns the data uses.

    A hashed column no training post touches has a zero gradient, so its L2-optimal coefficient is exactly 0:
    fitting on the active columns only gives the same model, several times faster. BLAS runs on one thread:
    lbfgs's small dense steps were measured 3-10x slower with OpenBLAS threads on a busy 2-core machine, and
    one thread keeps the result bit-for-bit reproducible.
    """
    from sklearn.linear_model import LogisticRegression
    from threadpoolctl import threadpool_limits

    X = X.tocsc()
    n_columns = X.shape[1]
    active = np.flatnonzero(np.diff(X.indptr))
    X = X[:, active].tocsr()
    weights = None
    if lexicon_copy:
        # Every post once more with its n-grams removed (lexicon features only), see the module docstring.
        lexicon_cols = np.flatnonzero(active >= n_ngram_cols)
        only_lexicon = X[:, lexicon_cols]
        padded = sparse.csr_matrix((only_lexicon.data, lexicon_cols[only_lexicon.indices], only_lexicon.indptr),
                                   shape=X.shape)
        X = sparse.vstack([X, padded], format="csr")
        y = np.concatenate([y, y])
        weights = np.concatenate([np.ones(len(y) // 2), np.full(len(y) // 2, lexicon_copy)])
    with threadpool_limits(1):
        model = LogisticRegression(C=C, max_iter=3000, tol=1e-6, random_state=seed).fit(X, y, sample_weight=weights)
    coef = np.zeros((n_columns, 3))
    coef[active] = model.coef_.T
    return _Fitted(coef, model.intercept_.astype(np.float64))


def _design(data: LabelledSet, lang: str, spec: FeatureSpec, lexicon: Any) -> tuple[Any, np.ndarray]:
    X = spec.transform(data.texts, lang, lexicon)
    y = np.array([CLASSES.index(label) for label in data.labels])
    return X, y


def cross_validate(data: LabelledSet, lang: str, lexicon: Any, spec: FeatureSpec = FeatureSpec(),
                   C: float = DEFAULT_C, folds: int = 5, seed: int = 0, bootstrap: int = 1000,
                   design: tuple[Any, np.ndarray] | None = None,
                   lexicon_copy: float = DEFAULT_LEXICON_COPY) -> CrossValidation:
    from sklearn.model_selection import StratifiedKFold

    X, y = design or _design(data, lang, spec, lexicon)
    smallest = min(np.bincount(y, minlength=3))
    if smallest < folds:
        raise ValueError(f"{folds}-fold cross-validation needs at least {folds} posts of each label; "
                         f"counts are {data.counts()}")
    logits = np.zeros((len(y), 3))
    for train, test in StratifiedKFold(folds, shuffle=True, random_state=seed).split(np.zeros(len(y)), y):
        model = _fit(X[train], y[train], C, seed, spec.n_ngram_features, lexicon_copy)
        logits[test] = model.decision_function(X[test])
    temperature = fit_temperature(logits, y)
    raw, calibrated = softmax(logits), softmax(logits / temperature)
    pred = [CLASSES[i] for i in calibrated.argmax(axis=1)]
    gold = list(data.labels)
    lexicon_pred = [s.label for s in lexicon.score(data.texts, [lang] * len(data.texts))]
    trained_ci, lexicon_ci, gain_ci = bootstrap_interval(gold, [pred, lexicon_pred], n=bootstrap, seed=seed)
    m = confusion(gold, pred)
    ece_cal, table = reliability(calibrated, y)
    return CrossValidation(
        folds=folds, seed=seed, n=len(y), trained_f1=macro_f1(gold, pred), trained_ci=trained_ci,
        lexicon_f1=macro_f1(gold, lexicon_pred), lexicon_ci=lexicon_ci, gain_ci=gain_ci,
        accuracy=float(np.trace(m) / m.sum()), per_class=per_class(m), confusion=m.tolist(),
        ece_raw=reliability(raw, y)[0], ece_calibrated=ece_cal, reliability=table, temperature=temperature,
        oof_probs=calibrated,
    )


def train(data: LabelledSet, lang: str, lexicon: Any, spec: FeatureSpec = FeatureSpec(), C: float = DEFAULT_C,
          folds: int = 5, seed: int = 0, bootstrap: int = 1000, evaluate: bool = True,
          sources: list[str] | None = None, lexicon_copy: float = DEFAULT_LEXICON_COPY) -> TrainResult:
    """Cross-validate (unless `evaluate` is False), then fit on everything; the temperature comes from the
    held-out folds (1.0 without cross-validation)."""
    design = _design(data, lang, spec, lexicon)
    cv = cross_validate(data, lang, lexicon, spec, C, folds, seed, bootstrap, design, lexicon_copy) if evaluate else None
    X, y = design
    fitted = _fit(X, y, C, seed, spec.n_ngram_features, lexicon_copy)
    coef = fitted.coef  # (n_features, 3)
    columns = np.flatnonzero(np.any(coef != 0, axis=1))
    meta = {
        "trained_at": datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
        "data": {"n": len(data), "labels": data.counts(), "files": sources or data.sources},
        "training": {"C": C, "seed": seed, "folds": folds, "lexicon_copy": lexicon_copy, "solver": "lbfgs (scikit-learn LogisticRegression)",
                     "lexicon_features": list(spec.lexicon_used)},
        "cv": cv.to_json() if cv else None,
    }
    model = LinearModel(lang, spec, columns.astype(np.int64), coef[columns].astype(np.float64),
                        fitted.intercept, cv.temperature if cv else 1.0, meta)
    return TrainResult(model, cv)


# ------------------------------------------------------------------------------------------------ card

def _pct(x: float) -> str:
    return f"{x:.3f}"


def card_markdown(model: LinearModel, cv: CrossValidation | None, command: str, limits: str = "") -> str:
    meta = model.meta
    data = meta["data"]
    lines = [
        f"# Model card: Vigie trained sentiment, `{model.lang}` ({model.name})",
        "",
        f"- **What**: multinomial logistic regression (scikit-learn, L2, C={meta['training']['C']}) over hashed word "
        f"1-2-grams (2^{model.spec.word_bits}), character {model.spec.char_ngrams[0]}-{model.spec.char_ngrams[1]}-grams "
        f"(2^{model.spec.char_bits}){' without links and mentions' if model.spec.drop_placeholders else ''} "
        f"and {len(model.spec.lexicon_used)} lexicon features "
        f"({', '.join(model.spec.lexicon_used)}: VADER / vader-fr after Vigie's overlay of idioms, negation, emoji "
        "and elongation, plus flags); each training post also seen once with its n-grams removed (weight "
        f"{meta['training'].get('lexicon_copy', 0)}), so words never seen in training leave the lexicon's reading; "
        f"softmax temperature {model.temperature:.3f} fitted on held-out folds.",
        f"- **File**: `{model.lang}` model, {len(model.columns):,} non-zero feature columns; numbers and JSON only "
        "(no pickle), read with `numpy.load(allow_pickle=False)`.",
        f"- **Trained**: {meta['trained_at']} (seed {meta['training']['seed']}), by:",
        "",
        "  ```",
        f"  {command}",
        "  ```",
        "",
        f"- **Data**: {data['n']} posts ({', '.join(f'{k} {v}' for k, v in data['labels'].items())}) from:",
        *[f"  - `{f}`" for f in data["files"]],
        "",
    ]
    if cv:
        lines += [
            f"## Metrics ({cv.folds}-fold stratified cross-validation, seed {cv.seed}; 95 % bootstrap intervals, "
            "1,000 resamples of the posts)",
            "",
            "| | macro-F1 | 95 % interval |",
            "| --- | --- | --- |",
            f"| trained | **{_pct(cv.trained_f1)}** | {_pct(cv.trained_ci[0])}–{_pct(cv.trained_ci[1])} |",
            f"| lexicon (same posts) | {_pct(cv.lexicon_f1)} | {_pct(cv.lexicon_ci[0])}–{_pct(cv.lexicon_ci[1])} |",
            f"| gain (paired) | {cv.trained_f1 - cv.lexicon_f1:+.3f} | {cv.gain_ci[0]:+.3f}–{cv.gain_ci[1]:+.3f} |",
            "",
            f"Accuracy {_pct(cv.accuracy)}. Per class (held-out): "
            + "; ".join(f"{c} P {_pct(v['precision'])} R {_pct(v['recall'])} F1 {_pct(v['f1'])}"
                        for c, v in cv.per_class.items()) + ".",
            "",
            "Confusion (rows gold, columns predicted, neg/neu/pos): "
            + " · ".join("/".join(str(x) for x in row) for row in cv.confusion) + ".",
            "",
            f"Calibration: expected calibration error of the top-class probability {_pct(cv.ece_raw)} before, "
            f"{_pct(cv.ece_calibrated)} after the temperature (held-out folds).",
            "",
        ]
    lines += [
        "## Limits",
        "",
        limits or (
            "- Trained on the posts listed above only; posts of another kind (other platforms, long reviews, "
            "other domains) may score differently: re-measure with `vigie nlp eval --data FILE` on a labelled "
            "sample of your own traffic, and retrain with your posts (`vigie nlp train --data yours.csv "
            "--mix-public DIR`).\n"
            "- Cross-validated figures are measured on posts of the same source as the training posts: an "
            "optimistic estimate for other traffic.\n"
            "- Irony and sarcasm remain the main source of errors; neutral vs mildly negative is the most "
            "frequent confusion."
        ),
        "",
    ]
    return "\n".join(lines)


def write_card(path: Path, model: LinearModel, cv: CrossValidation | None, command: str, limits: str = "") -> Path:
    path.write_text(card_markdown(model, cv, command, limits), encoding="utf-8")
    return path


def evaluate_labels(gold: list[str], pred: list[str]) -> dict[str, Any]:
    m = confusion(gold, pred)
    return {"n": len(gold), "macro_f1": macro_f1(gold, pred), "accuracy": float(np.trace(m) / max(1, m.sum())),
            "per_class": per_class(m), "confusion": m.tolist(), "labels": list(LABELS)}
