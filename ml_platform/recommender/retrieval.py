"""Retrieval stage: a two-tower model that scores every movie for a user by one dot product.

Towers (trained together in Keras, exported as numpy arrays):

- movie tower: m_i = E_movie[i] + features_i · W (`movie_features`), plus a bias b_i. The
  feature part gives movies with few or no training ratings a usable vector.
- user tower: u = E_user[u] + P · h_u + c, where h_u is the weighted mean of "history"
  embeddings y_j of the movies the user rated — the asymmetric part of SVD++ (Koren 2008,
  "Factorization meets the neighborhood"). Weights are max(0.1, 1 + α(r − r̄_u)): every rated
  movie says what the user watches, the liked ones more. The history part is what embeds a NEW
  user from a few ratings without retraining (`embed_new_user`: E_user = 0); `id_dropout` zeroes
  E_user for a share of training rows so that the model learns to rely on the history alone.
  While training, the target movie is left out of its own history (otherwise the model learns
  "recommend what they already rated", useless for unseen movies).

Loss: in-batch softmax with the logQ correction of Yi et al. 2019 ("Sampling-bias-corrected
neural modeling for large corpus item recommendations"): the other positives of a batch are the
negatives, so popular movies are over-sampled as negatives; subtracting log q_j (q_j = the
movie's share of training ratings) from each logit makes the model estimate the full softmax,
whose scores keep popularity, the strongest single signal of what gets watched. Other rows
holding the same movie are masked, not counted as negatives.

Early stopping watches top-100 accuracy over the whole catalogue on a validation share carved
from the training ratings; the test set is never seen. The towers are a Keras model
(`towers.TwoTowers`) trained by `fit` with `EarlyStopping`; TensorFlow is imported inside
`train_retrieval` only, so `RetrievalModel` (numpy) loads in processes without it.
"""

import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ml_platform.core.ids import IdRows
from ml_platform.core.pickling import DerivedStateRebuiltOnLoad
from ml_platform.recommender.movie_features import build_movie_features
from ml_platform.recommender.split import split_ratings

if TYPE_CHECKING:
    import keras

_MIN_HISTORY_WEIGHT = 0.1  # a disliked movie still tells what the user watches


@dataclass(frozen=True)
class RetrievalConfig:
    """Training settings; defaults are tuned on generated ML-100K-sized data (random split)."""

    embedding_dim: int = 64
    epochs: int = 40
    batch_size: int = 2048
    learning_rate: float = 0.002
    temperature: float = 1.0
    l2: float = 1e-5  # on the squared norms of a batch's user and movie vectors
    rating_weight: float = 0.5  # α in the history weights
    id_dropout: float = 0.5
    validation_share: float = 0.1
    patience: int = 4


def configure_tensorflow(seed: int) -> None:
    """Seed Python/numpy/TF; one inter-op thread, since the ops of these small models are
    sequential and parallel ops would only compete for the (2, on the target box) cores."""
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    cores = os.cpu_count() or 1
    try:
        tf.config.threading.set_intra_op_parallelism_threads(cores)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    except RuntimeError:  # already initialised by an earlier training in this process
        pass


