"""Import batches: which landed rows belong to which batch, decided once and written down.

The operational system appends records to landing tables, each row stamped with `modified_at`
(rows landed through `land` without one get the time they landed). When rows appear that no batch
has imported yet, the import sensor closes a batch: it writes the id and `modified_at` of each of
those rows to `em_import_batch_rows` under the batch's key and creates a dynamic partition for it.
"Not imported yet" is an anti-join of the landing table with that record, never a comparison of
ids or times with a watermark, so ids of any type or shape (`t9` before `t10`, integers) and rows
committed late are all imported, exactly once. Every asset of a partition reads its rows through
the record, so re-materialising a batch months later reads exactly the same rows.

An id landed again with a new `modified_at` is an update (an upsert): the newer row is imported in
a later batch and wins downstream — matching compares it, not the older row.
"""

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import pandas as pd

from ml_platform.core.errors import InvalidInputError
from ml_platform.core.warehouse import (
    Absent,
    Compare,
    Condition,
    OneOf,
    Present,
    Select,
    Warehouse,
)
from ml_platform.entity_matching.contract import LANDING_FEEDBACK, TIMESTAMP_FORMAT

LANDING_SOURCES = "em_landing_sources"
LANDING_TARGETS = "em_landing_targets"
LANDING_TRUTH = "em_landing_truth"  # optional: known true pairs (generated data), for evaluation
BATCH_ROWS = "em_import_batch_rows"  # batch_key, landing_table, id, modified_at
LEGACY_BATCHES = "em_import_batches"  # windows over ids/modified_at, before em_import_batch_rows
IMPORTED = (LANDING_SOURCES, LANDING_TARGETS)
STAMPED = (*IMPORTED, LANDING_FEEDBACK)  # tables whose rows carry `modified_at`
KEY_FORMAT = "%Y%m%dT%H%M%S%fZ"
EPOCH = "1970-01-01T00:00:00.000000Z"


@dataclass(frozen=True)
class Batch:
    """A closed import batch and how many landed rows it took from each table."""

    batch_key: str
    sources: int
    targets: int


def land(warehouse: Warehouse, table: str, rows: pd.DataFrame, now: datetime | None = None) -> None:
    """Append rows to a landing table the way the operational system would: ids as text,
    `modified_at` as canonical UTC text (so it compares correctly on every database), and rows of
    sources, targets and feedback without one stamped with the time they landed."""
    if table in STAMPED and "modified_at" not in rows.columns:
        rows = rows.assign(modified_at=now or datetime.now(UTC))
    if "modified_at" in rows.columns:
        stamps = pd.to_datetime(rows["modified_at"], utc=True, format="ISO8601")
        rows = rows.assign(modified_at=stamps.dt.strftime(TIMESTAMP_FORMAT))
    ids = [c for c in ("id", "source_id", "target_id") if c in rows.columns]
    rows = rows.assign(**{c: rows[c].astype("string") for c in ids})
    warehouse.append_rows(table, rows)


def close_batch(warehouse: Warehouse, now: datetime) -> Batch | None:
    """Record every landed source and target row no batch has imported yet as a new batch, or
    return None when there is none. One closer at a time (the daemon evaluates a sensor's ticks
    one after another); the record is one append, so a crash leaves the batch whole or absent."""
    if not warehouse.table_exists(BATCH_ROWS) and warehouse.table_exists(LEGACY_BATCHES):
        _record_legacy_imports(warehouse)
    new = {table: _not_yet_imported(warehouse, table) for table in IMPORTED}
    if not any(len(rows) for rows in new.values()):
        return None
    key = _next_key(latest_batch_key(warehouse), now)
    record = pd.DataFrame(
        [
            (key, table, str(id_), str(version))
            for table, rows in new.items()
            for id_, version in zip(rows["id"], rows["modified_at"])
        ],
        columns=["batch_key", "landing_table", "id", "modified_at"],
    )
    warehouse.append_rows(BATCH_ROWS, record)
    warehouse.ensure_index(BATCH_ROWS, ["landing_table", "id"])
    warehouse.ensure_index(BATCH_ROWS, ["batch_key"])
    return Batch(key, len(new[LANDING_SOURCES]), len(new[LANDING_TARGETS]))


def _record_legacy_imports(warehouse: Warehouse) -> None:
    """A deployment upgraded from watermark windows: what its batches imported is in
    `em_sources`/`em_targets`, so record that, or the first new batch would import it all again."""
    imported = {LANDING_SOURCES: "em_sources", LANDING_TARGETS: "em_targets"}
    frames = []
    for landing, table in imported.items():
        if not warehouse.table_exists(table):
            continue
        rows = _versions(warehouse, table, ("partition_key",))
        frames.append(
            rows.rename(columns={"partition_key": "batch_key"}).assign(landing_table=landing)
        )
    if frames:
        record = pd.concat(frames, ignore_index=True)
        # plain str columns: astype("string") of the concatenation corrupts values under pyarrow
        columns = ["batch_key", "landing_table", "id", "modified_at"]
        warehouse.append_rows(BATCH_ROWS, record[columns].astype(str))


