"""The NLP step of the pipeline: one `Analysis` per post, in batches, never raising out of a batch.

Components (each in its own module): language id (nlp.langid), sentiment (nlp.sentiment backends),
crisis signals (nlp.crisis), promotional posts read as negative made neutral (nlp.promo), topic queries
(nlp.topics / nlp.query) and near-duplicate clusters (nlp.dedup). A component that fails on a post leaves
that post's field at its neutral default and says why in `Analysis.notes`; the rest of the batch is
unaffected.

Large batches (`nlp.parallel_min_batch` posts or more) use every core: the per-post work (language,
sentiment, crisis, topics, and the near-duplicate signatures: shingles and MinHash) is cut into one chunk per
worker process (`nlp.workers`, default the number of cores), while the parent only queries and updates the
near-duplicate index (LSH) and assigns the clusters, so the one cross-batch index stays in one process and is
updated in post order, exactly as in a single-process run. A caller that `submit`s batch k+1 before
collecting batch k keeps the workers busy while the parent assigns clusters and stores. Results do not depend on the number of
workers (tested). Workers start on the first large batch (spawned: safe with lingua's threads) and live
until `close()`.
"""

from __future__ import annotations

import gc
import logging
import multiprocessing
import os
import pickle
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from nlp import text as T
from nlp.crisis import CrisisLexicon
from nlp.dedup import NearDuplicateIndex, Signatures
from nlp.langid import UND, LanguageIdentifier
from nlp.langid import VERSION as LANGID_VERSION
from nlp.promo import PromoSignal, neutral_sentiment
from nlp.query import Document
from nlp.sentiment import create_backend
from nlp.topics import TopicMatcher
from vigie.core.gc_pause import collector_paused
from vigie.core.models import Analysis, Crisis, Post, Sentiment

log = logging.getLogger(__name__)
X = TypeVar("X")
Y = TypeVar("Y")


