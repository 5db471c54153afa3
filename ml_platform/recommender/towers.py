"""The retrieval stage's two towers as a Keras model, so `fit` runs the epochs, validation,
early stopping and the callbacks a caller adds (progress in the Dagster log, for instance).

Imported by `retrieval.train_retrieval` only: it needs TensorFlow, which `RetrievalModel`
(numpy) does not. What the towers compute and why is in `retrieval`'s docstring.
"""

import keras
import numpy as np
import tensorflow as tf


class TwoTowers(keras.Model):
    """User tower E_user·keep + P·(weighted history mean) + c; movie tower E_movie + features·W,
    bias b; in-batch softmax with the logQ correction and same-movie masking.

    A batch is a dict of int32 `users`, `movies` and, for training, float32 `weights` (the
    target movie's weight in the user's history, left out of it). `fit` logs `loss` (train),
    `val_loss` and `val_top_100`: the share of validation ratings whose movie is in the user's
    top 100 over the whole catalogue, which early stopping watches.
    """

    def __init__(
        self,
        *,
        n_users: int,
        feature_matrix: np.ndarray,
        history: np.ndarray,
        log_q: np.ndarray,
        dim: int,
        temperature: float,
        l2: float,
        id_dropout: float,
    ) -> None:
        super().__init__()
        n_movies = len(feature_matrix)
        init = keras.initializers.RandomNormal(stddev=0.05)
        self.user_embedding = keras.layers.Embedding(n_users, dim, embeddings_initializer=init)
        self.movie_embedding = keras.layers.Embedding(n_movies, dim, embeddings_initializer=init)
        self.history_embedding = keras.layers.Embedding(n_movies, dim, embeddings_initializer=init)
        self.movie_bias = keras.layers.Embedding(n_movies, 1, embeddings_initializer="zeros")
        self.feature_layer = keras.layers.Dense(dim, use_bias=False)
        self.projection = keras.layers.Dense(dim)
        self.feature_layer.build((None, feature_matrix.shape[1]))
        self.projection.build((None, dim))
        for layer in (
            self.user_embedding,
            self.movie_embedding,
            self.history_embedding,
            self.movie_bias,
        ):
            layer.build((None,))
        self.built = True
        self.n_movies = n_movies
        self.features = tf.constant(feature_matrix)
        self.history_matrix = tf.constant(history)  # `history` is Keras' History
        self.log_q = tf.constant(log_q)
        self.temperature, self.l2, self.id_dropout = temperature, l2, id_dropout
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.top_100 = keras.metrics.Mean(name="top_100")

    @property
    def metrics(self) -> list[keras.metrics.Metric]:
        return [self.loss_tracker, self.top_100]

    def movie_tower(self, movies: tf.Tensor) -> tf.Tensor:
        return self.movie_embedding(movies) + self.feature_layer(tf.gather(self.features, movies))

    def user_tower(
        self, users: tf.Tensor, left_out: tf.Tensor, left_out_weight: tf.Tensor, keep_id: tf.Tensor
    ) -> tf.Tensor:
        """E_user·keep + P·(history minus the left-out movie) + c."""
        rows = tf.gather(self.history_matrix, users)
        summed = rows @ self.history_embedding.embeddings
        summed -= left_out_weight[:, None] * self.history_embedding(left_out)
        total = tf.reduce_sum(rows, axis=1) - left_out_weight
        mean = summed / tf.maximum(total, 1e-6)[:, None]
        return keep_id[:, None] * self.user_embedding(users) + self.projection(mean)

    def batch_loss(
        self, users: tf.Tensor, movies: tf.Tensor, weights: tf.Tensor, keep_id: tf.Tensor
    ) -> tuple[tf.Tensor, tf.Tensor]:
        """(in-batch softmax loss, L2 penalty per row)."""
        query = self.user_tower(users, movies, weights, keep_id)
        candidate = self.movie_tower(movies)
        logits = tf.matmul(query, candidate, transpose_b=True) / self.temperature
        logits += tf.transpose(self.movie_bias(movies)) - tf.gather(self.log_q, movies)[None, :]
        same = tf.equal(movies[:, None], movies[None, :])
        accidental = tf.logical_and(same, tf.logical_not(tf.eye(tf.size(movies), dtype=bool)))
        logits = tf.where(accidental, tf.fill(tf.shape(logits), -1e9), logits)
        labels = tf.range(tf.size(movies))
        loss = tf.reduce_mean(
            tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
        )
        penalty = self.l2 * (tf.reduce_sum(query**2) + tf.reduce_sum(candidate**2))
        return loss, penalty / tf.cast(tf.size(movies), tf.float32)

    def train_step(self, data: dict[str, tf.Tensor]) -> dict[str, tf.Tensor]:
        users, movies = data["users"], data["movies"]
        keep_id = tf.cast(tf.random.uniform(tf.shape(users)) >= self.id_dropout, tf.float32)
        with tf.GradientTape() as tape:
            loss, penalty = self.batch_loss(users, movies, data["weights"], keep_id)
            total = loss + penalty
        variables = self.trainable_variables
        self.optimizer.apply_gradients(zip(tape.gradient(total, variables), variables))
        self.loss_tracker.update_state(loss)
        return {"loss": self.loss_tracker.result()}

    def test_step(self, data: dict[str, tf.Tensor]) -> dict[str, tf.Tensor]:
        """In-batch loss and hits in the full-catalogue top 100 of validation ratings."""
        users, movies = data["users"], data["movies"]
        zero, one = tf.zeros(tf.shape(users)), tf.ones(tf.shape(users))
        loss, _ = self.batch_loss(users, movies, zero, one)
        query = self.user_tower(users, movies, zero, one)
        scores = query @ tf.transpose(self.movie_tower(tf.range(self.n_movies))) / self.temperature
        scores += tf.transpose(self.movie_bias.embeddings)
        true = tf.gather(scores, movies, axis=1, batch_dims=1)
        higher = tf.reduce_sum(tf.cast(scores > true[:, None], tf.int32), axis=1)
        self.loss_tracker.update_state(loss)
        self.top_100.update_state(tf.cast(higher < 100, tf.float32))
        return {"loss": self.loss_tracker.result(), "top_100": self.top_100.result()}
