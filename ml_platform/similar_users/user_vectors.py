"""Every user's vector from the trained table models (see `embedding.py` for the recipe), and
the IDF-weighted item profiles the similarity mixes with it (see `profiles.py`).

Similarity of users u and v: `dense_weight` × the dot product of their FastText vectors plus
the rest × their asymmetric IDF overlap. The sparse part is what beats TF-IDF neighbours on real
behaviour; the dense part is what still places a query of misspelt or never-seen words, and
what a user without any shared item is ranked by (on validation splits of MovieLens and the
generator a 0.1 weight of the vectors cost under 0.01 of hit rate against the overlap alone).
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pydantic

from ml_platform.core.config import ConfigModel
from ml_platform.similar_users.embedding import TableEmbedder, combine, unit_rows
from ml_platform.similar_users.fasttext_models import (
    ITEM_COLUMNS,
    TableModel,
    normalise_token,
    table_items,
)
from ml_platform.similar_users.learners import LearnerTables
from ml_platform.similar_users.profiles import ItemProfiles, similarity_scale

TABLE_ORDER = tuple(ITEM_COLUMNS)


class EmbeddingConfig(ConfigModel):
    """How table vectors are made and combined (defaults tuned in benchmarks/similar_users.py);
    also the similar-users resource's config keys of the same names."""

    # How much each table's vector counts in a user's combined vector.
    assessment_weight: float = 0.5
    course_view_weight: float = 1.0
    interest_weight: float = 1.0
    smoothing: float = 1e-3  # SIF's a; 0 weighs every item alike
    # The index searches user vectors projected on their top principal axes: on 10,000
    # generated users 24 of the 144 dimensions keep 99 % of the variance and the same leave-out
    # hit rate and precision@10 as all 144 (16 keep 96 %: precision 0.976 against 0.981), and
    # the search, a matrix-vector product over every user, costs in proportion.
    index_dimensions: int = 24
    spelling_similarity: float = 0.8  # unknown query words this close to a known one; 0 = off
    dense_weight: float = 0.1  # of the FastText vectors in the similarity; 1 = vectors alone
    profile_exponent: float = 0.4  # β of the asymmetric IDF overlap (`profiles.py`)

    @pydantic.model_validator(mode="before")
    @classmethod
    def _from_one_mapping(cls, data: Any) -> Any:
        """Embeddings stored before the weights were three settings kept them as one mapping."""
        if isinstance(data, dict) and "table_weights" in data:
            data = dict(data)
            weights = data.pop("table_weights")
            data["assessment_weight"] = weights["user_assessment_scores"]
            data["course_view_weight"] = weights["user_course_views"]
            data["interest_weight"] = weights["user_interests"]
        return data

    @property
    def table_weights(self) -> dict[str, float]:
        return {
            "user_assessment_scores": self.assessment_weight,
            "user_course_views": self.course_view_weight,
            "user_interests": self.interest_weight,
        }


@dataclass
class UserEmbeddings:
    """User vectors (row i is `handles[i]`): unit combined vectors projected on `projection`'s
    axes, and the per-table embedders that made them, which embed a query the same way."""

    handles: np.ndarray
    vectors: np.ndarray
    projection: np.ndarray  # index dimensions × combined dimensions
    embedders: dict[str, TableEmbedder]
    config: EmbeddingConfig
    users_per_table: dict[str, int]
    explained_variance: float
    profiles: ItemProfiles

    def similarity(self, rows: np.ndarray) -> np.ndarray:
        """Similarity of the users at `rows` to every user (rows × users), as the index ranks."""
        weight = self.config.dense_weight
        scores = weight * (self.vectors[rows] @ self.vectors.T)
        if weight < 1:
            scores += (1 - weight) * self.profiles.user_scores(rows)
        return scores / similarity_scale(weight, self.profiles)

    def summary(self) -> dict[str, float]:
        return {
            "users": len(self.handles),
            "dimensions": int(self.projection.shape[1]),
            "index_dimensions": int(self.vectors.shape[1]),
            "explained_variance": self.explained_variance,
            **{f"users_with_{table}": n for table, n in self.users_per_table.items()},
        }


