"""Ranking stage: predicts the rating a user would give a movie, for the retrieved candidates.

r̂(u, i) = μ + b_u + b_i + z_u · z_i, with
    z_u = A · [e_u, r_u] and z_i = B · [e_i, features_i, r_i],
biased matrix factorisation (Koren 2008, "Factorization meets the neighborhood") whose factors
are widened by side information: e_u, e_i are learned id embeddings, `features_i` the movie's
genres/year/title words (`movie_features`) and r_u, r_i the frozen retrieval vectors, which carry
what the user watched and rated beside what the ranker sees. Everything is regularised (L2) and
stopped early on a validation share carved from the training ratings; the model is then refitted
on all training ratings for the best number of epochs.

Inference is numpy only (`RankingModel.predict`): the weights are extracted after training and
the forward pass above is a few gathers and matrix products, so the serving process needs no
TensorFlow and answers in microseconds. `keras_model` is kept out of pickles (it exists in the
training process only, for the test that both forward passes agree).

A user unknown at training time (`predict_new_user`) has e_u = 0, b_u fitted in closed form
to their ratings (shrunk like Koren's biases) and r_u = `RetrievalModel.embed_new_user`.
`id_dropout` trains with e_u zeroed for a share of rows so that z_u works from r_u alone.

Caveat: r_u of a known user is built from all their training ratings, weighted by rating, so
a validation rating is faintly visible in r_u (one of ~80 movies in a mean) and the validation
loss is slightly optimistic. The test set is outside every history, and test RMSE still drops
(0.92 → 0.88 on generated data) when the retrieval vectors are added.
"""

import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ml_platform.core.ids import IdRows
from ml_platform.core.pickling import DerivedStateRebuiltOnLoad
from ml_platform.recommender.movie_features import build_movie_features
from ml_platform.recommender.retrieval import RetrievalModel, configure_tensorflow
from ml_platform.recommender.split import split_ratings


@dataclass(frozen=True)
class RankingConfig:
    """Training settings; defaults are tuned on generated ML-100K-sized data (random split)."""

    embedding_dim: int = 32
    epochs: int = 40
    batch_size: int = 1024
    learning_rate: float = 0.001
    l2: float = 1e-4  # on embeddings, biases and projections
    id_dropout: float = 0.2
    new_user_bias_reg: float = 5.0  # λ in b_u = Σ residual / (λ + n) for new users
    validation_share: float = 0.1
    patience: int = 3
    refit: bool = True