def _not_yet_imported(warehouse: Warehouse, table: str) -> pd.DataFrame:
    """(id, modified_at) of the rows of a landing table that no batch has imported: an anti-join."""
    if not warehouse.table_exists(table):
        return pd.DataFrame(columns=["id", "modified_at"])
    rows = _versions(warehouse, table, where=(_recorded(warehouse, table, Absent),))
    return rows[rows["id"] != ""].reset_index(drop=True)  # a row without an id is no record


def _versions(
    warehouse: Warehouse,
    table: str,
    extra: tuple[str, ...] = (),
    where: tuple[Condition, ...] = (),
) -> pd.DataFrame:
    """Distinct (id, modified_at) of a table as text, as the batch record writes them down:
    `modified_at` is what tells two landed rows of one id apart ('' if the table has none)."""
    stamped = "modified_at" in warehouse.column_names(table)
    columns = (*extra, "id", "modified_at") if stamped else (*extra, "id")
    rows = warehouse.frame(Select(table, columns, where, distinct=True, as_text=True))
    return rows if stamped else rows.assign(modified_at="")


def _recorded(
    warehouse: Warehouse, table: str, kind: type[Absent] | type[Present], batch_key: str = ""
) -> Absent | Present:
    """A landing row of `table` is (Present) or is not (Absent) in the batch record, in the
    batch `batch_key` if one is given: matched by id and `modified_at` as text."""
    where: tuple[Condition, ...] = (Compare("landing_table", "==", table),)
    if batch_key:
        where += (Compare("batch_key", "==", batch_key),)
    if "modified_at" in warehouse.column_names(table):
        return kind(("id", "modified_at"), BATCH_ROWS, where=where)
    return kind("id", BATCH_ROWS, where=(*where, Compare("modified_at", "==", "")))


def _next_key(latest: str | None, now: datetime) -> str:
    """The batch key: the closing time in UTC, after every earlier key even if the clock stepped
    back, so that keys (and partitions) sort in import order."""
    moment = now.astimezone(UTC)
    if latest is not None:
        after = datetime.strptime(latest, KEY_FORMAT).replace(tzinfo=UTC) + timedelta(
            microseconds=1
        )
        moment = max(moment, after)
    return moment.strftime(KEY_FORMAT)


def latest_batch_key(warehouse: Warehouse) -> str | None:
    if not warehouse.table_exists(BATCH_ROWS):
        return None
    return _text(warehouse.max_value(BATCH_ROWS, "batch_key"))


def batch_keys(warehouse: Warehouse) -> list[str]:
    """Every recorded batch, oldest first."""
    if not warehouse.table_exists(BATCH_ROWS):
        return []
    keys = Select(BATCH_ROWS, ("batch_key",), distinct=True, order_by=("batch_key",))
    return [str(key) for key in warehouse.frame(keys)["batch_key"]]


def latest_batch(warehouse: Warehouse) -> Batch | None:
    key = latest_batch_key(warehouse)
    return get_batch(warehouse, key) if key else None


def get_batch(warehouse: Warehouse, batch_key: str) -> Batch:
    counts = (
        warehouse.count_by(
            Select(BATCH_ROWS, where=(Compare("batch_key", "==", batch_key),)), "landing_table"
        )
        if warehouse.table_exists(BATCH_ROWS)
        else pd.DataFrame(columns=["landing_table", "n"])
    )
    if counts.empty:
        raise InvalidInputError(
            f"import batch '{batch_key}' is not recorded in table {BATCH_ROWS}; batches are "
            "closed by the em_new_records_sensor (or `ml-platform em run-batch`)"
        )
    n = dict(zip(counts["landing_table"], counts["n"].astype(int)))
    return Batch(batch_key, n.get(LANDING_SOURCES, 0), n.get(LANDING_TARGETS, 0))


def read_sources(warehouse: Warehouse, batch_key: str) -> pd.DataFrame:
    return _read_batch_rows(warehouse, LANDING_SOURCES, batch_key)


def read_targets(warehouse: Warehouse, batch_key: str) -> pd.DataFrame:
    return _read_batch_rows(warehouse, LANDING_TARGETS, batch_key)