def weighted_items(tables: LearnerTables, table: str) -> pd.DataFrame:
    """`user_handle, item, weight`, one row per user and item."""
    frame = tables.table(table)
    rows = pd.DataFrame(
        {
            "user_handle": frame["user_handle"].astype("str"),
            "item": frame[ITEM_COLUMNS[table]].astype("str").map(normalise_token),
        }
    )
    if table == "user_assessment_scores":
        # at least 1: a score of 0 is still something the user did
        rows["weight"] = frame["user_assessment_score"].astype(float).clip(lower=1.0).to_numpy()
        how = "max"
    elif table == "user_course_views":
        rows["weight"] = frame["view_time_seconds"].astype(float).to_numpy()
        how = "sum"
    else:
        rows["weight"] = 1.0
        how = "max"
    rows = rows.loc[rows["item"] != ""]
    grouped = rows.groupby(["user_handle", "item"], sort=True)["weight"].agg(how).reset_index()
    if table == "user_course_views":
        grouped["weight"] = np.log1p(grouped["weight"].clip(lower=0) / 60.0) + 1e-3
    return grouped


def table_vectors(items: pd.DataFrame, embedder: TableEmbedder, users: np.ndarray) -> np.ndarray:
    """Unit table vectors for `users` (zero rows for users without items)."""
    from scipy import sparse

    unique = items["item"].unique()
    pairs = [embedder.unit_vector(item) for item in unique]
    units = np.vstack([unit for unit, _ in pairs]) if pairs else np.zeros((0, embedder.dimensions))
    item_weight = np.array([weight for _, weight in pairs])
    item_row = pd.Index(unique).get_indexer(items["item"])
    user_row = pd.Index(users).get_indexer(items["user_handle"])
    weights = items["weight"].to_numpy() * item_weight[item_row]
    matrix = sparse.csr_matrix(
        (weights, (user_row, item_row)), shape=(len(users), len(unique)), dtype=np.float64
    )
    sums = np.asarray(matrix.sum(axis=1)).ravel()
    present = sums > 0
    means = np.zeros((len(users), embedder.dimensions))
    means[present] = (matrix[present] @ units) / sums[present, None]
    return unit_rows(means)


def embed_users(
    tables: LearnerTables, models: Mapping[str, TableModel], config: EmbeddingConfig | None = None
) -> UserEmbeddings:
    """One unit vector per user of the three user tables."""
    config = config or EmbeddingConfig()
    users = tables.users()
    per_table, embedders, counts = {}, {}, {}
    for table in TABLE_ORDER:
        model = models[table]
        embedder = TableEmbedder(
            model.vectors,
            model.item_counts,
            config.smoothing,
            config.spelling_similarity,
        )
        items = weighted_items(tables, table)
        per_table[table] = table_vectors(items, embedder, users)
        embedders[table] = embedder
        counts[table] = int(per_table[table].any(axis=1).sum())
    vectors = combine(
        per_table,
        {t: e.dimensions for t, e in embedders.items()},
        config.table_weights,
        TABLE_ORDER,
    )
    projection, explained = principal_axes(vectors, config.index_dimensions)
    profiles = ItemProfiles(
        {
            table: table_items(table, tables.table(table))
            for table in TABLE_ORDER
            if config.table_weights[table] > 0
        },
        users,
        config.profile_exponent,
    )
    return UserEmbeddings(
        users, vectors @ projection.T, projection, embedders, config, counts, explained, profiles
    )


def principal_axes(vectors: np.ndarray, count: int) -> tuple[np.ndarray, float]:
    """The top `count` right singular vectors (uncentred: dot products are what is kept) and
    the share of the squared norm they keep."""
    _, singular, axes = np.linalg.svd(vectors, full_matrices=False)
    count = min(count, len(singular))
    energy = singular**2
    kept = float(energy[:count].sum() / energy.sum()) if energy.sum() > 0 else 1.0
    return axes[:count].astype(np.float32), kept
