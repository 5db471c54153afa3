"""SQL warehouse for DataFrames: PostgreSQL in production and tests, an SQLite file locally.

The only module that speaks SQL or touches SQLAlchemy (`ml_platform_tests/core/
test_sql_only_in_warehouse.py` enforces it). Callers describe what they want with small typed
values and get DataFrames or rows back:

- tables: `TableSpec` (columns of a `Kind`, a unique `key`, indexes), `ensure_table`;
- reads: `Select` (columns, `where` conditions, an inner `Join`, order, limit) for `frame`
  (typed DataFrame) and `rows` (dicts with exact Python values); `count`, `count_by`,
  `count_by_bucket` (the database groups, only the counts travel), `max_value`;
- writes: `replace_rows` (a partition or the table, atomically), `append_rows`, `insert_new`
  (rows whose key is not stored yet: what an at-least-once stream needs), `insert_row` and
  `update` for small operational tables (sessions, labels). PostgreSQL bulk writes use COPY.

Timestamps are UTC everywhere: written as UTC (a naive value is taken to be UTC; SQLite keeps
no offset at all), bound as UTC in conditions, and read back timezone-aware in UTC.
"""

import functools
import hashlib
import io
import operator
import os
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

import dagster as dg
import pandas as pd
import pyarrow as pa
import pyarrow.csv
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from ml_platform.core.errors import InvalidInputError

# Rows written for a partition carry its key here, so re-writing it can delete exactly those rows.
PARTITION_COLUMN = "partition_key"


class WarehouseError(RuntimeError):
    """The database refused a statement (e.g. no permission to create an index); the message
    carries the database's own."""


# tables ---------------------------------------------------------------------------------------


class Kind(StrEnum):
    """The column types tables are declared with; one vocabulary on SQLite and PostgreSQL."""

    BIGINT = "bigint"
    DOUBLE = "double"
    TEXT = "text"
    BOOLEAN = "boolean"
    TIMESTAMP = "timestamp"  # with time zone; always UTC


_KIND_TYPES: dict[Kind, sa.types.TypeEngine] = {
    Kind.BIGINT: sa.BigInteger(),
    Kind.DOUBLE: sa.Double(),
    Kind.TEXT: sa.Text(),
    Kind.BOOLEAN: sa.Boolean(),
    Kind.TIMESTAMP: sa.DateTime(timezone=True),
}
# SQLite only auto-increments an INTEGER primary key; PostgreSQL gets a BIGINT identity.
_SERIAL = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


@dataclass(frozen=True)
class TableSpec:
    """A table declared by its owner. `key` columns are unique together (and what `insert_new`
    skips rows by); `required` columns are NOT NULL; `serial_id` adds an auto-incrementing
    integer primary key `id` before the columns, which `insert_row` returns."""

    name: str
    columns: Mapping[str, Kind]
    key: tuple[str, ...] = ()
    required: tuple[str, ...] = ()
    serial_id: bool = False
    indexes: tuple[tuple[str, ...], ...] = ()

    def __post_init__(self) -> None:
        unknown = [
            c
            for c in (*self.key, *self.required, *(c for i in self.indexes for c in i))
            if c not in self.columns and not (self.serial_id and c == "id")
        ]
        if unknown:
            raise InvalidInputError(f"table {self.name}: {unknown} are not among its columns")


# queries --------------------------------------------------------------------------------------

