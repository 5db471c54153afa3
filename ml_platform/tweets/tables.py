"""The product's warehouse tables: versioned names and idempotent writes keyed by tweet id.

Names follow the original pipeline (`raw_tweet_dataset_0`, `test_dataset_0`, …): a `prefix`
and a `version` from config, so a new version writes new tables and never touches the old
ones. Golden labels are people's work and belong to no dataset version: one table per prefix.

The stream delivers at least once, so every write of streamed rows is an *insert that ignores
rows whose key is already stored* (`insert_new_rows`): a replayed micro-batch adds nothing, two
overlapping runs add each tweet once. The core Warehouse replaces or appends; this primitive is
the one the stream needs, built on its engine. On PostgreSQL it is COPY into a temporary table,
then `INSERT … SELECT … ON CONFLICT DO NOTHING`, so it keeps COPY's speed.
"""

import io
import uuid

import pandas as pd
import pyarrow as pa
import pyarrow.csv
import sqlalchemy as sa

from ml_platform.core.warehouse import Warehouse

_BIGINT, _TEXT, _FLOAT = sa.BigInteger(), sa.Text(), sa.Double()
_TIME = sa.DateTime(timezone=True)

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
    "is_ai": sa.Boolean(),
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

# Every column name above has one type wherever it appears, so query results are typed by name.
_ALL_COLUMNS = {
    name: kind
    for columns in (
        DEDUPLICATED_COLUMNS, CLASSIFIED_COLUMNS, AI_COLUMNS, URL_COLUMNS, CURSOR_COLUMNS,
        DEAD_LETTER_COLUMNS, GOLDEN_COLUMNS,
    )
    for name, kind in columns.items()
} | {"split": _TEXT}  # fmt: skip


def ensure_table(
    warehouse: Warehouse, table: str, columns: dict[str, sa.types.TypeEngine], key: tuple[str, ...]
) -> sa.Table:
    """Create the table with a unique index on `key` if it does not exist (idempotent, and safe
    when two processes race: both use IF NOT EXISTS)."""
    target = sa.Table(
        table,
        sa.MetaData(schema=warehouse.db_schema),
        *[sa.Column(name, kind) for name, kind in columns.items()],
    )
    with warehouse.engine().begin() as conn:
        if warehouse.db_schema:
            conn.execute(sa.schema.CreateSchema(warehouse.db_schema, if_not_exists=True))
        target.create(conn, checkfirst=True)
        preparer = conn.dialect.identifier_preparer
        index = preparer.quote(f"ux_{uuid.uuid5(uuid.NAMESPACE_DNS, table).hex[:20]}")
        keys = ", ".join(preparer.quote(k) for k in key)
        conn.exec_driver_sql(
            f"CREATE UNIQUE INDEX IF NOT EXISTS {index} ON {preparer.format_table(target)} ({keys})"
        )
    return target


def insert_new_rows(
    warehouse: Warehouse,
    table: str,
    rows: pd.DataFrame,
    columns: dict[str, sa.types.TypeEngine],
    key: tuple[str, ...],
) -> int:
    """Insert the rows whose `key` is not stored yet, in one transaction; the number inserted.

    Rows repeating a key within `rows` keep their first occurrence. Idempotent: writing the same
    rows again inserts 0.
    """
    target = ensure_table(warehouse, table, columns, key)
    frame = rows[list(columns)].drop_duplicates(list(key), keep="first")
    if frame.empty:
        return 0
    with warehouse.engine().begin() as conn:
        if conn.dialect.name == "postgresql":
            return _insert_new_postgres(conn, target, frame, key)
        records = frame.astype(object).where(frame.notna(), None).to_dict("records")
        result = conn.execute(target.insert().prefix_with("OR IGNORE"), records)
        return int(result.rowcount)


