"""Rating and retrieval metrics, vectorised over blocks of users.

Scores come either as a function `user_ids -> (len(user_ids), len(movie_ids)) matrix` (every
estimator's `scores`) or as a precomputed matrix whose rows are named by `user_ids`. Columns are
always named by `movie_ids`, the whole catalogue a model may recommend. Test movies outside it
count as misses. Users come in blocks of `block_size`, so memory stays at one block of scores.

Ties: a movie is within the top k when fewer than k movies score strictly higher — what
TensorFlow's `in_top_k` (and so TFRS's `FactorizedTopK`) does. A model scoring every movie
alike therefore scores 1.0: only rank models with real scores.
"""

from collections.abc import Callable, Iterator, Sequence

import numpy as np
import pandas as pd

ScoreFn = Callable[[np.ndarray], np.ndarray]
Scores = ScoreFn | np.ndarray


def rmse(actual: np.ndarray | pd.Series, predicted: np.ndarray | pd.Series) -> float:
    errors = np.asarray(actual, dtype=float) - np.asarray(predicted, dtype=float)
    return float(np.sqrt(np.mean(errors**2)))


def mae(actual: np.ndarray | pd.Series, predicted: np.ndarray | pd.Series) -> float:
    errors = np.asarray(actual, dtype=float) - np.asarray(predicted, dtype=float)
    return float(np.mean(np.abs(errors)))


def top_k_categorical_accuracy(
    scores: Scores,
    test: pd.DataFrame,
    movie_ids: Sequence[int] | np.ndarray,
    *,
    user_ids: Sequence[int] | np.ndarray | None = None,
    ks: Sequence[int] = (1, 5, 10, 50, 100),
    block_size: int = 512,
) -> dict[int, float]:
    """Share of held-out (user, movie) ratings whose movie is in the user's top k of ALL movies.

    Exactly TFRS's `FactorizedTopK`: every test rating is one query with its movie as the true
    candidate, ranked against the whole catalogue; movies the user rated in training are NOT
    removed, so the figures are comparable with the TFRS tutorials' (7% at k=100 there).
    """
    movie_index = pd.Index(movie_ids)
    hits = {k: 0 for k in ks}
    for users, block in _score_blocks(scores, test["user_id"].unique(), user_ids, block_size):
        rows = test[test["user_id"].isin(users)]
        row = pd.Index(users).get_indexer(rows["user_id"])
        column = movie_index.get_indexer(rows["movie_id"])
        known = column >= 0
        true_score = block[row[known], column[known]]
        higher = (block[row[known]] > true_score[:, None]).sum(axis=1)
        for k in ks:
            hits[k] += int((higher < k).sum())
    return {k: hits[k] / len(test) for k in ks}


def recall_at_k(
    scores: Scores,
    train: pd.DataFrame,
    test: pd.DataFrame,
    movie_ids: Sequence[int] | np.ndarray,
    *,
    user_ids: Sequence[int] | np.ndarray | None = None,
    ks: Sequence[int] = (10, 50, 100),
    min_rating: float | None = None,
    block_size: int = 512,
) -> dict[int, float]:
    """Mean over test users of |top k ∩ relevant| / |relevant|, training movies removed.

    Relevant = the user's test movies rated at least `min_rating`; by default (None) all of
    them, matching the retrieval task, where any rating is a positive. Users without a relevant
    movie are skipped.
    """
    recalls = {k: [] for k in ks}
    for top, relevant in _top_unseen(
        scores, train, test, movie_ids, user_ids, max(ks), min_rating, block_size
    ):
        found = np.cumsum(_relevant_at(top, relevant), axis=1)
        sizes = np.array([len(r) for r in relevant])
        for k in ks:
            recalls[k].append(found[:, min(k, top.shape[1]) - 1] / sizes)
    return {k: float(np.concatenate(recalls[k]).mean()) for k in ks}


def ndcg_at_10(
    scores: Scores,
    train: pd.DataFrame,
    test: pd.DataFrame,
    movie_ids: Sequence[int] | np.ndarray,
    *,
    user_ids: Sequence[int] | np.ndarray | None = None,
    min_rating: float | None = None,
    block_size: int = 512,
) -> float:
    """Mean over test users of NDCG@10 with binary gains, training movies removed.

    Relevance as in `recall_at_k`; the ideal ranking puts min(|relevant|, 10) relevant movies
    first.
    """
    discounts = 1 / np.log2(np.arange(2, 12))
    values = []
    for top, relevant in _top_unseen(
        scores, train, test, movie_ids, user_ids, 10, min_rating, block_size
    ):
        gains = _relevant_at(top, relevant) @ discounts[: top.shape[1]]
        ideal = np.cumsum(discounts)[np.minimum([len(r) for r in relevant], 10) - 1]
        values.append(gains / ideal)
    return float(np.concatenate(values).mean())


def _relevant_at(top: np.ndarray, relevant: list[np.ndarray]) -> np.ndarray:
    """Boolean (users, k): whether each recommended movie is one of that user's relevant ones."""
    return np.array([np.isin(row, wanted) for row, wanted in zip(top, relevant, strict=True)])


def _top_unseen(
    scores: Scores,
    train: pd.DataFrame,
    test: pd.DataFrame,
    movie_ids: Sequence[int] | np.ndarray,
    user_ids: Sequence[int] | np.ndarray | None,
    k: int,
    min_rating: float | None,
    block_size: int,
) -> Iterator[tuple[np.ndarray, list[np.ndarray]]]:
    """Per block: each user's top-k movie ids outside their training movies, and relevant ids."""
    movie_ids = np.asarray(movie_ids)
    movie_index = pd.Index(movie_ids)
    wanted = test if min_rating is None else test[test["rating"] >= min_rating]
    relevant = wanted.groupby("user_id")["movie_id"].unique()
    k = min(k, len(movie_ids))
    for users, block in _score_blocks(scores, relevant.index.to_numpy(), user_ids, block_size):
        block = block.astype(float, copy=True)
        seen = train[train["user_id"].isin(users)]
        column = movie_index.get_indexer(seen["movie_id"])
        row = pd.Index(users).get_indexer(seen["user_id"])
        block[row[column >= 0], column[column >= 0]] = -np.inf
        best = np.argpartition(-block, k - 1, axis=1)[:, :k]
        order = np.argsort(-np.take_along_axis(block, best, axis=1), axis=1, kind="stable")
        yield movie_ids[np.take_along_axis(best, order, axis=1)], list(relevant.loc[users])


def _score_blocks(
    scores: Scores,
    users: np.ndarray,
    user_ids: Sequence[int] | np.ndarray | None,
    block_size: int,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(block of users, their score rows), from a score function or a matrix's named rows."""
    if not callable(scores):
        if user_ids is None:
            raise ValueError("a score matrix needs `user_ids` naming its rows")
        rows = pd.Index(user_ids).get_indexer(users)
        if (rows < 0).any():
            raise ValueError(f"test users {users[rows < 0][:5].tolist()} have no score row")
    for start in range(0, len(users), block_size):
        block_users = users[start : start + block_size]
        if callable(scores):
            yield block_users, np.asarray(scores(block_users))
        else:
            yield block_users, np.asarray(scores)[rows[start : start + block_size]]
