"""Entity matching's published contract (`entity_matching.contract`) is what its own assets
write: after one import batch on generated people (SQLite), the review queue, the imported
records and the feedback landing table carry the contract's names, columns and time format."""

from datetime import UTC, datetime

import dagster as dg
import pandas as pd
import pytest

from ml_platform.core import runs
from ml_platform.core.warehouse import Warehouse
from ml_platform.demo_data.persons import generate_person_records
from ml_platform.entity_matching import batches, contract
from ml_platform.entity_matching.schema import load_schema
from ml_platform.entity_matching.sensors import em_new_records_sensor
from ml_platform_tests.entity_matching.test_batches import local_definitions


@pytest.fixture(scope="module")
def people():
    return generate_person_records(150, 150, seed=3, feedback_size=20)


def test_one_batch_writes_the_tables_labelling_reads_as_the_contract_says(
    sqlite_warehouse: Warehouse, tmp_path, people
):
    defs = local_definitions(sqlite_warehouse, tmp_path / "store")
    stamp = datetime(2026, 11, 1, tzinfo=UTC)
    batches.land(sqlite_warehouse, batches.LANDING_TRUTH, people.truth)
    batches.land(
        sqlite_warehouse, batches.LANDING_TARGETS, people.targets.assign(modified_at=stamp)
    )
    batches.land(
        sqlite_warehouse, batches.LANDING_SOURCES, people.sources.assign(modified_at=stamp)
    )
    batches.land(sqlite_warehouse, contract.LANDING_FEEDBACK, people.feedback)
    with dg.instance_for_test() as instance:
        tick = runs.tick(em_new_records_sensor, defs, instance)
    assert tick.runs and all(run.success for run in tick.runs)

    # the model is sure of every pair of so small a batch: the queue is empty, its table is not
    queue = sqlite_warehouse.read_table(contract.REVIEW_QUEUE)
    assert set(queue.columns) == {*contract.REVIEW_QUEUE_COLUMNS, contract.PARTITION_COLUMN}
    schema_columns = set(load_schema().columns)
    for table in (contract.SOURCES, contract.TARGETS):
        records = sqlite_warehouse.read_table(table)
        assert len(records) == 150
        assert set(records.columns) == schema_columns | set(contract.RECORD_META_COLUMNS)
    feedback = sqlite_warehouse.read_table(contract.LANDING_FEEDBACK)
    assert tuple(feedback.columns) == contract.LANDING_FEEDBACK_COLUMNS
    parsed = pd.to_datetime(feedback[contract.MODIFIED_AT], format=contract.TIMESTAMP_FORMAT)
    assert parsed.notna().all()