_COMPARISONS: dict[str, Callable[[Any, Any], Any]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


@dataclass(frozen=True)
class Compare:
    """`column <op> value`, the value bound as a parameter (a datetime as UTC)."""

    column: str
    op: Literal["==", "!=", "<", "<=", ">", ">="]
    value: Any


@dataclass(frozen=True)
class IsNull:
    column: str


@dataclass(frozen=True)
class Blank:
    """NULL, or text that is empty once spaces are trimmed."""

    column: str


@dataclass(frozen=True)
class OneOf:
    """`column` is one of `values`, or one of the values a one-column `Select` returns (a
    semi-join, for id sets too large to send as parameters)."""

    column: str
    values: "Sequence[Any] | Select"


@dataclass(frozen=True)
class _Correlated:
    """Rows of another `table` (those its `where` keeps) with this row's values of `column` in
    its `other_column` (default: the same names); one name or several, compared pairwise.
    Against a text column of the other table this row's value compares as text, NULL as '':
    how a record of ids of any type (entity matching's import batches) writes them down."""

    column: str | tuple[str, ...]
    table: str
    other_column: str | tuple[str, ...] | None = None
    where: "tuple[Condition, ...]" = ()


@dataclass(frozen=True)
class Absent(_Correlated):
    """No such row: NOT EXISTS, an anti-join. Holds for every row when `table` does not exist
    yet."""


@dataclass(frozen=True)
class Present(_Correlated):
    """At least one such row: EXISTS, a semi-join (no row is repeated, unlike a join). Holds for
    no row when `table` does not exist yet."""


@dataclass(frozen=True)
class AnyOf:
    """At least one of the conditions holds."""

    conditions: "tuple[Condition, ...]"


Condition = Compare | IsNull | Blank | OneOf | Absent | Present | AnyOf


@dataclass(frozen=True)
class Join:
    """An inner join on columns of the same name; `columns` are added to the result, `where`
    filters the joined table's rows."""

    table: str
    on: tuple[str, ...]
    columns: tuple[str, ...] = ()
    where: tuple[Condition, ...] = ()


@dataclass(frozen=True)
class Select:
    """Rows of `table`: `columns` (every column when empty) where every condition holds, sorted
    by `order_by` (a name, or "-name" for descending) and cut at `limit`."""

    table: str
    columns: tuple[str, ...] = ()
    where: tuple[Condition, ...] = ()
    join: Join | None = None
    order_by: tuple[str, ...] = ()
    limit: int | None = None
    distinct: bool = False
    as_text: bool = False  # every column read as text, NULL as '' (ids of any type, one way)


# engines --------------------------------------------------------------------------------------


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


# values ---------------------------------------------------------------------------------------


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


def _utc(value: Any) -> Any:
    """A datetime as an aware UTC datetime (naive ones were written as UTC); others unchanged."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return value


def _typed(values: list[Any], kind: sa.types.TypeEngine) -> Any:
    """One result column with the dtype its SQL type was written from. Built from the driver's
    values, not by pandas' read_sql, which turns an integer column holding NULLs into floats:
    a tweet id (~2^61) does not survive a float."""
    if isinstance(kind, sa.DateTime):
        return pd.to_datetime(pd.Series(values, dtype=object), utc=True, format="mixed")
    if isinstance(kind, sa.Boolean):
        has_null = any(v is None for v in values)
        if has_null:
            return pd.array([None if v is None else bool(v) for v in values], dtype="boolean")
        return pd.array([bool(v) for v in values], dtype=bool)
    if isinstance(kind, sa.Integer):
        array = pd.array(values, dtype="Int64")
        return array if array.isna().any() else array.astype("int64")
    if isinstance(kind, sa.Float | sa.Numeric):
        return pd.array([None if v is None else float(v) for v in values], dtype="float64")
    if isinstance(kind, sa.String):
        return pd.array([None if v is None else str(v) for v in values], dtype="str")
    return pd.Series(values, dtype=object)


def _as_text(column: sa.ColumnElement) -> sa.ColumnElement:
    """The value as the database writes it as text (an integer id 10 as '10'), NULL as ''."""
    return sa.func.coalesce(sa.cast(column, sa.Text), "")


def _bindable(value: Any) -> Any:
    """Bound datetimes must be UTC: SQLite compares the stored UTC text with the value's text."""
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    return _utc(value)


def _index_name(prefix: str, table: str, columns: Sequence[str]) -> str:
    # Hashed: PostgreSQL cuts names at 63 bytes, which long table names would exceed.
    digest = hashlib.sha1(f"{table}:{','.join(columns)}".encode()).hexdigest()[:16]
    return f"{prefix}_{digest}"


def _unique_index_name(table: str) -> str:
    """The name tweets' tables were created with before this module declared them: kept, so
    existing tables are not given a second unique index."""
    return f"ux_{uuid.uuid5(uuid.NAMESPACE_DNS, table).hex[:20]}"


# the warehouse --------------------------------------------------------------------------------


class Warehouse(dg.ConfigurableResource):
    """Where tables live. Writes are idempotent per partition and atomic, so a retried or failed run
    never leaves duplicated or half-written rows. `db_schema` (PostgreSQL only) isolates deployments
    or tests sharing one database."""

    url: str
    db_schema: str | None = None

    def engine(self) -> sa.Engine:
        """One engine (and connection pool) per URL per process, however often resources are
        built. For tests and this module only: product code goes through the methods below."""
        return _engine(self.url, self.db_schema, os.getpid())

    # reads -------------------------------------------------------------------------------------

    def read_sql(self, sql: str, params: dict[str, Any] | None = None) -> pd.DataFrame:
        """Ad-hoc SQL, for tests and operators at a prompt; values come back as the driver gives
        them. Product code describes its queries with `Select` (`frame`/`rows`)."""
        with self.engine().connect() as conn:
            return pd.read_sql(sa.text(sql), conn, params=params)

    def frame(self, select: Select) -> pd.DataFrame:
        """The rows as a DataFrame, each column with the dtype it was written with (ints stay
        exact, NULLs in ints give Int64, timestamps are UTC, text is `str`)."""
        with self.engine().connect() as conn:
            query = self._compile(conn, select)
            result = conn.execute(query)
            rows = result.fetchall()
        names = [c.name for c in query.selected_columns]
        kinds = [c.type for c in query.selected_columns]
        columns = list(zip(*rows, strict=True)) if rows else [()] * len(names)
        return pd.DataFrame(
            {
                name: _typed(list(values), kind)
                for name, kind, values in zip(names, kinds, columns, strict=True)
            },
            columns=names,
        )

    def rows(self, select: Select) -> list[dict[str, Any]]:
        """The rows as dicts of Python values (ids exact ints; timestamps aware, in UTC)."""
        with self.engine().connect() as conn:
            result = conn.execute(self._compile(conn, select)).mappings()
            return [{k: _utc(v) for k, v in row.items()} for row in result]

    def read_table(self, table: str, partition: str | Sequence[str] | None = None) -> pd.DataFrame:
        """Rows with the dtypes they were written with. One partition comes back without the partition
        column (it is constant); several keep it so rows stay attributable to their partition."""
        where: tuple[Condition, ...] = ()
        if isinstance(partition, str):
            where = (Compare(PARTITION_COLUMN, "==", partition),)
        elif partition is not None:
            where = (OneOf(PARTITION_COLUMN, list(partition)),)
        df = self.frame(Select(table, where=where))
        return df.drop(columns=PARTITION_COLUMN) if isinstance(partition, str) else df

    def table_exists(self, table: str) -> bool:
        return sa.inspect(self.engine()).has_table(table, schema=self.db_schema)

    def column_names(self, table: str) -> list[str]:
        return [c["name"] for c in sa.inspect(self.engine()).get_columns(table, self.db_schema)]

    def count(self, select: Select | str) -> int:
        """Rows of a table (a name) or of a query; 0 when the table does not exist yet."""
        select = Select(select) if isinstance(select, str) else select
        if not self.table_exists(select.table):
            return 0
        with self.engine().connect() as conn:
            query = self._compile(conn, select)
            counted = sa.select(sa.func.count()).select_from(query.subquery())
            return int(conn.execute(counted).scalar() or 0)

    def count_by(self, select: Select, column: str, top: int | None = None) -> pd.DataFrame:
        """Rows per value of `column` (`column`, `n`), most frequent first, ties by value."""
        with self.engine().connect() as conn:
            query = self._compile(conn, select)
            grouped = query.subquery()
            n = sa.func.count().label("n")
            counted = (
                sa.select(grouped.c[column], n)
                .group_by(grouped.c[column])
                .order_by(n.desc(), grouped.c[column])
                .limit(top)
            )
            rows = conn.execute(counted).fetchall()
        return pd.DataFrame(
            {
                column: _typed([r[0] for r in rows], grouped.c[column].type),
                "n": pd.array([int(r[1]) for r in rows], dtype="int64"),
            }
        )

    def count_by_bucket(self, select: Select, column: str, seconds: int) -> pd.Series:
        """Rows per `seconds`-long bucket of the timestamp `column`, counted by the database so
        only the counts travel: a Series from bucket start (UTC) to rows, buckets without rows
        absent."""
        seconds = int(seconds)
        if seconds < 1:
            raise InvalidInputError(f"bucket of {seconds} s, expected 1 or more")
        with self.engine().connect() as conn:
            rows = self._compile(conn, replace(select, columns=(column,))).subquery()
            if conn.dialect.name == "sqlite":  # UTC text, which strftime('%s') reads
                epoch = sa.cast(sa.func.strftime("%s", rows.c[column]), sa.Integer)
                bucket = (epoch // seconds).label("bucket")  # `/` is true division in SQLAlchemy 2
            else:  # date_part is double precision: EXTRACT's numeric counted 1.7 times slower
                bucket = sa.func.floor(sa.func.date_part("epoch", rows.c[column]) / seconds)
                bucket = bucket.label("bucket")
            counted = sa.select(bucket, sa.func.count().label("n")).group_by(bucket)
            found = conn.execute(counted).fetchall()
        return pd.Series(
            [int(n) for _, n in found],
            index=pd.to_datetime([int(b) * seconds for b, _ in found], unit="s", utc=True),
            dtype="int64",
        ).sort_index()

    def max_value(self, table: str, column: str, where: Sequence[Condition] = ()) -> Any:
        """The cursor of incremental imports (last id / modified_at); None before the first import."""
        if not self.table_exists(table):
            return None
        with self.engine().connect() as conn:
            rows = self._compile(conn, Select(table, (column,), tuple(where))).subquery()
            return _utc(conn.execute(sa.select(sa.func.max(rows.c[column]))).scalar())

    # writes ------------------------------------------------------------------------------------

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

    def ensure_table(self, spec: TableSpec) -> None:
        """Create the table, its unique key and indexes if missing (idempotent, and safe when two
        processes race: both create IF NOT EXISTS). A transaction of its own: on PostgreSQL,
        creating an index locks the table against writers until commit."""
        with self.engine().begin() as conn:
            if self.db_schema:
                conn.execute(sa.schema.CreateSchema(self.db_schema, if_not_exists=True))
            target = self._declared(spec)
            conn.execute(sa.schema.CreateTable(target, if_not_exists=True))
            indexes = [(_unique_index_name(spec.name), spec.key, True)] if spec.key else []
            indexes += [(_index_name("ix", spec.name, c), c, False) for c in spec.indexes]
            for name, columns, unique in indexes:
                index = sa.Index(name, *(target.c[c] for c in columns), unique=unique)
                conn.execute(sa.schema.CreateIndex(index, if_not_exists=True))

    def insert_new(self, spec: TableSpec, rows: pd.DataFrame) -> int:
        """Insert the rows whose `spec.key` is not stored yet, in one transaction; the number
        inserted. Rows repeating a key within `rows` keep their first occurrence. Idempotent:
        writing the same rows again inserts 0. On PostgreSQL: COPY into a temporary table, then
        INSERT … SELECT … ON CONFLICT DO NOTHING, so it keeps COPY's speed."""
        if not spec.key:
            raise InvalidInputError(f"table {spec.name}: insert_new needs a key")
        missing = [c for c in spec.columns if c not in rows.columns]
        if missing:
            raise InvalidInputError(f"rows for {spec.name} lack column(s) {missing}")
        frame = _in_utc(rows[list(spec.columns)].drop_duplicates(list(spec.key), keep="first"))
        self.ensure_table(spec)
        if frame.empty:
            return 0
        target = self._declared(spec)
        with self.engine().begin() as conn:
            if conn.dialect.name == "postgresql":
                return _insert_new_postgres(conn, target, frame, spec.key)
            result = conn.execute(target.insert().prefix_with("OR IGNORE"), _records(frame))
            return int(result.rowcount)

    def insert_row(self, spec: TableSpec, values: Mapping[str, Any]) -> int | None:
        """Insert one row into a table `ensure_table` created; its `id` when `spec.serial_id`."""
        target = self._declared(spec)
        with self.engine().begin() as conn:
            statement = target.insert().values({k: _bindable(v) for k, v in values.items()})
            if not spec.serial_id:
                conn.execute(statement)
                return None
            return int(conn.execute(statement.returning(target.c.id)).scalar_one())

    def update(self, table: str, values: Mapping[str, Any], where: Sequence[Condition]) -> int:
        """Set `values` on the rows where every condition holds; how many rows changed."""
        if not where:
            raise InvalidInputError(f"update of {table} without a condition would change every row")
        with self.engine().begin() as conn:
            target = self._reflect(conn, table)
            statement = (
                target.update()
                .where(*(self._condition(conn, target, c) for c in where))
                .values({k: _bindable(v) for k, v in values.items()})
            )
            return int(conn.execute(statement).rowcount)

    def ensure_index(self, table: str, columns: Sequence[str]) -> None:
        """An index for lookups by `columns` (anti-joins on ids would otherwise scan per row)."""
        try:
            with self.engine().begin() as conn:
                target = self._reflect(conn, table)
                indexed = [self._column(target, c) for c in columns]
                index = sa.Index(_index_name("ix", table, columns), *indexed)
                index.create(conn, checkfirst=True)
        except sa.exc.DBAPIError as error:
            raise WarehouseError(f"index on {table} {list(columns)}: {error.orig}") from error

    # plumbing ----------------------------------------------------------------------------------

    def _reflect(self, conn: sa.Connection, table: str) -> sa.Table:
        """The table's columns and types (one catalog query, not a full reflection)."""
        try:
            columns = sa.inspect(conn).get_columns(table, schema=self.db_schema)
        except sa.exc.NoSuchTableError:
            columns = []
        if not columns:
            raise InvalidInputError(f"table {table} does not exist in the warehouse")
        return sa.Table(
            table,
            sa.MetaData(schema=self.db_schema),
            *(sa.Column(c["name"], c["type"]) for c in columns),
        )

    def _column(self, target: sa.Table | sa.Subquery, name: str) -> sa.ColumnElement:
        if name not in target.c:
            raise InvalidInputError(
                f"table {target.name} has no column '{name}' (it has {list(target.c.keys())})"
            )
        return target.c[name]

    def _compile(self, conn: sa.Connection, select: Select) -> sa.Select:
        main = self._reflect(conn, select.table)
        chosen = [self._column(main, c) for c in select.columns] or list(main.c)
        other = None
        if select.join is not None:
            other = self._reflect(conn, select.join.table)
            chosen += [self._column(other, c) for c in select.join.columns]
        if select.as_text:
            chosen = [_as_text(c).label(c.name) for c in chosen]
        query = sa.select(*chosen)
        if other is not None and select.join is not None:
            on = [self._column(main, c) == self._column(other, c) for c in select.join.on]
            query = query.select_from(main.join(other, sa.and_(*on)))
            query = query.where(*(self._condition(conn, other, c) for c in select.join.where))
        else:
            query = query.select_from(main)
        query = query.where(*(self._condition(conn, main, c) for c in select.where))
        if select.distinct:
            query = query.distinct()
        named = {c.name: c for c in chosen}
        for name in select.order_by:
            bare = name.removeprefix("-")
            column = named[bare] if bare in named else self._column(main, bare)
            query = query.order_by(column.desc() if name.startswith("-") else column)
        return query.limit(select.limit) if select.limit is not None else query

    def _condition(
        self, conn: sa.Connection, target: sa.Table, condition: Condition
    ) -> sa.ColumnElement[bool]:
        match condition:
            case Compare(column, op, value):
                if op not in _COMPARISONS:
                    raise InvalidInputError(f"comparison '{op}', expected one of {_COMPARISONS}")
                return _COMPARISONS[op](self._column(target, column), _bindable(value))
            case IsNull(column):
                return self._column(target, column).is_(None)
            case Blank(column):
                values = self._column(target, column)
                return sa.or_(values.is_(None), sa.func.trim(values) == "")
            case OneOf(column, Select() as inner):
                return self._column(target, column).in_(self._compile(conn, inner))
            case OneOf(column, values):
                return self._column(target, column).in_([_bindable(v) for v in values])
            case Absent() | Present():
                if not sa.inspect(conn).has_table(condition.table, schema=self.db_schema):
                    return sa.true() if isinstance(condition, Absent) else sa.false()
                found = sa.exists().where(*self._correlation(conn, target, condition))
                return ~found if isinstance(condition, Absent) else found
            case AnyOf(conditions):
                return sa.or_(*(self._condition(conn, target, c) for c in conditions))
        raise InvalidInputError(f"not a warehouse condition: {condition!r}")

    def _correlation(
        self, conn: sa.Connection, target: sa.Table, condition: _Correlated
    ) -> list[sa.ColumnElement[bool]]:
        """The conditions on the other table's rows: its columns equal to this row's, and its own
        `where`."""
        other = self._reflect(conn, condition.table).alias(f"{condition.table}_correlated")
        mine = (condition.column,) if isinstance(condition.column, str) else condition.column
        theirs = condition.other_column or mine
        theirs = (theirs,) if isinstance(theirs, str) else theirs
        if len(theirs) != len(mine):
            raise InvalidInputError(f"columns {mine} compared with {theirs}: not one for one")
        matches = []
        for name, other_name in zip(mine, theirs, strict=True):
            value: sa.ColumnElement = self._column(target, name)
            recorded = self._column(other, other_name)
            if isinstance(recorded.type, sa.String):
                value = _as_text(value)
            matches.append(recorded == value)
        return matches + [self._condition(conn, other, c) for c in condition.where]

    def _declared(self, spec: TableSpec) -> sa.Table:
        """The table as its owner declared it (no database round trip)."""
        columns = [sa.Column("id", _SERIAL, primary_key=True, autoincrement=True)] * spec.serial_id
        columns += [
            sa.Column(name, _KIND_TYPES[Kind(kind)], nullable=name not in spec.required)
            for name, kind in spec.columns.items()
        ]
        return sa.Table(spec.name, sa.MetaData(schema=self.db_schema), *columns)

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
            name = f"ix_partition_{hashlib.sha1(table.encode()).hexdigest()[:16]}"
            sa.Index(name, target.c[PARTITION_COLUMN]).create(conn, checkfirst=True)
        return target

    def _insert(self, conn: sa.Connection, target: sa.Table, df: pd.DataFrame) -> None:
        if df.empty:
            return
        if conn.dialect.name == "postgresql":
            _copy_into(conn, target, df)
        else:
            conn.execute(target.insert(), _records(df))


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    return df.astype(object).where(df.notna(), None).to_dict("records")


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


def _insert_new_postgres(
    conn: sa.Connection, target: sa.Table, frame: pd.DataFrame, key: tuple[str, ...]
) -> int:
    """COPY into a temporary table dropped at commit, then insert what conflicts with nothing."""
    staging = sa.Table(
        f"staging_{uuid.uuid4().hex[:12]}",
        sa.MetaData(),
        *(sa.Column(c.name, c.type) for c in target.columns),
    )
    preparer = conn.dialect.identifier_preparer
    conn.exec_driver_sql(
        f"CREATE TEMPORARY TABLE {preparer.format_table(staging)} "
        f"(LIKE {preparer.format_table(target)}) ON COMMIT DROP"
    )
    _copy_into(conn, staging, frame)
    names = list(frame.columns)
    statement = (
        postgresql.insert(target)
        .from_select(names, sa.select(*(staging.c[c] for c in names)))
        .on_conflict_do_nothing(index_elements=list(key))
    )
    return int(conn.execute(statement).rowcount)


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
