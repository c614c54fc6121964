"""Optional French NER and lemmas with spaCy (`nlp.spacy_model`, e.g. "fr_core_news_sm").

Off by default: spaCy costs far more than the rest of the analysis (see bench/score.py --spacy), and the
brand aliases from the config (nlp.topics) already cover the entity a crisis team cares most about. When
on, French posts get their people/organisations/places/misc entities, and their lemmas let the crisis
lexicon see inflected forms it does not list ("arnaquées" → "arnaquer"). spaCy ships no English pipeline
on PyPI, so English posts keep aliases only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Entity labels kept (fr_core_news_*: PER, ORG, LOC, MISC).
KEEP = frozenset({"PER", "ORG", "LOC", "MISC"})


class EntityModelError(RuntimeError):
    """The spaCy pipeline cannot be loaded; the message says how to install it."""


@dataclass
class Parsed:
    entities: list[str] = field(default_factory=list)
    lemmas: str = ""


class SpacyFrench:
    def __init__(self, model: str, batch_size: int = 64):
        try:
            import spacy
        except ImportError:
            raise EntityModelError(
                "nlp.spacy_model is set but spaCy is not installed. Fix: .venv/bin/pip install spacy==3.8.18 "
                f"{model.replace('_', '-')}==3.8.0, or remove nlp.spacy_model"
            ) from None
        try:
            # The dependency parser is not needed for entities and lemmas and is the slowest component.
            self._nlp = spacy.load(model, exclude=["parser"])
        except OSError as exc:
            raise EntityModelError(
                f"cannot load the spaCy pipeline {model!r} ({str(exc).splitlines()[0][:160]}). Fix: "
                f".venv/bin/pip install {model.replace('_', '-')}==3.8.0 (it is on PyPI), or remove nlp.spacy_model"
            ) from None
        meta: dict[str, Any] = self._nlp.meta
        self.version = f"spacy-{meta.get('lang', 'fr')}_{meta.get('name', model)}-{meta.get('version', '?')}"
        self.batch_size = batch_size

    def parse(self, texts: list[str]) -> list[Parsed]:
        out = []
        for doc in self._nlp.pipe(texts, batch_size=self.batch_size):
            entities: list[str] = []
            for ent in doc.ents:
                text = ent.text.strip()
                if ent.label_ in KEEP and len(text) > 1 and text not in entities:
                    entities.append(text)
            out.append(Parsed(entities, " ".join(t.lemma_ for t in doc if not t.is_punct and not t.is_space)))
        return out
