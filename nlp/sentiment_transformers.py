"""Sentiment with a Hugging Face text-classification model (model id or local directory).

Imported only when `nlp.sentiment` is `transformers` or `auto`: torch and transformers take seconds and
hundreds of MB to import, and the lexicon path must not pay that.

- Labels are read from the model's own config (`id2label`) and mapped to neg/neu/pos by name
  ("negative"/"neutral"/"positive", "LABEL_0..2" in the usual neg/neu/pos order, "1 star".."5 stars").
- Score = P(positive) - P(negative), in [-1, 1]; label = the most probable of the three classes; `probs`
  keeps the three class probabilities (softmax of the logits).
- Mentions and links are replaced by `@user` / `http` first, as the cardiffnlp tweet models were trained.
- Batched (posts sorted by length to limit padding), truncated to `max_length` tokens, on the chosen
  device, under `torch.inference_mode()`.
- `name` records the model id and its revision (the commit hash when the hub cache knows it), so every
  stored Analysis says which model scored it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from nlp import text as T
from vigie.core.models import Sentiment


class ModelLoadError(RuntimeError):
    """The model or its tokenizer could not be loaded; the message says why and how to fix it."""


def map_labels(id2label: dict[int, str]) -> list[str]:
    """Model class index → "neg" | "neu" | "pos" (raises ModelLoadError when a label means nothing to us)."""
    names = {int(k): str(v).strip().lower() for k, v in id2label.items()}
    out: list[str] = []
    generic = all(re.fullmatch(r"label_\d+", n) for n in names.values())
    for index in sorted(names):
        name = names[index]
        if generic and len(names) == 3:
            out.append(("neg", "neu", "pos")[index])  # cardiffnlp / most 3-class sentiment heads
        elif generic and len(names) == 2:
            out.append(("neg", "pos")[index])
        elif name.startswith("neg") or name in ("bad", "0"):
            out.append("neg")
        elif name.startswith("neu") or name in ("mixed", "none"):
            out.append("neu")
        elif name.startswith("pos") or name in ("good",):
            out.append("pos")
        elif (stars := re.match(r"(\d)\s*stars?", name)) is not None:
            n = int(stars.group(1))
            out.append("neg" if n <= 2 else "neu" if n == 3 else "pos")
        else:
            raise ModelLoadError(
                f"cannot map the model's label {id2label[index]!r} (class {index}) to negative/neutral/positive; "
                "use a sentiment model whose config.id2label names its classes"
            )
    return out


class TransformersSentiment:
    name: str

    def __init__(self, model: str, revision: str | None = None, device: str = "auto", batch_size: int = 64,
                 max_length: int = 128):
        try:
            import torch
            from transformers import AutoModelForSequenceClassification, AutoTokenizer
        except ImportError as exc:
            raise ModelLoadError(
                f"the transformers backend needs torch and transformers ({exc.name} is not installed). "
                "Fix: .venv/bin/pip install torch==2.13.0 transformers==5.23.0, or set nlp.sentiment: lexicon"
            ) from None
        self._torch = torch
        self.model_id = model
        self.batch_size = batch_size
        self.max_length = max_length
        self.device = _pick_device(torch, device)
        local = Path(model).expanduser()
        # Never download at run time (house rule; and a no-internet host would spend ~50 s in retries):
        # a hub id must already be in the Hugging Face cache, put there deliberately (see the error's fix).
        kwargs: dict[str, Any] = {"local_files_only": True}
        if revision:
            kwargs["revision"] = revision
        try:
            if local.exists():
                if not (local / "config.json").is_file():
                    raise ModelLoadError(f"{local} exists but has no config.json: not a saved Hugging Face model")
                source: str = str(local)
            else:
                source = model
            _quiet()
            self.tokenizer = _load(AutoTokenizer, source, kwargs)
            self.model = _load(AutoModelForSequenceClassification, source, kwargs)
        except ModelLoadError:
            raise
        except Exception as exc:  # noqa: BLE001 - every loader failure becomes one actionable message
            raise ModelLoadError(_explain(model, exc)) from None
        self.model.to(self.device)
        self.model.eval()
        self.labels = map_labels(self.model.config.id2label)
        positions = getattr(self.model.config, "max_position_embeddings", None)
        if positions:
            # Never feed more tokens than the model has positions (RoBERTa-style models reserve 2).
            self.max_length = max(8, min(self.max_length, int(positions) - 2))
        commit = getattr(self.model.config, "_commit_hash", None)
        self.revision = revision or commit or ("local" if local.exists() else "unknown")
        self.name = f"transformers:{model}@{self.revision}"

    @classmethod
    def from_config(cls, nlp_config: Any) -> "TransformersSentiment":
        return cls(
            nlp_config.model,
            revision=getattr(nlp_config, "revision", None),
            device=getattr(nlp_config, "device", "auto"),
            batch_size=getattr(nlp_config, "batch_size", 64),
            max_length=getattr(nlp_config, "max_length", 128),
        )

    def score(self, texts: list[str], langs: list[str]) -> list[Sentiment]:
        torch = self._torch
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out: list[Sentiment | None] = [None] * len(texts)
        neg = [i for i, lab in enumerate(self.labels) if lab == "neg"]
        pos = [i for i, lab in enumerate(self.labels) if lab == "pos"]
        with torch.inference_mode():
            for start in range(0, len(order), self.batch_size):
                chunk = order[start:start + self.batch_size]
                # An empty string still yields [CLS][SEP]: the model answers, usually near neutral.
                enc = self.tokenizer([tweet_placeholders(texts[i]) or " " for i in chunk], padding=True, truncation=True,
                                     max_length=self.max_length, return_tensors="pt")
                enc = {k: v.to(self.device) for k, v in enc.items()}
                probs = torch.softmax(self.model(**enc).logits.float(), dim=-1).cpu()
                for row, i in zip(probs, chunk):
                    by_class = {"neg": 0.0, "neu": 0.0, "pos": 0.0}
                    for k, label in enumerate(self.labels):
                        by_class[label] += float(row[k])
                    value = sum(float(row[k]) for k in pos) - sum(float(row[k]) for k in neg)
                    label = max(by_class, key=by_class.__getitem__)
                    out[i] = Sentiment(label, max(-1.0, min(1.0, value)), self.name,
                                       probs={k: round(v, 6) for k, v in by_class.items()})
        return out  # type: ignore[return-value]


def tweet_placeholders(text: str) -> str:
    """Mentions → `@user`, links → `http`: how the cardiffnlp tweet models (and their training data) see
    them (model card of cardiffnlp/twitter-xlm-roberta-base-sentiment, "Preprocess text")."""
    return T.MENTION_RE.sub("@user", T.URL_RE.sub("http", text))


def _load(auto_class: Any, source: str, kwargs: dict[str, Any]) -> Any:
    return auto_class.from_pretrained(source, **kwargs)


def _quiet() -> None:
    """No progress bars in pipeline logs (weights loading prints one per model otherwise)."""
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()


def _pick_device(torch: Any, wanted: str) -> str:
    wanted = (wanted or "auto").lower()
    if wanted == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if wanted.startswith("cuda") and not torch.cuda.is_available():
        raise ModelLoadError(f"nlp.device is {wanted!r} but no CUDA device is available. Fix: set nlp.device: cpu (or auto)")
    return wanted


def _explain(model: str, exc: Exception) -> str:
    detail = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}"
    return (
        f"could not load the sentiment model {model!r} ({detail}). It is neither a local directory nor in the "
        "Hugging Face cache, and Vigie never downloads models at run time. Fix: on a machine with internet run "
        f"`hf download {model}` and copy ~/.cache/huggingface (or save the model to a directory and "
        "set nlp.model to that path); or use nlp.sentiment: lexicon"
    )
