import numpy as np
import pandas as pd
import pytest

from ml_platform.recommender.metrics import (
    mae,
    ndcg_at_10,
    recall_at_k,
    rmse,
    top_k_categorical_accuracy,
)

MOVIES = np.array([10, 20, 30, 40])
USERS = np.array([1, 2])
# user 1 ranks 10 > 20 > 30 > 40; user 2 ranks 40 > 30 > 20 > 10
SCORES = np.array([[4.0, 3.0, 2.0, 1.0], [1.0, 2.0, 3.0, 4.0]])


def frame(pairs: list[tuple[int, int]], rating: float = 4.0) -> pd.DataFrame:
    users, movies = zip(*pairs, strict=True)
    return pd.DataFrame({"user_id": users, "movie_id": movies, "rating": rating})


def test_rmse_and_mae_by_hand():
    assert rmse([1, 2, 3], [1, 2, 5]) == pytest.approx(np.sqrt(4 / 3))
    assert mae([1, 2, 3], [2, 2, 5]) == pytest.approx(1.0)


def test_top_k_accuracy_counts_a_test_rating_as_a_hit_when_its_movie_is_within_the_top_k():
    test = frame([(1, 20), (2, 10), (2, 40)])  # ranks 2, 4 and 1

    accuracy = top_k_categorical_accuracy(SCORES, test, MOVIES, user_ids=USERS, ks=(1, 2, 4))

    assert accuracy == {1: pytest.approx(1 / 3), 2: pytest.approx(2 / 3), 4: 1.0}


def test_top_k_accuracy_does_not_remove_movies_seen_in_training_as_factorized_top_k():
    # user 1 rated 10 in training; 20 still ranks second behind it, so not in the top 1
    test = frame([(1, 20)])

    accuracy = top_k_categorical_accuracy(SCORES, test, MOVIES, user_ids=USERS, ks=(1, 2))

    assert accuracy == {1: 0.0, 2: 1.0}


def test_top_k_accuracy_counts_ties_as_hits_like_in_top_k():
    tied = np.array([[1.0, 1.0, 1.0, 0.0]])

    accuracy = top_k_categorical_accuracy(tied, frame([(1, 30)]), MOVIES, user_ids=[1], ks=(1,))

    assert accuracy == {1: 1.0}


def test_a_score_function_gives_the_same_accuracy_as_the_matrix_it_computes():
    test = frame([(1, 20), (2, 10), (2, 40)])

    def scores(users: np.ndarray) -> np.ndarray:
        return SCORES[pd.Index(USERS).get_indexer(users)]

    from_function = top_k_categorical_accuracy(scores, test, MOVIES, ks=(1, 2), block_size=1)
    from_matrix = top_k_categorical_accuracy(SCORES, test, MOVIES, user_ids=USERS, ks=(1, 2))
    assert from_function == from_matrix


def test_recall_and_ndcg_remove_the_users_training_movies():
    train = frame([(1, 10)])
    test = frame([(1, 20)])

    recall = recall_at_k(SCORES, train, test, MOVIES, user_ids=USERS, ks=(1,))

    assert recall == {1: 1.0}  # 10 removed, so 20 comes first
    assert ndcg_at_10(SCORES, train, test, MOVIES, user_ids=USERS) == pytest.approx(1.0)


def test_recall_and_ndcg_by_hand():
    train = frame([(2, 40)])
    test = frame([(1, 30), (1, 40), (2, 10)])
    # user 1: 30, 40 at ranks 3, 4 of 10,20,30,40; user 2 (40 removed): 30,20,10 -> 10 at rank 3

    recall = recall_at_k(SCORES, train, test, MOVIES, user_ids=USERS, ks=(2, 3))
    ndcg = ndcg_at_10(SCORES, train, test, MOVIES, user_ids=USERS)

    assert recall == {2: 0.0, 3: pytest.approx((1 / 2 + 1) / 2)}
    user_1 = (1 / np.log2(4) + 1 / np.log2(5)) / (1 + 1 / np.log2(3))
    user_2 = 1 / np.log2(4)
    assert ndcg == pytest.approx((user_1 + user_2) / 2)


def test_a_rating_threshold_makes_only_liked_test_movies_relevant():
    test = pd.concat([frame([(1, 10)], rating=2.0), frame([(1, 30)], rating=5.0)])

    recall = recall_at_k(SCORES, frame([(2, 10)]), test, MOVIES, user_ids=USERS, ks=(1, 3),
                         min_rating=4.0)  # fmt: skip

    assert recall == {1: 0.0, 3: 1.0}
