"""One run that splits, fits the baselines and both stages, and measures them on the same test.

The claim "beats every baseline" only holds when the baselines see the same split and are
measured by the same code in the same run; this module is that run, for the benchmark and for
the Dagster assets alike.
"""

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ml_platform.recommender import metrics
from ml_platform.recommender.baselines import GlobalMean, Popularity, tune_bias_baseline
from ml_platform.recommender.ranking import RankingConfig, train_ranking
from ml_platform.recommender.retrieval import RetrievalConfig, train_retrieval
from ml_platform.recommender.split import split_ratings
from ml_platform.recommender.two_stage import TwoStageRecommender

TOP_KS = (1, 5, 10, 50, 100)
RECALL_KS = (10, 50, 100)


@dataclass
class Evaluation:
    """`metrics` (flat figures of our model + `baselines`) and the trained recommender."""

    metrics: dict[str, Any]
    recommender: TwoStageRecommender
    train: pd.DataFrame
    test: pd.DataFrame


def evaluate_recommender(
    ratings: pd.DataFrame,
    movies: pd.DataFrame,
    *,
    seed: int = 42,
    split: str = "random",
    retrieval_config: RetrievalConfig | None = None,
    ranking_config: RankingConfig | None = None,
) -> Evaluation:
    """Split (80/20, `split` method), fit baselines and both stages, measure all on the test.

    Rating metrics (rmse, mae) come from the ranking model, top-k metrics from retrieval
    scores — the stage that decides what can be recommended at all. Baselines are GlobalMean
    (rating floor), BiasBaseline tuned on the training data (Koren 2008) and Popularity.
    """
    train, test = split_ratings(ratings, seed=seed, method=split)
    catalogue = movies["movie_id"].to_numpy()

    baselines: dict[str, dict[str, float]] = {}
    fitters = {
        "GlobalMean": lambda: GlobalMean().fit(train, catalogue),
        "BiasBaseline": lambda: tune_bias_baseline(train, catalogue),
        "Popularity": lambda: Popularity().fit(train, catalogue),
    }
    for name, fit in fitters.items():
        started = time.perf_counter()
        model = fit()
        seconds = time.perf_counter() - started
        predicted = model.predict(test["user_id"], test["movie_id"])
        # GlobalMean scores every movie alike: top-k would count the ties as hits.
        ranked = None if name == "GlobalMean" else model.scores
        baselines[name] = {
            **rating_figures(test, predicted),
            **ranking_figures(ranked, train, test, catalogue),
            "train_seconds": seconds,
        }

    retrieval = train_retrieval(train, movies, retrieval_config, seed=seed)
    ranking = train_ranking(train, movies, ranking_config, retrieval=retrieval, seed=seed)
    predicted = ranking.predict(test["user_id"].to_numpy(), test["movie_id"].to_numpy())
    figures = {
        **rating_figures(test, predicted),
        **ranking_figures(retrieval.scores, train, test, retrieval.movie_ids),
        "retrieval_seconds": retrieval.train_seconds,
        "ranking_seconds": ranking.train_seconds,
        "train_seconds": retrieval.train_seconds + ranking.train_seconds,
        "retrieval_epochs": len(retrieval.history["loss"]),
        "ranking_epochs": len(ranking.history["loss"]),
        "train_ratings": len(train),
        "test_ratings": len(test),
        "baselines": baselines,
    }
    recommender = TwoStageRecommender(retrieval, ranking, train, movies)
    return Evaluation(metrics=figures, recommender=recommender, train=train, test=test)


def rating_figures(test: pd.DataFrame, predicted: np.ndarray) -> dict[str, float]:
    """RMSE and MAE of predicted test ratings."""
    return {
        "rmse": metrics.rmse(test["rating"], predicted),
        "mae": metrics.mae(test["rating"], predicted),
    }


def ranking_figures(
    scores: metrics.Scores | None, train: pd.DataFrame, test: pd.DataFrame, movie_ids: np.ndarray
) -> dict[str, float]:
    """FactorizedTopK accuracy (seen movies kept), recall@k and NDCG@10 (seen removed)."""
    if scores is None:
        return {}
    accuracy = metrics.top_k_categorical_accuracy(scores, test, movie_ids, ks=TOP_KS)
    recall = metrics.recall_at_k(scores, train, test, movie_ids, ks=RECALL_KS)
    return {
        **{f"top_{k}_accuracy": value for k, value in accuracy.items()},
        **{f"recall_at_{k}": value for k, value in recall.items()},
        "ndcg_at_10": metrics.ndcg_at_10(scores, train, test, movie_ids),
    }
