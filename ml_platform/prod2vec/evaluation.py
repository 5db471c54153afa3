"""Are the product vectors useful? Held-out baskets, baselines, and the aisle test.

Protocol (the same for every method, in one run): each user's last basket is held out
(`baskets.py`); for each held-out basket with ≥ 2 products, one of its products known to the
training data is drawn (seeded) as the query; a method returns 10 products (never the query);
it scores a hit when another product of that basket is among them. HR@10 is the share of hits;
MRR is the mean of 1/rank of the first hit within those 10 (0 without one), i.e. MRR@10.

Methods: *popularity* (the 10 most bought), *co-occurrence* (the products most often in a basket
with the query, ties by popularity), and for a pair of skip-gram embeddings (ours, or gensim's
Word2Vec trained on the same baskets with the same settings) two rankings: "bought with"
(`BoughtWithRanker`: target · context + `pairs.context_log_prior`, the model's own estimate of
P(product in the basket | query) — the headline `hr_at_10`) and cosine neighbours of the product
vectors (`EmbeddingRanker`, `similar_hr_at_10`: what "similar products" serves).

The aisle test asks whether neighbours mean something beyond co-purchase statistics: the share
of a product's 10 nearest neighbours in its own aisle, against the share a random pick of 10
other products would have.
"""

import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd
from scipy import sparse

from ml_platform.core.vectors import VectorIndex
from ml_platform.prod2vec.baskets import TEST, TRAIN, to_csr, vocabulary
from ml_platform.prod2vec.bought_with import (
    BLEND_STRENGTH,
    basket_evidence,
    blended_probabilities,
    cooccurrence_counts,
)
from ml_platform.prod2vec.model import Prod2VecModel, fit_prod2vec
from ml_platform.prod2vec.pairs import PairConfig, SkipgramPairs, make_pairs
from ml_platform.prod2vec.skipgram import Hyperparameters

K = 10


@dataclass(frozen=True)
class Queries:
    """One query product per held-out basket, and that basket's other products (CSR)."""

    query: np.ndarray  # product ids
    offsets: np.ndarray
    others: np.ndarray  # product ids

    def __len__(self) -> int:
        return len(self.query)


def held_out_queries(test_products: pd.Series, known: np.ndarray, seed: int = 42) -> Queries:
    """A random product of each held-out basket (≥ 2 products) among the `known` ones."""
    rng = np.random.default_rng(seed)
    queries, offsets, others = [], [0], []
    for products in test_products:
        products = np.asarray(products)
        candidates = products[np.isin(products, known)]
        if len(products) < 2 or not len(candidates):
            continue
        query = candidates[rng.integers(len(candidates))]
        queries.append(query)
        rest = products[products != query]
        others.append(rest)
        offsets.append(offsets[-1] + len(rest))
    return Queries(
        query=np.asarray(queries, dtype=np.int64),
        offsets=np.asarray(offsets, dtype=np.int64),
        others=np.concatenate([np.zeros(0, np.int64), *others]).astype(np.int64),
    )


def hit_rate_and_mrr(recommended: np.ndarray, queries: Queries) -> dict[str, float]:
    """HR@10 and MRR@10 of `recommended` (one row of product ids per query, best first)."""
    if not len(queries):
        return {"hr_at_10": 0.0, "mrr": 0.0}
    recommended = np.asarray(recommended)[:, :K]
    base = int(max(recommended.max(initial=0), queries.others.max(initial=0))) + 1
    row = np.repeat(np.arange(len(queries)), np.diff(queries.offsets))
    wanted = np.unique(row * base + queries.others)
    keys = np.arange(len(queries))[:, None] * base + recommended
    hits = np.isin(keys, wanted)
    first = np.where(hits.any(axis=1), hits.argmax(axis=1) + 1, np.inf)
    return {"hr_at_10": float(hits.any(axis=1).mean()), "mrr": float(np.mean(1.0 / first))}


Ranker = Callable[[np.ndarray], np.ndarray]


def evaluate(ranker: Ranker, queries: Queries) -> dict[str, float]:
    """HR@10 and MRR of a ranker (query product ids → (n, 10) product ids)."""
    return hit_rate_and_mrr(ranker(queries.query), queries)


