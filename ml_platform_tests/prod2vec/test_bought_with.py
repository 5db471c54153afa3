""" "Bought with": basket evidence where counts are reliable, the vectors where they are not."""

import numpy as np
import pytest

from ml_platform.prod2vec.bought_with import (
    basket_evidence,
    blended_probabilities,
    cooccurrence_counts,
    model_probabilities,
)

# baskets over items 0..4: item 0 is in many baskets with 1; item 4 in one big basket only
OFFSETS = np.array([0, 2, 4, 6, 8, 13])
ITEMS = np.array([0, 1, 0, 1, 0, 1, 0, 2, 0, 1, 2, 3, 4], dtype=np.int32)


def vectors_preferring(item: int, n: int = 5) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Target/context vectors under which every query's most likely partner is `item`."""
    target = np.ones((n, 1))
    context = np.zeros((n, 1))
    context[item] = 5.0
    return target, context, np.zeros(n)


def test_each_basket_shares_one_unit_of_evidence_among_its_other_products():
    evidence = basket_evidence(OFFSETS, ITEMS, 5).toarray()

    # item 0 is in 5 baskets with others: its row sums to 5, whatever the baskets' sizes
    assert evidence.sum(axis=1)[0] == pytest.approx(5.0)
    assert evidence[0, 1] == pytest.approx(3 + 1 / 4)  # three 2-item baskets, one 5-item
    assert evidence[4, 0] == pytest.approx(1 / 4)
    assert (np.diag(evidence) == 0).all()
    counts = cooccurrence_counts(OFFSETS, ITEMS, 5).toarray()
    assert counts[0, 1] == 4 and counts[4, 0] == 1  # the baseline's plain counts


def test_a_product_with_much_evidence_keeps_its_counts_order_and_a_rare_one_follows_the_model():
    evidence = basket_evidence(OFFSETS, ITEMS, 5)
    target, context, prior = vectors_preferring(3)

    scores = blended_probabilities(target, context, prior, evidence, np.array([0, 4]), 2.0)

    assert scores[0].argmax() == 1  # 0 is with 1 in four of its five baskets
    assert scores[1].argmax() == 3  # 4 was seen once: its four partners tie, the model decides
    assert np.isneginf(scores[[0, 1], [0, 4]]).all()
    assert np.allclose(np.where(np.isinf(scores), 0, scores).sum(axis=1), 1.0)


def test_no_blend_is_the_evidence_and_an_infinite_one_is_the_model():
    evidence = basket_evidence(OFFSETS, ITEMS, 5)
    target, context, prior = vectors_preferring(3)
    rows = np.array([0, 1, 2])

    counts_only = blended_probabilities(target, context, prior, evidence, rows, 0.0)
    model_only = blended_probabilities(target, context, prior, evidence, rows, 1e9)

    dense = evidence[rows].toarray()
    np.testing.assert_allclose(
        np.where(np.isinf(counts_only), 0, counts_only), dense / dense.sum(axis=1, keepdims=True)
    )
    np.testing.assert_allclose(
        np.where(np.isinf(model_only), 0, model_only),
        model_probabilities(target, context, prior, rows),
        atol=1e-6,
    )
