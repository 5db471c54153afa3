"""Similar products by id or by name: what `similar_products` stores and the serving app answers.

Two methods, and the index serves the one that scored better on held-out baskets
(`evaluation.TrainingData.figures`): `cosine` neighbours of the product vectors, or `bought_with`
(`bought_with.py`), whose top `MAX_NEIGHBOURS` per product are computed once here because each
needs a softmax over the whole catalogue. On the real Instacart sample cosine neighbours hit
0.138 and "bought with" 0.55 (popularity 0.450).

Plain numpy and dicts (no TensorFlow, no pandas at query time): the serving app loads it with
joblib and answers in well under a millisecond.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ml_platform.core.vectors import VectorIndex

VECTOR_PREFIX = "v_"
COSINE, BOUGHT_WITH = "cosine", "bought_with"
MAX_NEIGHBOURS = 100  # the most a request may ask for (serving.products.MAX_K)
_WORD = re.compile(r"[a-z0-9]+")
_CHUNK = 2048  # queries per matrix product: 2,048 × 50,000 scores is 400 MB


def vector_columns(frame: pd.DataFrame) -> list[str]:
    """The `v_0 … v_{d-1}` columns of a `product_vectors` table, in order."""
    columns = [c for c in frame.columns if c.startswith(VECTOR_PREFIX)]
    return sorted(columns, key=lambda c: int(c.removeprefix(VECTOR_PREFIX)))


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


@dataclass(frozen=True)
class Neighbours:
    """Each product's best `ids` (rows best first) and their `scores`, by `method`."""

    method: str
    product_ids: np.ndarray  # sorted; row i of `ids`/`scores` belongs to product_ids[i]
    ids: np.ndarray
    scores: np.ndarray


def top_neighbours(
    method: str,
    product_ids: np.ndarray,
    score_rows: Callable[[np.ndarray], np.ndarray],
    k: int = MAX_NEIGHBOURS,
) -> Neighbours:
    """The `k` best products of every product under `score_rows(rows)` → (len(rows), n) scores
    with the product itself −inf (e.g. `Prod2VecModel.bought_with_scores`)."""
    k = max(0, min(k, len(product_ids) - 1))
    found, scores = [], []
    for start in range(0, len(product_ids), 1024):
        rows = np.arange(start, min(start + 1024, len(product_ids)))
        block = score_rows(rows)
        top = np.argpartition(-block, k - 1, axis=1)[:, :k] if k else np.zeros((len(rows), 0), int)
        values = np.take_along_axis(block, top, axis=1)
        order = np.argsort(-values, axis=1, kind="stable")
        found.append(product_ids[np.take_along_axis(top, order, axis=1)])
        scores.append(np.take_along_axis(values, order, axis=1).astype(np.float32))
    return Neighbours(
        method=method,
        product_ids=np.asarray(product_ids),
        ids=np.concatenate(found) if found else np.zeros((0, k), np.int64),
        scores=np.concatenate(scores) if scores else np.zeros((0, k), np.float32),
    )


class ProductIndex:
    """Similar products by the served method — cosine nearest neighbours over the product
    vectors, or precomputed `neighbours` — with each product's name, aisle and department, and
    a word index of the names for search by name."""

    # class-level defaults: an index pickled before the served method existed is cosine
    neighbours: Neighbours | None = None
    method: str = COSINE

    def __init__(self, product_vectors: pd.DataFrame, neighbours: Neighbours | None = None) -> None:
        ids = product_vectors["product_id"].to_numpy(dtype=np.int64)
        self.neighbours = neighbours
        self.method = neighbours.method if neighbours is not None else COSINE
        self.index = VectorIndex(
            ids, product_vectors[vector_columns(product_vectors)].to_numpy(), metric="cosine"
        )
        self.products = {
            int(row.product_id): {
                "product_id": int(row.product_id),
                "product_name": str(row.product_name),
                "aisle": str(row.aisle),
                "department": str(row.department),
            }
            for row in product_vectors.itertuples(index=False)
        }
        self.purchases = dict(
            zip(ids.tolist(), product_vectors["purchases"].astype(int).tolist(), strict=True)
        )
        self.by_word: dict[str, set[int]] = {}
        for product_id, product in self.products.items():
            for word in words(product["product_name"]):
                self.by_word.setdefault(word, set()).add(product_id)

    def __len__(self) -> int:
        return len(self.products)

    def has_product(self, product_id: int) -> bool:
        return product_id in self.products

    def product(self, product_id: int) -> dict:
        return self.products[product_id]

    def similar(self, product_id: int, k: int) -> list[dict]:
        """The `k` most similar other products, best first, each with its score under the
        served method (cosine similarity, or P(bought with)); fewer when the index holds
        fewer others."""
        if self.neighbours is not None:
            row = int(np.searchsorted(self.neighbours.product_ids, product_id))
            ids, scores = self.neighbours.ids[row, :k], self.neighbours.scores[row, :k]
        else:
            k = min(k, len(self) - 1)
            found = self.index.search(self.index.vector(product_id), k, exclude=[{product_id}])
            ids, scores = found[0][0], found[1][0]
        return [
            {**self.products[int(i)], "similarity": round(float(s), 6)}
            for i, s in zip(ids, scores, strict=True)
        ]

    def similar_table(self, k: int) -> pd.DataFrame:
        """Top-k neighbours of every product: (product_id, product_name, rank, neighbour_id,
        neighbour_name, neighbour_aisle, similarity)."""
        ids = self.index.ids
        k = min(k, len(ids) - 1)
        if self.neighbours is not None:
            rows = np.searchsorted(self.neighbours.product_ids, ids)
            found, scores = self.neighbours.ids[rows, :k], self.neighbours.scores[rows, :k]
        else:
            parts = [
                self.index.search(
                    self.index.vectors[start : start + _CHUNK],
                    k,
                    exclude=[{int(i)} for i in ids[start : start + _CHUNK]],
                )
                for start in range(0, len(ids), _CHUNK)
            ]
            found = np.concatenate([p[0] for p in parts])
            scores = np.concatenate([p[1] for p in parts])
        names = {i: p["product_name"] for i, p in self.products.items()}
        aisles = {i: p["aisle"] for i, p in self.products.items()}
        neighbours = found.ravel().tolist()
        return pd.DataFrame(
            {
                "product_id": np.repeat(ids, found.shape[1]),
                "product_name": np.repeat([names[int(i)] for i in ids], found.shape[1]),
                "rank": np.tile(np.arange(1, found.shape[1] + 1), len(ids)),
                "neighbour_id": found.ravel(),
                "neighbour_name": [names[i] for i in neighbours],
                "neighbour_aisle": [aisles[i] for i in neighbours],
                "similarity": scores.ravel().astype(float),
            }
        )

    def find(self, name: str) -> list[int]:
        """Products whose name holds every word of `name` (case-insensitive), the most bought
        first; a word that is no whole word of any name matches as the start of one
        ("pean butt" finds peanut butter)."""
        wanted = words(name)
        if not wanted:
            return []
        found: set[int] | None = None
        for word in wanted:
            holders = self.by_word.get(word)
            if holders is None:
                holders = set().union(
                    *(ids for known, ids in self.by_word.items() if known.startswith(word))
                )
            found = holders if found is None else found & holders
            if not found:
                return []
        return sorted(
            found, key=lambda i: (-self.purchases[i], len(self.products[i]["product_name"]), i)
        )
