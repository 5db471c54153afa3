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

from ml_platform.recommender.ranking import RankingModel
from ml_platform.recommender.retrieval import RetrievalModel


class Recommendation(NamedTuple):
    """A tuple rather than a frozen dataclass: built ten at a time per request, where a frozen
    dataclass's `__init__` alone cost more than ranking the candidates."""

    movie_id: int
    title: str
    predicted_rating: float
    retrieval_score: float


class TwoStageRecommender:
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
        # Ranking's row of each retrieval row: a request looks its movies up once, in retrieval.
        self._ranking_rows = ranking.movie_rows(retrieval.movie_ids)
        titles = movies.set_index("movie_id")["title"]
        self.titles = titles.reindex(retrieval.movie_ids).fillna("").to_numpy(dtype=object)
        rows = retrieval.movie_rows(train_ratings["movie_id"].to_numpy())
        users = train_ratings["user_id"].to_numpy()
        # Row positions in retrieval's catalogue of each user's rated movies, for masking.
        self.rated = {
            int(user): rows[positions]
            for user, positions in pd.Series(np.arange(len(users))).groupby(users).groups.items()
        }

    def has_user(self, user_id: int) -> bool:
        return self.retrieval.has_user(user_id) and self.ranking.has_user(user_id)

    def has_movie(self, movie_id: int) -> bool:
        return self.retrieval.has_movie(movie_id)

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
        rated, stars = self.retrieval.rated_rows(ratings)
        vector = self.retrieval.embed_history(rated, stars)
        scores = self.retrieval.score_vectors(vector)[0]
        rows = self._candidates(scores, rated)
        predicted = self.ranking.predict_history(
            self._ranking_rows[rated], stars, self._ranking_rows[rows], retrieval_vector=vector
        )
        return self._top(rows, predicted, scores, k)

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
        # Ties in predicted rating go to the movie retrieval liked more.
        top = _best(predicted, k)
        order = top[np.lexsort((-scores[rows[top]], -predicted[top]))[:k]]
        best = rows[order]
        return list(
            map(
                Recommendation,
                self.retrieval.movie_ids[best].tolist(),
                self.titles[best].tolist(),
                predicted[order].tolist(),
                scores[best].tolist(),
            )
        )


def _best(values: np.ndarray, n: int) -> np.ndarray:
    """Positions, in order, of the n largest values and of any tied with the n-th: a partition
    for the threshold, much cheaper per request than `argpartition` or a sort (see
    benchmarks/serving.py)."""
    if n >= len(values):
        return np.arange(len(values))
    return np.flatnonzero(values >= np.partition(values, len(values) - n)[len(values) - n])
