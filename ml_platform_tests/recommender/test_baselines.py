import numpy as np
import pandas as pd
import pytest

from ml_platform.demo_data.movielens import generate_movielens
from ml_platform.recommender.baselines import (
    BiasBaseline,
    GlobalMean,
    Popularity,
    tune_bias_baseline,
)
from ml_platform.recommender.metrics import rmse, top_k_categorical_accuracy
from ml_platform.recommender.split import split_ratings


@pytest.fixture(scope="module")
def data():
    dataset = generate_movielens(400, 800, 30_000, seed=5)
    train, test = split_ratings(dataset.ratings, seed=5)
    return train, test, dataset.movies["movie_id"].to_numpy()


def test_user_and_movie_biases_beat_the_global_mean(data):
    train, test, movies = data

    mean = GlobalMean().fit(train, movies).predict(test["user_id"], test["movie_id"])
    biases = tune_bias_baseline(train, movies).predict(test["user_id"], test["movie_id"])

    assert rmse(test["rating"], biases) < rmse(test["rating"], mean) - 0.1


def test_bias_regularisation_is_tuned_on_training_data_only(data):
    train, test, movies = data
    tuned = tune_bias_baseline(train, movies)

    test_scores = {}
    for reg in (1.0, 3.0, 10.0, 25.0, 50.0):
        model = BiasBaseline(reg, reg).fit(train)
        test_scores[reg] = rmse(test["rating"], model.predict(test["user_id"], test["movie_id"]))
    best_on_test = min(test_scores.values())
    assert rmse(test["rating"], tuned.predict(test["user_id"], test["movie_id"])) < (
        best_on_test + 0.01
    )


def test_popularity_finds_held_out_movies_far_more_often_than_chance(data):
    train, test, movies = data

    accuracy = top_k_categorical_accuracy(Popularity().fit(train, movies).scores, test, movies)

    assert accuracy[100] > 3 * 100 / len(movies)


def test_unknown_users_and_movies_fall_back_to_the_global_mean():
    train = pd.DataFrame({"user_id": [1, 1, 2], "movie_id": [1, 2, 1], "rating": [5.0, 3.0, 4.0]})

    model = BiasBaseline().fit(train, movie_ids=[1, 2, 3])

    assert model.predict([9], [9]) == pytest.approx([4.0])
    assert model.scores([9])[0, 2] == pytest.approx(4.0)  # movie 3: in catalogue, never rated
    assert Popularity().fit(train, [1, 2, 3]).scores([9]).tolist() == [[2.0, 1.0, 0.0]]


def test_biases_shrink_a_rarely_rated_movie_towards_the_mean():
    train = pd.DataFrame(
        {"user_id": np.arange(40), "movie_id": [1] * 20 + [2] * 19 + [3], "rating": 3.0}
    )
    train.loc[39, "rating"] = 5.0  # one enthusiastic rating of movie 3
    train.loc[:19, "rating"] = 5.0  # twenty of movie 1

    model = BiasBaseline(reg_movie=5.0, reg_user=5.0).fit(train)

    assert model.predict([100], [1])[0] > model.predict([100], [3])[0]
