"""Import batches on both backends: every landed row is imported once, whatever its ids look like."""

from datetime import UTC, datetime, timedelta

import dagster as dg
import pandas as pd
import pytest
import sqlalchemy as sa

from ml_platform.core import runs
from ml_platform.core.catalog import DataCatalog
from ml_platform.core.storage import ObjectStore, ObjectStoreIOManager
from ml_platform.core.warehouse import Warehouse, WarehouseIOManager
from ml_platform.demo_data.persons import generate_person_records
from ml_platform.entity_matching import batches
from ml_platform.entity_matching import definitions as entity_matching
from ml_platform.entity_matching.resources import MatchingPolicy
from ml_platform.entity_matching.sensors import em_new_records_sensor

START = datetime(2026, 11, 1, tzinfo=UTC)


def local_definitions(warehouse: Warehouse, store_path, **policy) -> dg.Definitions:
    """The product on `warehouse` with files for objects and no catalog, as `ml-platform` runs it."""
    store = ObjectStore(base_uri=str(store_path))
    resources = {
        "io_manager": ObjectStoreIOManager(store=store),
        "object_store": store,
        "warehouse": warehouse,
        "warehouse_io_manager": WarehouseIOManager(warehouse=warehouse),
        "catalog": DataCatalog(),
    }
    return dg.Definitions.merge(
        entity_matching.build_definitions(MatchingPolicy(**policy)),
        dg.Definitions(resources=resources),
    )


@pytest.fixture
def platform(warehouse: Warehouse, tmp_path):
    defs = local_definitions(warehouse, tmp_path / "store")
    with dg.instance_for_test() as instance:
        yield defs, instance, warehouse


@pytest.fixture(scope="module")
def people():
    """20 targets and 20 sources (each source a corrupted copy of one target)."""
    return generate_person_records(20, 20, seed=11, feedback_size=0)


