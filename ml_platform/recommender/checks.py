"""Input checks for the recommender: a bad rating or an unknown movie would train silently wrong."""

import dagster as dg
import pandas as pd

from ml_platform.core.checks import expect, expectation_check
from ml_platform.recommender import assets

# Named so `benchmarks/checks.py` times the suite a real check runs.
RATING_EXPECTATIONS = [
    expect("column_values_to_be_between", column="rating", min_value=0.5, max_value=5.0),
    expect("compound_columns_to_be_unique", column_list=["user_id", "movie_id"]),
    expect("column_values_to_not_be_null", column="user_id"),
    expect("column_values_to_not_be_null", column="movie_id"),
]

ratings_are_valid = expectation_check(
    asset=assets.ratings,
    name="ratings_are_valid",
    blocking=True,
    expectations=RATING_EXPECTATIONS,
    description="Ratings in range, one per user and movie: duplicates would weigh a pair twice.",
)
movies_are_valid = expectation_check(
    asset=assets.movies,
    name="movies_are_valid",
    blocking=True,
    expectations=[
        expect("column_values_to_be_unique", column="movie_id"),
        expect("column_values_to_not_be_null", column="title"),
    ],
    description="One row per movie id, each with a title to show.",
)


@dg.asset_check(
    asset=assets.ratings, additional_ins={"movies": dg.AssetIn("movies")}, blocking=True
)
def ratings_name_known_movies(ratings: pd.DataFrame, movies: pd.DataFrame) -> dg.AssetCheckResult:
    """Every rated movie is in the catalogue: the movie tower cannot embed an unknown movie."""
    unknown = ratings.loc[~ratings["movie_id"].isin(movies["movie_id"])]
    return dg.AssetCheckResult(
        passed=unknown.empty,
        metadata={
            "unknown_movie_ratings": len(unknown),
            "sample": dg.MetadataValue.md(unknown.head(5).to_csv(index=False) or "none"),
        },
    )


ALL_CHECKS = [ratings_are_valid, movies_are_valid, ratings_name_known_movies]
