"""What a team sets for prod2vec without touching code: data, how pairs are made, the floors."""

from pathlib import Path

import dagster as dg

from ml_platform.demo_data.instacart import generate_instacart
from ml_platform.prod2vec.instacart import InstacartDataset, load_instacart
from ml_platform.prod2vec.pairs import PairConfig


class Prod2VecSettings(dg.ConfigurableResource, PairConfig):
    """`instacart_dir` holds the Instacart files (orders.csv, order_products__prior/train.csv,
    products.csv, aisles.csv, departments.csv) or one joined orders × products CSV; unset, the
    assets use the seeded generator at a size `dagster dev` trains in about a minute.

    How baskets become pairs are the fields of `PairConfig` (`window`, `shuffle`, `subsample`,
    `negatives`, `negative_power`, `seed`), inherited under their own names and validated as it
    validates them; the assets get them through `pair_config()`."""

    instacart_dir: str | None = None
    generated_seed: int = 42
    generated_orders: int = 30_000
    generated_products: int = 3_000
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
        return PairConfig.of(self)