class _PerItem(ABC):
    """Answers each distinct query once: 100,000 queries touch a few thousand products."""

    def __init__(self, ids: np.ndarray) -> None:
        self.ids = np.asarray(ids)

    def __call__(self, query_ids: np.ndarray) -> np.ndarray:
        distinct, inverse = np.unique(query_ids, return_inverse=True)
        rows = np.searchsorted(self.ids, distinct)
        return self.top(rows)[inverse]

    @abstractmethod
    def top(self, rows: np.ndarray) -> np.ndarray:
        """(len(rows), 10) product ids for these vocabulary rows, best first."""


class PopularityRanker(_PerItem):
    """The most bought products (training baskets), the query itself left out."""

    def __init__(self, ids: np.ndarray, counts: np.ndarray) -> None:
        super().__init__(ids)
        self.best = self.ids[np.argsort(-np.asarray(counts), kind="stable")[: K + 1]]

    def top(self, rows: np.ndarray) -> np.ndarray:
        best = np.broadcast_to(self.best, (len(rows), K + 1))
        keep = best != self.ids[rows][:, None]
        keep[keep.sum(axis=1) > K, K] = False  # query not among them: drop the 11th
        return best[keep].reshape(len(rows), K)


class CooccurrenceRanker(_PerItem):
    """The products most often in a training basket with the query; ties (many products never
    share a basket with a rare query) go to the more popular."""

    def __init__(self, ids: np.ndarray, offsets: np.ndarray, items: np.ndarray) -> None:
        super().__init__(ids)
        n = len(ids)
        self.counts = cooccurrence_counts(offsets, items, n)
        basket = np.repeat(np.arange(len(offsets) - 1), np.diff(offsets))
        in_baskets = np.unique(basket.astype(np.int64) * n + items) % n  # once per basket
        popularity = np.bincount(in_baskets, minlength=n)
        self.tiebreak = popularity / (popularity.max() + 1.0)

    def top(self, rows: np.ndarray, chunk: int = 1024) -> np.ndarray:
        found = []
        for start in range(0, len(rows), chunk):
            part = rows[start : start + chunk]
            scores = self.counts[part].toarray() + self.tiebreak
            scores[np.arange(len(part)), part] = -np.inf
            found.append(_top_k(scores))
        return self.ids[np.concatenate(found)] if found else np.zeros((0, K), np.int64)


