import pickle

import numpy as np
import pytest

from ml_platform.recommender.baselines import GlobalMean
from ml_platform.recommender.metrics import rmse


def test_numpy_forward_pass_equals_the_keras_model(trained):
    ranking, test = trained.ranking, trained.test
    users = np.searchsorted(ranking.user_ids, test["user_id"].to_numpy()).astype(np.int32)
    movies = np.searchsorted(ranking.movie_ids, test["movie_id"].to_numpy()).astype(np.int32)

    keras_predicted = ranking.keras_model.predict({"user": users, "movie": movies}, verbose=0)
    numpy_predicted = ranking.predict(test["user_id"], test["movie_id"])

    expected = np.clip(keras_predicted[:, 0], ranking.low, ranking.high)
    np.testing.assert_allclose(numpy_predicted, expected, atol=1e-4)


def test_ranking_predicts_ratings_better_than_the_global_mean(trained):
    test = trained.test
    mean = GlobalMean().fit(trained.train).predict(test["user_id"], test["movie_id"])

    predicted = trained.ranking.predict(test["user_id"], test["movie_id"])

    assert rmse(test["rating"], predicted) < rmse(test["rating"], mean) - 0.05
    assert predicted.min() >= 1 and predicted.max() <= 5


def test_new_user_who_rates_high_gets_higher_predictions_than_one_who_rates_low(trained):
    rated = trained.movies["movie_id"].to_numpy()[:20]
    others = trained.movies["movie_id"].to_numpy()[20:60]

    generous = trained.ranking.predict_new_user({int(m): 5.0 for m in rated}, others)
    harsh = trained.ranking.predict_new_user({int(m): 1.0 for m in rated}, others)

    assert generous.mean() > harsh.mean() + 0.5


def test_pickled_model_predicts_the_same_without_its_keras_model(trained):
    test = trained.test

    restored = pickle.loads(pickle.dumps(trained.ranking))

    assert restored.keras_model is None
    np.testing.assert_array_equal(
        restored.predict(test["user_id"], test["movie_id"]),
        trained.ranking.predict(test["user_id"], test["movie_id"]),
    )


def test_unknown_movie_is_a_key_error(trained):
    with pytest.raises(KeyError, match="123456"):
        trained.ranking.predict(trained.train["user_id"][:1], [123456])
