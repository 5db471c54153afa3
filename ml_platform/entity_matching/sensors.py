"""What starts entity-matching runs: new landed records (a new import batch), batches whose runs
did not succeed, enough new feedback, and (declarative automation) a candidate model that passed
its quality floors, which is promoted."""

from dataclasses import dataclass
from datetime import UTC, datetime

import dagster as dg

from ml_platform.core.automation import automation_sensor
from ml_platform.core.warehouse import Warehouse
from ml_platform.entity_matching import batches
from ml_platform.entity_matching.assets import GROUP, PROMOTED, import_batches
from ml_platform.entity_matching.jobs import BATCH_ASSETS, entity_matching_job
from ml_platform.entity_matching.resources import MatchingPolicy

# A batch is done when the last assets of its graph are stored for it.
FINAL_ASSETS = (dg.AssetKey("em_matches"), dg.AssetKey("em_review_queue"))
FINISHED = {dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED}


@dataclass(frozen=True)
class Unfinished:
    """Recorded batches without stored matches: to run (key → earlier attempts) or given up on."""

    to_run: dict[str, int]
    given_up: list[str]


def unfinished_batches(
    instance: dg.DagsterInstance, warehouse: Warehouse, max_attempts: int
) -> Unfinished:
    """Batches whose runs did not succeed (failed, cancelled, killed, or never started) and none
    is queued or running. Only batches this instance knows, plus the latest recorded one (a tick
    that crashed after recording it never asked for its run); a new instance does not redo history.

    A run killed with its process stays STARTED until something notices: in production the
    daemon's run monitoring marks it failed (deploy/dagster.yaml), locally `em run-batch` does.
    """
    keys = batches.batch_keys(warehouse)
    known = set(instance.get_dynamic_partitions(import_batches.name))
    candidates = [key for key in keys if key in known] + (
        [keys[-1]] if keys and keys[-1] not in known else []
    )
    done = set.intersection(*(instance.get_materialized_partitions(a) for a in FINAL_ASSETS))
    to_run, given_up = {}, []
    for key in candidates:
        if key in done:
            continue
        tried = instance.get_runs(
            filters=dg.RunsFilter(
                job_name=entity_matching_job.name, tags={"dagster/partition": key}
            )
        )
        if any(run.status not in FINISHED for run in tried):
            continue
        if len(tried) >= max_attempts:
            given_up.append(key)
        else:
            to_run[key] = len(tried)
    return Unfinished(to_run, given_up)


@dg.sensor(
    job=entity_matching_job,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
)
def em_new_records_sensor(
    context: dg.SensorEvaluationContext, warehouse: Warehouse, policy: MatchingPolicy
):
    """Closes an import batch when rows landed that no batch has imported, and runs every batch
    whose runs did not succeed (up to the policy's `max_batch_attempts` runs each).

    The batches recorded in the warehouse are the source of truth, so rows go into exactly one
    batch even for a new Dagster instance; the sensor cursor mirrors the latest for the UI.
    """
    closed = batches.close_batch(warehouse, datetime.now(UTC))
    unfinished = unfinished_batches(context.instance, warehouse, policy.max_batch_attempts)
    for key in unfinished.given_up:
        context.log.warning(
            f"import batch {key} failed {policy.max_batch_attempts} runs; not retried again: "
            "fix the cause, then materialize the partition by hand"
        )
    if not unfinished.to_run:
        given_up = f" ({len(unfinished.given_up)} batch(es) given up on)" * bool(
            unfinished.given_up
        )
        return dg.SkipReason(
            f"no rows landed since the last batch and no batch waits for a run{given_up}"
        )
    # until a model is promoted there is none to score with: the run trains one (on everything)
    promoted = context.instance.get_latest_materialization_event(dg.AssetKey(PROMOTED))
    selection = BATCH_ASSETS if promoted else None
    known = set(context.instance.get_dynamic_partitions(import_batches.name))
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(
                run_key=key if attempts == 0 else f"{key}-attempt-{attempts + 1}",
                partition_key=key,
                asset_selection=selection,
            )
            for key, attempts in unfinished.to_run.items()
        ],
        dynamic_partitions_requests=[
            import_batches.build_add_request(new_keys)
            for new_keys in [[k for k in unfinished.to_run if k not in known]]
            if new_keys
        ],
        cursor=closed.batch_key if closed else batches.latest_batch_key(warehouse),
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


# A candidate materialized on its own (from the UI, after a policy change) is promoted here once
# its quality check passed; runs that train it promote it themselves.
em_automation_sensor = automation_sensor("em_automation_sensor", GROUP)
