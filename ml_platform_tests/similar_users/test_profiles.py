"""The sparse half of the similarity, on profiles small enough to score by hand."""

import math

import numpy as np
import pandas as pd
import pytest

from ml_platform.similar_users.profiles import ItemProfiles, similarity_scale

USERS = np.array(["a", "b", "c", "d"])


def profiles(exponent: float) -> ItemProfiles:
    views = pd.DataFrame(
        {"user_handle": ["a", "a", "b", "b", "b", "c", "d"], "item": ["x", "y", "x", "y", "z", "x", "w"]}
    )  # fmt: skip
    interests = pd.DataFrame({"user_handle": ["a", "c"], "item": ["x", "x"]})  # another table's x
    return ItemProfiles({"views": views, "interests": interests}, USERS, exponent)


def idf(users_with_item: int) -> float:
    return math.log(5 / (1 + users_with_item)) + 1


def test_a_query_scores_shared_items_by_idf_over_both_profiles_norms():
    sparse = profiles(exponent=0.5)  # the plain cosine
    columns, weights = sparse.query([("views", "x"), ("views", "y"), ("views", "unknown")])
    scores = sparse.scores(columns, weights)

    query = math.hypot(idf(3), idf(2))
    b = math.sqrt(idf(3) ** 2 + idf(2) ** 2 + idf(1) ** 2)
    assert scores[1] == pytest.approx((idf(3) ** 2 + idf(2) ** 2) / (query * b), rel=1e-5)
    assert scores[3] == 0  # d shares nothing
    # the interest "x" is another column than the viewed "x"
    c = math.sqrt(idf(3) ** 2 + idf(2) ** 2)
    assert scores[2] == pytest.approx(idf(3) ** 2 / (query * c), rel=1e-5)


def test_a_smaller_exponent_penalises_a_bigger_profile_less_among_equal_overlaps():
    # a and b both share x and y with the query; b has z besides, a the interest x
    a_over_b = {}
    for exponent in (0.5, 0.4, 0.0):
        sparse = profiles(exponent)
        scores = sparse.scores(*sparse.query([("views", "x"), ("views", "y")]))
        a_over_b[exponent] = scores[0] / scores[1]
    b_norm = math.sqrt(idf(3) ** 2 + idf(2) ** 2 + idf(1) ** 2)
    a_norm = math.sqrt(idf(3) ** 2 + 2 * idf(2) ** 2)  # the interest x: a and c
    assert a_over_b[0.5] == pytest.approx(b_norm / a_norm, rel=1e-5)
    assert a_over_b[0.5] > a_over_b[0.4] > a_over_b[0.0] == pytest.approx(1.0)


def test_a_known_users_scores_are_those_of_their_profile_as_a_query():
    sparse = profiles(exponent=0.4)
    as_query = sparse.scores(*sparse.query([("views", "x"), ("views", "y"), ("interests", "x")]))
    np.testing.assert_allclose(sparse.user_scores(np.array([0]))[0], as_query, rtol=1e-6)


def test_the_mixed_similarity_stays_within_one_whatever_the_profile_sizes():
    sparse = profiles(exponent=0.0)  # the biggest possible reward for a big profile
    scale = similarity_scale(0.1, sparse)
    for row in range(len(USERS)):
        mixed = (0.1 * 1.0 + 0.9 * sparse.user_scores(np.array([row]))[0]) / scale
        assert mixed.max() <= 1 + 1e-6
