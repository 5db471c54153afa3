"""Data-quality checks that stand between the baskets and the model: all blocking, so a bad
batch of pairs never trains (nor tunes) a model that would then be exported and served."""

import dagster as dg
import numpy as np
import pandas as pd

from ml_platform.core.checks import expect, expectation_check, run_expectations
from ml_platform.prod2vec import assets
from ml_platform.prod2vec.baskets import TEST, TRAIN
from ml_platform.prod2vec.resources import Prod2VecSettings

# How far the positive share may drift from 1 / (1 + negatives) (rounding, dropped rows).
LABEL_BALANCE_TOLERANCE = 0.01
IDS_KNOWN = "column_values_to_be_in_set(product_id)"  # the label run_expectations gives it

baskets_are_valid = expectation_check(
    asset=assets.baskets,
    name="baskets_are_valid",
    blocking=True,
    expectations=[
        expect("column_values_to_be_between", column="size", min_value=1),
        expect("column_values_to_be_unique", column="order_id"),
        expect("column_values_to_be_in_set", column="split", value_set=[TRAIN, TEST]),
    ],
    description="No empty baskets (an order whose products went missing), one row per order.",
)


def pair_expectations(negatives: int, min_pairs: int) -> list:
    """What valid pairs look like: ids present, labels 0/1 in the share negative sampling
    implies, enough rows to learn from."""
    positive_share = 1 / (1 + negatives)
    return [
        expect("table_row_count_to_be_between", min_value=min_pairs),
        expect("column_values_to_not_be_null", column="target"),
        expect("column_values_to_not_be_null", column="context"),
        expect("column_values_to_be_in_set", column="label", value_set=[0, 1]),
        expect(
            "column_mean_to_be_between",
            column="label",
            min_value=positive_share - LABEL_BALANCE_TOLERANCE,
            max_value=positive_share + LABEL_BALANCE_TOLERANCE,
        ),
    ]


def check_pairs(
    pairs: pd.DataFrame, product_ids: np.ndarray, negatives: int, min_pairs: int
) -> dg.AssetCheckResult:
    """The expectations above on the pairs, plus "ids known" on the distinct ids (every id a
    pair names must be in the catalogue), which is exact and costs one pass instead of one
    set lookup per row through great-expectations."""
    named = pd.DataFrame(
        {"product_id": np.union1d(pairs["target"].unique(), pairs["context"].unique())}
    )
    self_pairs = pairs.loc[(pairs["label"] == 1) & (pairs["target"] == pairs["context"])]
    rows = run_expectations(pairs, pair_expectations(negatives, min_pairs))
    ids = run_expectations(
        named,
        [expect("column_values_to_be_in_set", column="product_id", value_set=product_ids.tolist())],
    )
    metadata = {
        **rows.metadata,
        "ids_known": ids.metadata[IDS_KNOWN],
        "unknown_ids": int(ids.metadata[f"{IDS_KNOWN} unexpected_count"].value),
        "positive_self_pairs": len(self_pairs),
    }
    passed = bool(rows.passed and ids.passed and self_pairs.empty)
    return dg.AssetCheckResult(
        passed=passed,
        severity=dg.AssetCheckSeverity.ERROR,
        description=rows.description if passed else _failures(rows, ids, self_pairs),
        metadata=metadata,
    )


def _failures(rows: dg.AssetCheckResult, ids: dg.AssetCheckResult, self_pairs: pd.DataFrame) -> str:
    parts = [] if rows.passed else [rows.description or ""]
    if not ids.passed:
        parts.append("pairs name products missing from the catalogue")
    if not self_pairs.empty:
        parts.append(f"{len(self_pairs)} positive pairs of a product with itself")
    return "; ".join(parts)


@dg.asset_check(
    asset=assets.skipgram_pairs,
    additional_ins={"products": dg.AssetIn("products")},
    blocking=True,
    description="Ids known, labels 0/1 in the expected balance, enough pairs: else no training.",
)
def skipgram_pairs_are_valid(
    prod2vec_settings: Prod2VecSettings, skipgram_pairs: pd.DataFrame, products: pd.DataFrame
) -> dg.AssetCheckResult:
    return check_pairs(
        skipgram_pairs,
        products["product_id"].to_numpy(),
        prod2vec_settings.negatives,
        prod2vec_settings.min_pairs,
    )


ALL_CHECKS = [baskets_are_valid, skipgram_pairs_are_valid]
