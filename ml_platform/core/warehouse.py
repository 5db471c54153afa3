"""SQL warehouse for DataFrames: PostgreSQL in production and tests, an SQLite file locally."""

import functools
import hashlib
import io
import os
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dagster as dg
import pandas as pd
import pyarrow as pa
import pyarrow.csv
import sqlalchemy as sa

from ml_platform.core.errors import InvalidInputError

# Rows written for a partition carry its key here, so re-writing it can delete exactly those rows.
PARTITION_COLUMN = "partition_key"


@functools.cache
def _engine(url: str, db_schema: str | None, pid: int) -> sa.Engine:
    """`pid` is part of the cache key: a forked process must not reuse its parent's pooled connections."""
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "postgresql":
        return _postgres_engine(parsed, db_schema)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed)
    raise InvalidInputError(
        f"warehouse URL {parsed}: expected sqlite:///… or postgresql+psycopg2://…"
    )


def _postgres_engine(url: sa.URL, db_schema: str | None) -> sa.Engine:
    # Bulk loads use psycopg2's COPY; SQLAlchemy 2.1 maps a bare postgresql:// to psycopg 3 instead.
    if url.drivername not in ("postgresql", "postgresql+psycopg2"):
        raise InvalidInputError(
            f"warehouse URL {url}: use postgresql+psycopg2://… (COPY needs psycopg2)"
        )
    # search_path lets hand-written SQL name tables without the schema, as on SQLite.
    options = {"options": f"-c search_path={db_schema}"} if db_schema else {}
    # UTF-8 on the wire whatever the server's default: names carry accents, explanations '≥'.
    return sa.create_engine(
        url.set(drivername="postgresql+psycopg2"),
        pool_pre_ping=True,
        connect_args=options,
        client_encoding="utf8",
    )


