"""What a team sets for prod2vec without touching code: data, how pairs are made, the floors."""

from pathlib import Path

import dagster as dg

from ml_platform.demo_data.instacart import generate_instacart
from ml_platform.prod2vec.instacart import InstacartDataset, load_instacart
from ml_platform.prod2vec.pairs import PairConfig


class Prod2VecSettings(dg.ConfigurableResource):
    """`instacart_dir` holds the Instacart files (orders.csv, order_products__prior/train.csv,
    products.csv, aisles.csv, departments.csv) or one joined orders × products CSV; unset, the
    assets use the seeded generator at a size `dagster dev` trains in about a minute."""

    instacart_dir: str | None = None
    generated_seed: int = 42
    generated_orders: int = 30_000
    generated_products: int = 3_000
    # pairs (see pairs.PairConfig)
    window: int | None = 5
    shuffle: bool = True
    subsample: float | None = 1e-3
    negatives: int = 4
    negative_power: float = 0.75
    seed: int = 42
    # below this many pairs a model would be noise: the pairs check blocks training
    min_pairs: int = 100_000
    # also train gensim's Word2Vec with the same settings and record its figures (~30 s more)
    compare_gensim: bool = False

    def dataset(self) -> InstacartDataset:
        if self.instacart_dir:
            return load_instacart(Path(self.instacart_dir))
        return generate_instacart(
            n_orders=self.generated_orders,
            n_products=self.generated_products,
            seed=self.generated_seed,
        )

    def source(self) -> str:
        return self.instacart_dir or f"generated (seed {self.generated_seed})"

    def pair_config(self) -> PairConfig:
        return PairConfig(
            window=self.window,
            shuffle=self.shuffle,
            subsample=self.subsample,
            negatives=self.negatives,
            negative_power=self.negative_power,
            seed=self.seed,
        )
