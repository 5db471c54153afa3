"""The served object: embed a query, score every user, answer in the original's JSON.

Built once per materialization and loaded by the serving app (`similar_users_index` asset).
It holds only what a request needs — per-table subword vectors with their word cache, the
projection, a `core.vectors.VectorIndex` over the user vectors, the users' IDF item profiles
by item and each user's display entry already serialized — so a request costs a few
dictionary look-ups, one matrix-vector product, one pass over the postings of the query's
items and a partial sort. Numpy and the standard library only: the serving app unpickles it.
"""

import json
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from ml_platform.core.vectors import VectorIndex
from ml_platform.similar_users.display import DISPLAY_COLUMNS
from ml_platform.similar_users.embedding import TableEmbedder
from ml_platform.similar_users.profiles import ItemProfiles, similarity_scale

if TYPE_CHECKING:
    import pandas as pd

    from ml_platform.similar_users.user_vectors import UserEmbeddings


class Query(NamedTuple):
    """A profile to compare users with: its vector, and its known items' columns and weights."""

    vector: np.ndarray
    columns: np.ndarray
    weights: np.ndarray


class SimilarUsersIndex:
    """Who is like a user (by handle) or like a profile (assessments, courses, interests)."""

    def __init__(self, embeddings: "UserEmbeddings", display: "pd.DataFrame") -> None:
        self.embedders: dict[str, TableEmbedder] = embeddings.embedders
        self.order = tuple(embeddings.embedders)
        self.weights = dict(embeddings.config.table_weights)
        self.dimensions = {table: e.dimensions for table, e in self.embedders.items()}
        self.projection = embeddings.projection
        # The projection's columns per table, and each table's √weight, for `embed`.
        offsets = np.cumsum([0, *(self.dimensions[t] for t in self.order)])
        self._table_projections = {
            table: np.ascontiguousarray(self.projection[:, offsets[i] : offsets[i + 1]])
            for i, table in enumerate(self.order)
        }
        self._roots = {table: math.sqrt(self.weights[table]) for table in self.order}
        self.index = VectorIndex(embeddings.handles, embeddings.vectors, metric="dot")
        self.profiles: ItemProfiles = embeddings.profiles
        self.dense_weight = embeddings.config.dense_weight
        # users × dimensions transposed, contiguous: what a query vector multiplies
        self._by_dimension = np.ascontiguousarray(self.index.vectors.T)
        self._scale = similarity_scale(self.dense_weight, self.profiles)
        rows = display.set_index("user_handle").reindex(embeddings.handles).fillna("")
        self._keys = [json.dumps(str(h), ensure_ascii=False).encode() for h in embeddings.handles]
        self._entries = [
            json.dumps(
                {column: str(row[column]) for column in DISPLAY_COLUMNS},
                ensure_ascii=False,
                separators=(",", ":"),
            ).encode()[1:]  # without its "{": the similarity goes first
            for _, row in rows.iterrows()
        ]

    @property
    def users(self) -> int:
        return len(self.index)

    def has_user(self, handle: str) -> bool:
        return handle in self.index

    def embed(
        self,
        assessment: Sequence[tuple[str, float]] = (),
        course_view: Sequence[str] = (),
        user_interests: Sequence[str] = (),
    ) -> Query | None:
        """The query in the index's space, exactly as `user_vectors.embed_users` makes a
        user's (its vector, and the items it shares with the profiles, misspellings read as
        the words they misspell), None when nothing in it can be embedded.

        The projection is linear and every table vector has unit length, so the projected,
        normalised concatenation is Σ √w·P_table·unit(table mean) / √(Σ w of present tables):
        per table one small matrix product, never the full concatenated vector."""
        bags = (
            ("user_assessment_scores", [t for t, _ in assessment], [s for _, s in assessment]),
            ("user_course_views", course_view, None),
            ("user_interests", user_interests, None),
        )
        query = None
        present = 0.0
        items: list[tuple[str, str]] = []
        for table, words, scores in bags:
            if not words or self.weights[table] <= 0:
                continue
            embedder = self.embedders[table]
            items += [(table, embedder.word(word)) for word in words]
            pairs = [embedder.unit_vector(word) for word in words]
            weights = np.array([weight for _, weight in pairs], dtype=np.float32)
            if scores is not None:
                weights *= np.asarray(scores, dtype=np.float32)
            mean = weights @ np.array([unit for unit, _ in pairs])
            norm = math.sqrt(float(mean @ mean))
            if norm == 0:
                continue
            part = self._table_projections[table] @ mean * (self._roots[table] / norm)
            query = part if query is None else query + part
            present += self.weights[table]
        if query is None:
            return None
        return Query(query / math.sqrt(present), *self.profiles.query(items))

    def scores(self, query: Query) -> np.ndarray:
        """Every user's similarity to the query (`UserEmbeddings.similarity`'s mixture)."""
        scores = self.dense_weight * (query.vector @ self._by_dimension)
        if self.dense_weight < 1:
            scores += (1 - self.dense_weight) * self.profiles.scores(query.columns, query.weights)
        return scores / self._scale

    def similar_json(self, query: Query, top_n: int, exclude: str | None = None) -> bytes:
        """`{"<handle>": {"similarity": s, "assessment_tag": …, "course_id": …,
        "interest_tag": …}, …}`, most similar first, as UTF-8 JSON."""
        scores = self.scores(query)
        position = self.index.position(exclude)
        if position is not None:
            scores[position] = -np.inf
        top_n = min(top_n, len(scores) - (position is not None))
        top = np.argpartition(-scores, top_n - 1)[:top_n]
        # best first, ties by row, as VectorIndex.nearest orders
        positions = top[np.lexsort((top, -scores[top]))]
        scores = scores[positions]
        parts = [
            self._keys[i] + b':{"similarity":%.4f,' % s + self._entries[i]
            for i, s in zip(positions.tolist(), scores.tolist(), strict=True)
        ]
        return b"{" + b",".join(parts) + b"}"

    def user_vector(self, handle: str) -> Query:
        """A known user's profile as a query; KeyError for an unknown handle."""
        row = self.index.position(handle)
        if row is None:
            raise KeyError(handle)
        return Query(self.index.vectors[row], *self.profiles.user_query(row))
