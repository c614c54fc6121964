"""nlp.minhash: the signatures of many posts at once equal datasketch's `MinHash.bulk`, bit for bit."""

from __future__ import annotations

import random

import numpy as np
import pytest
from datasketch import MinHash

from nlp.dedup import _crc32, shingle
from nlp.minhash import minhash_values

TEXTS = [
    "Arnaque totale chez Brivolle, prélevé deux fois et toujours pas remboursé https://t.co/x @support",
    "My Kettla arrived broken and customer service keeps ignoring me 😡😡",
    "Intoxication alimentaire après avoir utilisé la Mijoteo, ma fille est aux urgences !!!",
    "ÉNORME scandale : Aircroq, fuite de données, mes données bancaires circulent sur le dark web",
    "le le le le le le le le le le le le",  # one repeated bigram: a one-shingle set
    "naïve café déjà-vu œuvre straße ĳssel ﬁne 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 text with ligatures and more words",
    "Loving the new Cuivrelle, works great 😍 and the app is fast, five stars from me",
]


def _bulk(sets: list[list[bytes]], num_perm: int) -> np.ndarray:
    return np.stack([m.hashvalues for m in MinHash.bulk(sets, num_perm=num_perm, hashfunc=_crc32)])


@pytest.mark.parametrize("num_perm", [1, 16, 64, 128])
def test_equal_to_the_library_on_post_shingles(num_perm: int) -> None:
    sets = [s for s in (shingle(t) for t in TEXTS) if s]
    assert len(sets) == len(TEXTS)
    values, probe = minhash_values(sets, num_perm, _crc32)
    assert values.dtype == np.uint32 and values.shape == (len(sets), num_perm)
    assert np.array_equal(values, _bulk(sets, num_perm))
    assert (probe.seed, probe.scheme) == (1, "affine32")


def test_equal_across_blocks_and_on_random_sets() -> None:
    rng = random.Random(3)
    sets = [[bytes(rng.randrange(256) for _ in range(rng.randrange(0, 12))) for _ in range(rng.randrange(1, 40))]
            for _ in range(300)]
    expected = _bulk(sets, 64)
    assert np.array_equal(minhash_values(sets, 64, _crc32)[0], expected)
    # many blocks, the last one shorter
    assert np.array_equal(minhash_values(sets, 64, _crc32, block_size=7)[0], expected)


def test_no_sets_and_empty_sets() -> None:
    values, _ = minhash_values([], 64, _crc32)
    assert values.shape == (0, 64) and values.dtype == np.uint32
    with pytest.raises(ValueError, match="non-empty"):
        minhash_values([[b"a b"], []], 64, _crc32)