@dataclass
class RankingModel(DerivedStateRebuiltOnLoad):
    """Numpy weights of the ranking model and its training history (`loss`, `val_loss`)."""

    user_ids: np.ndarray
    movie_ids: np.ndarray
    mean: float
    user_bias: np.ndarray
    movie_bias: np.ndarray
    user_side: np.ndarray  # [e_u, r_u] per user
    movie_side: np.ndarray  # [e_i, features_i, r_i] per movie
    user_kernel: np.ndarray  # A
    movie_kernel: np.ndarray  # B
    embedding_dim: int
    low: float
    high: float
    config: RankingConfig
    retrieval: RetrievalModel | None
    history: dict[str, list[float]] = field(default_factory=dict)
    train_seconds: float = 0.0
    keras_model: Any = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self._users = IdRows(self.user_ids)
        self._movies = IdRows(self.movie_ids)
        # Movie projections never change after training: computed once, not per request.
        self._movie_factors = self.movie_side @ self.movie_kernel

    def __getstate__(self) -> dict[str, Any]:
        return {**super().__getstate__(), "keras_model": None}

    def has_user(self, user_id: int) -> bool:
        return user_id in self._users

    def config_dict(self) -> dict[str, Any]:
        """The training settings, for run metadata."""
        return asdict(self.config)

    def movie_rows(self, movie_ids: np.ndarray) -> np.ndarray:
        """Row of each movie in the model's arrays; KeyError naming movies it was not fitted on."""
        rows = self._movies.rows(movie_ids)
        if (rows < 0).any():
            raise KeyError(f"movies {np.asarray(movie_ids)[rows < 0][:5].tolist()} unknown")
        return rows

    def predict(self, user_ids: np.ndarray, movie_ids: np.ndarray) -> np.ndarray:
        """Ratings of (user, movie) pairs, clipped to the training range; KeyError if unknown."""
        users = self._users.rows(user_ids)
        if (users < 0).any():
            raise KeyError(f"users {np.asarray(user_ids)[users < 0][:5].tolist()} unknown")
        movies = self.movie_rows(movie_ids)
        user_factors = self.user_side[users] @ self.user_kernel
        interaction = np.einsum("nd,nd->n", user_factors, self._movie_factors[movies])
        raw = self.mean + self.user_bias[users] + self.movie_bias[movies] + interaction
        return np.clip(raw, self.low, self.high)

    def predict_new_user(
        self,
        ratings: Mapping[int, float],
        movie_ids: np.ndarray,
        retrieval_vector: np.ndarray | None = None,
    ) -> np.ndarray:
        """Ratings of `movie_ids` for a user known only by {movie_id: rating} (module docstring).

        `retrieval_vector` is the user's retrieval embedding when the caller has it already, so
        it is not computed twice. The served path is `two_stage._NewUserScorer`, these maths
        folded into precomputed tables; this is the reference its test compares against.
        """
        if retrieval_vector is None and self.retrieval is not None:
            retrieval_vector = self.retrieval.embed_new_user(ratings)
        rated, stars = self._movies.known(ratings)
        movies = self.movie_rows(movie_ids)
        user_side = np.zeros(self.user_side.shape[1], dtype=np.float32)
        if retrieval_vector is not None:
            user_side[self.embedding_dim :] = retrieval_vector
        user_factors = user_side @ self.user_kernel
        bias = 0.0
        if len(rated):
            residual = stars - (
                self.mean + self.movie_bias[rated] + self._movie_factors[rated] @ user_factors
            )
            bias = residual.sum() / (self.config.new_user_bias_reg + len(residual))
        raw = (
            self.mean + bias + self.movie_bias[movies] + self._movie_factors[movies] @ user_factors
        )
        return np.clip(raw, self.low, self.high)


