"""The tweet jobs, as asset selections: the whole group, and the two parts sensors start.

Classification after a new promoted model is not a job: `classified_tweets` → `ai_tweets` →
`tweet_urls` follow their parents by declarative automation (see assets.py).
"""

import dagster as dg

from ml_platform.tweets.assets import CANDIDATE, GROUP, PROMOTED

tweets_job = dg.define_asset_job(
    "tweets_job",
    selection=dg.AssetSelection.groups(GROUP),
    description="Ingest, de-duplicate, split, weak-label, train a candidate, promote it if it "
    "passed, classify the stream, extract links.",
)

# The stream's part: store the new tweets; once a model is promoted, classify them and keep
# the AI tweets and their links, in the same run.
INGEST = dg.AssetSelection.assets("raw_tweets")
LIVE = dg.AssetSelection.assets("classified_tweets", "ai_tweets", "tweet_urls")
tweets_micro_batch_job = dg.define_asset_job(
    "tweets_micro_batch_job",
    selection=INGEST | LIVE,
    description="One stream micro-batch: store, classify with the promoted model, AI tweets, links.",
)
tweets_ingest_job = dg.define_asset_job(
    "tweets_ingest_job",
    selection=INGEST,
    description="Store a stream micro-batch while no model is promoted yet (nothing to classify "
    "with; the tweets are classified once one is).",
)

# Enough new golden labels: re-judge the labellers, train a candidate, promote it if it passed.
tweets_retrain_job = dg.define_asset_job(
    "tweets_retrain_job",
    selection=dg.AssetSelection.assets(
        "deduplicated_tweets",
        "tweet_splits",
        "golden_labels",
        "weak_labels",
        "labeller_evaluation",
        CANDIDATE,
        PROMOTED,
    ),
    description="Re-judge the labellers and train a candidate classifier; promoted only if it "
    "beats them.",
)
