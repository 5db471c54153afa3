"""The nightly full run the original cron workflow did: import → features → train → score → export."""

import dagster as dg

from ml_platform.core.warehouse import Warehouse
from ml_platform.entity_matching import batches
from ml_platform.entity_matching.jobs import entity_matching_job


@dg.schedule(
    job=entity_matching_job,
    cron_schedule="0 2 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
def em_nightly_schedule(context: dg.ScheduleEvaluationContext, warehouse: Warehouse):
    """Retrains on all feedback and re-scores and re-exports the latest batch, once a night.

    New records are imported by the sensor as they land; the night's run makes sure the model
    and the latest export reflect every label people gave during the day.
    """
    latest = batches.latest_batch(warehouse)
    if latest is None:
        return dg.SkipReason("no import batch yet")
    night = context.scheduled_execution_time.strftime("%Y-%m-%d")
    return dg.RunRequest(run_key=f"nightly-{night}", partition_key=latest.batch_key)
