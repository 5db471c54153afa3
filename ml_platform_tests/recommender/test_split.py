import pandas as pd
import pytest

from ml_platform.recommender.split import split_ratings


@pytest.fixture
def ratings():
    return pd.DataFrame(
        {
            "user_id": [1] * 10 + [2] * 5,
            "movie_id": list(range(10)) + list(range(5)),
            "rating": 4.0,
            "timestamp": list(range(10, 0, -1)) + [5, 1, 4, 2, 3],
        }
    )


def test_random_split_holds_out_the_share_and_loses_no_rating(ratings):
    train, test = split_ratings(ratings, test_share=0.2, seed=1)

    assert len(test) == 3 and len(train) == 12
    both = pd.concat([train, test]).sort_values(["user_id", "movie_id"], ignore_index=True)
    pd.testing.assert_frame_equal(
        both, ratings.sort_values(["user_id", "movie_id"], ignore_index=True)
    )


def test_random_split_is_seeded(ratings):
    assert split_ratings(ratings, seed=3)[1].equals(split_ratings(ratings, seed=3)[1])


def test_temporal_split_holds_out_each_users_latest_ratings(ratings):
    train, test = split_ratings(ratings, test_share=0.2, method="temporal")

    assert sorted(test[test["user_id"] == 1]["timestamp"]) == [9, 10]
    assert test[test["user_id"] == 2]["timestamp"].tolist() == [5]
    latest_train = train.groupby("user_id")["timestamp"].max()
    earliest_test = test.groupby("user_id")["timestamp"].min()
    assert (latest_train < earliest_test).all()


def test_unknown_method_is_refused(ratings):
    with pytest.raises(ValueError, match="expected 'random' or 'temporal'"):
        split_ratings(ratings, method="by_genre")
