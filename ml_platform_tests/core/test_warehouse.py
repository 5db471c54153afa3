from datetime import UTC, datetime

import dagster as dg
import numpy as np
import pandas as pd
import psycopg2.errors
import pytest
import sqlalchemy as sa

from ml_platform.core.errors import InvalidInputError
from ml_platform.core.warehouse import PARTITION_COLUMN, Warehouse, WarehouseIOManager

pytestmark = pytest.mark.postgres

BATCHES = dg.StaticPartitionsDefinition(["batch-1", "batch-2"])


def people(*names: str) -> pd.DataFrame:
    return pd.DataFrame({"name": list(names), "age": range(20, 20 + len(names))})


def sorted_rows(frame: pd.DataFrame, by: str) -> pd.DataFrame:
    return frame.sort_values(by, ignore_index=True)


def test_awkward_text_round_trips_and_empty_string_stays_distinct_from_null(warehouse):
    texts = pd.DataFrame(
        {
            "id": [1, 2, 3, 4, 5, 6, 7],
            "text": ["a,b", 'say "hi"', "two\nlines", "", None, "\\N", "tab\there, 'quoted'"],
        }
    )

    warehouse.replace_rows("texts", texts, partition_key=None)

    loaded = sorted_rows(warehouse.read_table("texts"), "id")
    assert loaded["text"].tolist()[:4] == ["a,b", 'say "hi"', "two\nlines", ""]
    assert pd.isna(loaded["text"][4])
    assert loaded["text"].tolist()[5:] == ["\\N", "tab\there, 'quoted'"]


def test_ints_floats_bools_nulls_and_utc_timestamps_round_trip(warehouse):
    values = pd.DataFrame(
        {
            "id": [1, 2, 3],
            "count": pd.array([10, None, 30], dtype="Int64"),
            "score": [0.1, np.nan, -2.5e10],
            "matched": [True, False, True],
            "reviewed": pd.array([True, None, False], dtype="boolean"),
            "seen_at": pd.to_datetime(
                ["2024-03-01 12:30:00.123456+02:00", None, "1999-12-31 23:59:59+00:00"],
                utc=True,
                format="ISO8601",
            ),
        }
    )

    warehouse.replace_rows("values", values, partition_key=None)

    pd.testing.assert_frame_equal(sorted_rows(warehouse.read_table("values"), "id"), values)


def test_naive_timestamps_are_read_back_as_utc(warehouse):
    warehouse.replace_rows("events", pd.DataFrame({"at": [datetime(2024, 1, 2, 3, 4, 5)]}), None)

    assert warehouse.read_table("events")["at"][0] == pd.Timestamp("2024-01-02 03:04:05", tz="UTC")


def test_rematerialising_a_partition_replaces_its_rows_instead_of_adding_them(warehouse):
    warehouse.replace_rows("people", people("ann", "bob"), partition_key="batch-1")
    warehouse.replace_rows("people", people("cid"), partition_key="batch-2")

    warehouse.replace_rows("people", people("ann", "bob", "dan"), partition_key="batch-1")
    warehouse.replace_rows("people", people("ann", "bob", "dan"), partition_key="batch-1")

    assert sorted(warehouse.read_table("people", "batch-1")["name"]) == ["ann", "bob", "dan"]
    assert warehouse.read_table("people", "batch-2")["name"].tolist() == ["cid"]
    assert len(warehouse.read_table("people")) == 4


def test_one_partition_reads_without_the_partition_column_several_keep_it(warehouse):
    warehouse.replace_rows("people", people("ann"), partition_key="batch-1")
    warehouse.replace_rows("people", people("bob"), partition_key="batch-2")

    assert list(warehouse.read_table("people", "batch-1").columns) == ["name", "age"]
    both = sorted_rows(warehouse.read_table("people", ["batch-1", "batch-2"]), "name")
    assert both[PARTITION_COLUMN].tolist() == ["batch-1", "batch-2"]


def test_unpartitioned_write_replaces_the_whole_table(warehouse):
    warehouse.replace_rows("people", people("ann", "bob"), partition_key=None)

    warehouse.replace_rows("people", people("cid"), partition_key=None)

    assert warehouse.read_table("people")["name"].tolist() == ["cid"]


def test_a_failed_write_leaves_the_previous_rows_and_columns_intact(warehouse):
    warehouse.replace_rows("people", people("ann", "bob"), partition_key="batch-1")
    unstorable = people("cid").assign(email=["cid@example.org"], tags=[{"not", "storable"}])

    with pytest.raises(Exception):  # noqa: B017 - the error is the backend's; what survives it is ours
        warehouse.replace_rows("people", unstorable, partition_key="batch-1")

    after = warehouse.read_table("people", "batch-1")
    assert sorted(after["name"]) == ["ann", "bob"]
    assert list(after.columns) == ["name", "age"]


def test_postgres_rejecting_a_value_mid_copy_keeps_the_previous_rows(postgres_warehouse):
    postgres_warehouse.replace_rows("people", people("ann", "bob"), partition_key="batch-1")
    bad_age = pd.DataFrame({"name": ["cid", "dan"], "age": ["31", "not a number"]})

    with pytest.raises(psycopg2.errors.InvalidTextRepresentation, match="not a number"):
        postgres_warehouse.replace_rows("people", bad_age, partition_key="batch-1")

    assert sorted(postgres_warehouse.read_table("people", "batch-1")["name"]) == ["ann", "bob"]


