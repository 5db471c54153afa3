"""Pair generation as a specification: window vs whole basket, negatives, subsampling, labels."""

import itertools

import numpy as np
import pytest

from ml_platform.prod2vec.pairs import (
    PairConfig,
    context_log_prior,
    keep_probabilities,
    make_pairs,
    negative_distribution,
    positive_pairs,
    sample_negatives,
    subsample,
)


def csr(baskets: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
    offsets = np.concatenate([[0], np.cumsum([len(b) for b in baskets])])
    return offsets, np.concatenate([np.asarray(b) for b in baskets]).astype(np.int32)


def test_whole_basket_context_pairs_every_two_items_of_a_basket_once_each_way():
    offsets, items = csr([[0, 1, 2, 3], [4, 5]])

    targets, contexts = positive_pairs(offsets, items, window=None)

    expected = {(a, b) for basket in ([0, 1, 2, 3], [4, 5]) for a, b in
                itertools.permutations(basket, 2)}  # fmt: skip
    assert sorted(zip(targets.tolist(), contexts.tolist(), strict=True)) == sorted(expected)


def test_a_window_pairs_only_items_that_close_in_cart_order_and_never_across_baskets():
    offsets, items = csr([list(range(8)), [10, 11, 12]])

    targets, contexts = positive_pairs(offsets, items, window=2)

    distance = np.abs(targets - contexts)
    assert distance.max() == 2 and distance.min() == 1
    assert not ((targets < 10) & (contexts >= 10)).any()
    # 8 items, window 2: 7 neighbours at distance 1 + 6 at distance 2, both directions; 3 items: 2+1
    assert len(targets) == 2 * (7 + 6) + 2 * (2 + 1)


def test_shuffled_baskets_pair_any_two_items_with_the_chance_a_random_order_gives():
    # In a random order of n items, two given items are within w positions with probability
    # 2·Σ_{d=1..w}(n−d) / (n(n−1)): 10 items, window 2 → 34/90.
    n, window, baskets = 10, 2, 20_000
    offsets, items = csr([list(range(n))] * baskets)

    targets, contexts = positive_pairs(offsets, items, window, np.random.default_rng(0))

    share = np.count_nonzero((targets == 0) & (contexts == 1)) / baskets
    assert share == pytest.approx(34 / 90, abs=0.01)
    assert len(targets) == baskets * 2 * (9 + 8)  # the window cuts the same number of pairs


def test_negatives_follow_the_unigram_distribution_raised_to_three_quarters():
    counts = np.array([1000, 300, 100, 30, 10, 3, 1])
    drawn = sample_negatives(negative_distribution(counts, 0.75), 400_000, np.random.default_rng(1))

    observed = np.bincount(drawn, minlength=len(counts)) / len(drawn)
    smoothed = counts**0.75 / (counts**0.75).sum()
    raw = counts / counts.sum()
    assert np.abs(observed - smoothed).sum() / 2 < 0.005
    assert np.abs(observed - raw).sum() / 2 > 0.1  # smoothing lifts the rare items
    assert observed[-1] > raw[-1] * 3


def test_make_pairs_draws_negatives_from_the_smoothed_distribution_of_basket_items():
    rng = np.random.default_rng(2)
    baskets = [rng.choice(50, size=6, replace=False, p=np.arange(50, 0, -1) / 1275).tolist()
               for _ in range(3000)]  # fmt: skip
    offsets, items = csr(baskets)
    pairs = make_pairs(offsets, items, 50, PairConfig(subsample=None, negatives=5, seed=3))

    negatives = pairs.context[pairs.label == 0]
    observed = np.bincount(negatives, minlength=50) / len(negatives)
    expected = negative_distribution(np.bincount(items, minlength=50), 0.75)
    assert np.abs(observed - expected).sum() / 2 < 0.02


def test_labels_are_one_positive_to_k_negatives_with_the_same_targets_in_random_order():
    offsets, items = csr([[0, 1, 2, 3, 4]] * 200 + [[5, 6, 7]] * 100)
    pairs = make_pairs(offsets, items, 8, PairConfig(negatives=4, subsample=None, seed=4))

    positives = pairs.label == 1
    assert len(pairs) == 5 * positives.sum()
    assert positives.mean() == pytest.approx(0.2)
    assert not (pairs.target[positives] == pairs.context[positives]).any()
    # each positive's target gets k negatives: per target, 4 negatives per positive
    per_target = np.bincount(pairs.target, minlength=8)
    per_target_positive = np.bincount(pairs.target[positives], minlength=8)
    assert (per_target == 5 * per_target_positive).all()
    assert 0.1 < positives[: len(pairs) // 5].mean() < 0.3  # shuffled, not sorted by label


def test_subsampling_keeps_staples_with_word2vec_probability_and_rare_items_always():
    counts = np.array([100_000, 50, 10, 1])
    keep = keep_probabilities(counts, 1e-3)

    share = counts / counts.sum()
    assert keep[0] == pytest.approx(np.sqrt(1e-3 / share[0]) + 1e-3 / share[0])
    assert keep[1:].tolist() == [1.0, 1.0, 1.0]
    assert keep_probabilities(counts, None).tolist() == [1.0] * 4


def test_subsampling_lowers_the_share_of_pairs_a_staple_is_in():
    rng = np.random.default_rng(5)
    # a staple (item 0) in every basket beside 4 of 200 other items
    baskets = [[0, *rng.choice(np.arange(1, 201), size=4, replace=False)] for _ in range(5000)]
    offsets, items = csr(baskets)

    def staple_share(threshold: float | None) -> float:
        pairs = make_pairs(offsets, items, 201, PairConfig(subsample=threshold, seed=6))
        positive = pairs.label == 1
        return float(np.mean(pairs.target[positive] == 0))

    # t = 1e-2: the staple (20% of items) is kept with p ≈ 0.27, the others (0.4% each) always
    keep = keep_probabilities(np.bincount(items), 1e-2)
    kept_offsets, kept = subsample(offsets, items, keep, np.random.default_rng(7))
    assert staple_share(1e-2) < staple_share(None) / 2
    # only the staple loses occurrences; every other item keeps all of them
    assert (np.bincount(kept, minlength=201)[1:] == np.bincount(items, minlength=201)[1:]).all()
    assert np.bincount(kept)[0] == pytest.approx(5000 * keep[0], rel=0.1)
    assert kept_offsets[-1] == len(kept)


def test_the_context_prior_turns_scores_into_basket_probabilities_for_subsampled_items():
    counts = np.array([10_000, 100, 0])
    config = PairConfig(subsample=1e-3, negative_power=0.75)

    prior = context_log_prior(counts, config)

    keep = keep_probabilities(counts, 1e-3)
    assert prior[0] - prior[1] == pytest.approx(
        0.75 * np.log(100) - np.log(keep[0]) + np.log(keep[1])
    )
    assert prior[2] == -np.inf


@pytest.mark.parametrize(
    "bad", [{"window": 0}, {"negatives": 0}, {"subsample": 1.5}, {"subsample": 0.0}]
)
def test_impossible_pair_settings_are_refused(bad):
    with pytest.raises(ValueError):
        PairConfig(**bad)
