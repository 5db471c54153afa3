"""FastText word vectors that embed any word, stored without gensim.

A FastText vector is the mean of a word's own vector and its character n-grams' vectors, the
n-grams hashed into a fixed number of buckets (Bojanowski et al. 2017). A word never seen in
training still gets the mean of its n-grams' vectors, which is why a typo ("pyhton") lands near
the word it misspells. This module keeps only what that needs — the vocabulary's composed
vectors and the n-gram buckets some vocabulary word hashes to — and reproduces gensim's
hashing, so the serving app embeds words exactly as gensim would without importing it.

Buckets no vocabulary word hashes to were never trained: gensim keeps their random initial
values, which only add noise to an unknown word, so they are stored as zeros here (and not
stored at all).
"""

from collections.abc import Iterable, Mapping

import numpy as np

_FNV_OFFSET, _FNV_PRIME, _MASK = 2166136261, 16777619, 0xFFFFFFFF


def _hash(ngram: bytes) -> int:
    """FastText's FNV-1a variant: each byte is sign-extended first (it was a C `char`)."""
    h = _FNV_OFFSET
    for byte in ngram:
        h = ((h ^ ((byte - 256) & _MASK if byte > 127 else byte)) * _FNV_PRIME) & _MASK
    return h


def ngram_hashes(word: str, min_n: int, max_n: int, buckets: int) -> list[int]:
    """Bucket of each character n-gram of `<word>` (n in min_n..max_n, counted in characters
    of the UTF-8 text), in gensim's order; as `gensim.models.fasttext.ft_ngram_hashes`."""
    encoded = f"<{word}>".encode()
    size = len(encoded)
    hashes = []
    for i in range(size):
        if encoded[i] & 0xC0 == 0x80:  # inside a multi-byte character
            continue
        j, n = i, 1
        while j < size and n <= max_n:
            j += 1
            while j < size and encoded[j] & 0xC0 == 0x80:
                j += 1
            if n >= min_n and not (n == 1 and (i == 0 or j == size)):
                hashes.append(_hash(encoded[i:j]) % buckets)
            n += 1
    return hashes


class SubwordVectors:
    """Vectors for every vocabulary word and a composition for any other word."""

    def __init__(
        self,
        words: Iterable[str],
        vectors: np.ndarray,
        ngram_rows: Mapping[int, int],
        ngram_vectors: np.ndarray,
        *,
        min_n: int,
        max_n: int,
        buckets: int,
    ) -> None:
        self.words = list(words)
        self.vectors = np.asarray(vectors, dtype=np.float32)
        if len(self.words) != len(self.vectors):
            raise ValueError(f"{len(self.words)} words but {len(self.vectors)} vectors")
        self.index = {word: i for i, word in enumerate(self.words)}
        self.ngram_rows = dict(ngram_rows)
        self.ngram_vectors = np.asarray(ngram_vectors, dtype=np.float32)
        self.min_n, self.max_n, self.buckets = min_n, max_n, buckets

    @classmethod
    def from_gensim(cls, keyed_vectors) -> "SubwordVectors":
        """From a trained `gensim.models.fasttext.FastTextKeyedVectors` (`model.wv`)."""
        trained = np.unique(np.concatenate([np.asarray(b) for b in keyed_vectors.buckets_word]))
        return cls(
            keyed_vectors.index_to_key,
            keyed_vectors.vectors,
            {int(bucket): row for row, bucket in enumerate(trained)},
            keyed_vectors.vectors_ngrams[trained],
            min_n=keyed_vectors.min_n,
            max_n=keyed_vectors.max_n,
            buckets=keyed_vectors.bucket,
        )

    @property
    def dimensions(self) -> int:
        return int(self.vectors.shape[1])

    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, word: object) -> bool:
        return word in self.index

    def closest_spelling(self, word: str, min_similarity: float) -> str | None:
        """The vocabulary word nearest in spelling (optimal string alignment: a swap of two
        letters is one edit) when its normalised similarity reaches `min_similarity`."""
        from rapidfuzz import distance, process

        found = process.extractOne(
            word,
            self.words,
            scorer=distance.OSA.normalized_similarity,
            score_cutoff=min_similarity,
        )
        return None if found is None else found[0]

    def vector(self, word: str) -> np.ndarray:
        """The word's vector; for an unknown word the mean over its n-grams (zero for those no
        vocabulary word shares), all zeros when it has no n-gram in common with the vocabulary."""
        row = self.index.get(word)
        if row is not None:
            return self.vectors[row]
        hashes = ngram_hashes(word, self.min_n, self.max_n, self.buckets)
        rows = [r for r in map(self.ngram_rows.get, hashes) if r is not None]
        if not rows:
            return np.zeros(self.dimensions, dtype=np.float32)
        return self.ngram_vectors[rows].sum(axis=0) / len(hashes)
