"""The trained sentiment backend (`nlp.sentiment: trained`, the default): one linear model per language.

A model file (`nlp/data/sentiment_<lang>.npz`, written by `vigie nlp train`) holds only numbers and JSON:
the non-zero columns of the coefficient matrix, the intercepts, the softmax temperature fitted on held-out
folds (calibration) and the feature parameters (`nlp.sentiment_features.FeatureSpec`). It is read with
`numpy.load(allow_pickle=False)`: loading a model never executes code. Models are loaded once per process.

Scoring: probabilities = softmax((X·W + b) / T) over neg/neu/pos; label = the most probable class; score =
P(pos) − P(neg) in [-1, 1]; `probs` keeps the three probabilities. A post whose language has no model (other
languages, `und`) is scored by the lexicon, and its `Sentiment.model` says so.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from nlp.char_ngrams import CachedCharHasher
from nlp.sentiment_features import FeatureSpec
from vigie.core.models import Sentiment

CLASSES = ("neg", "neu", "pos")
FORMAT = "vigie-sentiment-linear/1"
SHIPPED_LANGS = ("fr", "en")


class TrainedModelError(ValueError):
    """A model file that cannot be read; the message names the file and the fix."""


@dataclass
class LinearModel:
    """Multinomial logistic regression over hashed features, with a calibration temperature."""

    lang: str
    spec: FeatureSpec
    columns: np.ndarray  # int64 (k,): feature columns with a non-zero coefficient
    weights: np.ndarray  # float64 (k, 3): their coefficients, classes in CLASSES order
    intercept: np.ndarray  # float64 (3,)
    temperature: float = 1.0
    meta: dict[str, Any] = field(default_factory=dict)  # training data, metrics, date (not part of the hash)

    @property
    def digest(self) -> str:
        """Hash of what decides the predictions (spec, coefficients, temperature): same data + seed → same
        digest. Dates and metrics are left out."""
        h = hashlib.sha256()
        h.update(json.dumps({"lang": self.lang, "spec": self.spec.to_json(), "classes": CLASSES,
                             "temperature": round(self.temperature, 12)}, sort_keys=True).encode())
        for array in (self.columns.astype("<i8"), self.weights.astype("<f8"), self.intercept.astype("<f8")):
            h.update(np.ascontiguousarray(array).tobytes())
        return h.hexdigest()[:16]

    @property
    def name(self) -> str:
        return f"trained-{self.lang}/{self.digest}"

    def dense_weights(self) -> np.ndarray:
        full = np.zeros((self.spec.n_features, len(CLASSES)), dtype=np.float64)
        full[self.columns] = self.weights
        return full

    # -- files ----------------------------------------------------------------------------------
    def save(self, path: Path) -> Path:
        """Write the .npz (a zip of .npy arrays, fixed timestamps so equal models give equal bytes)."""
        meta = dict(self.meta, format=FORMAT, lang=self.lang, spec=self.spec.to_json(), classes=list(CLASSES),
                    temperature=self.temperature, digest=self.digest)
        arrays = {
            "columns": self.columns.astype("<i8"),
            "weights": self.weights.astype("<f8"),
            "intercept": self.intercept.astype("<f8"),
            "meta": np.frombuffer(json.dumps(meta, sort_keys=True, ensure_ascii=False).encode("utf-8"), dtype=np.uint8),
        }
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for key, array in arrays.items():
                buf = io.BytesIO()
                np.lib.format.write_array(buf, array, allow_pickle=False)
                info = zipfile.ZipInfo(f"{key}.npy", date_time=(1980, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                zf.writestr(info, buf.getvalue())
        return path

    @classmethod
    def load(cls, path: Path | str) -> "LinearModel":
        try:
            with np.load(path, allow_pickle=False) as data:
                meta = json.loads(bytes(data["meta"]).decode("utf-8"))
                columns, weights, intercept = data["columns"], data["weights"], data["intercept"]
        except FileNotFoundError:
            raise TrainedModelError(f"{path}: no such model file. Fix: build it with `vigie nlp train` "
                                    "(see nlp/README.md) or set nlp.sentiment: lexicon") from None
        except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
            raise TrainedModelError(f"{path}: not a Vigie sentiment model ({type(exc).__name__}: {exc})") from None
        if meta.get("format") != FORMAT or tuple(meta.get("classes", ())) != CLASSES:
            raise TrainedModelError(f"{path}: format {meta.get('format')!r} is not {FORMAT!r}; retrain it with "
                                    "`vigie nlp train`")
        spec = FeatureSpec.from_json(meta["spec"])
        if weights.shape != (len(columns), len(CLASSES)) or intercept.shape != (len(CLASSES),) or (
                len(columns) and (columns.min() < 0 or columns.max() >= spec.n_features)):
            raise TrainedModelError(f"{path}: coefficient arrays do not match the feature spec")
        model = cls(meta["lang"], spec, columns.astype(np.int64), weights.astype(np.float64),
                    intercept.astype(np.float64), float(meta.get("temperature", 1.0)),
                    {k: v for k, v in meta.items() if k not in ("spec", "classes", "temperature", "format")})
        if meta.get("digest") and meta["digest"] != model.digest:
            raise TrainedModelError(f"{path}: content does not match its recorded digest (corrupted file?)")
        return model


def softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


class _Scorer:
    """A loaded model ready to score: dense weights and vectorizers built once."""

    def __init__(self, model: LinearModel, lexicon: Any):
        self.model = model
        self.name = model.name  # hashes the coefficients: computed once, not per post
        self.lexicon = lexicon
        self.weights = model.dense_weights()
        words, chars = model.spec.vectorizers()
        self.vectorizers = (words, CachedCharHasher(chars))  # same matrix, each word's n-grams hashed once

    def probabilities(self, texts: list[str]) -> np.ndarray:
        X = self.model.spec.transform(texts, self.model.lang, self.lexicon, self.vectorizers)
        logits = np.asarray(X @ self.weights) + self.model.intercept
        return softmax(logits / self.model.temperature)


def shipped_model_path(lang: str) -> Path:
    return Path(str(resources.files("nlp").joinpath(f"data/sentiment_{lang}.npz")))


class TrainedSentiment:
    """Per-language linear models; languages without one are scored by the lexicon (recorded per post)."""

    def __init__(self, model_paths: dict[str, Path | str] | None = None, lexicon: Any = None, shipped: bool = True):
        """`model_paths` {language: .npz} replace the shipped models of those languages (all of them with
        `shipped=False`)."""
        from nlp.sentiment import LexiconSentiment

        self.lexicon = lexicon or LexiconSentiment()
        paths: dict[str, Path | str] = {lang: shipped_model_path(lang) for lang in SHIPPED_LANGS} if shipped else {}
        paths.update(model_paths or {})
        self.scorers: dict[str, _Scorer] = {}
        for lang, path in sorted(paths.items()):
            model = LinearModel.load(path)
            if model.lang != lang:
                raise TrainedModelError(f"{path}: a model for {model.lang!r} configured for language {lang!r}")
            self.scorers[lang] = _Scorer(model, self.lexicon)
        self.name = "trained:" + ",".join(s.name for s in self.scorers.values()) + f"+{self.lexicon.name}"

    @classmethod
    def from_config(cls, nlp_config: Any) -> "TrainedSentiment":
        return cls(getattr(nlp_config, "trained_models", None) or None)

    def score(self, texts: list[str], langs: list[str]) -> list[Sentiment]:
        out: list[Sentiment | None] = [None] * len(texts)
        by_lang: dict[str, list[int]] = {}
        for i, lang in enumerate(langs):
            by_lang.setdefault(lang if lang in self.scorers else "", []).append(i)
        for lang, idx in by_lang.items():
            if not lang:
                for i, s in zip(idx, self.lexicon.score([texts[i] for i in idx], [langs[i] for i in idx])):
                    out[i] = s
                continue
            scorer = self.scorers[lang]
            probs = scorer.probabilities([texts[i] for i in idx])
            # One conversion for the batch (the same floats and argmax as row by row, without a numpy call per post).
            for i, (neg, neu, pos), best in zip(idx, probs.tolist(), probs.argmax(axis=1).tolist()):
                p = {"neg": round(neg, 6), "neu": round(neu, 6), "pos": round(pos, 6)}
                out[i] = Sentiment(CLASSES[best], max(-1.0, min(1.0, p["pos"] - p["neg"])), scorer.name, probs=p)
        return out  # type: ignore[return-value]
