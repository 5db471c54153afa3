"""What starts entity-matching runs: new landed records (a new import batch) and enough new feedback."""

from datetime import UTC, datetime

import dagster as dg

from ml_platform.core.warehouse import Warehouse
from ml_platform.entity_matching import batches
from ml_platform.entity_matching.assets import import_batches
from ml_platform.entity_matching.jobs import BATCH_ASSETS, entity_matching_job
from ml_platform.entity_matching.resources import MatchingPolicy


@dg.sensor(
    job=entity_matching_job,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
)
def em_new_records_sensor(context: dg.SensorEvaluationContext, warehouse: Warehouse):
    """Closes an import batch when sources or targets landed since the last one, and runs it.

    The last recorded batch (in the warehouse, where the batches live) is where the next one
    starts, so rows go into exactly one batch and never cause a second run request, even for a
    new Dagster instance; the sensor cursor mirrors it for the UI.
    """
    previous = batches.latest_batch(warehouse)
    batch = batches.next_batch(warehouse, previous, datetime.now(UTC))
    if batch is None:
        return dg.SkipReason("no source or target rows landed since the last batch")
    batches.record_batch(warehouse, batch)
    # the first batch has no model to score with: that run trains one (on everything)
    model_exists = context.instance.get_latest_materialization_event(dg.AssetKey("em_model"))
    selection = BATCH_ASSETS if model_exists else None
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(
                run_key=batch.batch_key, partition_key=batch.batch_key, asset_selection=selection
            )
        ],
        dynamic_partitions_requests=[import_batches.build_add_request([batch.batch_key])],
        cursor=batch.batch_key,
    )


@dg.sensor(
    job=entity_matching_job,
    minimum_interval_seconds=300,
    default_status=dg.DefaultSensorStatus.RUNNING,
)
def em_feedback_sensor(
    context: dg.SensorEvaluationContext, warehouse: Warehouse, policy: MatchingPolicy
):
    """Retrains once `retrain_after_labels` new feedback rows have landed (cursor: newest modified_at),
    then re-scores and re-exports the latest batch with the new model."""
    after = max(context.cursor or batches.EPOCH, batches.stored_feedback_watermark(warehouse))
    count, newest = batches.count_new_feedback(warehouse, after)
    if count < policy.retrain_after_labels:
        return dg.SkipReason(
            f"{count} new feedback rows; retraining at {policy.retrain_after_labels}"
        )
    latest = batches.latest_batch(warehouse)
    if latest is None:
        return dg.SkipReason("feedback landed but no import batch exists yet")
    return dg.SensorResult(
        run_requests=[dg.RunRequest(run_key=f"feedback-{newest}", partition_key=latest.batch_key)],
        cursor=newest,
    )