def _read_batch_rows(warehouse: Warehouse, table: str, batch_key: str) -> pd.DataFrame:
    """The landed rows the batch recorded; of an id landed twice before the batch closed, the
    newer row (the same row landed twice counts once)."""
    if not warehouse.table_exists(table):  # nothing of this kind has landed yet
        return pd.DataFrame({"id": pd.Series(dtype="string")})
    rows = warehouse.frame(Select(table, where=(_recorded(warehouse, table, Present, batch_key),)))
    rows = rows.assign(id=rows["id"].astype("string"))
    order = ["modified_at", "id"] if "modified_at" in rows.columns else ["id"]
    newest = rows.sort_values(order, kind="stable").drop_duplicates("id", keep="last")
    return newest.sort_values("id", kind="stable").reset_index(drop=True)


def landed_ids(warehouse: Warehouse, table: str) -> set[str]:
    """Every id landed in a landing table so far, whether imported yet or not."""
    if not warehouse.table_exists(table):
        return set()
    rows = warehouse.frame(Select(table, ("id",), distinct=True, as_text=True))
    return set(rows["id"]) - {""}


def imported_until(warehouse: Warehouse, table: str, batch_key: str) -> set[str]:
    """Ids of `table` (a landing table) that batches up to and including `batch_key` imported."""
    if not warehouse.table_exists(BATCH_ROWS):
        return set()
    where = (Compare("landing_table", "==", table), Compare("batch_key", "<=", batch_key))
    rows = warehouse.frame(Select(BATCH_ROWS, ("id",), where, distinct=True))
    return set(rows["id"].astype(str))


def unmatched_earlier_sources(warehouse: Warehouse, batch_key: str) -> pd.DataFrame:
    """Sources imported before this batch that no batch has matched since: their newest row only,
    and none that this batch imports again (its newer row is one of this batch's sources).

    A source can land before its target; each later batch retries it against its new targets.
    Only batches up to this one count, so a re-run of a batch sees what its first run saw.
    """
    if not warehouse.table_exists("em_sources"):
        return pd.DataFrame()
    earlier = Compare("partition_key", "<", batch_key)
    unmatched = Absent("id", "em_matches", "source_id", where=(earlier,))
    candidates = Select("em_sources", where=(earlier, unmatched), order_by=("id",))
    rows = warehouse.frame(candidates)
    # ids imported more than once (an update): only the row of the newest batch up to this one
    imports = warehouse.frame(
        Select(
            "em_sources",
            ("id", "partition_key"),
            (
                Compare("partition_key", "<=", batch_key),
                OneOf("id", replace(candidates, columns=("id",), order_by=())),
            ),
        )
    )
    newest = rows["id"].map(imports.groupby("id")["partition_key"].max())
    keep = rows["partition_key"] == newest
    return rows[keep.to_numpy()].drop(columns=["partition_key"]).reset_index(drop=True)


def imported_ids(warehouse: Warehouse, table: str) -> set[str]:
    """Every id an import asset (`em_sources`/`em_targets`) has stored, across all batches."""
    if not warehouse.table_exists(table):
        return set()
    return set(warehouse.frame(Select(table, ("id",)))["id"])


def read_new_feedback(warehouse: Warehouse, after: str) -> pd.DataFrame:
    if not warehouse.table_exists(LANDING_FEEDBACK):
        return pd.DataFrame(columns=["source_id", "target_id", "label", "modified_at"])
    rows = warehouse.frame(
        Select(
            LANDING_FEEDBACK,
            where=(Compare("modified_at", ">", after),),
            order_by=("modified_at",),
        )
    )
    # a NULL label (a withdrawal) turns the column to float: 1.0 must still read as 1
    return rows.assign(label=rows["label"].astype("Int64")) if len(rows) else rows


def stored_feedback_watermark(warehouse: Warehouse) -> str:
    """Newest `modified_at` already imported into the `em_feedback` asset's table."""
    if not warehouse.table_exists("em_feedback"):
        return EPOCH
    return _text(warehouse.max_value("em_feedback", "modified_at")) or EPOCH


def count_new_feedback(warehouse: Warehouse, after: str) -> tuple[int, str]:
    """How many feedback rows landed after ``after``, and the newest `modified_at` among them."""
    if not warehouse.table_exists(LANDING_FEEDBACK):
        return 0, after
    newest = _text(
        warehouse.max_value(LANDING_FEEDBACK, "modified_at", (Compare("modified_at", ">", after),))
    )
    if newest is None:
        return 0, after
    # counted up to the newest seen, so a row landing in between is left for the next count
    upto = (Compare("modified_at", ">", after), Compare("modified_at", "<=", newest))
    return warehouse.count(Select(LANDING_FEEDBACK, where=upto)), newest


def read_truth(warehouse: Warehouse) -> pd.DataFrame | None:
    if not warehouse.table_exists(LANDING_TRUTH):
        return None
    return warehouse.frame(Select(LANDING_TRUTH, ("source_id", "target_id")))


def _text(value: object) -> str | None:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime(TIMESTAMP_FORMAT)
    return str(value)