def _insert_new_postgres(
    conn: sa.Connection, target: sa.Table, frame: pd.DataFrame, key: tuple[str, ...]
) -> int:
    preparer = conn.dialect.identifier_preparer
    staging = preparer.quote(f"staging_{uuid.uuid4().hex[:12]}")
    columns = ", ".join(preparer.quote(c) for c in frame.columns)
    keys = ", ".join(preparer.quote(k) for k in key)
    conn.exec_driver_sql(
        f"CREATE TEMPORARY TABLE {staging} (LIKE {preparer.format_table(target)}) ON COMMIT DROP"
    )
    buffer = io.BytesIO()
    # Arrow quotes every non-null value and leaves NULLs empty: how COPY tells NULL from ''.
    pyarrow.csv.write_csv(
        pa.Table.from_pandas(_in_utc(frame), preserve_index=False),
        buffer,
        pyarrow.csv.WriteOptions(include_header=False, quoting_style="all_valid"),
    )
    buffer.seek(0)
    with conn.connection.cursor() as cursor:
        cursor.copy_expert(f"COPY {staging} ({columns}) FROM STDIN WITH (FORMAT csv)", buffer)
    result = conn.exec_driver_sql(
        f"INSERT INTO {preparer.format_table(target)} ({columns}) "
        f"SELECT {columns} FROM {staging} ON CONFLICT ({keys}) DO NOTHING"
    )
    return int(result.rowcount)


def _in_utc(frame: pd.DataFrame) -> pd.DataFrame:
    timestamps = frame.select_dtypes(include=["datetime", "datetimetz"]).columns
    return frame.assign(**{c: pd.to_datetime(frame[c], utc=True) for c in timestamps})


def read_rows(
    warehouse: Warehouse, table: str, where: str = "", params: dict | None = None
) -> pd.DataFrame:
    """Rows of `table` (optionally filtered by a SQL `where` over its columns), typed as written;
    an empty frame when the table does not exist yet."""
    if not warehouse.table_exists(table):
        return pd.DataFrame()
    quoted = warehouse.engine().dialect.identifier_preparer.quote(table)
    return query(
        warehouse, f"SELECT * FROM {quoted}" + (f" WHERE {where}" if where else ""), params
    )


def query(warehouse: Warehouse, sql: str, params: dict | None = None) -> pd.DataFrame:
    """An ad-hoc query typed by column name. Not the core's `read_sql`: pandas turns an integer
    column holding NULLs into floats, and a tweet id (~2^61) does not survive a float."""
    with warehouse.engine().connect() as conn:
        result = conn.execute(sa.text(sql), params or {})
        names = list(result.keys())
        rows = result.fetchall()
    columns = list(zip(*rows, strict=True)) if rows else [()] * len(names)
    return pd.DataFrame(
        {name: _typed(name, list(values)) for name, values in zip(names, columns, strict=True)}
    )


def _typed(name: str, values: list) -> object:
    kind = _ALL_COLUMNS.get(name)
    if isinstance(kind, sa.DateTime):
        return pd.to_datetime(pd.Series(values, dtype=object), utc=True, format="mixed")
    if isinstance(kind, sa.Boolean):
        return pd.array([None if v is None else bool(v) for v in values], dtype="boolean")
    if isinstance(kind, sa.BigInteger):
        array = pd.array(values, dtype="Int64")
        return array if array.isna().any() else array.astype("int64")
    if isinstance(kind, sa.Double):
        return pd.array(values, dtype="float64")
    if isinstance(kind, sa.Text):
        return pd.array([None if v is None else str(v) for v in values], dtype="str")
    return pd.Series(values)  # e.g. the weak label table's vote columns: inferred


def count_rows(warehouse: Warehouse, table: str) -> int:
    if not warehouse.table_exists(table):
        return 0
    quoted = warehouse.engine().dialect.identifier_preparer.quote(table)
    with warehouse.engine().connect() as conn:
        return int(conn.exec_driver_sql(f"SELECT COUNT(*) FROM {quoted}").scalar() or 0)


def rows_missing_from(
    warehouse: Warehouse, table: str, other: str, *, limit: int | None = None
) -> pd.DataFrame:
    """Rows of `table` whose tweet id is not in `other` yet (all of them when `other` does not
    exist): what a new micro-batch still has to classify or extract."""
    if not warehouse.table_exists(table):
        return pd.DataFrame()
    quote = warehouse.engine().dialect.identifier_preparer.quote
    sql = f"SELECT t.* FROM {quote(table)} t"
    if warehouse.table_exists(other):
        sql += f" WHERE NOT EXISTS (SELECT 1 FROM {quote(other)} o WHERE o.tweet_id = t.tweet_id)"
    sql += " ORDER BY t.tweet_id"
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    return query(warehouse, sql)
