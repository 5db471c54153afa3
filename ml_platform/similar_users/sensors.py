"""What refreshes the embeddings: rows the learning app added to (or removed from) the four
landing tables since the last run."""

import hashlib

import dagster as dg

from ml_platform.core.warehouse import Warehouse
from ml_platform.similar_users import landing
from ml_platform.similar_users.resources import SimilarUsersSettings

similar_users_job = dg.define_asset_job(
    "similar_users_job",
    selection=dg.AssetSelection.groups("similar_users"),
    description="Read the four tables, train the FastText models, embed, index.",
)


@dg.sensor(
    job=similar_users_job,
    minimum_interval_seconds=300,
    default_status=dg.DefaultSensorStatus.RUNNING,
)
def similar_users_new_rows_sensor(
    context: dg.SensorEvaluationContext,
    warehouse: Warehouse,
    similar_users_settings: SimilarUsersSettings,
):
    """Retrains and re-indexes when the landing tables' row counts or newest dates changed.

    The cursor holds the counts and dates the last requested run saw, so a tick with nothing
    new requests nothing, and the run key (their digest) never repeats a run for the same rows.
    """
    if not similar_users_settings.from_landing_tables:
        return dg.SkipReason(
            "similar_users_settings reads "
            f"{similar_users_settings.source()}, not the landing tables: nothing to watch"
        )
    marks = landing.watermarks(warehouse)
    if marks is None:
        return dg.SkipReason(
            f"waiting for the landing tables {sorted(landing.LANDING_TABLES.values())}"
        )
    cursor = landing.cursor_text(marks)
    if cursor == context.cursor:
        return dg.SkipReason("no rows added or removed since the last refresh")
    return dg.SensorResult(
        run_requests=[dg.RunRequest(run_key=hashlib.sha1(cursor.encode()).hexdigest()[:16])],
        cursor=cursor,
    )
