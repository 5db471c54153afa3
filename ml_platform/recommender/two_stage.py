"""The served recommender: retrieval narrows the catalogue, ranking orders what is left.

Retrieval scores every movie with one matrix product and keeps the `candidates` best; the
ranker — more expensive per pair, better at ratings — orders only those. Movies the user already
rated are dropped before ranking: recommending them again wastes a slot.

Numpy only (no TensorFlow import, directly or through the models): the serving process stays
small and starts fast, and the object pickles with joblib as an asset value.
"""

from collections.abc import Mapping
from typing import NamedTuple

import numpy as np
import pandas as pd

from ml_platform.core.pickling import DerivedStateRebuiltOnLoad
from ml_platform.recommender.ranking import RankingModel
from ml_platform.recommender.retrieval import RetrievalModel, history_weights


class Recommendation(NamedTuple):
    """A tuple rather than a frozen dataclass: built ten at a time per request, where a frozen
    dataclass's `__init__` alone cost more than ranking the candidates."""

    movie_id: int
    title: str
    predicted_rating: float
    retrieval_score: float


class TwoStageRecommender(DerivedStateRebuiltOnLoad):
    """Top-k recommendations for a known user (`recommend`) or a new one (`recommend_for_ratings`).

    Unknown user ids raise KeyError (serving answers 404); rated movies outside the catalogue
    are ignored for new users.
    """

    def __init__(
        self,
        retrieval: RetrievalModel,
        ranking: RankingModel,
        train_ratings: pd.DataFrame,
        movies: pd.DataFrame,
        candidates: int = 200,
    ) -> None:
        self.retrieval, self.ranking, self.candidates = retrieval, ranking, candidates
        titles = movies.set_index("movie_id")["title"]
        self.titles = titles.reindex(retrieval.movie_ids).fillna("").to_numpy(dtype=object)
        rows = retrieval.movie_rows(train_ratings["movie_id"].to_numpy())
        users = train_ratings["user_id"].to_numpy()
        # Row positions in retrieval's catalogue of each user's rated movies, for masking.
        self.rated = {
            int(user): rows[positions]
            for user, positions in pd.Series(np.arange(len(users))).groupby(users).groups.items()
        }
        self.__post_init__()

    def __post_init__(self) -> None:
        self._new_user = _NewUserScorer(self.retrieval, self.ranking)
        # Python lists: the ten answers of a request are read item by item.
        self._movie_ids = self.retrieval.movie_ids.tolist()
        self._movie_set = frozenset(self._movie_ids)  # checked for each rated movie of a POST
        self._titles = self.titles.tolist()

    def has_user(self, user_id: int) -> bool:
        return self.retrieval.has_user(user_id) and self.ranking.has_user(user_id)

    def has_movie(self, movie_id: int) -> bool:
        return movie_id in self._movie_set

    def recommend(self, user_id: int, k: int = 10) -> list[Recommendation]:
        """The k best unseen movies for a user seen in training; KeyError for any other id."""
        if not self.has_user(user_id):
            raise KeyError(f"user {user_id} unknown")
        scores = self.retrieval.scores(np.array([user_id]))[0]
        rows = self._candidates(scores, self.rated.get(int(user_id), np.array([], dtype=int)))
        movie_ids = self.retrieval.movie_ids[rows]
        predicted = self.ranking.predict(np.full(len(rows), user_id), movie_ids)
        return self._top(rows, predicted, scores, k)

    def recommend_for_ratings(
        self, ratings: Mapping[int, float], k: int = 10
    ) -> list[Recommendation]:
        """The k best movies for a user known only by {movie_id: rating}, those excluded."""
        scorer = self._new_user
        rated, stars = self.retrieval.rated_rows(ratings)
        user = scorer.user_vector(rated, stars)
        scores = user @ scorer.scoring
        rows = self._candidates(scores, rated)
        return self._top(rows, scorer.predict(user, rated, stars, rows), scores, k)

    def _candidates(self, scores: np.ndarray, seen: np.ndarray) -> np.ndarray:
        """Rows of the `candidates` best-scored movies outside `seen`, in row order. `scores` is
        overwritten at `seen` (callers pass a fresh array)."""
        scores[seen] = -np.inf
        n = min(self.candidates, len(scores) - len(seen))
        if n <= 0:
            return np.array([], dtype=int)
        return _best(scores, n)

    def _top(
        self, rows: np.ndarray, predicted: np.ndarray, scores: np.ndarray, k: int
    ) -> list[Recommendation]:
        top = _best(predicted, k)
        best = rows.take(top)
        # Ties in predicted rating go to the movie retrieval liked more, then to the lower row.
        ranked = sorted(
            zip(
                predicted.take(top).tolist(), scores.take(best).tolist(), best.tolist(), strict=True
            ),
            key=lambda item: (-item[0], -item[1]),
        )[:k]
        return [
            Recommendation(self._movie_ids[row], self._titles[row], rating, score)
            for rating, score, row in ranked
        ]