def renumbered(dataset, ids: list) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Targets and sources with the given ids (sources keep their target's id: easy to check)."""
    mapping = dict(zip(dataset.targets["id"], ids))
    targets = dataset.targets.assign(id=ids)
    sources = dataset.sources.merge(dataset.truth, left_on="id", right_on="source_id")
    sources = sources.assign(id=sources["target_id"].map(mapping))[list(dataset.sources.columns)]
    return targets, sources


def land_in_two_arrivals(warehouse: Warehouse, targets: pd.DataFrame, sources: pd.DataFrame):
    first, second = targets.iloc[:9], targets.iloc[9:]
    for part, (chunk) in enumerate((first, second), start=1):
        stamp = START + timedelta(hours=part)
        batches.land(warehouse, batches.LANDING_TARGETS, chunk.assign(modified_at=stamp))
        chunk_sources = sources[sources["id"].isin(chunk["id"])]
        batches.land(warehouse, batches.LANDING_SOURCES, chunk_sources.assign(modified_at=stamp))
        yield part


@pytest.mark.parametrize(
    "ids",
    [list(range(1, 21)), [f"t{i}" for i in range(1, 21)]],
    ids=["integers", "t-prefixed"],
)
def test_targets_1_to_9_then_10_to_20_are_all_imported(platform, people, ids):
    defs, instance, warehouse = platform
    targets, sources = renumbered(people, ids)

    for _ in land_in_two_arrivals(warehouse, targets, sources):
        tick = runs.tick(em_new_records_sensor, defs, instance)
        assert not tick.skipped and all(run.success for run in tick.runs)

    imported = warehouse.read_table("em_targets")
    assert sorted(imported["id"]) == sorted(str(i) for i in ids)
    assert imported.groupby("partition_key").size().tolist() == [9, 11]
    assert len(warehouse.read_table("em_sources")) == len(sources)
    assert runs.tick(em_new_records_sensor, defs, instance).skipped  # nothing new any more


def test_a_relanded_target_and_source_replace_their_earlier_rows_downstream(platform, people):
    defs, instance, warehouse = platform
    targets, sources = renumbered(people, [f"t{i}" for i in range(1, 21)])
    batches.land(warehouse, batches.LANDING_TARGETS, targets.assign(modified_at=START))
    batches.land(warehouse, batches.LANDING_SOURCES, sources.iloc[:10].assign(modified_at=START))
    assert all(run.success for run in runs.tick(em_new_records_sensor, defs, instance).runs)

    # t3 moves house and t3's source (id t3 too) is corrected: both ids land a second time
    later = START + timedelta(days=1)
    moved = targets[targets["id"] == "t3"].assign(street_number="999", modified_at=later)
    corrected = sources[sources["id"] == "t3"].assign(modified_at=later)
    batches.land(warehouse, batches.LANDING_TARGETS, moved)
    batches.land(warehouse, batches.LANDING_SOURCES, corrected)
    second = runs.tick(em_new_records_sensor, defs, instance)

    assert all(run.success for run in second.runs)
    stored = warehouse.read_table("em_targets")
    newest = stored.sort_values("partition_key").drop_duplicates("id", keep="last")
    assert newest.set_index("id").loc["t3", "street_number"] == "999"
    assert len(warehouse.read_table("em_sources", second.requests[0].partition_key)) == 1
    matches = warehouse.read_table("em_matches").sort_values("partition_key")
    latest_match = matches.drop_duplicates("source_id", keep="last").set_index("source_id")
    assert latest_match.loc["t3", "target_id"] == "t3"


def land_with_a_bad_date(warehouse: Warehouse, people) -> str:
    """All records, one source with a date of birth that is not a date; that source's id."""
    targets, sources = renumbered(people, [f"t{i}" for i in range(1, 21)])
    bad = sources["id"].iloc[0]
    sources = sources.assign(
        date_of_birth=sources["date_of_birth"].where(sources["id"] != bad, "yesterday")
    )
    batches.land(warehouse, batches.LANDING_TARGETS, targets.assign(modified_at=START))
    batches.land(warehouse, batches.LANDING_SOURCES, sources.assign(modified_at=START))
    return bad


def test_a_batch_whose_run_failed_is_run_again_by_the_next_tick(platform, people):
    defs, instance, warehouse = platform
    bad = land_with_a_bad_date(warehouse, people)
    failed = runs.tick(em_new_records_sensor, defs, instance, raise_on_error=False)
    assert not failed.runs[0].success
    # someone corrects the row in the landing table; nothing new lands
    with warehouse.engine().begin() as conn:
        conn.execute(
            sa.text(
                f"UPDATE {batches.LANDING_SOURCES} SET date_of_birth = '19800101' WHERE id = :id"
            ),
            {"id": bad},
        )

    retried = runs.tick(em_new_records_sensor, defs, instance)

    assert [r.partition_key for r in retried.requests] == [failed.requests[0].partition_key]
    assert retried.requests[0].run_key != failed.requests[0].run_key
    assert retried.runs[0].success
    assert len(warehouse.read_table("em_matches")) > 0
    assert runs.tick(em_new_records_sensor, defs, instance).skipped


def test_a_batch_that_keeps_failing_is_given_up_after_max_batch_attempts(
    warehouse, tmp_path, people
):
    defs = local_definitions(warehouse, tmp_path / "store", max_batch_attempts=2)
    land_with_a_bad_date(warehouse, people)
    with dg.instance_for_test() as instance:
        attempts = [
            runs.tick(em_new_records_sensor, defs, instance, raise_on_error=False) for _ in range(3)
        ]
        tried = instance.get_runs()

    assert [len(t.runs) for t in attempts] == [1, 1, 0]
    assert not any(run.success for t in attempts for run in t.runs)
    assert "1 batch(es) given up on" in attempts[2].skipped
    assert len(tried) == 2


def test_an_upgraded_deployment_does_not_import_its_earlier_batches_again(warehouse, people):
    """Batches recorded as watermark windows (before em_import_batch_rows) keep their rows."""
    targets, sources = renumbered(people, [f"t{i}" for i in range(1, 21)])
    old = "20261101T000000000000Z"
    stamp = "2026-11-01T00:00:00.000000Z"
    for landing, imported, rows in (
        (batches.LANDING_TARGETS, "em_targets", targets.iloc[:9]),
        (batches.LANDING_SOURCES, "em_sources", sources.iloc[:5]),
    ):
        batches.land(warehouse, landing, rows.assign(modified_at=stamp))
        warehouse.replace_rows(imported, rows.assign(modified_at=stamp), old)
    legacy = pd.DataFrame([{"batch_key": old, "targets_after": "", "targets_until": "t9"}])
    warehouse.append_rows(batches.LEGACY_BATCHES, legacy)
    batches.land(warehouse, batches.LANDING_TARGETS, targets.iloc[9:].assign(modified_at=stamp))

    batch = batches.close_batch(warehouse, START + timedelta(days=30))

    assert (batch.sources, batch.targets) == (0, 11)
    assert batches.batch_keys(warehouse) == [old, batch.batch_key]
    assert set(batches.read_targets(warehouse, batch.batch_key)["id"]) == {
        f"t{i}" for i in range(10, 21)
    }


def test_integer_ids_written_without_stamps_by_another_writer_are_imported_exactly_once(
    warehouse, people
):
    """Not every operational system lands rows through `land`: ids stay integers, `modified_at`
    NULL. The record holds them as text, and the anti-join still finds them recorded."""
    targets, _ = renumbered(people, list(range(1, 21)))
    targets = targets.assign(id=targets["id"].astype("int64"), modified_at=None)
    warehouse.append_rows(batches.LANDING_TARGETS, targets.iloc[:15])

    first = batches.close_batch(warehouse, START)

    assert first.targets == 15
    read = batches.read_targets(warehouse, first.batch_key)
    assert sorted(read["id"], key=int) == [str(i) for i in range(1, 16)]
    assert batches.close_batch(warehouse, START + timedelta(hours=1)) is None
    warehouse.append_rows(batches.LANDING_TARGETS, targets.iloc[15:])
    second = batches.close_batch(warehouse, START + timedelta(hours=2))
    assert second.targets == 5
    assert batches.landed_ids(warehouse, batches.LANDING_TARGETS) == {str(i) for i in range(1, 21)}
