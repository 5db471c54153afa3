"""Orders and their products → one basket per order, each user's last basket held out.

The held-out baskets are what every model and baseline is measured on (`evaluation.py`); pairs
and vocabularies come from the training baskets only.
"""

import numpy as np
import pandas as pd

TRAIN, TEST = "train", "test"
BASKET_COLUMNS = ("order_id", "user_id", "order_number", "split", "size", "products")


def build_baskets(orders: pd.DataFrame, order_products: pd.DataFrame) -> pd.DataFrame:
    """One row per order that should have products (`eval_set` prior or train): `products`
    (ids in add-to-cart order), `size` (0 when the files lost its products, which the
    checks catch), and `split` — `test` for each user's last order with products.

    Instacart's `test` orders come without products by design and are left out.
    """
    shopped = orders.loc[orders["eval_set"] != "test", ["order_id", "user_id", "order_number"]]
    lines = order_products.sort_values(["order_id", "add_to_cart_order"], kind="stable")
    grouped = lines.groupby("order_id", sort=True)["product_id"]
    products = pd.Series(
        np.split(lines["product_id"].to_numpy(), np.cumsum(grouped.size().to_numpy())[:-1]),
        index=grouped.size().index,
    )
    baskets = shopped.sort_values(["user_id", "order_number"], kind="stable").reset_index(drop=True)
    found = products.reindex(baskets["order_id"])
    empty = np.zeros(0, dtype=np.int64)
    baskets["products"] = [p if isinstance(p, np.ndarray) else empty for p in found]
    baskets["size"] = baskets["products"].map(len).astype("int64")
    with_products = baskets.loc[baskets["size"] > 0]
    last = with_products.groupby("user_id")["order_number"].transform("max")
    baskets["split"] = TRAIN
    baskets.loc[with_products.index[with_products["order_number"] == last], "split"] = TEST
    return baskets[list(BASKET_COLUMNS)]


def vocabulary(baskets: pd.DataFrame) -> np.ndarray:
    """Sorted ids of the products in training baskets: the rows of every model's vectors."""
    train = baskets.loc[baskets["split"] == TRAIN, "products"]
    if train.empty:
        return np.zeros(0, dtype=np.int64)
    return np.unique(np.concatenate(train.to_list()))


def to_csr(products: pd.Series, vocabulary: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Baskets as (offsets, items): items are rows of `vocabulary`; unknown products dropped."""
    flat = np.concatenate([np.zeros(0, np.int64), *products.to_list()])
    sizes = products.map(len).to_numpy()
    rows = np.searchsorted(vocabulary, flat)
    rows = np.minimum(rows, max(len(vocabulary) - 1, 0))
    known = vocabulary[rows] == flat if len(vocabulary) else np.zeros(len(flat), bool)
    basket = np.repeat(np.arange(len(sizes)), sizes)
    kept = np.bincount(basket[known], minlength=len(sizes))
    return np.concatenate([[0], np.cumsum(kept)]).astype(np.int64), rows[known].astype(np.int32)
