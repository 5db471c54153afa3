"""Baseline estimators every recommender must beat, with one small API.

`fit(train, movie_ids=None)` learns from ratings (`user_id, movie_id, rating`); `movie_ids` is
the catalogue `scores` ranks (default: the training movies), so movies nobody rated in training
can still be scored. `predict(user_ids, movie_ids)` gives ratings for pairs; `scores(user_ids)`
a (users × catalogue) matrix for top-k metrics. Unknown users and movies get bias 0, so they
fall back to the global mean.
"""

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ml_platform.recommender.metrics import rmse
from ml_platform.recommender.split import split_ratings

Ids = Sequence[int] | np.ndarray | pd.Series


class _Estimator:
    mean_: float
    movie_ids_: np.ndarray

    def _fit_catalogue(self, train: pd.DataFrame, movie_ids: Ids | None) -> None:
        self.mean_ = float(train["rating"].mean())
        self.low_, self.high_ = float(train["rating"].min()), float(train["rating"].max())
        known = train["movie_id"].unique() if movie_ids is None else movie_ids
        self.movie_ids_ = np.asarray(known)


class GlobalMean(_Estimator):
    """Every rating predicted as the training mean: the floor for RMSE."""

    def fit(self, train: pd.DataFrame, movie_ids: Ids | None = None) -> "GlobalMean":
        self._fit_catalogue(train, movie_ids)
        return self

    def predict(self, user_ids: Ids, movie_ids: Ids) -> np.ndarray:
        return np.full(len(user_ids), self.mean_)

    def scores(self, user_ids: Ids) -> np.ndarray:
        """All equal: no ranking (top-k metrics count ties as hits, so don't rank with this)."""
        return np.full((len(user_ids), len(self.movie_ids_)), self.mean_)


class BiasBaseline(_Estimator):
    """r̂ = μ + b_user + b_movie, regularised (Koren 2008, "Factorization meets the neighborhood").

    Each sweep solves movie biases given user biases, then user biases given movie biases, in
    closed form: b_i = Σ(r − μ − b_u) / (λ_movie + n_i). The shrinkage keeps a movie seen twice
    near the mean; Koren's defaults are λ_movie=25, λ_user=10. Use `tune_bias_baseline` to pick
    them on a validation split of the training data.
    """

    def __init__(self, reg_movie: float = 25.0, reg_user: float = 10.0, sweeps: int = 5) -> None:
        self.reg_movie, self.reg_user, self.sweeps = reg_movie, reg_user, sweeps

    def fit(self, train: pd.DataFrame, movie_ids: Ids | None = None) -> "BiasBaseline":
        self._fit_catalogue(train, movie_ids)
        users, user = np.unique(train["user_id"].to_numpy(), return_inverse=True)
        movies, movie = np.unique(train["movie_id"].to_numpy(), return_inverse=True)
        residual = train["rating"].to_numpy(dtype=float) - self.mean_
        user_bias, movie_bias = np.zeros(len(users)), np.zeros(len(movies))
        per_user, per_movie = np.bincount(user), np.bincount(movie)
        for _ in range(self.sweeps):
            movie_bias = np.bincount(movie, residual - user_bias[user]) / (
                self.reg_movie + per_movie
            )
            user_bias = np.bincount(user, residual - movie_bias[movie]) / (self.reg_user + per_user)
        self.user_bias_ = pd.Series(user_bias, index=users)
        self.movie_bias_ = pd.Series(movie_bias, index=movies)
        return self

    def predict(self, user_ids: Ids, movie_ids: Ids) -> np.ndarray:
        predicted = self.mean_ + self._user_bias(user_ids) + self._movie_bias(movie_ids)
        return np.clip(predicted, self.low_, self.high_)

    def scores(self, user_ids: Ids) -> np.ndarray:
        return (
            self.mean_
            + self._user_bias(user_ids)[:, None]
            + self._movie_bias(self.movie_ids_)[None, :]
        )

    def _user_bias(self, user_ids: Ids) -> np.ndarray:
        return self.user_bias_.reindex(np.asarray(user_ids)).fillna(0.0).to_numpy()

    def _movie_bias(self, movie_ids: Ids) -> np.ndarray:
        return self.movie_bias_.reindex(np.asarray(movie_ids)).fillna(0.0).to_numpy()


def tune_bias_baseline(
    train: pd.DataFrame,
    movie_ids: Ids | None = None,
    *,
    grid: Sequence[float] = (1.0, 3.0, 10.0, 25.0, 50.0),
    validation_share: float = 0.1,
    seed: int = 0,
) -> BiasBaseline:
    """The BiasBaseline whose (λ_movie, λ_user) from `grid` × `grid` has the lowest RMSE on a
    random validation share of `train`, refitted on all of `train` — the test set stays unseen."""
    fit_on, validate_on = split_ratings(train, test_share=validation_share, seed=seed)
    errors = {}
    for reg_movie in grid:
        for reg_user in grid:
            model = BiasBaseline(reg_movie, reg_user).fit(fit_on)
            predicted = model.predict(validate_on["user_id"], validate_on["movie_id"])
            errors[reg_movie, reg_user] = rmse(validate_on["rating"], predicted)
    reg_movie, reg_user = min(errors, key=errors.get)
    return BiasBaseline(reg_movie, reg_user).fit(train, movie_ids)


class Popularity(_Estimator):
    """Ranks movies by how often they were rated in training, the same list for every user.

    It models which movies get watched, not how they are liked, so it predicts the global mean.
    """

    def fit(self, train: pd.DataFrame, movie_ids: Ids | None = None) -> "Popularity":
        self._fit_catalogue(train, movie_ids)
        counts = train["movie_id"].value_counts()
        self.counts_ = counts.reindex(self.movie_ids_, fill_value=0).to_numpy(dtype=float)
        return self

    def predict(self, user_ids: Ids, movie_ids: Ids) -> np.ndarray:
        return np.full(len(user_ids), self.mean_)

    def scores(self, user_ids: Ids) -> np.ndarray:
        return np.broadcast_to(self.counts_, (len(user_ids), len(self.counts_)))
