"""What a team sets for the recommender without touching code: data, split, sizes, floors."""

from pathlib import Path

import dagster as dg

from ml_platform.core.config import with_epochs_capped
from ml_platform.demo_data.movielens import generate_movielens
from ml_platform.recommender.movielens import MovieLensDataset, load_movielens
from ml_platform.recommender.ranking import RankingConfig
from ml_platform.recommender.retrieval import RetrievalConfig


class RecommenderSettings(dg.ConfigurableResource):
    """`movielens_dir` holds a MovieLens folder (ratings.csv + movies.csv, or u.data + u.item);
    unset, the assets use the seeded generator calibrated to MovieLens 100K, so the demo and
    `dagster dev` work with no data downloaded."""

    movielens_dir: str | None = None
    generated_seed: int = 42
    generated_users: int = 943  # sizes of the generated data (MovieLens 100K's by default)
    generated_movies: int = 1682
    generated_ratings: int = 100_000
    split: str = "random"  # or "temporal": each user's latest ratings are held out
    test_share: float = 0.2
    seed: int = 42
    candidates: int = 200  # retrieved per user before ranking
    top_k: int = 10  # recommendations stored per user
    max_epochs: int | None = None  # caps both stages' epochs (tests, quick looks); None = tuned

    def dataset(self) -> MovieLensDataset:
        if self.movielens_dir:
            return load_movielens(Path(self.movielens_dir))
        return generate_movielens(
            n_users=self.generated_users,
            n_movies=self.generated_movies,
            n_ratings=self.generated_ratings,
            seed=self.generated_seed,
        )

    def retrieval_config(self) -> RetrievalConfig:
        return with_epochs_capped(RetrievalConfig(), self.max_epochs)

    def ranking_config(self) -> RankingConfig:
        return with_epochs_capped(RankingConfig(), self.max_epochs)
