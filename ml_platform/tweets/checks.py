"""Checks on the tweet tables: a tweet in two splits would leak test into training, and a golden
label that is not 0/1 or names a tweet twice would judge every model wrongly."""

import dagster as dg

from ml_platform.core import artifacts
from ml_platform.core.checks import expect, expectation_check
from ml_platform.core.warehouse import AnyOf, Blank, IsNull, Select, Warehouse
from ml_platform.tweets import assets
from ml_platform.tweets.resources import TweetsSettings

golden_labels_are_valid = expectation_check(
    asset=assets.golden_labels,
    name="golden_labels_are_valid",
    blocking=True,
    expectations=[
        expect("column_values_to_be_unique", column="tweet_id"),
        expect("column_values_to_be_in_set", column="label", value_set=[0, 1]),
        expect("column_values_to_not_be_null", column="labelled_at"),
    ],
    description="One resolved 0/1 label per tweet: the ground truth every model is judged by.",
)


@dg.asset_check(asset=assets.tweet_splits, blocking=True)
def tweet_splits_are_disjoint_and_sized(
    tweets_settings: TweetsSettings, warehouse: Warehouse
) -> dg.AssetCheckResult:
    """No tweet or text in two splits, and test/dev/snorkel_train no larger than configured."""
    tweets = assets.read_splits(warehouse, tweets_settings)
    if tweets.empty:
        return dg.AssetCheckResult(passed=True, metadata={"rows": 0})
    repeated = tweets[tweets.duplicated("text_key", keep=False)].sort_values("text_key")
    sizes = tweets_settings.split_sizes()
    counts = tweets["split"].value_counts()
    oversized = {
        split: int(counts.get(split, 0))
        for split in ("test", "dev", "snorkel_train")
        if counts.get(split, 0) > (sizes.capacity(split) or 0)
    }
    sample = repeated[["tweet_id", "split", "text"]].head(10)
    return dg.AssetCheckResult(
        passed=repeated.empty and not oversized,
        metadata={
            "rows": len(tweets),
            "texts_in_two_splits": int(repeated["text_key"].nunique()),
            "oversized_splits": dg.MetadataValue.json(oversized),
            "sample": dg.MetadataValue.md(
                artifacts.markdown_table(sample) if len(sample) else "none"
            ),
        },
    )


@dg.asset_check(asset=assets.raw_tweets)
def raw_tweets_have_text(
    tweets_settings: TweetsSettings, warehouse: Warehouse
) -> dg.AssetCheckResult:
    """Stored tweets have non-empty text and a creation time: the classifier reads the text."""
    table = tweets_settings.tables().raw
    if not warehouse.table_exists(table):
        return dg.AssetCheckResult(passed=True, metadata={"rows": 0})
    unusable = AnyOf((Blank("text"), IsNull("created_at")))
    bad = warehouse.frame(Select(table, ("tweet_id", "source", "text"), (unusable,), limit=10))
    return dg.AssetCheckResult(
        passed=bad.empty,
        metadata={
            "sample": dg.MetadataValue.md(
                artifacts.markdown_table(bad.astype(str)) if len(bad) else "none"
            )
        },
    )


ALL_CHECKS = [golden_labels_are_valid, tweet_splits_are_disjoint_and_sized, raw_tweets_have_text]
