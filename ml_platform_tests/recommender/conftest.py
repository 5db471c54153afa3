"""Small generated data and both stages trained on it once per session (TF training is slow)."""

from dataclasses import dataclass

import pandas as pd
import pytest

from ml_platform.demo_data.movielens import generate_movielens
from ml_platform.recommender.ranking import RankingConfig, RankingModel, train_ranking
from ml_platform.recommender.retrieval import RetrievalConfig, RetrievalModel, train_retrieval
from ml_platform.recommender.split import split_ratings


@dataclass(frozen=True)
class Trained:
    train: pd.DataFrame
    test: pd.DataFrame
    movies: pd.DataFrame
    retrieval: RetrievalModel
    ranking: RankingModel


@pytest.fixture(scope="session")
def trained() -> Trained:
    dataset = generate_movielens(200, 300, 8_000, seed=7)
    train, test = split_ratings(dataset.ratings, seed=7)
    retrieval = train_retrieval(
        train, dataset.movies, RetrievalConfig(epochs=20, batch_size=512, patience=3), seed=7
    )
    ranking = train_ranking(
        train,
        dataset.movies,
        RankingConfig(epochs=20, batch_size=256, learning_rate=0.01),
        retrieval=retrieval,
        seed=7,
    )
    return Trained(train, test, dataset.movies, retrieval, ranking)
