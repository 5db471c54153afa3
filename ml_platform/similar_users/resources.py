"""What a team sets for similar users without touching code: where the tables come from, model
sizes, how tables are weighed, and how the evaluation samples."""

from collections.abc import Mapping
from pathlib import Path

import dagster as dg
import pandas as pd

from ml_platform.core.warehouse import Warehouse
from ml_platform.demo_data.learners import GeneratedLearners, generate_learners
from ml_platform.similar_users.checks import MIN_GATE_USERS
from ml_platform.similar_users.fasttext_models import FastTextConfig
from ml_platform.similar_users.landing import LANDING_TABLES, read_landing_tables
from ml_platform.similar_users.learners import LearnerTables, load_communities, load_learners
from ml_platform.similar_users.user_vectors import EmbeddingConfig


class SimilarUsersSettings(dg.ConfigurableResource):
    """Where the four tables come from, in this order: `data_dir` (the public CSV names), the
    warehouse landing tables `su_landing_<table>` the learning app appends to (when
    `from_landing_tables`; the sensor then refreshes the embeddings as rows arrive), or, with
    neither, the seeded generator — so `dagster dev` materializes the group with nothing else."""

    data_dir: str | None = None
    from_landing_tables: bool = False
    generated_users: int = 2_000
    generated_seed: int = 42
    vector_size: int = 48
    epochs: int = 5
    window: int = 10
    min_n: int = 3
    max_n: int = 4
    workers: int = 2
    min_tokens_seen: int = 1_500_000  # small tables get more epochs (see FastTextConfig)
    seed: int = 42
    assessment_weight: float = 0.5
    course_view_weight: float = 1.0
    interest_weight: float = 1.0
    smoothing: float = 1e-3
    dense_weight: float = 0.1  # of the FastText vectors in the similarity (rest: IDF overlap)
    profile_exponent: float = 0.4
    index_dimensions: int = 24
    display_items: int = 10  # items per table shown for each similar user
    leave_out_users: int = 1_000  # users whose items the evaluation hides; 0 skips it
    evaluation_seed: int = 0
    # From this many leave-out users a model that loses to TF-IDF/Jaccard is not published.
    gate_min_users: int = MIN_GATE_USERS

    def source(self) -> str:
        if self.data_dir:
            return self.data_dir
        if self.from_landing_tables:
            return f"warehouse landing tables {', '.join(LANDING_TABLES.values())}"
        return f"generated ({self.generated_users} users, seed {self.generated_seed})"

    def load(self, warehouse: Warehouse) -> tuple[LearnerTables, pd.DataFrame | None]:
        """The four tables and, when the source has them, the users' community labels."""
        if self.data_dir:
            return load_learners(Path(self.data_dir)), load_communities(Path(self.data_dir))
        if self.from_landing_tables:
            return read_landing_tables(warehouse), None
        generated: GeneratedLearners = generate_learners(
            self.generated_users, seed=self.generated_seed
        )
        return generated.tables, generated.communities

    def fasttext_config(self) -> FastTextConfig:
        return FastTextConfig(
            vector_size=self.vector_size,
            epochs=self.epochs,
            window=self.window,
            min_n=self.min_n,
            max_n=self.max_n,
            workers=self.workers,
            min_tokens_seen=self.min_tokens_seen,
            seed=self.seed,
        )

    def embedding_config(self) -> EmbeddingConfig:
        weights: Mapping[str, float] = {
            "user_assessment_scores": self.assessment_weight,
            "user_course_views": self.course_view_weight,
            "user_interests": self.interest_weight,
        }
        return EmbeddingConfig(
            table_weights=dict(weights),
            smoothing=self.smoothing,
            index_dimensions=self.index_dimensions,
            dense_weight=self.dense_weight,
            profile_exponent=self.profile_exponent,
        )
