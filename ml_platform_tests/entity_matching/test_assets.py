"""The entity-matching graph end to end on the real servers: PostgreSQL warehouse, S3 object store."""

from datetime import UTC, datetime, timedelta

import boto3
import dagster as dg
import pandas as pd
import pytest

from ml_platform.core import runs
from ml_platform.core.catalog import DataCatalog
from ml_platform.core.storage import ObjectStore, ObjectStoreIOManager
from ml_platform.core.warehouse import Warehouse, WarehouseIOManager
from ml_platform.demo_data.persons import generate_person_records
from ml_platform.entity_matching import batches
from ml_platform.entity_matching import definitions as entity_matching
from ml_platform.entity_matching.jobs import BATCH_ASSETS
from ml_platform.entity_matching.resources import MatchingPolicy
from ml_platform.entity_matching.schedules import em_nightly_schedule
from ml_platform.entity_matching.sensors import em_feedback_sensor, em_new_records_sensor

WAREHOUSE_TABLES = ["em_sources", "em_targets", "em_target_blocks", "em_matches", "em_review_queue"]
START = datetime(2026, 11, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def dataset():
    return generate_person_records(450, 450, seed=3, feedback_size=60)


def glue_table(endpoint: str, bucket: str) -> str:
    """A Glue database with the em_matches table as infra/modules/glue defines it; its name."""
    database = f"ml_platform_{bucket.replace('-', '_')}"
    glue = boto3.client("glue", endpoint_url=endpoint)
    glue.create_database(DatabaseInput={"Name": database})
    glue.create_table(
        DatabaseName=database,
        TableInput={
            "Name": "em_matches",
            "PartitionKeys": [{"Name": "batch", "Type": "string"}],
            "StorageDescriptor": {
                "Columns": [
                    {"Name": "source_id", "Type": "string"},
                    {"Name": "target_id", "Type": "string"},
                    {"Name": "score", "Type": "double"},
                    {"Name": "explanation", "Type": "string"},
                ],
                "Location": f"s3://{bucket}/platform/exports/em_matches/",
                "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
                "OutputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
                "SerdeInfo": {
                    "SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
                },
            },
        },
    )
    return database


def on_servers(warehouse: Warehouse, bucket: str, endpoint: str, **policy) -> dg.Definitions:
    """The product's Definitions on PostgreSQL + S3 + the Glue catalog (moto serves both APIs)."""
    store = ObjectStore(base_uri=f"s3://{bucket}/platform", endpoint_url=endpoint)
    resources = {
        "io_manager": ObjectStoreIOManager(store=store),
        "object_store": store,
        "warehouse": warehouse,
        "warehouse_io_manager": WarehouseIOManager(warehouse=warehouse),
        "catalog": DataCatalog(
            glue_database=f"ml_platform_{bucket.replace('-', '_')}", endpoint_url=endpoint
        ),
    }
    product = entity_matching.build_definitions(MatchingPolicy(retrain_after_labels=20, **policy))
    return dg.Definitions.merge(product, dg.Definitions(resources=resources))


@pytest.fixture
def platform(postgres_warehouse: Warehouse, s3_bucket: str, s3_endpoint: str):
    """The product on the servers, with a fresh Dagster instance."""
    glue_table(s3_endpoint, s3_bucket)
    defs = on_servers(postgres_warehouse, s3_bucket, s3_endpoint)
    with dg.instance_for_test() as instance:
        yield defs, instance, postgres_warehouse, s3_bucket


def land_arrival(warehouse: Warehouse, dataset, part: int, parts: int = 3) -> None:
    """One third of the targets and sources, stamped later than everything before."""

    def share(frame: pd.DataFrame) -> pd.DataFrame:
        size = -(-len(frame) // parts)
        return frame.iloc[(part - 1) * size : part * size]

    stamp = START + timedelta(hours=part)
    batches.land(
        warehouse, batches.LANDING_TARGETS, share(dataset.targets).assign(modified_at=stamp)
    )
    batches.land(
        warehouse, batches.LANDING_SOURCES, share(dataset.sources).assign(modified_at=stamp)
    )


def row_counts(warehouse: Warehouse) -> dict[str, int]:
    return {t: len(warehouse.read_table(t)) for t in WAREHOUSE_TABLES if warehouse.table_exists(t)}


def s3_objects(bucket: str, endpoint: str) -> dict[str, str]:
    listing = boto3.client("s3", endpoint_url=endpoint).list_objects_v2(Bucket=bucket)
    return {o["Key"]: o["ETag"] for o in listing.get("Contents", [])}


def three_batches(defs, instance, warehouse, dataset) -> list[runs.Tick]:
    batches.land(warehouse, batches.LANDING_TRUTH, dataset.truth)
    ticks = []
    for part in (1, 2, 3):
        land_arrival(warehouse, dataset, part)
        ticks.append(runs.tick(em_new_records_sensor, defs, instance))
    return ticks


def test_three_import_batches_become_three_partitions_and_find_the_matches(platform, dataset):
    defs, instance, warehouse, bucket = platform
    ticks = three_batches(defs, instance, warehouse, dataset)

    keys = instance.get_dynamic_partitions("em_import_batches")
    assert len(keys) == 3 == len({t.requests[0].run_key for t in ticks})
    cursors = [t.cursor for t in ticks]
    assert cursors == sorted(cursors) and len(set(cursors)) == 3  # the cursor advances each batch
    assert all(run.success for t in ticks for run in t.runs)
    # the first batch trains the first model; later ones only score with it
    assert {"em_model", "em_promoted_model"} <= set(runs.materialized(ticks[0].runs[0]))
    assert "em_model" not in runs.materialized(ticks[1].runs[0])
    matches = warehouse.read_table("em_matches")
    found = dataset.truth.merge(matches, on=["source_id", "target_id"])
    assert len(found) / len(matches) >= 0.98  # precision over all batches
    # recall too: a source that landed before its target is retried when the target arrives
    assert len(found) / len(dataset.truth) >= 0.97
    assert not matches["source_id"].duplicated().any()
    assert set(matches["partition_key"]) == set(keys)
    # the pairs sent to people say which columns pulled their score which way
    queue = warehouse.read_table("em_review_queue")
    assert len(queue) and queue["explanation"].str.contains(r"[+-]\d", regex=True).all()
    objects = s3_objects(bucket, defs.resources["object_store"].endpoint_url)
    assert {f"platform/exports/em_matches/batch={k}/part-0.parquet" for k in keys} <= set(objects)
    assert {f"platform/exports/csv/em_matches/{k}.csv" for k in keys} <= set(objects)


def test_each_export_is_registered_as_a_glue_partition_once(platform, dataset, s3_endpoint):
    defs, instance, warehouse, bucket = platform
    ticks = three_batches(defs, instance, warehouse, dataset)
    second = ticks[1].requests[0]
    defs.resolve_job_def("entity_matching_job").execute_in_process(
        instance=instance,
        partition_key=second.partition_key,
        asset_selection=second.asset_selection,
    )

    catalog = defs.resources["catalog"]
    partitions = boto3.client("glue", endpoint_url=s3_endpoint).get_partitions(
        DatabaseName=catalog.glue_database, TableName="em_matches"
    )["Partitions"]
    keys = instance.get_dynamic_partitions("em_import_batches")
    assert sorted(p["Values"][0] for p in partitions) == sorted(keys)  # the re-run added none
    located = {p["Values"][0]: p["StorageDescriptor"]["Location"] for p in partitions}
    assert located[keys[0]] == f"s3://{bucket}/platform/exports/em_matches/batch={keys[0]}/"


def test_rematerialising_a_batch_replaces_its_rows_instead_of_adding_them(platform, dataset):
    defs, instance, warehouse, _ = platform
    ticks = three_batches(defs, instance, warehouse, dataset)
    before = row_counts(warehouse)

    second = ticks[1].requests[0]
    rerun = defs.resolve_job_def("entity_matching_job").execute_in_process(
        instance=instance,
        partition_key=second.partition_key,
        asset_selection=second.asset_selection,
    )

    assert rerun.success
    assert row_counts(warehouse) == before
    assert min(before.values()) > 0


def test_a_failed_rerun_leaves_the_stored_rows_and_objects_unchanged(
    platform, dataset, s3_endpoint
):
    defs, instance, warehouse, bucket = platform
    ticks = three_batches(defs, instance, warehouse, dataset)
    before_rows, before_objects = row_counts(warehouse), s3_objects(bucket, s3_endpoint)
    second = ticks[1].requests[0]
    # someone breaks a landed row of the second batch: the re-run must refuse it, not half-apply it
    with warehouse.engine().begin() as conn:
        conn.exec_driver_sql(
            f"UPDATE {batches.LANDING_SOURCES} SET date_of_birth = 'yesterday' "
            "WHERE id = (SELECT id FROM em_sources WHERE partition_key = %(key)s LIMIT 1)",
            {"key": second.partition_key},
        )

    rerun = defs.resolve_job_def("entity_matching_job").execute_in_process(
        instance=instance,
        partition_key=second.partition_key,
        asset_selection=second.asset_selection,
        raise_on_error=False,
    )

    assert not rerun.success
    failure = next(e for e in rerun.all_events if e.is_step_failure)
    assert "date_of_birth" in str(failure.step_failure_data.error)
    assert row_counts(warehouse) == before_rows
    assert s3_objects(bucket, s3_endpoint) == before_objects


def test_the_sensor_asks_for_nothing_when_no_rows_landed(platform, dataset):
    defs, instance, warehouse, _ = platform
    first = three_batches(defs, instance, warehouse, dataset)[-1]

    again = runs.tick(em_new_records_sensor, defs, instance, cursor=first.cursor)

    assert again.skipped and not again.requests
    assert len(instance.get_dynamic_partitions("em_import_batches")) == 3


def test_each_landed_row_is_imported_in_exactly_one_batch(platform, dataset):
    defs, instance, warehouse, _ = platform
    three_batches(defs, instance, warehouse, dataset)
    sources = warehouse.read_table("em_sources")
    assert not sources["id"].duplicated().any()
    assert len(sources) == len(dataset.sources)


def test_enough_new_feedback_retrains_and_rescores_the_latest_batch(platform, dataset):
    defs, instance, warehouse, _ = platform
    three_batches(defs, instance, warehouse, dataset)
    feedback = dataset.feedback.assign(modified_at=START + timedelta(days=1))
    batches.land(warehouse, batches.LANDING_FEEDBACK, feedback.head(10))
    assert runs.tick(em_feedback_sensor, defs, instance).skipped  # 10 < retrain_after_labels

    batches.land(warehouse, batches.LANDING_FEEDBACK, feedback.iloc[10:])
    retrain = runs.tick(em_feedback_sensor, defs, instance, raise_on_error=False)
    failed = [
        (e.check_name, e.metadata)
        for e in retrain.runs[0].get_asset_check_evaluations()
        if not e.passed
    ]
    assert not failed, failed

    assert retrain.requests[0].partition_key == batches.latest_batch(warehouse).batch_key
    done = runs.materialized(retrain.runs[0])
    assert {"em_feedback", "em_model", "em_matches"} <= set(done)
    assert done["em_model"]["metric/training_labels"] > 0
    assert len(warehouse.read_table("em_feedback")) == len(dataset.feedback)
    # the same labels never trigger a second retrain
    assert runs.tick(em_feedback_sensor, defs, instance, cursor=retrain.cursor).skipped


def test_a_model_below_the_quality_floors_is_never_promoted(platform, dataset, s3_endpoint):
    defs, instance, warehouse, bucket = platform
    three_batches(defs, instance, warehouse, dataset)
    promoted_before = instance.get_latest_materialization_event(dg.AssetKey("em_promoted_model"))
    automation: dict = {}  # the evaluation's cursor, kept tick to tick
    automation_tick(defs, instance, automation)
    batches.land(
        warehouse,
        batches.LANDING_FEEDBACK,
        dataset.feedback.assign(modified_at=START + timedelta(days=1)),
    )
    strict = on_servers(warehouse, bucket, s3_endpoint, min_precision=1.01, min_held_out_labels=5)

    retrain = runs.tick(em_feedback_sensor, strict, instance, raise_on_error=False)

    run = retrain.runs[0]
    check = next(
        e
        for e in run.get_asset_check_evaluations()
        if e.check_name == "em_model_meets_quality_floors"
    )
    assert not check.passed
    assert "em_model" in runs.materialized(run)
    assert not {"em_promoted_model", "em_matches"} & set(runs.materialized(run))
    assert "em_promoted_model" not in automation_tick(strict, instance, automation)
    # promoting it on its own (from the UI, or by automation) is refused too
    promote = strict.resolve_job_def("entity_matching_job").execute_in_process(
        instance=instance,
        partition_key=retrain.requests[0].partition_key,
        asset_selection=[dg.AssetKey("em_promoted_model")],
        raise_on_error=False,
    )
    failure = next(e for e in promote.all_events if e.is_step_failure)
    assert "failed em_model_meets_quality_floors" in str(failure.step_failure_data.error)
    promoted = instance.get_latest_materialization_event(dg.AssetKey("em_promoted_model"))
    assert promoted.run_id == promoted_before.run_id  # the model promoted before stays
    # and batches go on being scored and exported with it
    later = strict.resolve_job_def("entity_matching_job").execute_in_process(
        instance=instance,
        partition_key=retrain.requests[0].partition_key,
        asset_selection=BATCH_ASSETS,
    )
    assert "em_matches" in runs.materialized(later)
    # a candidate that meets the floors, trained on its own, is promoted by automation
    retrained = defs.resolve_job_def("entity_matching_job").execute_in_process(
        instance=instance,
        partition_key=retrain.requests[0].partition_key,
        asset_selection=[dg.AssetKey("em_model")],
    )
    assert all(check.passed for check in retrained.get_asset_check_evaluations())
    assert "em_promoted_model" in automation_tick(defs, instance, automation)


def automation_tick(defs: dg.Definitions, instance, state: dict) -> set[str]:
    """One evaluation of the automation conditions, as em_automation_sensor's tick does: the
    assets it asks for (`state` keeps the cursor between ticks)."""
    evaluated = dg.evaluate_automation_conditions(
        defs=defs, instance=instance, cursor=state.get("cursor")
    )
    state["cursor"] = evaluated.cursor
    keys = defs.resolve_asset_graph().get_all_asset_keys()
    return {key.to_user_string() for key in keys if evaluated.get_num_requested(key)}


def test_feedback_naming_an_unknown_record_fails_with_its_row_and_keeps_stored_feedback(
    platform, dataset
):
    defs, instance, warehouse, _ = platform
    three_batches(defs, instance, warehouse, dataset)
    bad = pd.DataFrame(
        {
            "source_id": ["nobody"],
            "target_id": [dataset.targets["id"].iloc[0]],
            "label": ["1"],
            "modified_at": [START + timedelta(days=2)],
        }
    )
    batches.land(warehouse, batches.LANDING_FEEDBACK, bad)
    stored_before = len(warehouse.read_table("em_feedback"))

    run = defs.resolve_job_def("entity_matching_job").execute_in_process(
        instance=instance,
        partition_key=batches.latest_batch(warehouse).batch_key,
        asset_selection=[dg.AssetKey("em_feedback")],
        raise_on_error=False,
    )

    error = str(next(e for e in run.all_events if e.is_step_failure).step_failure_data.error)
    assert "em_landing_feedback" in error and "source_id" in error and "nobody" in error
    assert len(warehouse.read_table("em_feedback")) == stored_before


def test_the_nightly_schedule_reruns_the_latest_batch_once_a_night(platform, dataset):
    defs, instance, warehouse, _ = platform
    night = datetime(2026, 11, 24, 2, tzinfo=UTC)
    with dg.build_schedule_context(
        instance=instance, scheduled_execution_time=night, resources=defs.resources
    ) as context:
        assert isinstance(em_nightly_schedule(context), dg.SkipReason)

    three_batches(defs, instance, warehouse, dataset)
    with dg.build_schedule_context(
        instance=instance, scheduled_execution_time=night, resources=defs.resources
    ) as context:
        request = em_nightly_schedule(context)

    assert request.partition_key == batches.latest_batch(warehouse).batch_key
    assert request.run_key == "nightly-2026-11-24"
