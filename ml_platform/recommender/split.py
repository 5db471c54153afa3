"""Train/test splits of ratings: random (the published MovieLens baselines) or temporal."""

import numpy as np
import pandas as pd


def split_ratings(
    ratings: pd.DataFrame, *, test_share: float = 0.2, seed: int = 42, method: str = "random"
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(train, test) with `test_share` of the ratings held out.

    `random` holds out a random share of all ratings, as the published baselines do.
    `temporal` holds out each user's latest `test_share` of ratings (rounded, ties in timestamp
    broken by row order), which is how a deployed model meets the future: a model must then
    predict later tastes from earlier ones.
    """
    if not 0 < test_share < 1:
        raise ValueError(f"test_share is {test_share}, expected between 0 and 1")
    if method == "random":
        order = np.random.default_rng(seed).permutation(len(ratings))
        held_out = np.zeros(len(ratings), dtype=bool)
        held_out[order[: round(test_share * len(ratings))]] = True
    elif method == "temporal":
        ordered = ratings.reset_index(drop=True).sort_values(
            ["user_id", "timestamp"], kind="stable"
        )
        position = ordered.groupby("user_id").cumcount().to_numpy()
        size = ordered.groupby("user_id")["user_id"].transform("size").to_numpy()
        held_out = np.zeros(len(ratings), dtype=bool)
        held_out[ordered.index] = position >= size - np.round(test_share * size)
    else:
        raise ValueError(f"method is '{method}', expected 'random' or 'temporal'")
    return (
        ratings[~held_out].reset_index(drop=True),
        ratings[held_out].reset_index(drop=True),
    )
