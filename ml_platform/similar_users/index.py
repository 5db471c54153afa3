"""The served object: embed a query, search the user vectors, answer in the original's JSON.

Built once per materialization and loaded by the serving app (`similar_users_index` asset).
It holds only what a request needs — per-table subword vectors with their word cache, the
projection, a `core.vectors.VectorIndex` over the users and each user's display entry already
serialized — so a request costs a few dictionary look-ups, one matrix-vector product and a
partial sort. Numpy and the standard library only: the serving app unpickles it.
"""

import json
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from ml_platform.core.vectors import VectorIndex
from ml_platform.similar_users.display import DISPLAY_COLUMNS
from ml_platform.similar_users.embedding import TableEmbedder

if TYPE_CHECKING:
    import pandas as pd

    from ml_platform.similar_users.user_vectors import UserEmbeddings


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
    ) -> np.ndarray | None:
        """The query's vector in the index's space, exactly as `user_vectors.embed_users` makes
        a user's, None when nothing in it can be embedded.

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
        for table, words, scores in bags:
            if not words or self.weights[table] <= 0:
                continue
            embedder = self.embedders[table]
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
        return None if query is None else query / math.sqrt(present)

    def similar_json(self, vector: np.ndarray, top_n: int, exclude: str | None = None) -> bytes:
        """`{"<handle>": {"similarity": s, "assessment_tag": …, "course_id": …,
        "interest_tag": …}, …}`, most similar first, as UTF-8 JSON."""
        positions, scores = self.index.nearest(
            vector, top_n, exclude_position=self.index.position(exclude)
        )
        parts = [
            self._keys[i] + b':{"similarity":%.4f,' % s + self._entries[i]
            for i, s in zip(positions.tolist(), scores.tolist(), strict=True)
        ]
        return b"{" + b",".join(parts) + b"}"

    def user_vector(self, handle: str) -> np.ndarray:
        """A known user's vector; KeyError for an unknown handle."""
        return self.index.vector(handle)