class _NewUserScorer:
    """Both stages for a user known only by their ratings, precomputed into four tables: a
    request then makes ~30 numpy calls instead of ~70, and at these sizes a call's fixed cost,
    not its arithmetic, is what a request pays (see benchmarks/serving.py).

    The maths of `RetrievalModel.embed_new_user` → `score_vectors` and of
    `RankingModel.predict_new_user`, to which `test_two_stage` pins it. A trailing 1 on the user
    vector carries the biases through the products:
        user   = Σ w_j·[y_j·P, 0] / Σ w_j + [c, 1]         (`history`, `offset`)
        scores = user · [M_movieᵀ; b_movie]                  (`scoring`)
        z_u'   = user · [[A_r, 0], [0, 1]] = [z_u, 1]        (`kernel`; A_r reads r_u)
        r̂_ui   = μ + b_u + [z_i, b_i] · z_u'                 (`table`, in retrieval's rows)
    """

    def __init__(self, retrieval: RetrievalModel, ranking: RankingModel) -> None:
        movies, dim = retrieval.history_embeddings.shape[0], retrieval.projection.shape[1]
        self._rating_weight = retrieval.rating_weight
        projected = retrieval.history_embeddings @ retrieval.projection
        self.history = np.hstack([projected, np.zeros((movies, 1))]).astype(np.float32)
        self.offset = np.append(retrieval.projection_bias, 1).astype(np.float32)
        self.scoring = np.ascontiguousarray(
            np.vstack([retrieval.movie_vectors.T, retrieval.movie_bias]), dtype=np.float32
        )
        reads_retrieval = ranking.user_kernel[ranking.embedding_dim :]  # empty: trained without
        factors = ranking.user_kernel.shape[1]
        self.kernel = np.zeros((dim + 1, factors + 1), dtype=np.float32)
        self.kernel[: len(reads_retrieval), :factors] = reads_retrieval
        self.kernel[dim, factors] = 1
        movie_factors = ranking.movie_side @ ranking.movie_kernel
        in_retrieval_order = ranking.movie_rows(retrieval.movie_ids)
        self.table = np.hstack([movie_factors, ranking.movie_bias[:, None]])[
            in_retrieval_order
        ].astype(np.float32)
        self._mean, self._bias_reg = ranking.mean, ranking.config.new_user_bias_reg
        self._low, self._high = ranking.low, ranking.high

    def user_vector(self, rated: np.ndarray, stars: np.ndarray) -> np.ndarray:
        """[u, 1] for the rated rows and their stars; no ratings: the empty-history vector."""
        if len(rated) == 0:
            return self.offset
        weights = history_weights(stars, stars.sum() / len(stars), self._rating_weight)
        mean = weights @ self.history.take(rated, axis=0) / weights.sum()
        return (mean + self.offset).astype(np.float32)

    def predict(
        self, user: np.ndarray, rated: np.ndarray, stars: np.ndarray, rows: np.ndarray
    ) -> np.ndarray:
        """Predicted ratings of the movies at `rows`, the user's bias b_u fitted to `stars`."""
        factors = user @ self.kernel
        bias = 0.0
        if len(rated):
            fitted = self.table.take(rated, axis=0) @ factors  # b_i + z_i·z_u per rated movie
            residual = stars.sum() - len(rated) * self._mean - fitted.sum()
            bias = residual / (self._bias_reg + len(rated))
        predicted = np.add(self.table.take(rows, axis=0) @ factors, self._mean + bias, dtype=float)
        return np.minimum(
            np.maximum(predicted, self._low, out=predicted), self._high, out=predicted
        )


def _best(values: np.ndarray, n: int) -> np.ndarray:
    """Positions, in order, of the n largest values and of any tied with the n-th: a partition
    for the threshold, much cheaper per request than `argpartition` or a sort (see
    benchmarks/serving.py)."""
    if n >= len(values):
        return np.arange(len(values))
    return np.flatnonzero(values >= np.partition(values, len(values) - n)[len(values) - n])