def train_ranking(
    train: pd.DataFrame,
    movies: pd.DataFrame,
    config: RankingConfig | None = None,
    *,
    retrieval: RetrievalModel | None = None,
    seed: int = 42,
    callbacks: Sequence[Any] = (),
) -> RankingModel:
    """The rating model above, fitted on `train` over the `movies` catalogue; `callbacks`
    (Keras callbacks) see the epochs of both fits (validated, then the refit)."""
    import keras

    config = config or RankingConfig()
    started = time.perf_counter()
    configure_tensorflow(seed)
    features = build_movie_features(movies)
    user_ids, movie_ids = np.sort(train["user_id"].unique()), features.movie_ids
    user_extra = np.zeros((len(user_ids), 0), dtype=np.float32)
    movie_extra = features.matrix
    if retrieval is not None:
        user_extra = retrieval.user_vectors[retrieval.user_rows(user_ids)]
        movie_extra = np.hstack(
            [movie_extra, retrieval.movie_vectors[retrieval.movie_rows(movie_ids)]]
        )
    mean = float(train["rating"].mean())

    def build() -> keras.Model:
        dim, reg = config.embedding_dim, keras.regularizers.L2(config.l2)
        user = keras.Input(shape=(), dtype="int32", name="user")
        movie = keras.Input(shape=(), dtype="int32", name="movie")

        def embed(rows: int, width: int, name: str, **options: Any) -> keras.layers.Embedding:
            return keras.layers.Embedding(
                rows, width, embeddings_regularizer=reg, name=name, **options
            )

        user_id = embed(len(user_ids), dim, "user_embedding")(user)
        user_id = keras.layers.Dropout(config.id_dropout, noise_shape=(None, 1))(user_id)
        user_parts = [user_id]
        if user_extra.shape[1]:
            user_parts.append(_frozen(user_extra, "user_extra")(user))
        movie_id = embed(len(movie_ids), dim, "movie_embedding")(movie)

        def dense(name: str) -> keras.layers.Dense:
            return keras.layers.Dense(dim, use_bias=False, kernel_regularizer=reg, name=name)

        user_factors = dense("user_kernel")(_concatenate(user_parts))
        movie_factors = dense("movie_kernel")(
            _concatenate([movie_id, _frozen(movie_extra, "movie_extra")(movie)])
        )
        interaction = keras.layers.Dot(axes=1)([user_factors, movie_factors])
        zeros = {"embeddings_initializer": "zeros"}
        user_bias = keras.layers.Flatten()(embed(len(user_ids), 1, "user_bias", **zeros)(user))
        movie_bias = keras.layers.Flatten()(embed(len(movie_ids), 1, "movie_bias", **zeros)(movie))
        rating = keras.layers.Add()([interaction, user_bias, movie_bias])
        rating = keras.layers.Rescaling(1.0, offset=mean, name="rating")(rating)
        model = keras.Model([user, movie], rating)
        model.compile(optimizer=keras.optimizers.Adam(config.learning_rate), loss="mse")
        return model

    def inputs(ratings: pd.DataFrame) -> dict[str, np.ndarray]:
        return {
            "user": np.searchsorted(user_ids, ratings["user_id"].to_numpy()).astype(np.int32),
            "movie": pd.Index(movie_ids).get_indexer(ratings["movie_id"]).astype(np.int32),
        }

    fit_on, validate_on = split_ratings(train, test_share=config.validation_share, seed=seed)
    model = build()
    stop = keras.callbacks.EarlyStopping(
        patience=config.patience, restore_best_weights=True, monitor="val_loss"
    )
    fitted = model.fit(
        inputs(fit_on),
        fit_on["rating"].to_numpy(np.float32),
        validation_data=(inputs(validate_on), validate_on["rating"].to_numpy(np.float32)),
        epochs=config.epochs,
        batch_size=config.batch_size,
        callbacks=[stop, *callbacks],
        verbose=0,
    )
    history = {name: [float(v) for v in values] for name, values in fitted.history.items()}
    if config.refit:
        best_epochs = int(np.argmin(history["val_loss"])) + 1
        configure_tensorflow(seed)
        model = build()
        model.fit(
            inputs(train),
            train["rating"].to_numpy(np.float32),
            epochs=best_epochs,
            batch_size=config.batch_size,
            callbacks=list(callbacks),
            verbose=0,
        )

    weight = {w.path.split("/")[0]: w.numpy() for w in model.weights}
    return RankingModel(
        user_ids=user_ids,
        movie_ids=movie_ids,
        mean=mean,
        user_bias=weight["user_bias"][:, 0],
        movie_bias=weight["movie_bias"][:, 0],
        user_side=np.hstack([weight["user_embedding"], user_extra]),
        movie_side=np.hstack([weight["movie_embedding"], movie_extra]),
        user_kernel=weight["user_kernel"],
        movie_kernel=weight["movie_kernel"],
        embedding_dim=config.embedding_dim,
        low=float(train["rating"].min()),
        high=float(train["rating"].max()),
        config=config,
        retrieval=retrieval,
        history=history,
        train_seconds=time.perf_counter() - started,
        keras_model=model,
    )


def _concatenate(parts: list[Any]) -> Any:
    import keras

    return parts[0] if len(parts) == 1 else keras.layers.Concatenate()(parts)


def _frozen(table: np.ndarray, name: str) -> Any:
    """A lookup into a constant table: the features and retrieval vectors are not trained."""
    import keras

    layer = keras.layers.Embedding(max(len(table), 1), table.shape[1], trainable=False, name=name)
    layer.build((None,))
    layer.set_weights([table])
    return layer
