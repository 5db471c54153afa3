"""Import batches: which landed rows belong to which batch, decided once and written down.

The operational system writes records to landing tables (sources and feedback stamped with
`modified_at`, targets with increasing ids). When new rows appear, the import sensor closes a
batch: it records the window (last `modified_at` and last target id before and after) in
`em_import_batches` and creates a dynamic partition for it. Every asset of that partition reads
its rows through the recorded window, so re-materialising a batch months later reads exactly the
same rows, and a batch is never imported twice.
"""

from dataclasses import asdict, dataclass
from datetime import UTC, datetime

import pandas as pd

from ml_platform.core.errors import InvalidInputError
from ml_platform.core.warehouse import Warehouse

LANDING_SOURCES = "em_landing_sources"
LANDING_TARGETS = "em_landing_targets"
LANDING_FEEDBACK = "em_landing_feedback"
LANDING_TRUTH = "em_landing_truth"  # optional: known true pairs (generated data), for evaluation
BATCHES = "em_import_batches"
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
EPOCH = "1970-01-01T00:00:00.000000Z"


@dataclass(frozen=True)
class Batch:
    """Half-open windows (after, until] over the landing tables."""

    batch_key: str
    sources_after: str
    sources_until: str
    targets_after: str
    targets_until: str


def land(warehouse: Warehouse, table: str, rows: pd.DataFrame) -> None:
    """Append rows to a landing table the way the operational system would, with `modified_at`
    as canonical UTC text so that windows compare correctly on every database."""
    if "modified_at" in rows.columns:
        stamps = pd.to_datetime(rows["modified_at"], utc=True, format="ISO8601")
        rows = rows.assign(modified_at=stamps.dt.strftime(TIMESTAMP_FORMAT))
    warehouse.append_rows(table, rows)


def landed_watermarks(warehouse: Warehouse) -> tuple[str, str]:
    """The newest source `modified_at` and the largest target id landed so far."""
    sources_until = _text(warehouse.max_value(LANDING_SOURCES, "modified_at")) or EPOCH
    targets_until = _text(warehouse.max_value(LANDING_TARGETS, "id")) or ""
    return sources_until, targets_until


def next_batch(warehouse: Warehouse, previous: Batch | None, now: datetime) -> Batch | None:
    """The batch covering everything landed since ``previous``, or None when nothing is new."""
    sources_until, targets_until = landed_watermarks(warehouse)
    sources_after = previous.sources_until if previous else EPOCH
    targets_after = previous.targets_until if previous else ""
    if sources_until <= sources_after and targets_until <= targets_after:
        return None
    return Batch(
        batch_key=now.astimezone(UTC).strftime("%Y%m%dT%H%M%S%fZ"),
        sources_after=sources_after,
        sources_until=max(sources_until, sources_after),
        targets_after=targets_after,
        targets_until=max(targets_until, targets_after),
    )


def record_batch(warehouse: Warehouse, batch: Batch) -> None:
    warehouse.append_rows(BATCHES, pd.DataFrame([asdict(batch)]))


def latest_batch(warehouse: Warehouse) -> Batch | None:
    if not warehouse.table_exists(BATCHES):
        return None
    rows = warehouse.read_sql(f"SELECT * FROM {BATCHES} ORDER BY batch_key DESC LIMIT 1")
    return Batch(**rows.iloc[0].to_dict()) if len(rows) else None


def get_batch(warehouse: Warehouse, batch_key: str) -> Batch:
    rows = (
        warehouse.read_sql(f"SELECT * FROM {BATCHES} WHERE batch_key = :key", {"key": batch_key})
        if warehouse.table_exists(BATCHES)
        else pd.DataFrame()
    )
    if rows.empty:
        raise InvalidInputError(
            f"import batch '{batch_key}' is not recorded in table {BATCHES}; batches are created by "
            "the em_new_records_sensor"
        )
    return Batch(**rows.iloc[0].to_dict())


def read_sources(warehouse: Warehouse, batch: Batch) -> pd.DataFrame:
    return warehouse.read_sql(
        f"SELECT * FROM {LANDING_SOURCES} WHERE modified_at > :after AND modified_at <= :until "
        "ORDER BY modified_at",
        {"after": batch.sources_after, "until": batch.sources_until},
    )


def read_targets(warehouse: Warehouse, batch: Batch) -> pd.DataFrame:
    return warehouse.read_sql(
        f"SELECT * FROM {LANDING_TARGETS} WHERE id > :after AND id <= :until ORDER BY id",
        {"after": batch.targets_after, "until": batch.targets_until},
    )


def unmatched_earlier_sources(warehouse: Warehouse, batch_key: str) -> pd.DataFrame:
    """Sources imported before this batch that no earlier batch matched.

    A source can land before its target; each later batch retries it against its new targets.
    Only batches before this one count, so a re-run of a batch sees what its first run saw.
    """
    if not warehouse.table_exists("em_sources"):
        return pd.DataFrame()
    matched = (
        "AND id NOT IN (SELECT source_id FROM em_matches WHERE partition_key < :key)"
        if warehouse.table_exists("em_matches")
        else ""
    )
    rows = warehouse.read_sql(
        f"SELECT * FROM em_sources WHERE partition_key < :key {matched} ORDER BY id",
        {"key": batch_key},
    )
    return rows.drop(columns=["partition_key"])


def imported_ids(warehouse: Warehouse, table: str) -> set[str]:
    """Every id an import asset (`em_sources`/`em_targets`) has stored, across all batches."""
    if not warehouse.table_exists(table):
        return set()
    return set(warehouse.read_sql(f"SELECT id FROM {table}")["id"])


def read_new_feedback(warehouse: Warehouse, after: str) -> pd.DataFrame:
    if not warehouse.table_exists(LANDING_FEEDBACK):
        return pd.DataFrame(columns=["source_id", "target_id", "label", "modified_at"])
    return warehouse.read_sql(
        f"SELECT * FROM {LANDING_FEEDBACK} WHERE modified_at > :after ORDER BY modified_at",
        {"after": after},
    )


def stored_feedback_watermark(warehouse: Warehouse) -> str:
    """Newest `modified_at` already imported into the `em_feedback` asset's table."""
    if not warehouse.table_exists("em_feedback"):
        return EPOCH
    return _text(warehouse.max_value("em_feedback", "modified_at")) or EPOCH


def count_new_feedback(warehouse: Warehouse, after: str) -> tuple[int, str]:
    """How many feedback rows landed after ``after``, and the newest `modified_at` among them."""
    if not warehouse.table_exists(LANDING_FEEDBACK):
        return 0, after
    row = warehouse.read_sql(
        f"SELECT COUNT(*) AS n, MAX(modified_at) AS newest FROM {LANDING_FEEDBACK} "
        "WHERE modified_at > :after",
        {"after": after},
    ).iloc[0]
    return int(row["n"]), _text(row["newest"]) or after


def read_truth(warehouse: Warehouse) -> pd.DataFrame | None:
    if not warehouse.table_exists(LANDING_TRUTH):
        return None
    return warehouse.read_sql(f"SELECT source_id, target_id FROM {LANDING_TRUTH}")


def _text(value: object) -> str | None:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime(TIMESTAMP_FORMAT)
    return str(value)
