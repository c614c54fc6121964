"""Character n-gram hashing with a per-word cache: the same matrix as the trained model's char_wb
`HashingVectorizer`, faster at scoring time.

scikit-learn builds the n-grams of every word of every post in pure Python, then hashes them. With
`analyzer="char_wb"` a word's n-grams depend on that word alone (the text is split on whitespace and each word
padded with one space), so the hashed counts of a post are the sum of those of its words, and words repeat
across posts. This class hashes each distinct word once (with the vectorizer itself, so the hash and the
column are sklearn's) and assembles the rows as sklearn does: counts summed per column, columns sorted,
L2-normalised. The counts are whole numbers, so the sums and norms are exact and the matrix is identical
(tested on the demo posts). Scoring only: training keeps the plain vectorizer.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import sparse
from sklearn.base import clone
from sklearn.preprocessing import normalize

# A bound on memory; social-media vocabularies are long-tailed, the common words come back at once.
MAX_CACHED_WORDS = 200_000


class CachedCharHasher:
    """`transform(texts)` equal to `vectorizer.transform(texts)` for a char_wb, alternate_sign=False,
    l2-normalised (or unnormalised) HashingVectorizer with lowercase off and no accent stripping."""

    def __init__(self, vectorizer: Any):
        params = vectorizer.get_params()
        if (params["analyzer"] != "char_wb" or params["alternate_sign"] or params["lowercase"]
                or params["strip_accents"] is not None or params["preprocessor"] is not None
                or params["norm"] not in ("l2", None) or params["binary"]):
            raise ValueError("CachedCharHasher reproduces only a char_wb, unsigned, non-lowercasing vectorizer")
        self.vectorizer = vectorizer
        self.norm = params["norm"]
        self.n_features = params["n_features"]
        self.dtype = params["dtype"]
        self._raw = clone(vectorizer).set_params(norm=None)  # per-word counts
        self._words: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def transform(self, texts: list[str]) -> sparse.csr_matrix:
        split = [text.split() for text in texts]  # what char_wb does (runs of whitespace are one separator)
        words = self._words
        if len(words) > MAX_CACHED_WORDS:
            words.clear()
        new = list({w for doc in split for w in doc if w not in words})
        if new:
            counts = self._raw.transform(new)
            for i, word in enumerate(new):
                lo, hi = counts.indptr[i], counts.indptr[i + 1]
                words[word] = (counts.indices[lo:hi], counts.data[lo:hi])
        indices, data, indptr, total = [], [], [0], 0
        for doc in split:
            for word in doc:
                cols, vals = words[word]
                indices.append(cols)
                data.append(vals)
                total += len(cols)
            indptr.append(total)
        X = sparse.csr_matrix(
            (np.concatenate(data) if data else np.empty(0, dtype=self.dtype),
             np.concatenate(indices) if indices else np.empty(0, dtype=np.int32), np.array(indptr)),
            shape=(len(texts), self.n_features), dtype=self.dtype)
        X.sum_duplicates()  # as sklearn's FeatureHasher: one entry per column, columns sorted
        if self.norm is not None:
            X = normalize(X, norm=self.norm, copy=False)
        return X