@dataclass
class RetrievalModel(DerivedStateRebuiltOnLoad):
    """The trained towers as numpy arrays: scoring needs no TensorFlow.

    `scores(user_ids)` is (users × `movie_ids`) = user_vectors · movie_vectorsᵀ + movie_bias,
    the input `metrics.top_k_categorical_accuracy` expects. `history` holds per-epoch
    `loss` (train, in-batch softmax), `val_loss` (same loss on validation) and `val_top_100`.
    """

    user_ids: np.ndarray
    movie_ids: np.ndarray
    user_vectors: np.ndarray
    movie_vectors: np.ndarray
    movie_bias: np.ndarray
    history_embeddings: np.ndarray  # y_j, rows in movie_ids order
    projection: np.ndarray  # P, (dim, dim)
    projection_bias: np.ndarray  # c
    rating_weight: float
    config: RetrievalConfig
    history: dict[str, list[float]] = field(default_factory=dict)
    train_seconds: float = 0.0

    def __post_init__(self) -> None:
        self._users = IdRows(self.user_ids)
        self._movies = IdRows(self.movie_ids)

    def has_user(self, user_id: int) -> bool:
        return user_id in self._users

    def config_dict(self) -> dict[str, Any]:
        """The training settings, for run metadata."""
        return asdict(self.config)

    def has_movie(self, movie_id: int) -> bool:
        return movie_id in self._movies

    def user_rows(self, user_ids: np.ndarray) -> np.ndarray:
        """Row of each user in `user_vectors`; KeyError naming the users trained without."""
        rows = self._users.rows(user_ids)
        if (rows < 0).any():
            raise KeyError(f"users {np.asarray(user_ids)[rows < 0][:5].tolist()} unknown")
        return rows

    def movie_rows(self, movie_ids: np.ndarray) -> np.ndarray:
        """Row of each movie in `movie_vectors`; KeyError naming movies outside the catalogue."""
        rows = self._movies.rows(movie_ids)
        if (rows < 0).any():
            raise KeyError(f"movies {np.asarray(movie_ids)[rows < 0][:5].tolist()} unknown")
        return rows

    def scores(self, user_ids: np.ndarray) -> np.ndarray:
        return self.score_vectors(self.user_vectors[self.user_rows(user_ids)])

    def score_vectors(self, vectors: np.ndarray) -> np.ndarray:
        """Scores of every movie for user vectors (e.g. from `embed_new_user`)."""
        return np.atleast_2d(vectors) @ self.movie_vectors.T + self.movie_bias

    def rated_rows(self, ratings: Mapping[int, float]) -> tuple[np.ndarray, np.ndarray]:
        """Catalogue rows and stars of the rated movies; movies outside the catalogue dropped."""
        return self._movies.known(ratings)

    def embed_new_user(self, ratings: Mapping[int, float]) -> np.ndarray:
        """User vector from {movie_id: rating} alone — the user tower with E_user = 0.

        Movies outside the catalogue are ignored; no known movie gives the vector of a user
        with an empty history (c), which scores movies by bias, i.e. by popularity.
        """
        rows, stars = self.rated_rows(ratings)
        if len(rows) == 0:
            return self.projection_bias.copy()
        weights = history_weights(stars, np.full(len(stars), stars.mean()), self.rating_weight)
        mean = weights @ self.history_embeddings[rows] / weights.sum()
        return (mean @ self.projection + self.projection_bias).astype(np.float32)


def history_weights(
    ratings: np.ndarray, user_means: np.ndarray | float, rating_weight: float
) -> np.ndarray:
    """max(0.1, 1 + α(r − r̄_u)): how much each rated movie counts in the user's history."""
    return np.maximum(_MIN_HISTORY_WEIGHT, 1 + rating_weight * (ratings - user_means))


