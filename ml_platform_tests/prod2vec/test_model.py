"""The Keras skip-gram on tiny data, and the measured model beside its baselines."""

import numpy as np
import pytest

from ml_platform.prod2vec.pairs import PairConfig, make_pairs
from ml_platform.prod2vec.skipgram import Hyperparameters, train_skipgram


def two_groups(n_baskets: int = 400) -> tuple[np.ndarray, np.ndarray]:
    """Items 0-4 are only ever bought together, and 5-9 together: two shops in one."""
    rng = np.random.default_rng(0)
    baskets = [rng.choice(np.arange(5) + 5 * (b % 2), size=3, replace=False) for b in
               range(n_baskets)]  # fmt: skip
    offsets = np.arange(0, 3 * n_baskets + 1, 3)
    return offsets, np.concatenate(baskets).astype(np.int32)


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))


def test_items_bought_together_end_up_with_similar_vectors_and_the_loss_falls():
    offsets, items = two_groups()
    pairs = make_pairs(offsets, items, 10, PairConfig(subsample=None, negatives=2, seed=1))

    model = train_skipgram(
        pairs, 10, Hyperparameters(embedding_dim=8, learning_rate=0.05, epochs=6, batch_size=256)
    )

    vectors = model.target_vectors
    within = np.mean([cosine(vectors[i], vectors[j]) for i in range(5) for j in range(5) if i != j])
    across = np.mean([cosine(vectors[i], vectors[j]) for i in range(5) for j in range(5, 10)])
    assert within > 0.5 > across
    loss = model.history["loss"]
    assert len(loss) == 6 and loss[-1] < loss[0]
    # a pair of the same group scores higher than a pair across groups
    score = vectors @ model.context_vectors.T
    assert score[0, 1] > score[0, 6]
    assert model.pairs_per_second > 0 and model.train_seconds > 0


def test_training_stops_when_the_epoch_callback_says_so():
    offsets, items = two_groups(100)
    pairs = make_pairs(offsets, items, 10, PairConfig(subsample=None, negatives=1))
    seen = []

    def stop_after_two(epoch: int, target: np.ndarray, context: np.ndarray) -> bool:
        seen.append((epoch, target.shape, context.shape))
        return epoch < 2

    model = train_skipgram(
        pairs,
        10,
        Hyperparameters(embedding_dim=4, epochs=5, batch_size=128),
        on_epoch=stop_after_two,
    )

    assert [s[0] for s in seen] == [1, 2]
    assert seen[0][1] == (10, 4) and len(model.history["loss"]) == 2


def test_prod2vec_beats_both_baselines_and_its_neighbours_share_an_aisle(trained):
    metrics = trained.evaluation.metrics

    assert metrics["queries"] > 300
    assert metrics["hr_at_10"] > metrics["popularity_hr_at_10"]
    assert metrics["hr_at_10"] > metrics["cooccurrence_hr_at_10"]
    assert metrics["similar_hr_at_10"] >= metrics["popularity_hr_at_10"]
    assert metrics["aisle_share_at_10"] > 3 * metrics["aisle_share_chance"]
    for key in ("cooccurrence_hr_at_10", "gensim_hr_at_10", "gensim_pairs_per_second"):
        assert 0 < metrics[key]
    assert metrics["pairs"] == pytest.approx(5 * metrics["positive_pairs"])


def test_the_model_scores_products_by_id_and_refuses_unknown_ones(trained):
    model = trained.evaluation.model
    known = model.product_ids[:3]

    scores = model.bought_with_scores(model.rows(known))

    assert scores.shape == (3, len(model.product_ids))
    assert np.isneginf(scores[np.arange(3), model.rows(known)]).all()  # never itself
    with pytest.raises(KeyError, match="not in the model"):
        model.rows(np.array([10**9]))