class Analyzer:
    """Built once per process (language models, lexicons and the sentiment model load here)."""

    def __init__(self, nlp_config: Any, topics: list[Any], workers: int | None = None):
        self.config = nlp_config
        self._topic_configs = list(topics)
        wanted = workers if workers is not None else getattr(nlp_config, "workers", None)
        self.workers = max(1, int(wanted if wanted is not None else (os.cpu_count() or 1)))
        self.parallel_min_batch = int(getattr(nlp_config, "parallel_min_batch", 2000))
        self._pool: Any = None
        self._submitted = self._collected = 0
        self.languages = [code.lower() for code in nlp_config.languages]
        self.langid = LanguageIdentifier(self.languages)
        self.sentiment = create_backend(nlp_config)
        self.crisis = CrisisLexicon()
        self.promo = PromoSignal()
        self.topics = TopicMatcher(topics)
        self.dedup = NearDuplicateIndex()
        self.spacy = None
        if getattr(nlp_config, "spacy_model", None):
            from nlp.entities import SpacyFrench  # lazy: spaCy is optional and slow to import

            self.spacy = SpacyFrench(nlp_config.spacy_model, batch_size=nlp_config.batch_size)
        self.model_versions: dict[str, str] = {
            "langid": LANGID_VERSION,
            "sentiment": self.sentiment.name,
            "crisis": self.crisis.version,
            "promo": self.promo.version,
            "topics": "boolean-query/1",
            "dedup": self.dedup.version,
        }
        if self.spacy is not None:
            self.model_versions["entities"] = self.spacy.version

    # ------------------------------------------------------------------------------------------ API

    def analyze(self, posts: list[Post]) -> list[Analysis]:
        """One Analysis per post, same order; the posts themselves are not modified."""
        return self.submit(posts).result()

    def submit(self, posts: list[Post]) -> "PendingAnalysis":
        """Start analysing `posts` (in the worker processes for a large batch) and return at once, so the
        caller can store the previous batch meanwhile. Collect with `.result()`, in submission order: the
        near-duplicate index is updated at collection, post after post, as `analyze` does."""
        rows = [(getattr(p, "text", ""), getattr(p, "lang", None),
                 p.author.handle if getattr(p, "author", None) else None, getattr(p, "source", None)) for p in posts]
        self._submitted += 1
        return PendingAnalysis(self, list(posts), rows, self._submit(rows, self.dedup.num_perm), self._submitted)

    def _finish(self, pending: "PendingAnalysis") -> list[Analysis]:
        if pending.ticket != self._collected + 1:
            raise RuntimeError("analyses must be collected in the order they were submitted (near-duplicate index)")
        self._collected += 1
        with collector_paused():  # a batch's analyses, all alive: nothing for the collector (vigie.core.gc_pause)
            return self._collect(pending)

    def _collect(self, pending: "PendingAnalysis") -> list[Analysis]:
        posts = pending.posts
        signatures = None
        if pending.chunks is None:
            analyses = self.analyze_rows(pending.rows)
        else:
            results = [_unpack(chunk.get()) for chunk in pending.chunks]
            analyses = [a for chunk_analyses, _ in results for a in chunk_analyses]
            parts = [part for _, part in results]
            if all(part is not None and part.num_perm == self.dedup.num_perm for part in parts):
                signatures = Signatures.concat(parts).minhashes()
        # Near-duplicates in this process, in post order (the workers computed the signatures, when they could;
        # otherwise they are computed here: same clusters).
        failure = None
        try:
            clusters = self.dedup.assign(posts, signatures)
        except Exception as exc:  # noqa: BLE001 - one component must not lose the batch
            log.warning("near-duplicates failed on a batch of %d", len(posts), exc_info=True)
            clusters, failure = [None] * len(posts), f"near-duplicates failed: {type(exc).__name__}"
        for analysis, cluster in zip(analyses, clusters):
            analysis.near_dup_cluster = cluster
            if failure:
                analysis.notes.append(failure)
        return analyses

    def analyze_rows(self, rows: Sequence[tuple[object, str | None, str | None, str | None]]) -> list[Analysis]:
        """(text, platform language, author handle, source) per post → Analysis without near-duplicates: the
        part of `analyze` that is independent from post to post (what worker processes run)."""
        analyses = self._analyze([r[0] for r in rows], platform_langs=[r[1] for r in rows])
        for (text, _, handle, source), analysis in zip(rows, analyses):
            self._tag(analysis, text, handle, source)
        return analyses

    def close(self) -> None:
        """Stop the worker processes (a no-op when none were started)."""
        if self._pool is not None:
            self._pool.terminate()
            self._pool.join()
            self._pool = None

    def __del__(self) -> None:  # a forgotten close() must not leave processes behind
        try:
            self.close()
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass

    def _submit(self, rows: list[Any], num_perm: int | None = None) -> list[Any] | None:
        """Send a large batch to the workers in one chunk each; None when the batch runs in this process.
        With `num_perm`, the workers also compute the near-duplicate signatures of their chunk."""
        if self.workers < 2 or len(rows) < self.parallel_min_batch:
            return None
        if self._pool is None:
            _freeze_long_lived()
            ctx = multiprocessing.get_context("spawn")
            self._pool = ctx.Pool(self.workers, initializer=_worker_init,
                                  initargs=(self.config, self._topic_configs))
        size = -(-len(rows) // self.workers)
        return [self._pool.apply_async(_worker_analyze, (rows[i:i + size], num_perm))
                for i in range(0, len(rows), size)]

    def late_clusters(self) -> dict[str, str]:
        """Posts analysed in earlier batches that have since joined a coordinated-copy cluster: {post id:
        cluster id}. The caller re-stores them with that `near_dup_cluster` so detection counts every copy.
        Each post is reported once."""
        out = {}
        for post_id in self.dedup.labelled_late():
            cluster = self.dedup.cluster_of(post_id)
            if cluster is not None:
                out[post_id] = cluster
        return out

    def analyze_texts(self, texts: list[str]) -> list[Analysis]:
        """Plain texts (e.g. `vigie score` input lines): topics matched on the text alone, no dedup."""
        rows = [(text, None, None, None) for text in texts]
        pending = self._submit(rows)
        if pending is None:
            return self.analyze_rows(rows)
        with collector_paused():
            return [a for chunk in pending for a in _unpack(chunk.get())[0]]

    def _tag(self, analysis: Analysis, text: object, handle: str | None, source: str | None) -> None:
        """Topics (boolean queries) and brand entities, from one tokenisation of the post."""
        try:
            doc = Document.build(T.clean(text), analysis.lang, handle, source)
            analysis.topic_ids = self.topics.match_document(doc)
            aliases = self.topics.entities(doc)
            analysis.entities = aliases + [e for e in analysis.entities if e not in aliases]
        except Exception as exc:  # noqa: BLE001 - one post must not break the batch
            analysis.notes.append(f"topics failed: {type(exc).__name__}")

    # ------------------------------------------------------------------------------------------ steps

    def _analyze(self, raw_texts: Sequence[object], platform_langs: Sequence[str | None]) -> list[Analysis]:
        analyses = [Analysis(model_versions=dict(self.model_versions)) for _ in raw_texts]
        texts = []
        for raw, analysis in zip(raw_texts, analyses):
            text = T.clean(raw)
            if not text.strip():
                analysis.notes.append("empty text")
            elif isinstance(raw, str) and len(raw) > T.MAX_CHARS:
                analysis.notes.append(f"text cut to its first {T.MAX_CHARS} characters for analysis")
            texts.append(text)

        langs = _batched(self.langid.identify, texts, UND, analyses, "language id")
        for i, (lang, platform) in enumerate(zip(langs, platform_langs)):
            # Too short or ambiguous for lingua, but the platform said (X, Bluesky, Mastodon tag posts).
            if lang == UND and platform and platform.lower()[:2] in self.languages and texts[i].strip():
                langs[i] = platform.lower()[:2]
                analyses[i].notes.append("language from the platform")
            elif lang == UND and texts[i].strip():
                analyses[i].notes.append("language undetermined (too short or ambiguous)")
            analyses[i].lang = langs[i]

        neutral = Sentiment("neu", 0.0, self.sentiment.name)
        sentiments = _batched(
            lambda items: self.sentiment.score([t for t, _ in items], [lg for _, lg in items]),
            list(zip(texts, langs)), neutral, analyses, "sentiment",
        )
        for analysis, sentiment in zip(analyses, sentiments):
            analysis.sentiment = sentiment

        parsed = self._parse_french(texts, langs, analyses)
        crises = _batched(
            lambda items: [self.crisis.score(t, s.score, p.lemmas if p else None) for t, s, p in items],
            list(zip(texts, sentiments, parsed)), Crisis(), analyses, "crisis",
        )
        for analysis, crisis in zip(analyses, crises):
            analysis.crisis = crisis
        self._promotional_not_negative(texts, analyses)
        for analysis, p in zip(analyses, parsed):
            if p is not None:
                analysis.entities = list(p.entities)
        return analyses

    def _promotional_not_negative(self, texts: list[str], analyses: list[Analysis]) -> None:
        """A post read as negative that is promotional (promo code, discount, giveaway, spam link: nlp.promo) and
        carries no complaint of its own (no complaint words, no crisis term) becomes neutral, so spam and giveaway
        copy storms never count as negative posts. Only posts read negative are read (the rule changes nothing else)."""
        for text, analysis in zip(texts, analyses):
            if analysis.sentiment.label != "neg" or analysis.crisis.terms:
                continue
            try:
                reading = self.promo.read(text)
            except Exception as exc:  # noqa: BLE001 - one post must not break the batch
                analysis.notes.append(f"promo signal failed: {type(exc).__name__}")
                continue
            if reading.neutral_promo:
                analysis.sentiment, note = neutral_sentiment(reading, analysis.sentiment)
                analysis.notes.append(note)

    def _parse_french(self, texts: list[str], langs: list[str], analyses: list[Analysis]) -> list[Any]:
        """spaCy entities and lemmas for French posts (None elsewhere, or when spaCy is off)."""
        out: list[Any] = [None] * len(texts)
        if self.spacy is None:
            return out
        french = [i for i, lang in enumerate(langs) if lang == "fr" and texts[i].strip()]
        spacy = self.spacy
        results = _batched(lambda items: spacy.parse(items), [texts[i] for i in french], None,
                           [analyses[i] for i in french], "entities")
        for i, parsed in zip(french, results):
            out[i] = parsed
        return out


def _batched(fn: Callable[[list[X]], list[Y]], items: list[X], default: Y, analyses: list[Analysis], what: str) -> list[Y]:
    """Run `fn` on the batch; if it fails, run it post by post so only the failing posts get `default`."""
    try:
        out = fn(items)
        if len(out) == len(items):
            return list(out)
        raise RuntimeError(f"{what} returned {len(out)} results for {len(items)} posts")
    except Exception:  # noqa: BLE001 - isolate the culprit below
        log.warning("%s failed on a batch of %d; retrying post by post", what, len(items), exc_info=True)
    results: list[Y] = []
    for item, analysis in zip(items, analyses):
        try:
            results.append(fn([item])[0])
        except Exception as exc:  # noqa: BLE001
            analysis.notes.append(f"{what} failed: {type(exc).__name__}")
            results.append(default)
    return results


class PendingAnalysis:
    """A submitted batch (see `Analyzer.submit`); `result()` returns its analyses, once."""

    def __init__(self, analyzer: Analyzer, posts: list[Post], rows: list[Any], chunks: list[Any] | None, ticket: int):
        self.analyzer, self.posts, self.rows, self.chunks, self.ticket = analyzer, posts, rows, chunks, ticket
        self._result: list[Analysis] | None = None

    def result(self) -> list[Analysis]:
        if self._result is None:
            self._result = self.analyzer._finish(self)
        return self._result


# -- worker processes -------------------------------------------------------------------------------------

_WORKER: Analyzer | None = None


def _worker_init(nlp_config: Any, topics: list[Any]) -> None:
    global _WORKER
    _WORKER = Analyzer(nlp_config, topics, workers=1)
    _freeze_long_lived()


def _freeze_long_lived() -> None:
    """Leave the objects alive now (lexicons, models, config: they live as long as the process) out of the
    cyclic garbage collector's scans. Each batch allocates (and the parent unpickles) hundreds of thousands of
    small objects, which trigger collections that would otherwise walk this whole heap every time: unpickling
    a worker's analyses took 26 µs per post, 9 µs with the heap frozen (measured). Results are unchanged;
    objects frozen are still freed by reference counting."""
    gc.freeze()


def _worker_analyze(rows: list[Any], num_perm: int | None) -> bytes:
    """The chunk's analyses and, with `num_perm`, its near-duplicate signatures (None if they failed: the
    parent then computes them, and reports the failure, itself), pickled here (see `_unpack`)."""
    assert _WORKER is not None, "worker not initialised"
    with collector_paused():
        analyses = _WORKER.analyze_rows(rows)
        signatures = None
        if num_perm is not None:
            try:
                signatures = Signatures.of([r[0] for r in rows], num_perm)
            except Exception:  # noqa: BLE001 - the parent retries and reports
                log.warning("near-duplicate signatures failed in a worker", exc_info=True)
        return pickle.dumps((analyses, signatures), protocol=pickle.HIGHEST_PROTOCOL)


def _unpack(payload: bytes) -> tuple[list[Analysis], Signatures | None]:
    """A worker's result, unpickled by the caller of `result()` with the collector paused. Returned as one
    bytes object, the pool's result thread only passes it on: unpickled there, the analyses were built at any
    moment (while the parent stored the previous batch, say), outside the pause."""
    return pickle.loads(payload)  # noqa: S301 - our own worker processes' output, never outside data
