"""What starts tweet runs: new stream data, enough new golden labels, a new model.

- `tweets_stream_sensor`: landed files not stored yet (or uncommitted Kafka messages) → a
  micro-batch run: `raw_tweets`, and once a model exists `classified_tweets` → `ai_tweets` →
  `tweet_urls`. One micro-batch run at a time: while one is queued or running the sensor waits
  (the writes are idempotent, so an overlap would be harmless, only wasteful).
- `tweets_golden_labels_sensor`: `retrain_after_labels` new rows in the golden table → re-evaluate
  the labellers and retrain. New means beyond both the cursor (the row count when it last
  requested; the table is append-only) and the rows the latest model was trained on (its
  `golden_rows` metadata): a `tweets_job` that imports labels and trains on them has consumed
  them, and retraining on the very same labels would only make a second model.
- `tweets_new_model_sensor`: a new `tweet_classifier` → classify the tweets no model has
  classified yet, unless the run that trained it also ran `classified_tweets` (a whole
  `tweets_job`): that run already classified the backlog with it. Nothing already classified is
  re-classified: `classified_tweets` takes only raw tweets without a row in the classified table
  (an anti-join on tweet id), and each row keeps the version of the model that decided it.
"""

import dagster as dg

from ml_platform.core.storage import ObjectStore
from ml_platform.core.warehouse import Warehouse
from ml_platform.tweets import stream, tables
from ml_platform.tweets.assets import golden_rows_trained_on
from ml_platform.tweets.jobs import CLASSIFY_BACKLOG, MICRO_BATCH, RETRAIN, tweets_job
from ml_platform.tweets.resources import TweetsSettings

STREAM_TAG = "ml_platform/tweets_stream"
_CLASSIFIED = dg.AssetKey("classified_tweets")
_ACTIVE = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
]


@dg.sensor(
    job=tweets_job, minimum_interval_seconds=30, default_status=dg.DefaultSensorStatus.RUNNING
)
def tweets_stream_sensor(
    context: dg.SensorEvaluationContext,
    tweets_settings: TweetsSettings,
    warehouse: Warehouse,
    object_store: ObjectStore,
):
    """New tweets arrived → store them and, once a model exists, classify them."""
    in_flight = context.instance.get_runs(
        filters=dg.RunsFilter(
            job_name=tweets_job.name, statuses=_ACTIVE, tags={STREAM_TAG: "micro-batch"}
        ),
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
    model_exists = context.instance.get_latest_materialization_event(
        dg.AssetKey("tweet_classifier")
    )
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(
                asset_selection=MICRO_BATCH if model_exists else [dg.AssetKey("raw_tweets")],
                tags={STREAM_TAG: "micro-batch", "ml_platform/waiting": what},
            )
        ]
    )


@dg.sensor(
    job=tweets_job, minimum_interval_seconds=300, default_status=dg.DefaultSensorStatus.RUNNING
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
        run_requests=[dg.RunRequest(run_key=f"golden-labels-{total}", asset_selection=RETRAIN)],
        cursor=str(total),
    )


@dg.asset_sensor(
    asset_key=dg.AssetKey("tweet_classifier"),
    job=tweets_job,
    default_status=dg.DefaultSensorStatus.RUNNING,
)
def tweets_new_model_sensor(context: dg.SensorEvaluationContext, asset_event: dg.EventLogEntry):
    """A new model → classify the tweets no model has classified yet (never re-classify)."""
    run = context.instance.get_run_by_id(asset_event.run_id)
    if run is not None and _classifies(run):
        return dg.SkipReason(
            f"run {run.run_id} trained this model and classified the stream with it"
        )
    return dg.RunRequest(run_key=f"model-{asset_event.run_id}", asset_selection=CLASSIFY_BACKLOG)


def _classifies(run: dg.DagsterRun) -> bool:
    """Whether the run's selection holds `classified_tweets`; a whole `tweets_job` (which
    Dagster records as no selection, or an empty one) does."""
    if run.asset_selection:
        return _CLASSIFIED in run.asset_selection
    return run.job_name == tweets_job.name


ALL_SENSORS = [tweets_stream_sensor, tweets_golden_labels_sensor, tweets_new_model_sensor]
