"""The trained prod2vec model as numpy: product vectors by id, and the two ways to query them.

- *similar* products: nearest neighbours of a product's vector by cosine — substitutes, mostly
  from its aisle (the original pipeline's "most similar");
- *bought with*: co-occurrence counts smoothed toward skip-gram's own estimate of which
  products share a basket with it (target · context + `pairs.context_log_prior`,
  `bought_with.py`) — what held-out baskets measure (`evaluation.py`).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import sparse

from ml_platform.prod2vec.bought_with import BLEND_STRENGTH, blended_probabilities
from ml_platform.prod2vec.pairs import PairConfig, SkipgramPairs, context_log_prior
from ml_platform.prod2vec.skipgram import (
    EpochCallback,
    Hyperparameters,
    SkipgramModel,
    train_skipgram,
)


@dataclass
class Prod2VecModel:
    """`product_ids[i]` owns row i of `skipgram`'s matrices, of `purchases` (times bought in
    the training baskets) and of `evidence` (their size-weighted co-occurrence,
    `bought_with.basket_evidence`)."""

    product_ids: np.ndarray
    purchases: np.ndarray
    skipgram: SkipgramModel
    pair_config: PairConfig
    context_log_prior: np.ndarray
    evidence: sparse.csr_matrix
    blend_strength: float = BLEND_STRENGTH
    # what /products/{id}/similar serves: "bought_with" or "cosine", the better on held-out
    # baskets (set where the model is measured, `assets.prod2vec_model`)
    similar_method: str = "cosine"

    @property
    def vectors(self) -> np.ndarray:
        """The product vectors: the target embedding layer, taken out of the Keras model."""
        return self.skipgram.target_vectors

    def rows(self, product_ids: np.ndarray) -> np.ndarray:
        """Row of each product; KeyError naming products the model was not trained on."""
        product_ids = np.asarray(product_ids)
        rows = np.minimum(np.searchsorted(self.product_ids, product_ids), len(self.product_ids) - 1)
        unknown = self.product_ids[rows] != product_ids
        if unknown.any():
            raise KeyError(f"products {product_ids[unknown][:5].tolist()} are not in the model")
        return rows

    def bought_with_scores(self, rows: np.ndarray) -> np.ndarray:
        """(len(rows), products) P(product in the basket | query product): the basket evidence
        smoothed toward the vectors' estimate (`bought_with.py`); the query itself −inf."""
        return blended_probabilities(
            self.vectors,
            self.skipgram.context_vectors,
            self.context_log_prior,
            self.evidence,
            rows,
            self.blend_strength,
        )


def fit_prod2vec(
    pairs: SkipgramPairs,
    product_ids: np.ndarray,
    purchases: np.ndarray,
    pair_config: PairConfig,
    hyperparameters: Hyperparameters,
    evidence: sparse.csr_matrix,
    *,
    seed: int = 42,
    on_epoch: EpochCallback | None = None,
    callbacks: Sequence[Any] = (),
) -> Prod2VecModel:
    """Train the Keras skip-gram on `pairs` (rows of `product_ids`) and wrap it with ids and
    the training baskets' evidence (`bought_with.basket_evidence`)."""
    skipgram = train_skipgram(
        pairs,
        len(product_ids),
        hyperparameters,
        seed=seed,
        on_epoch=on_epoch,
        callbacks=callbacks,
    )
    return Prod2VecModel(
        product_ids=np.asarray(product_ids),
        purchases=np.asarray(purchases),
        skipgram=skipgram,
        pair_config=pair_config,
        context_log_prior=context_log_prior(purchases, pair_config),
        evidence=evidence,
        blend_strength=hyperparameters.blend_strength,
    )