def _sqlite_engine(url: sa.URL) -> sa.Engine:
    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(url, connect_args={"timeout": 60})

    # pysqlite only opens a transaction before DML, so a CREATE/ALTER would commit on its own and
    # survive a failed write. Emitting BEGIN ourselves makes DDL transactional; IMMEDIATE takes the
    # write lock up front so concurrent writers (multiprocess executor) wait instead of deadlocking.
    @sa.event.listens_for(engine, "connect")
    def _leave_transactions_to_sqlalchemy(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None

    @sa.event.listens_for(engine, "begin")
    def _begin_immediate(connection: sa.Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def _sql_type(dtype: Any) -> sa.types.TypeEngine:
    if pd.api.types.is_bool_dtype(dtype):
        return sa.Boolean()
    if pd.api.types.is_integer_dtype(dtype):
        return sa.BigInteger()
    if pd.api.types.is_float_dtype(dtype):
        return sa.Double()
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return sa.DateTime(timezone=True)
    return sa.Text()


def _in_utc(df: pd.DataFrame) -> pd.DataFrame:
    """Timestamps are stored as UTC (naive ones are taken to be UTC): SQLite keeps no offset at all."""
    columns = df.select_dtypes(include=["datetime", "datetimetz"]).columns
    return df.assign(**{c: pd.to_datetime(df[c], utc=True) for c in columns})


def _restore_dtypes(df: pd.DataFrame, table: sa.Table) -> pd.DataFrame:
    """Drivers return ints with NULLs as floats, SQLite bools as 0/1 and timestamps without offset."""
    restored = {}
    for column in table.columns:
        values = df[column.name]
        if isinstance(column.type, sa.DateTime):
            restored[column.name] = pd.to_datetime(values, utc=True)
        elif isinstance(column.type, sa.Boolean):
            restored[column.name] = values.astype("boolean" if values.isna().any() else bool)
        elif isinstance(column.type, sa.Integer):
            restored[column.name] = values.astype("Int64" if values.isna().any() else "int64")
    return df.assign(**restored)


class Warehouse(dg.ConfigurableResource):
    """Where tables live. Writes are idempotent per partition and atomic, so a retried or failed run
    never leaves duplicated or half-written rows. `db_schema` (PostgreSQL only) isolates deployments
    or tests sharing one database."""

    url: str
    db_schema: str | None = None

    def engine(self) -> sa.Engine:
        """One engine (and connection pool) per URL per process, however often resources are built."""
        return _engine(self.url, self.db_schema, os.getpid())

    def read_sql(self, sql: str, params: dict[str, Any] | None = None) -> pd.DataFrame:
        """Ad-hoc queries; values come back as the driver gives them (use read_table for typed rows)."""
        with self.engine().connect() as conn:
            return pd.read_sql(sa.text(sql), conn, params=params)

    def read_table(self, table: str, partition: str | Sequence[str] | None = None) -> pd.DataFrame:
        """Rows with the dtypes they were written with. One partition comes back without the partition
        column (it is constant); several keep it so rows stay attributable to their partition."""
        with self.engine().connect() as conn:
            target = self._reflect(conn, table)
            query = sa.select(target)
            if isinstance(partition, str):
                query = query.where(target.c[PARTITION_COLUMN] == partition)
            elif partition is not None:
                query = query.where(target.c[PARTITION_COLUMN].in_(list(partition)))
            df = _restore_dtypes(pd.read_sql(query, conn), target)
        return df.drop(columns=PARTITION_COLUMN) if isinstance(partition, str) else df

    def table_exists(self, table: str) -> bool:
        return sa.inspect(self.engine()).has_table(table, schema=self.db_schema)

    def replace_rows(self, table: str, df: pd.DataFrame, partition_key: str | None = None) -> None:
        """Replace one partition's rows (or the whole table when `partition_key` is None) in a single
        transaction: a re-run never duplicates rows and a failure leaves the previous rows intact."""
        rows = _in_utc(
            df if partition_key is None else df.assign(**{PARTITION_COLUMN: partition_key})
        )
        with self.engine().begin() as conn:
            target = self._prepare(conn, table, rows)
            delete = target.delete()
            if partition_key is not None:
                delete = delete.where(target.c[PARTITION_COLUMN] == partition_key)
            conn.execute(delete)
            self._insert(conn, target, rows)

    def append_rows(self, table: str, df: pd.DataFrame) -> None:
        """For landing/operational tables (feedback, labels) where every write is new rows."""
        rows = _in_utc(df)
        with self.engine().begin() as conn:
            self._insert(conn, self._prepare(conn, table, rows), rows)

    def max_value(self, table: str, column: str) -> Any:
        """The cursor of incremental imports (last id / modified_at); None before the first import."""
        if not self.table_exists(table):
            return None
        with self.engine().connect() as conn:
            target = self._reflect(conn, table)
            value = conn.execute(sa.select(sa.func.max(target.c[column]))).scalar()
        if isinstance(value, datetime) and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value

    def column_names(self, table: str) -> list[str]:
        return [c["name"] for c in sa.inspect(self.engine()).get_columns(table, self.db_schema)]

    def ensure_index(self, table: str, columns: Sequence[str]) -> None:
        """An index for lookups by `columns` (anti-joins on ids would otherwise scan per row)."""
        digest = hashlib.sha1(f"{table}:{','.join(columns)}".encode()).hexdigest()[:16]
        name = f"ix_{digest}"
        with self.engine().begin() as conn:
            target = self._reflect(conn, table)
            sa.Index(name, *(target.c[c] for c in columns)).create(conn, checkfirst=True)

    def _reflect(self, conn: sa.Connection, table: str) -> sa.Table:
        return sa.Table(table, sa.MetaData(schema=self.db_schema), autoload_with=conn)

    def _prepare(self, conn: sa.Connection, table: str, df: pd.DataFrame) -> sa.Table:
        """Create the table from the DataFrame's dtypes, or add the columns it lacks; inside the
        caller's transaction, so a failed write also undoes the schema change."""
        wanted = [sa.Column(name, _sql_type(dtype)) for name, dtype in df.dtypes.items()]
        if not sa.inspect(conn).has_table(table, schema=self.db_schema):
            if self.db_schema:
                conn.execute(sa.schema.CreateSchema(self.db_schema, if_not_exists=True))
            target = sa.Table(table, sa.MetaData(schema=self.db_schema), *wanted)
            target.create(conn)
        else:
            target = self._reflect(conn, table)
            preparer = conn.dialect.identifier_preparer
            for column in wanted:
                if column.name not in target.c:
                    conn.exec_driver_sql(
                        f"ALTER TABLE {preparer.format_table(target)} ADD COLUMN "
                        f"{preparer.quote(column.name)} {column.type.compile(conn.dialect)}"
                    )
            target = self._reflect(conn, table)
        if PARTITION_COLUMN in target.c:
            # Hashed: PostgreSQL cuts names at 63 bytes, which long table names would exceed.
            name = f"ix_partition_{hashlib.sha1(table.encode()).hexdigest()[:16]}"
            sa.Index(name, target.c[PARTITION_COLUMN]).create(conn, checkfirst=True)
        return target

    def _insert(self, conn: sa.Connection, target: sa.Table, df: pd.DataFrame) -> None:
        if df.empty:
            return
        if conn.dialect.name == "postgresql":
            _copy_into(conn, target, df)
        else:
            records = df.astype(object).where(df.notna(), None).to_dict("records")
            conn.execute(target.insert(), records)


def _copy_into(conn: sa.Connection, target: sa.Table, df: pd.DataFrame) -> None:
    """Bulk load with COPY, many times faster than INSERTs. Arrow's CSV quotes every non-null value
    and leaves NULLs unquoted and empty, which is exactly how COPY tells NULL from ''."""
    buffer = io.BytesIO()
    pyarrow.csv.write_csv(
        pa.Table.from_pandas(df, preserve_index=False),
        buffer,
        pyarrow.csv.WriteOptions(include_header=False, quoting_style="all_valid"),
    )
    buffer.seek(0)
    preparer = conn.dialect.identifier_preparer
    columns = ", ".join(preparer.quote(str(name)) for name in df.columns)
    sql = f"COPY {preparer.format_table(target)} ({columns}) FROM STDIN WITH (FORMAT csv)"
    with conn.connection.cursor() as cursor:
        cursor.copy_expert(sql, buffer)


def _table_name(definition_metadata: Mapping[str, Any] | None, asset_key: dg.AssetKey) -> str:
    return (definition_metadata or {}).get("table") or asset_key.path[-1]


class WarehouseIOManager(dg.ConfigurableIOManager):
    """DataFrame assets as warehouse tables named after the asset (or its `table` metadata), so
    people and the labelling UI can query them with SQL. Re-materializing a partition replaces it."""

    warehouse: Warehouse

    def handle_output(self, context: dg.OutputContext, obj: pd.DataFrame) -> None:
        table = _table_name(context.definition_metadata, context.asset_key)
        partition = context.asset_partition_key if context.has_asset_partitions else None
        self.warehouse.replace_rows(table, obj, partition)
        qualified = ".".join(filter(None, [self.warehouse.db_schema, table]))
        context.add_output_metadata(
            {"dagster/table_name": qualified, "dagster/row_count": len(obj)}
        )

    def load_input(self, context: dg.InputContext) -> pd.DataFrame:
        upstream = context.upstream_output
        table = _table_name(upstream.definition_metadata if upstream else None, context.asset_key)
        if not context.has_asset_partitions:
            return self.warehouse.read_table(table)
        keys = context.asset_partition_keys
        return self.warehouse.read_table(table, keys[0] if len(keys) == 1 else keys)
