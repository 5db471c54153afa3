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


def test_new_user_vector_follows_the_genre_they_loved(trained):
    """Loving ten romances lifts the other romances more than loving ten action films does.

    Compared between two tastes rather than against "no history", so popularity and the
    handful of movies in a small genre cannot decide the outcome.
    """
    genres = trained.movies.set_index("movie_id")["genres"]

    def only(genre: str, other: str) -> np.ndarray:
        chosen = genres.str.contains(genre) & ~genres.str.contains(other)
        return chosen[chosen].index.to_numpy()

    def scores_after_loving(movies: np.ndarray) -> np.ndarray:
        loved = {int(movie): 5.0 for movie in movies[:10]}
        return trained.retrieval.score_vectors(trained.retrieval.embed_new_user(loved))[0]

    romance, action = only("Romance", "Action"), only("Action", "Romance")
    lift = scores_after_loving(romance) - scores_after_loving(action)

    assert lift[np.isin(trained.retrieval.movie_ids, romance[10:])].mean() > 0.2
    assert lift[np.isin(trained.retrieval.movie_ids, action[10:])].mean() < -0.2


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


def test_a_callback_sees_every_epoch_and_early_stopping_stops_when_validation_stalls():
    import keras

    from ml_platform.demo_data.movielens import generate_movielens
    from ml_platform.recommender.retrieval import RetrievalConfig, train_retrieval

    class Epochs(keras.callbacks.Callback):
        def __init__(self) -> None:
            super().__init__()
            self.logs: list[dict] = []

        def on_epoch_end(self, epoch, logs=None) -> None:
            self.logs.append(dict(logs or {}))

    data = generate_movielens(100, 150, 3_000, seed=3)
    seen = Epochs()
    # A learning rate of 0 never improves on the first epoch: patience 2 stops after 3 epochs.
    model = train_retrieval(
        data.ratings,
        data.movies,
        RetrievalConfig(epochs=30, batch_size=256, patience=2, learning_rate=0.0),
        seed=3,
        callbacks=[seen],
    )

    assert len(seen.logs) == len(model.history["val_top_100"]) == 3
    assert {"loss", "val_loss", "val_top_100"} <= set(seen.logs[0])
    assert [log["val_top_100"] for log in seen.logs] == model.history["val_top_100"]
