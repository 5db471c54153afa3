"""The warehouse tables the learning app appends behaviour to, and what is new in them.

The app writes rows as it records them (`su_landing_<table>`, the public tables' columns); the
similar-users assets read them whole and the sensor compares their row counts and newest dates
with what the last run saw. Values are read leniently — a date that does not parse becomes
missing, a score that is not a number too — so that the tables' blocking checks, not a crash,
report the rows the app got wrong.
"""

import json

import pandas as pd

from ml_platform.core.errors import InvalidInputError
from ml_platform.core.warehouse import Warehouse
from ml_platform.similar_users.learners import COLUMNS, TABLES, LearnerTables

LANDING_TABLES = {table: f"su_landing_{table}" for table in TABLES}
# The column whose newest value tells new rows apart from re-counted ones (course_tags has none).
DATE_COLUMNS = {
    "course_tags": None,
    "user_assessment_scores": "user_assessment_date",
    "user_course_views": "view_date",
    "user_interests": "date_followed",
}
_NUMBERS = {"user_assessment_score": "float64", "view_time_seconds": "Int64"}


def land_rows(warehouse: Warehouse, table: str, rows: pd.DataFrame) -> None:
    """Append rows to a landing table as the learning app does (tests, demos)."""
    warehouse.append_rows(LANDING_TABLES[table], rows[list(COLUMNS[table])])


def typed(table: str, rows: pd.DataFrame) -> pd.DataFrame:
    """The table's columns with the loader's dtypes; what does not parse becomes missing."""
    out = pd.DataFrame(index=rows.index)
    for column in COLUMNS[table]:
        values = rows[column] if column in rows.columns else pd.Series(None, index=rows.index)
        if column == DATE_COLUMNS[table]:
            out[column] = pd.to_datetime(values, errors="coerce", utc=True, format="mixed")
        elif column in _NUMBERS:
            number = pd.to_numeric(values, errors="coerce")
            out[column] = number.round() if _NUMBERS[column] == "Int64" else number
            out[column] = out[column].astype(_NUMBERS[column])
        else:
            out[column] = values.fillna("").astype("str").str.strip()
    return out.reset_index(drop=True)


def read_landing_tables(warehouse: Warehouse) -> LearnerTables:
    missing = [name for name in LANDING_TABLES.values() if not warehouse.table_exists(name)]
    if missing:
        raise InvalidInputError(
            f"warehouse: landing table(s) {missing} do not exist; the learning app writes them "
            "(or unset from_landing_tables to use generated data)"
        )
    return LearnerTables(
        **{
            table: typed(table, warehouse.read_table(name))
            for table, name in LANDING_TABLES.items()
        }
    )


def watermarks(warehouse: Warehouse) -> dict[str, list] | None:
    """Per landing table its row count and newest date (as text); None while any is missing."""
    marks = {}
    for table, name in LANDING_TABLES.items():
        if not warehouse.table_exists(name):
            return None
        date = DATE_COLUMNS[table]
        newest = None if date is None else warehouse.max_value(name, date)
        marks[table] = [warehouse.count(name), None if newest is None else str(newest)]
    return marks


def cursor_text(marks: dict[str, list]) -> str:
    return json.dumps(marks, sort_keys=True)
