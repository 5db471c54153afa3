"""Small generated baskets and a model trained on them once per session (TF training is slow)."""

from dataclasses import dataclass

import pandas as pd
import pytest

from ml_platform.demo_data.instacart import generate_instacart
from ml_platform.prod2vec.baskets import build_baskets
from ml_platform.prod2vec.evaluation import Prod2VecEvaluation, evaluate_prod2vec
from ml_platform.prod2vec.instacart import InstacartDataset
from ml_platform.prod2vec.pairs import PairConfig
from ml_platform.prod2vec.skipgram import Hyperparameters

# small, but with enough held-out baskets (~400) that HR@10 differences mean something
SMALL = {"n_orders": 6_000, "n_products": 800, "seed": 7}
HYPERPARAMETERS = Hyperparameters(embedding_dim=32, learning_rate=0.02, epochs=4)


@dataclass(frozen=True)
class Trained:
    dataset: InstacartDataset
    baskets: pd.DataFrame
    evaluation: Prod2VecEvaluation


@pytest.fixture(scope="session")
def small_dataset() -> InstacartDataset:
    return generate_instacart(**SMALL)


@pytest.fixture(scope="session")
def trained(small_dataset) -> Trained:
    baskets = build_baskets(small_dataset.orders, small_dataset.order_products)
    evaluation = evaluate_prod2vec(
        baskets, small_dataset.products, PairConfig(seed=7), HYPERPARAMETERS, seed=7, gensim=True
    )
    return Trained(small_dataset, baskets, evaluation)
