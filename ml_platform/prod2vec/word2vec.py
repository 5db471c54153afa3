"""gensim's Word2Vec on the same baskets: the reference a Keras skip-gram is measured against.

Set up as our pairs are: skip-gram with the same window (gensim's `shrink_windows=False`, so the
window is not randomly shortened), negatives, ns_exponent and subsampling threshold (gensim uses
word2vec's formula too), each basket shuffled once as ours are. Its throughput is counted in the
same unit as ours: labelled pairs = positive pairs × (1 + negatives) per epoch, the positive pairs
being those our generator makes with the same settings (gensim subsamples with its own random
draws, so its count differs by a fraction of a percent).
"""

import itertools
import time
from dataclasses import dataclass

import numpy as np

from ml_platform.prod2vec.pairs import PairConfig


@dataclass(frozen=True)
class Word2VecResult:
    """Vectors in the rows of the vocabulary given (target = gensim's `wv`, context = its
    `syn1neg`), and how long training took."""

    target_vectors: np.ndarray
    context_vectors: np.ndarray
    train_seconds: float
    workers: int


def train_word2vec(
    offsets: np.ndarray,
    items: np.ndarray,
    n_items: int,
    config: PairConfig,
    *,
    embedding_dim: int,
    epochs: int,
    workers: int = 2,
    seed: int = 42,
) -> Word2VecResult:
    """gensim skip-gram over the baskets (`items` are vocabulary rows); gensim's own threads
    (`workers`) do the work, as its users run it."""
    from gensim.models import Word2Vec

    rng = np.random.default_rng(seed)
    sentences = []
    for start, end in itertools.pairwise(offsets):
        basket = items[start:end]
        if config.shuffle:
            basket = rng.permutation(basket)
        sentences.append([str(item) for item in basket])
    longest = int(np.diff(offsets).max(initial=1))
    started = time.perf_counter()
    model = Word2Vec(
        sentences,
        vector_size=embedding_dim,
        window=config.window or longest,
        shrink_windows=False,
        min_count=1,
        sg=1,
        hs=0,
        negative=config.negatives,
        ns_exponent=config.negative_power,
        sample=config.subsample or 0.0,
        epochs=epochs,
        workers=workers,
        seed=seed,
    )
    seconds = time.perf_counter() - started
    target = np.zeros((n_items, embedding_dim), np.float32)
    context = np.zeros((n_items, embedding_dim), np.float32)
    rows = np.array([int(key) for key in model.wv.index_to_key])
    target[rows] = model.wv.vectors
    context[rows] = model.syn1neg
    return Word2VecResult(target, context, seconds, workers)
