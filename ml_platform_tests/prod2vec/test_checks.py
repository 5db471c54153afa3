"""The pairs check: what passes, and each kind of bad pairs it must stop before training."""

import numpy as np
import pandas as pd
import pytest

from ml_platform.prod2vec.checks import check_pairs

CATALOGUE = np.arange(1, 101)


def good_pairs(n_positive: int = 2_000, negatives: int = 4) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    targets = rng.integers(1, 101, n_positive)
    contexts = (targets % 100) + 1  # never the target itself
    return pd.DataFrame(
        {
            "target": np.concatenate([targets, np.repeat(targets, negatives)]),
            "context": np.concatenate([contexts, rng.integers(1, 101, n_positive * negatives)]),
            "label": np.concatenate([np.ones(n_positive), np.zeros(n_positive * negatives)]),
        }
    ).astype({"label": "int8"})


def test_pairs_from_the_generator_pass():
    result = check_pairs(good_pairs(), CATALOGUE, negatives=4, min_pairs=5_000)

    assert result.passed, result.description
    assert result.metadata["unknown_ids"].value == 0


def test_pairs_naming_products_outside_the_catalogue_fail_with_the_count():
    pairs = good_pairs()
    pairs.loc[:2, "context"] = 555

    result = check_pairs(pairs, CATALOGUE, negatives=4, min_pairs=5_000)

    assert not result.passed
    assert result.metadata["unknown_ids"].value == 1
    assert "missing from the catalogue" in result.description


def test_labels_out_of_balance_fail():
    pairs = good_pairs()
    pairs.loc[pairs.index[-4000:], "label"] = 1  # negatives that became positives

    result = check_pairs(pairs, CATALOGUE, negatives=4, min_pairs=5_000)

    assert not result.passed
    assert "column_mean_to_be_between(label)" in result.description


@pytest.mark.parametrize(
    ("change", "fails"),
    [
        (lambda p: p.head(3_000), "table_row_count_to_be_between"),
        (lambda p: p.assign(label=p["label"].replace(0, 2)), "column_values_to_be_in_set(label)"),
    ],
)
def test_too_few_pairs_or_unknown_labels_fail(change, fails):
    result = check_pairs(change(good_pairs()), CATALOGUE, negatives=4, min_pairs=5_000)

    assert not result.passed and fails in result.description


def test_a_product_paired_with_itself_as_a_positive_fails():
    pairs = good_pairs()
    pairs.loc[0, "context"] = pairs.loc[0, "target"]

    result = check_pairs(pairs, CATALOGUE, negatives=4, min_pairs=5_000)

    assert not result.passed and result.metadata["positive_self_pairs"].value == 1