def train_retrieval(
    train: pd.DataFrame,
    movies: pd.DataFrame,
    config: RetrievalConfig | None = None,
    *,
    seed: int = 42,
    callbacks: Sequence["keras.callbacks.Callback"] = (),
) -> RetrievalModel:
    """Two towers fitted on `train` ratings over the `movies` catalogue (see module docstring).

    Keras `fit` runs the epochs with `EarlyStopping` on `val_top_100` (restoring the best
    epoch's weights); `callbacks` are added after it, e.g. to log each epoch's figures.

    The history matrix is dense (users × movies): 6 MB for ML-100K, ~90 MB for ML-1M; beyond
    that it would need sparse gathers.
    """
    import keras
    import tensorflow as tf

    from ml_platform.recommender.towers import TwoTowers

    config = config or RetrievalConfig()
    started = time.perf_counter()
    configure_tensorflow(seed)
    features = build_movie_features(movies)
    user_ids = np.sort(train["user_id"].unique())
    movie_ids = features.movie_ids
    fit_on, validate_on = split_ratings(train, test_share=config.validation_share, seed=seed)

    def history_matrix(ratings: pd.DataFrame) -> np.ndarray:
        matrix = np.zeros((len(user_ids), len(movie_ids)), dtype=np.float32)
        means = ratings.groupby("user_id")["rating"].transform("mean").to_numpy()
        weights = history_weights(ratings["rating"].to_numpy(), means, config.rating_weight)
        rows = np.searchsorted(user_ids, ratings["user_id"].to_numpy())
        matrix[rows, pd.Index(movie_ids).get_indexer(ratings["movie_id"])] = weights
        return matrix

    user_index, movie_index = pd.Index(user_ids), pd.Index(movie_ids)

    def rows_of(ratings: pd.DataFrame) -> dict[str, np.ndarray]:
        return {
            "users": user_index.get_indexer(ratings["user_id"]).astype(np.int32),
            "movies": movie_index.get_indexer(ratings["movie_id"]).astype(np.int32),
        }

    fit_history = history_matrix(fit_on)
    fit_rows = rows_of(fit_on)
    fit_rows["weights"] = fit_history[fit_rows["users"], fit_rows["movies"]]
    counts = np.bincount(fit_rows["movies"], minlength=len(movie_ids)) + 1.0  # +1: unrated
    model = TwoTowers(
        n_users=len(user_ids),
        feature_matrix=features.matrix,
        history=fit_history,
        log_q=np.log(counts / counts.sum()).astype(np.float32),
        dim=config.embedding_dim,
        temperature=config.temperature,
        l2=config.l2,
        id_dropout=config.id_dropout,
    )
    model.compile(optimizer=keras.optimizers.Adam(config.learning_rate))
    n_fit = len(fit_on)
    dataset = (
        tf.data.Dataset.from_tensor_slices(fit_rows)
        .shuffle(n_fit, seed=seed, reshuffle_each_iteration=True)
        .batch(config.batch_size, drop_remainder=n_fit > config.batch_size)
        .prefetch(2)
    )
    validation = tf.data.Dataset.from_tensor_slices(rows_of(validate_on)).batch(config.batch_size)
    stop = keras.callbacks.EarlyStopping(
        monitor="val_top_100", mode="max", patience=config.patience, restore_best_weights=True
    )
    fitted = model.fit(
        dataset,
        validation_data=validation,
        epochs=config.epochs,
        callbacks=[stop, *callbacks],
        shuffle=False,  # the dataset reshuffles itself each epoch
        verbose=0,
    )
    history = {
        name: [float(v) for v in fitted.history[name]]
        for name in ("loss", "val_loss", "val_top_100")
    }

    # Known users are embedded from ALL their training ratings: the history is an input, so
    # the validation ratings inform the vectors without retraining.
    full_history = history_matrix(train)
    history_vectors = model.history_embedding.embeddings.numpy()
    means = full_history @ history_vectors / full_history.sum(axis=1, keepdims=True)
    kernel, bias = (w.numpy() for w in model.projection.weights)
    user_vectors = model.user_embedding.embeddings.numpy() + means @ kernel + bias
    return RetrievalModel(
        user_ids=user_ids,
        movie_ids=movie_ids,
        user_vectors=user_vectors.astype(np.float32),
        # 1/τ folded into the movie vectors: scores = u·m + b ranks as the trained logits.
        movie_vectors=model.movie_tower(tf.range(len(movie_ids))).numpy() / config.temperature,
        movie_bias=model.movie_bias.embeddings.numpy()[:, 0],
        history_embeddings=history_vectors,
        projection=kernel,
        projection_bias=bias,
        rating_weight=config.rating_weight,
        config=config,
        history=history,
        train_seconds=time.perf_counter() - started,
    )
