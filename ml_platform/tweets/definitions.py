"""The tweet product as one Definitions object (storage resources come from the platform)."""

import dagster as dg

from ml_platform.tweets import assets, checks
from ml_platform.tweets.jobs import (
    tweets_ingest_job,
    tweets_job,
    tweets_micro_batch_job,
    tweets_retrain_job,
)
from ml_platform.tweets.resources import TweetsSettings
from ml_platform.tweets.sensors import ALL_SENSORS


def build_definitions(settings: TweetsSettings | None = None) -> dg.Definitions:
    return dg.Definitions(
        assets=dg.load_assets_from_modules([assets]),
        asset_checks=checks.ALL_CHECKS,
        jobs=[tweets_job, tweets_micro_batch_job, tweets_ingest_job, tweets_retrain_job],
        sensors=ALL_SENSORS,
        resources={"tweets_settings": settings or TweetsSettings()},
    )


defs = build_definitions()
