"""One job over the group; sensors choose how much of it a run needs."""

import dagster as dg

from ml_platform.tweets.assets import GROUP

tweets_job = dg.define_asset_job(
    "tweets_job",
    selection=dg.AssetSelection.groups(GROUP),
    description="Ingest, de-duplicate, split, weak-label, train, classify the stream, extract links.",
)

# A stream micro-batch once a model exists: store, classify, keep AI tweets and their links.
MICRO_BATCH = [
    dg.AssetKey(name) for name in ("raw_tweets", "classified_tweets", "ai_tweets", "tweet_urls")
]
# Enough new golden labels: re-judge the labellers and retrain.
RETRAIN = [
    dg.AssetKey(name)
    for name in (
        "deduplicated_tweets",
        "tweet_splits",
        "golden_labels",
        "weak_labels",
        "labeller_evaluation",
        "tweet_classifier",
    )
]
# A new model: classify what no model has classified yet.
CLASSIFY_BACKLOG = [dg.AssetKey(name) for name in ("classified_tweets", "ai_tweets", "tweet_urls")]
