"""The product's warehouse tables: versioned names and idempotent writes keyed by tweet id.

Names follow the original pipeline (`raw_tweet_dataset_0`, `test_dataset_0`, …): a `prefix`
and a `version` from config, so a new version writes new tables and never touches the old
ones. Golden labels are people's work and belong to no dataset version: one table per prefix.

The stream delivers at least once, so every write of streamed rows is an *insert that ignores
rows whose key is already stored* (`insert_new_rows`): a replayed micro-batch adds nothing, two
overlapping runs add each tweet once. It is the warehouse's `insert_new`, which on PostgreSQL
keeps COPY's speed.
"""

from collections.abc import Mapping, Sequence

import pandas as pd

from ml_platform.core.warehouse import Absent, Condition, Kind, Select, TableSpec, Warehouse

_BIGINT, _TEXT, _FLOAT, _TIME = Kind.BIGINT, Kind.TEXT, Kind.DOUBLE, Kind.TIMESTAMP

# Column → type per table kind; the first `key` columns identify a row.
RAW_COLUMNS = {
    "tweet_id": _BIGINT,
    "created_at": _TIME,
    "text": _TEXT,
    "lang": _TEXT,
    "user_screen_name": _TEXT,
    "entity_urls": _TEXT,
    "retweeted_id": _BIGINT,
    "source_format": _TEXT,
    "source": _TEXT,  # landed file or topic/partition/offset the row came from
    "arrived_at": _TIME,  # when the source received it (file written, message appended)
    "stored_at": _TIME,  # when this row was written here
}
DEDUPLICATED_COLUMNS = {"text_key": _TEXT, **RAW_COLUMNS}
SPLIT_COLUMNS = DEDUPLICATED_COLUMNS
CLASSIFIED_COLUMNS = {
    "tweet_id": _BIGINT,
    "probability": _FLOAT,
    "is_ai": Kind.BOOLEAN,
    "model_version": _BIGINT,
    "classified_at": _TIME,
}
AI_COLUMNS = {
    "tweet_id": _BIGINT,
    "created_at": _TIME,
    "user_screen_name": _TEXT,
    "text": _TEXT,
    "lang": _TEXT,
    "entity_urls": _TEXT,
    "probability": _FLOAT,
    "model_version": _BIGINT,
    "classified_at": _TIME,
}
URL_COLUMNS = {
    "tweet_id": _BIGINT,
    "url": _TEXT,  # normalised
    "domain": _TEXT,
    "original_url": _TEXT,  # as found (first occurrence)
    "found_in": _TEXT,  # "entities" or "text"
    "created_at": _TIME,
}
CURSOR_COLUMNS = {
    "source": _TEXT,
    "position": _TEXT,  # a landed file's name
    "tweets": _BIGINT,
    "committed_at": _TIME,
}
# Stream lines that are not tweets, kept with the reason until a person fixes and re-lands them.
# A stream message is a one-line document: its `line` is 1.
DEAD_LETTER_COLUMNS = {
    "source": _TEXT,  # the stream source's name (as in the cursor)
    "origin": _TEXT,  # the landed file's path, or the message's topic/partition/offset
    "line": _BIGINT,
    "problem": _TEXT,  # what is wrong, naming the field
    "document": _TEXT,  # the line as received
    "rejected_at": _TIME,
}
DEAD_LETTER_KEY = ("source", "origin", "line", "problem")
GOLDEN_COLUMNS = {
    "tweet_id": _BIGINT,
    "label": _BIGINT,  # 1 = about AI, 0 = not, NULL = the annotator withdrew their label
    "annotator": _TEXT,
    "labelled_at": _TIME,
    "source": _TEXT,  # "ui", "csv:<file>", "generator-truth"
    "note": _TEXT,
}


def ensure_table(
    warehouse: Warehouse, table: str, columns: Mapping[str, Kind], key: tuple[str, ...]
) -> None:
    """Create the table with a unique index on `key` if it does not exist (idempotent, and safe
    when two processes race)."""
    warehouse.ensure_table(TableSpec(table, columns, key))


def insert_new_rows(
    warehouse: Warehouse,
    table: str,
    rows: pd.DataFrame,
    columns: Mapping[str, Kind],
    key: tuple[str, ...],
) -> int:
    """Insert the rows whose `key` is not stored yet, in one transaction; the number inserted.

    Rows repeating a key within `rows` keep their first occurrence. Idempotent: writing the same
    rows again inserts 0.
    """
    return warehouse.insert_new(TableSpec(table, columns, key), rows)


def read_rows(warehouse: Warehouse, table: str, where: Sequence[Condition] = ()) -> pd.DataFrame:
    """Rows of `table` where every condition holds, typed as written; an empty frame when the
    table does not exist yet."""
    if not warehouse.table_exists(table):
        return pd.DataFrame()
    return warehouse.frame(Select(table, where=tuple(where)))


def count_rows(warehouse: Warehouse, table: str) -> int:
    return warehouse.count(table)


def rows_missing_from(
    warehouse: Warehouse, table: str, other: str, *, limit: int | None = None
) -> pd.DataFrame:
    """Rows of `table` whose tweet id is not in `other` yet (all of them when `other` does not
    exist): what a new micro-batch still has to classify or extract."""
    if not warehouse.table_exists(table):
        return pd.DataFrame()
    missing = Absent("tweet_id", other)
    return warehouse.frame(Select(table, where=(missing,), order_by=("tweet_id",), limit=limit))