class EmbeddingRanker(_PerItem):
    """Nearest neighbours of the query's vector by cosine (core.vectors.VectorIndex)."""

    def __init__(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        super().__init__(ids)
        self.index = VectorIndex(np.arange(len(ids)), vectors, metric="cosine")

    def top(self, rows: np.ndarray, chunk: int = 2048) -> np.ndarray:
        found = [
            self.index.search(self.index.vectors[part], K, exclude=[{int(r)} for r in part])[0]
            for part in (rows[s : s + chunk] for s in range(0, len(rows), chunk))
        ]
        return self.ids[np.concatenate(found)] if found else np.zeros((0, K), np.int64)


def aisle_agreement(
    ids: np.ndarray, vectors: np.ndarray, aisle_of: pd.Series, min_count_mask: np.ndarray
) -> dict[str, float]:
    """Share of each product's 10 nearest neighbours in its own aisle (products where
    `min_count_mask`), and the share expected of 10 random other products (chance)."""
    aisles = aisle_of.reindex(ids).to_numpy()
    rows = np.flatnonzero(min_count_mask)
    if not len(rows):
        return {"aisle_share_at_10": 0.0, "aisle_share_chance": 0.0}
    neighbours = EmbeddingRanker(ids, vectors).top(rows)
    same = aisles[np.searchsorted(ids, neighbours)] == aisles[rows][:, None]
    sizes = pd.Series(aisles).value_counts()
    chance = (sizes.reindex(aisles[rows]).to_numpy() - 1) / (len(ids) - 1)
    return {"aisle_share_at_10": float(same.mean()), "aisle_share_chance": float(chance.mean())}


def _top_k(scores: np.ndarray) -> np.ndarray:
    """Column positions of each row's K highest scores, best first."""
    k = min(K, scores.shape[1])
    top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    order = np.take_along_axis(scores, top, axis=1).argsort(axis=1)[:, ::-1]
    return np.take_along_axis(top, order, axis=1)


class BoughtWithRanker(_PerItem):
    """The products with the highest `score(rows)` (e.g. `Prod2VecModel.bought_with_scores`,
    which already leaves the query out)."""

    def __init__(self, ids: np.ndarray, score: Callable[[np.ndarray], np.ndarray]) -> None:
        super().__init__(ids)
        self.score = score

    def top(self, rows: np.ndarray, chunk: int = 1024) -> np.ndarray:
        found = [
            _top_k(self.score(rows[start : start + chunk])) for start in range(0, len(rows), chunk)
        ]
        return self.ids[np.concatenate(found)] if found else np.zeros((0, K), np.int64)


MIN_PURCHASES_FOR_AISLE_TEST = 10  # vectors of products bought a few times are mostly noise


@dataclass(frozen=True)
class TrainingData:
    """What every method is trained and measured on: training baskets as vocabulary rows,
    the held-out queries, and the catalogue's aisles."""

    product_ids: np.ndarray
    offsets: np.ndarray
    items: np.ndarray
    purchases: np.ndarray
    queries: Queries
    aisle_of: pd.Series | None  # aisle id by product id; None without a catalogue

    @classmethod
    def from_baskets(
        cls, baskets: pd.DataFrame, products: pd.DataFrame, seed: int = 42
    ) -> "TrainingData":
        product_ids = vocabulary(baskets)
        offsets, items = to_csr(baskets.loc[baskets["split"] == TRAIN, "products"], product_ids)
        test = baskets.loc[baskets["split"] == TEST, "products"]
        aisle_of = products.set_index("product_id")["aisle_id"] if len(products) else None
        return cls(
            product_ids=product_ids,
            offsets=offsets,
            items=items,
            purchases=np.bincount(items, minlength=len(product_ids)),
            queries=held_out_queries(test, product_ids, seed),
            aisle_of=aisle_of,
        )

    @cached_property
    def evidence(self) -> sparse.csr_matrix:
        """Size-weighted co-occurrence of the training baskets (`bought_with.basket_evidence`)."""
        return basket_evidence(self.offsets, self.items, len(self.product_ids))

    def figures(
        self,
        target: np.ndarray,
        context: np.ndarray,
        log_prior: np.ndarray,
        prefix: str = "",
        *,
        neighbours: bool = True,
        blend_strength: float = BLEND_STRENGTH,
    ) -> dict[str, float]:
        """HR@10/MRR of "bought with" (evidence blended with the vectors, the headline) and of
        the vectors alone (`vectors_`), and with `neighbours` of cosine neighbours (`cosine_`),
        of what "similar products" serves (`similar_`, the better of the two on these queries;
        `similar_method` 1.0 = bought with, 0.0 = cosine) and the aisle test, for one pair of
        embedding matrices (ours or gensim's)."""

        def blended(rows: np.ndarray) -> np.ndarray:
            return blended_probabilities(
                target, context, log_prior, self.evidence, rows, blend_strength
            )

        def vectors_alone(rows: np.ndarray) -> np.ndarray:
            scores = target[rows] @ context.T + log_prior
            scores[np.arange(len(rows)), rows] = -np.inf
            return scores

        ours = evaluate(BoughtWithRanker(self.product_ids, blended), self.queries)
        alone = evaluate(BoughtWithRanker(self.product_ids, vectors_alone), self.queries)
        figures = {
            f"{prefix}hr_at_10": ours["hr_at_10"],
            f"{prefix}mrr": ours["mrr"],
            f"{prefix}vectors_hr_at_10": alone["hr_at_10"],
            f"{prefix}vectors_mrr": alone["mrr"],
        }
        if not neighbours:
            return figures
        cosine = evaluate(EmbeddingRanker(self.product_ids, target), self.queries)
        served = ours if ours["hr_at_10"] >= cosine["hr_at_10"] else cosine
        figures |= {
            f"{prefix}cosine_hr_at_10": cosine["hr_at_10"],
            f"{prefix}cosine_mrr": cosine["mrr"],
            f"{prefix}similar_hr_at_10": served["hr_at_10"],
            f"{prefix}similar_mrr": served["mrr"],
            f"{prefix}similar_method": float(served is ours),
        }
        if self.aisle_of is None:
            return figures
        aisles = aisle_agreement(
            self.product_ids,
            target,
            self.aisle_of,
            self.purchases >= MIN_PURCHASES_FOR_AISLE_TEST,
        )
        return {
            **figures,
            f"{prefix}aisle_share_at_10": aisles["aisle_share_at_10"],
            **({"aisle_share_chance": aisles["aisle_share_chance"]} if not prefix else {}),
        }

    def baseline_figures(self) -> dict[str, float]:
        """Popularity and co-occurrence on the same queries."""
        popularity = evaluate(PopularityRanker(self.product_ids, self.purchases), self.queries)
        cooccurrence = evaluate(
            CooccurrenceRanker(self.product_ids, self.offsets, self.items), self.queries
        )
        return {
            "popularity_hr_at_10": popularity["hr_at_10"],
            "popularity_mrr": popularity["mrr"],
            "cooccurrence_hr_at_10": cooccurrence["hr_at_10"],
            "cooccurrence_mrr": cooccurrence["mrr"],
            "queries": float(len(self.queries)),
        }


@dataclass
class Prod2VecEvaluation:
    """Flat `metrics` (ours, the baselines, gensim, throughput) and the trained model."""

    metrics: dict[str, float]
    model: Prod2VecModel


def evaluate_prod2vec(
    baskets: pd.DataFrame,
    products: pd.DataFrame,
    pair_config: PairConfig,
    hyperparameters: Hyperparameters,
    *,
    seed: int = 42,
    gensim: bool = True,
) -> Prod2VecEvaluation:
    """Pairs from the training baskets, the Keras model, the baselines and (with `gensim`)
    gensim's Word2Vec with the same settings, all measured on the same held-out queries."""
    data = TrainingData.from_baskets(baskets, products, seed)
    started = time.perf_counter()
    pairs = make_pairs(data.offsets, data.items, len(data.product_ids), pair_config)
    pair_seconds = time.perf_counter() - started
    model = fit_prod2vec(
        pairs,
        data.product_ids,
        data.purchases,
        pair_config,
        hyperparameters,
        data.evidence,
        seed=seed,
    )
    metrics = {
        **model_quality(data, model),
        **data.baseline_figures(),
        **model_figures(model, pairs),
        "pair_seconds": pair_seconds,
        "train_baskets": float(len(data.offsets) - 1),
    }
    if gensim:
        metrics.update(gensim_figures(data, model, pairs))
    return Prod2VecEvaluation(metrics=metrics, model=model)


def model_quality(data: TrainingData, model: Prod2VecModel) -> dict[str, float]:
    """`TrainingData.figures` of the model's own vectors and blend strength."""
    return data.figures(
        model.vectors,
        model.skipgram.context_vectors,
        model.context_log_prior,
        blend_strength=model.blend_strength,
    )


def model_figures(model: Prod2VecModel, pairs: SkipgramPairs) -> dict[str, float]:
    """Training throughput and size: what the model asset and the benchmark report."""
    skipgram = model.skipgram
    return {
        "pairs_per_second": skipgram.pairs_per_second,
        "train_seconds": skipgram.train_seconds,
        "compile_seconds": skipgram.compile_seconds,
        "epochs": float(len(skipgram.history.get("loss", []))),
        "pairs": float(len(pairs)),
        "positive_pairs": float(pairs.positives),
        "products": float(len(model.product_ids)),
    }


def gensim_figures(
    data: TrainingData, model: Prod2VecModel, pairs: SkipgramPairs
) -> dict[str, float]:
    """gensim's Word2Vec with our settings: its HR@10 etc. under the `gensim_` prefix and its
    throughput in our unit (labelled pairs per second)."""
    from ml_platform.prod2vec.word2vec import train_word2vec

    hp = model.skipgram.hyperparameters
    result = train_word2vec(
        data.offsets,
        data.items,
        len(data.product_ids),
        model.pair_config,
        embedding_dim=hp.embedding_dim,
        epochs=hp.epochs,
    )
    labelled = pairs.positives * (1 + model.pair_config.negatives) * hp.epochs
    return {
        **data.figures(
            result.target_vectors,
            result.context_vectors,
            model.context_log_prior,
            prefix="gensim_",
            blend_strength=model.blend_strength,
        ),
        "gensim_train_seconds": result.train_seconds,
        "gensim_pairs_per_second": labelled / result.train_seconds,
        "gensim_workers": float(result.workers),
    }