def test_postgres_bulk_loads_with_copy_not_inserts(postgres_warehouse):
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    engine = postgres_warehouse.engine()
    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        postgres_warehouse.replace_rows("big", pd.DataFrame({"n": range(10_000)}), "batch-1")
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)

    assert not [s for s in statements if s.lstrip().upper().startswith("INSERT")]
    assert len(postgres_warehouse.read_table("big", "batch-1")) == 10_000


def test_new_columns_are_added_and_older_rows_read_them_as_null(warehouse):
    warehouse.replace_rows("people", people("ann"), partition_key="batch-1")

    warehouse.replace_rows("people", people("bob").assign(email=["bob@example.org"]), "batch-2")

    both = sorted_rows(warehouse.read_table("people"), "name")
    assert pd.isna(both["email"][0])
    assert both["email"][1] == "bob@example.org"


def test_identifiers_that_need_quoting_are_safe(warehouse):
    odd = pd.DataFrame({"select": [1], "Full Name": ["ann"], 'say "hi"': ["x"]})

    warehouse.replace_rows("Feedback Events", odd, partition_key="it's-1")

    pd.testing.assert_frame_equal(warehouse.read_table("Feedback Events", "it's-1"), odd)


def test_a_table_name_near_the_identifier_limit_can_be_rewritten(warehouse):
    table = "em_" + "x" * 60

    for batch in ("batch-1", "batch-1", "batch-2"):
        warehouse.replace_rows(table, people("ann"), partition_key=batch)

    assert len(warehouse.read_table(table)) == 2


def test_appended_rows_accumulate_and_max_value_is_the_import_cursor(warehouse):
    assert warehouse.max_value("feedback", "modified_at") is None

    for day in (1, 3, 2):
        at = datetime(2024, 5, day, tzinfo=UTC)
        warehouse.append_rows("feedback", pd.DataFrame({"id": [day], "modified_at": [at]}))

    assert warehouse.table_exists("feedback")
    assert len(warehouse.read_table("feedback")) == 3
    assert warehouse.max_value("feedback", "id") == 3
    assert warehouse.max_value("feedback", "modified_at") == datetime(2024, 5, 3, tzinfo=UTC)


def test_read_sql_names_tables_without_a_schema(warehouse):
    warehouse.replace_rows("people", people("ann", "bob"), partition_key=None)

    counted = warehouse.read_sql("SELECT count(*) AS n FROM people WHERE age >= :age", {"age": 21})

    assert counted["n"][0] == 1


def test_io_manager_writes_partitions_to_a_table_and_loads_them_downstream(warehouse):
    @dg.asset(partitions_def=BATCHES, metadata={"table": "matched_people"})
    def em_matches(context: dg.AssetExecutionContext) -> pd.DataFrame:
        return people(f"{context.partition_key}-a", f"{context.partition_key}-b")

    @dg.asset(partitions_def=BATCHES)
    def em_match_counts(em_matches: pd.DataFrame) -> pd.DataFrame:
        return pd.DataFrame({"matches": [len(em_matches)]})

    @dg.asset
    def all_matches(em_matches: pd.DataFrame) -> pd.DataFrame:
        return em_matches

    resources = {"io_manager": WarehouseIOManager(warehouse=warehouse)}
    for batch in BATCHES.get_partition_keys():
        for _ in range(2):  # a retried run must not duplicate rows
            result = dg.materialize(
                [em_matches, em_match_counts], partition_key=batch, resources=resources
            )
    everything = dg.materialize(
        [em_matches, all_matches], selection=[all_matches], resources=resources
    )

    metadata = result.asset_materializations_for_node("em_matches")[0].metadata
    assert metadata["dagster/table_name"].value.split(".")[-1] == "matched_people"
    assert metadata["dagster/row_count"].value == 2
    assert warehouse.read_table("em_match_counts", "batch-2")["matches"].tolist() == [2]
    assert sorted(everything.output_for_node("all_matches")["name"]) == [
        "batch-1-a",
        "batch-1-b",
        "batch-2-a",
        "batch-2-b",
    ]
    assert len(warehouse.read_table("matched_people")) == 4


def test_a_plain_postgresql_url_uses_psycopg2_and_other_drivers_are_refused(postgres_url):
    plain = Warehouse(url=postgres_url.replace("+psycopg2", ""))

    assert plain.read_sql("SELECT 1 AS one")["one"][0] == 1
    with pytest.raises(InvalidInputError, match=r"postgresql\+psycopg2"):
        Warehouse(url=postgres_url.replace("+psycopg2", "+psycopg")).engine()


def test_text_beyond_ascii_round_trips(warehouse):
    people = pd.DataFrame({"name": ["josé müller", "ørsted", "≥0.94 +3.5"]})
    warehouse.replace_rows("people", people)
    assert warehouse.read_table("people")["name"].tolist() == people["name"].tolist()
