"""The held-out protocol: queries, HR@10 and MRR, and the baselines, on hand-made baskets."""

import numpy as np
import pandas as pd
import pytest

from ml_platform.prod2vec.baskets import build_baskets, to_csr, vocabulary
from ml_platform.prod2vec.evaluation import (
    CooccurrenceRanker,
    EmbeddingRanker,
    PopularityRanker,
    Queries,
    aisle_agreement,
    held_out_queries,
    hit_rate_and_mrr,
)


def queries(query: list[int], others: list[list[int]]) -> Queries:
    offsets = np.concatenate([[0], np.cumsum([len(o) for o in others])])
    return Queries(np.array(query), offsets, np.concatenate([np.array(o) for o in others]))


def test_a_hit_is_another_product_of_the_basket_in_the_ten_and_mrr_uses_its_rank():
    recommended = np.array([[9, 8, 3] + [0] * 7, [1, 2, 4] + [0] * 7, [7] * 10])
    held_out = queries([1, 3, 5], [[3, 4], [4], [6]])

    figures = hit_rate_and_mrr(recommended, held_out)

    assert figures["hr_at_10"] == pytest.approx(2 / 3)
    assert figures["mrr"] == pytest.approx((1 / 3 + 1 / 3 + 0) / 3)


def test_each_users_last_basket_is_held_out_and_test_orders_are_left_out():
    orders = pd.DataFrame(
        {
            "order_id": [1, 2, 3, 4, 5],
            "user_id": [1, 1, 1, 2, 2],
            "eval_set": ["prior", "prior", "test", "prior", "train"],
            "order_number": [1, 2, 3, 1, 2],
        }
    )
    lines = pd.DataFrame(
        {
            "order_id": [1, 1, 2, 4, 5, 5],
            "product_id": [10, 11, 12, 10, 11, 13],
            "add_to_cart_order": [1, 2, 1, 1, 2, 1],
        }
    )

    baskets = build_baskets(orders, lines)

    assert baskets["order_id"].tolist() == [1, 2, 4, 5]
    assert baskets["split"].tolist() == ["train", "test", "train", "test"]
    assert baskets.loc[baskets["order_id"] == 5, "products"].iloc[0].tolist() == [13, 11]
    assert vocabulary(baskets).tolist() == [10, 11]  # only what training baskets hold


def test_an_order_that_lost_its_products_becomes_an_empty_basket_for_the_checks_to_see():
    orders = pd.DataFrame(
        {
            "order_id": [1, 2],
            "user_id": [1, 1],
            "eval_set": ["prior", "prior"],
            "order_number": [1, 2],
        }
    )
    lines = pd.DataFrame({"order_id": [2], "product_id": [10], "add_to_cart_order": [1]})

    baskets = build_baskets(orders, lines)

    assert baskets["size"].tolist() == [0, 1]


def test_queries_use_a_known_product_of_each_basket_of_two_or_more():
    held_out = held_out_queries(
        pd.Series([np.array([1, 2, 3]), np.array([4]), np.array([9, 5]), np.array([8, 9])]),
        known=np.array([1, 2, 3, 5]),
        seed=0,
    )

    assert len(held_out) == 2  # [4] is too small, [8, 9] has no known product
    assert held_out.query[1] == 5
    assert held_out.others[held_out.offsets[1] :].tolist() == [9]


def test_popularity_recommends_the_most_bought_other_than_the_query():
    ids = np.arange(100, 115)
    ranker = PopularityRanker(ids, counts=np.arange(15)[::-1])

    found = ranker(np.array([100, 114]))

    assert found[0].tolist() == list(range(101, 111))
    assert found[1].tolist() == list(range(100, 110))


def test_co_occurrence_ranks_by_shared_baskets_then_by_popularity():
    ids = np.array([1, 2, 3, 4])
    offsets, items = to_csr(
        pd.Series([np.array(b) for b in ([1, 2], [1, 2], [1, 3], [4, 3], [4, 3], [4, 2])]), ids
    )

    found = CooccurrenceRanker(ids, offsets, items)(np.array([1]))

    assert found[0][:3].tolist() == [2, 3, 4]  # 2 twice with 1, 3 once, 4 never (by popularity)


def test_embedding_neighbours_and_the_aisle_share_against_chance():
    ids = np.array([1, 2, 3, 4])
    vectors = np.array([[1, 0], [0.9, 0.1], [0, 1], [0.1, 0.9]])
    aisles = pd.Series([7, 7, 8, 8], index=ids)

    assert EmbeddingRanker(ids, vectors)(np.array([1]))[0][0] == 2
    figures = aisle_agreement(ids, vectors, aisles, np.ones(4, bool))
    # 3 neighbours each (all the others): 1 of 3 in the same aisle; chance is the same 1/3
    assert figures["aisle_share_chance"] == pytest.approx(1 / 3)
