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
from the training ratings; the test set is never seen. TensorFlow is imported inside
`train_retrieval` only, so `RetrievalModel` (numpy) loads in processes without it.
"""

import os
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ml_platform.core.ids import IdRows
from ml_platform.core.pickling import DerivedStateRebuiltOnLoad
from ml_platform.recommender.movie_features import build_movie_features
from ml_platform.recommender.split import split_ratings

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
) -> RetrievalModel:
    """Two towers fitted on `train` ratings over the `movies` catalogue (see module docstring).

    The history matrix is dense (users × movies): 6 MB for ML-100K, ~90 MB for ML-1M; beyond
    that it would need sparse gathers.
    """
    import keras
    import tensorflow as tf

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

    fit_history = history_matrix(fit_on)
    user_index, movie_index = pd.Index(user_ids), pd.Index(movie_ids)
    fit_users = user_index.get_indexer(fit_on["user_id"]).astype(np.int32)
    fit_movies = movie_index.get_indexer(fit_on["movie_id"]).astype(np.int32)
    fit_weights = fit_history[fit_users, fit_movies]
    counts = np.bincount(fit_movies, minlength=len(movie_ids)) + 1.0  # +1: unrated movies
    log_q = np.log(counts / counts.sum()).astype(np.float32)

    dim, l2 = config.embedding_dim, config.l2
    init = keras.initializers.RandomNormal(stddev=0.05)
    user_embedding = keras.layers.Embedding(len(user_ids), dim, embeddings_initializer=init)
    movie_embedding = keras.layers.Embedding(len(movie_ids), dim, embeddings_initializer=init)
    history_embedding = keras.layers.Embedding(len(movie_ids), dim, embeddings_initializer=init)
    movie_bias = keras.layers.Embedding(len(movie_ids), 1, embeddings_initializer="zeros")
    feature_layer = keras.layers.Dense(dim, use_bias=False)
    projection = keras.layers.Dense(dim)
    feature_matrix = tf.constant(features.matrix)
    for layer, width in ((feature_layer, features.matrix.shape[1]), (projection, dim)):
        layer.build((None, width))
    for layer in (user_embedding, movie_embedding, history_embedding, movie_bias):
        layer.build((None,))
    layers = (
        user_embedding,
        movie_embedding,
        history_embedding,
        movie_bias,
        feature_layer,
        projection,
    )
    variables = [v.value for layer in layers for v in layer.trainable_weights]
    optimizer = keras.optimizers.Adam(config.learning_rate)
    optimizer.build(variables)
    history_tensor = tf.constant(fit_history)
    log_q_tensor = tf.constant(log_q)

    def movie_tower(movies_: tf.Tensor) -> tf.Tensor:
        return movie_embedding(movies_) + feature_layer(tf.gather(feature_matrix, movies_))

    def user_tower(
        users: tf.Tensor, left_out: tf.Tensor, left_out_weight: tf.Tensor, keep_id: tf.Tensor
    ) -> tf.Tensor:
        """E_user·keep + P·(history minus the left-out movie) + c."""
        rows = tf.gather(history_tensor, users)
        summed = rows @ history_embedding.embeddings
        summed -= left_out_weight[:, None] * history_embedding(left_out)
        total = tf.reduce_sum(rows, axis=1) - left_out_weight
        mean = summed / tf.maximum(total, 1e-6)[:, None]
        return keep_id[:, None] * user_embedding(users) + projection(mean)

    def batch_loss(
        users: tf.Tensor, movies_: tf.Tensor, weights: tf.Tensor, keep_id: tf.Tensor
    ) -> tuple[tf.Tensor, tf.Tensor]:
        query = user_tower(users, movies_, weights, keep_id)
        candidate = movie_tower(movies_)
        logits = tf.matmul(query, candidate, transpose_b=True) / config.temperature
        logits += tf.transpose(movie_bias(movies_)) - tf.gather(log_q_tensor, movies_)[None, :]
        same = tf.equal(movies_[:, None], movies_[None, :])
        accidental = tf.logical_and(same, tf.logical_not(tf.eye(tf.size(movies_), dtype=bool)))
        logits = tf.where(accidental, tf.fill(tf.shape(logits), -1e9), logits)
        labels = tf.range(tf.size(movies_))
        loss = tf.reduce_mean(
            tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
        )
        penalty = l2 * (tf.reduce_sum(query**2) + tf.reduce_sum(candidate**2))
        return loss, penalty / tf.cast(tf.size(movies_), tf.float32)

    @tf.function(reduce_retracing=True)
    def train_step(users: tf.Tensor, movies_: tf.Tensor, weights: tf.Tensor) -> tf.Tensor:
        keep_id = tf.cast(tf.random.uniform(tf.shape(users)) >= config.id_dropout, tf.float32)
        with tf.GradientTape() as tape:
            loss, penalty = batch_loss(users, movies_, weights, keep_id)
            total = loss + penalty
        optimizer.apply_gradients(zip(tape.gradient(total, variables), variables, strict=True))
        return loss

    @tf.function(reduce_retracing=True)
    def validation_step(users: tf.Tensor, movies_: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        """(in-batch loss, hits in the full-catalogue top 100) of validation ratings."""
        zero = tf.zeros(tf.shape(users))
        loss, _ = batch_loss(users, movies_, zero, tf.ones(tf.shape(users)))
        query = user_tower(users, movies_, zero, tf.ones(tf.shape(users)))
        all_movies = movie_tower(tf.range(len(movie_ids)))
        scores = query @ tf.transpose(all_movies) / config.temperature
        scores += tf.transpose(movie_bias.embeddings)
        true = tf.gather(scores, movies_, axis=1, batch_dims=1)
        higher = tf.reduce_sum(tf.cast(scores > true[:, None], tf.int32), axis=1)
        return loss, tf.reduce_sum(tf.cast(higher < 100, tf.float32))

    dataset = (
        tf.data.Dataset.from_tensor_slices((fit_users, fit_movies, fit_weights))
        .shuffle(len(fit_users), seed=seed, reshuffle_each_iteration=True)
        .batch(config.batch_size, drop_remainder=len(fit_users) > config.batch_size)
        .prefetch(2)
    )
    val_users = user_index.get_indexer(validate_on["user_id"]).astype(np.int32)
    val_movies = movie_index.get_indexer(validate_on["movie_id"]).astype(np.int32)
    validation = tf.data.Dataset.from_tensor_slices((val_users, val_movies)).batch(
        config.batch_size
    )

    history: dict[str, list[float]] = {"loss": [], "val_loss": [], "val_top_100": []}
    best, best_weights, waited = -1.0, None, 0
    for _ in range(config.epochs):
        losses = [float(train_step(*batch)) for batch in dataset]
        val_losses, hits = [], 0.0
        for batch in validation:
            loss, batch_hits = validation_step(*batch)
            val_losses.append(float(loss))
            hits += float(batch_hits)
        history["loss"].append(float(np.mean(losses)))
        history["val_loss"].append(float(np.mean(val_losses)))
        history["val_top_100"].append(hits / max(len(val_users), 1))
        if history["val_top_100"][-1] > best:
            best, waited = history["val_top_100"][-1], 0
            best_weights = [v.numpy() for v in variables]
        else:
            waited += 1
            if waited >= config.patience:
                break
    for variable, value in zip(variables, best_weights, strict=True):
        variable.assign(value)

    # Known users are embedded from ALL their training ratings: the history is an input, so
    # the validation ratings inform the vectors without retraining.
    full_history = history_matrix(train)
    history_vectors = history_embedding.embeddings.numpy()
    means = full_history @ history_vectors / full_history.sum(axis=1, keepdims=True)
    kernel, bias = (w.numpy() for w in projection.weights)
    user_vectors = user_embedding.embeddings.numpy() + means @ kernel + bias
    return RetrievalModel(
        user_ids=user_ids,
        movie_ids=movie_ids,
        user_vectors=user_vectors.astype(np.float32),
        # 1/τ folded into the movie vectors: scores = u·m + b ranks as the trained logits.
        movie_vectors=movie_tower(tf.range(len(movie_ids))).numpy() / config.temperature,
        movie_bias=movie_bias.embeddings.numpy()[:, 0],
        history_embeddings=history_vectors,
        projection=kernel,
        projection_bias=bias,
        rating_weight=config.rating_weight,
        config=config,
        history=history,
        train_seconds=time.perf_counter() - started,
    )
