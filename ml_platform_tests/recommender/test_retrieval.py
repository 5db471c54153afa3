import numpy as np
import pytest

from ml_platform.recommender.metrics import top_k_categorical_accuracy
from ml_platform.recommender.movie_features import build_movie_features, title_words


def test_retrieval_finds_held_out_movies_far_more_often_than_chance(trained):
    accuracy = top_k_categorical_accuracy(
        trained.retrieval.scores, trained.test, trained.retrieval.movie_ids, ks=(50,)
    )

    chance = 50 / len(trained.retrieval.movie_ids)
    assert accuracy[50] > 1.5 * chance


def test_scores_cover_the_whole_catalogue_including_movies_nobody_rated(trained):
    users = trained.retrieval.user_ids[:3]

    scores = trained.retrieval.scores(users)

    assert scores.shape == (3, len(trained.movies))
    assert np.isfinite(scores).all()


def test_unknown_user_is_a_key_error_naming_the_user(trained):
    with pytest.raises(KeyError, match="99999"):
        trained.retrieval.scores(np.array([99999]))


def test_new_user_vector_scores_the_genre_they_loved_above_the_rest(trained):
    genres = trained.movies.set_index("movie_id")["genres"].str.contains("Horror")
    horror = genres[genres].index.to_numpy()
    loved = {int(movie): 5.0 for movie in horror[:10]}

    scores = trained.retrieval.score_vectors(trained.retrieval.embed_new_user(loved))[0]
    no_history = trained.retrieval.score_vectors(trained.retrieval.embed_new_user({}))[0]

    is_horror = np.isin(trained.retrieval.movie_ids, horror[10:])
    gain = scores - no_history
    assert gain[is_horror].mean() > gain[~np.isin(trained.retrieval.movie_ids, horror)].mean()


def test_training_history_has_train_and_validation_loss_per_epoch(trained):
    history = trained.retrieval.history

    assert len(history["loss"]) == len(history["val_loss"]) == len(history["val_top_100"]) > 0


def test_movie_features_carry_genres_year_bucket_and_shared_title_words(trained):
    features = build_movie_features(trained.movies)

    assert title_words("Star Wars (1977)") == ["star", "wars"]
    genre_columns = [i for i, name in enumerate(features.names) if name.startswith("genre=")]
    year_columns = [i for i, name in enumerate(features.names) if name.startswith("year")]
    assert (features.matrix[:, genre_columns] > 0).any(axis=1).all()
    assert (features.matrix[:, year_columns].sum(axis=1) == 1).all()
    assert features.vocabulary and features.matrix.shape == (
        len(trained.movies),
        len(features.names),
    )
