"""What starts tweet runs from outside the asset graph: new stream data, new golden labels.

- `tweets_stream_sensor`: landed files not stored yet (or uncommitted Kafka messages) → a
  `tweets_micro_batch_job` run: `raw_tweets`, `classified_tweets` → `ai_tweets` → `tweet_urls`
  (only `tweets_ingest_job`, `raw_tweets`, until a model is promoted). One micro-batch run at a time: while one is queued or running the sensor waits
  (the writes are idempotent, so an overlap would be harmless, only wasteful).
- `tweets_golden_labels_sensor`: `retrain_after_labels` new rows in the golden table → re-evaluate
  the labellers and retrain. New means beyond both the cursor (the row count when it last
  requested; the table is append-only) and the rows the latest model was trained on (its
  `golden_rows` metadata): a `tweets_job` that imports labels and trains on them has consumed
  them, and retraining on the very same labels would only make a second model.

A new promoted model needs no sensor: `classified_tweets` → `ai_tweets` → `tweet_urls` follow
their parents by declarative automation (`AutomationCondition.eager()`, evaluated by the
product's automation condition sensor), and the promoted `tweet_classifier` follows a candidate
only when its blocking check passed. Nothing already classified is re-classified:
`classified_tweets` takes only raw tweets without a row in the classified table (an anti-join on
tweet id), and each row keeps the version of the model that decided it.
"""

import dagster as dg

from ml_platform.core.automation import automation_sensor
from ml_platform.core.storage import ObjectStore
from ml_platform.core.warehouse import Warehouse
from ml_platform.tweets import stream, tables
from ml_platform.tweets.assets import GROUP, PROMOTED, golden_rows_trained_on
from ml_platform.tweets.jobs import tweets_ingest_job, tweets_micro_batch_job, tweets_retrain_job
from ml_platform.tweets.resources import TweetsSettings

STREAM_TAG = "ml_platform/tweets_stream"
_ACTIVE = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
]


@dg.sensor(
    jobs=[tweets_micro_batch_job, tweets_ingest_job],
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
)
def tweets_stream_sensor(
    context: dg.SensorEvaluationContext,
    tweets_settings: TweetsSettings,
    warehouse: Warehouse,
    object_store: ObjectStore,
):
    """New tweets arrived → store them and, once a model is promoted, classify them."""
    in_flight = context.instance.get_runs(
        filters=dg.RunsFilter(statuses=_ACTIVE, tags={STREAM_TAG: "micro-batch"}),
        limit=1,
    )
    if in_flight:
        return dg.SkipReason(f"micro-batch run {in_flight[0].run_id} is still in flight")
    if tweets_settings.kafka_bootstrap_servers:
        waiting = stream.kafka_backlog(
            tweets_settings.kafka_bootstrap_servers,
            tweets_settings.kafka_topic,
            tweets_settings.kafka_group_id,
        )
        what = f"{waiting} uncommitted Kafka messages"
    else:
        landing = stream.LandingSource(
            tweets_settings.landing(object_store), warehouse, tweets_settings.tables()
        )
        waiting = len(landing.pending())
        what = f"{waiting} landed files not stored yet"
    if not waiting:
        return dg.SkipReason("nothing new in the stream")
    promoted = context.instance.get_latest_materialization_event(dg.AssetKey(PROMOTED))
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(
                # the whole micro-batch once a model is promoted; before, only store the tweets
                job_name=(tweets_micro_batch_job if promoted else tweets_ingest_job).name,
                tags={STREAM_TAG: "micro-batch", "ml_platform/waiting": what},
            )
        ]
    )


@dg.sensor(
    job=tweets_retrain_job,
    minimum_interval_seconds=300,
    default_status=dg.DefaultSensorStatus.RUNNING,
)
def tweets_golden_labels_sensor(
    context: dg.SensorEvaluationContext, tweets_settings: TweetsSettings, warehouse: Warehouse
):
    """Enough new golden labels → re-judge the labellers and retrain the classifier."""
    total = tables.count_rows(warehouse, tweets_settings.tables().golden)
    seen = max(int(context.cursor or 0), golden_rows_trained_on(context.instance))
    new = total - seen
    if new < tweets_settings.retrain_after_labels:
        return dg.SkipReason(
            f"{new} new golden labels; retraining at {tweets_settings.retrain_after_labels}"
        )
    return dg.SensorResult(
        run_requests=[dg.RunRequest(run_key=f"golden-labels-{total}")],
        cursor=str(total),
    )


# Follow-the-parents assets of this product (classification, promotion) are evaluated here.
tweets_automation_sensor = automation_sensor("tweets_automation_sensor", GROUP)

ALL_SENSORS = [tweets_stream_sensor, tweets_golden_labels_sensor, tweets_automation_sensor]
