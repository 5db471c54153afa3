"""What a team sets for similar users without touching code: where the tables come from, model
sizes, how tables are weighed, and how the evaluation samples."""

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


class SimilarUsersSettings(dg.ConfigurableResource, FastTextConfig, EmbeddingConfig):
    """Where the four tables come from, in this order: `data_dir` (the public CSV names), the
    warehouse landing tables `su_landing_<table>` the learning app appends to (when
    `from_landing_tables`; the sensor then refreshes the embeddings as rows arrive), or, with
    neither, the seeded generator — so `dagster dev` materializes the group with nothing else.

    How the table models train and how their vectors combine are the fields of `FastTextConfig`
    and `EmbeddingConfig`, inherited under their own names (`vector_size`, `epochs`, …,
    `assessment_weight`, `dense_weight`, …); the models get them through `fasttext_config()` and
    `embedding_config()`."""

    data_dir: str | None = None
    from_landing_tables: bool = False
    generated_users: int = 2_000
    generated_seed: int = 42
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
        return FastTextConfig.of(self)

    def embedding_config(self) -> EmbeddingConfig:
        return EmbeddingConfig.of(self)
