"""The record schema: which columns a record has and what kind of value each holds.

Matching code looks at column *types*, never at column names, so a new kind of record is a new
YAML file, not new code.
"""

import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from ml_platform.core.errors import InvalidInputError

COLUMN_TYPES = (
    "name", "text", "address", "date", "number", "code",
    "free_text", "list", "phone", "quantity", "event_date",
)  # fmt: skip
_KEYS = (
    "id_column", "id_column_alternatives", "columns", "blocking", "date_format",
    "comparison_groups",
)  # fmt: skip


@dataclass(frozen=True)
class RecordSchema:
    """Columns of a record table; `id_column_alternatives` lets files with another id header load.

    `comparison_groups` names sets of columns that describe one thing (an address's parts) so
    the model weighs them as one piece of evidence.
    """

    id_column: str
    columns: dict[str, str]
    id_column_alternatives: tuple[str, ...] = ()
    blocking: tuple[dict, ...] = ()
    date_format: str = "%Y%m%d"
    comparison_groups: dict[str, list[str]] = field(default_factory=dict)

    def columns_of_type(self, *types: str) -> list[str]:
        """Columns whose type is one of `types`, in schema order."""
        unknown = [t for t in types if t not in COLUMN_TYPES]
        if unknown:
            raise InvalidInputError(
                f"unknown column type(s) {unknown}; expected {list(COLUMN_TYPES)}"
            )
        return [column for column, kind in self.columns.items() if kind in types]


def load_schema(path: str | Path | None = None) -> RecordSchema:
    """Read a schema YAML file; None gives the packaged person schema (FEBRL layout)."""
    if path is None:
        source = resources.files("ml_platform.entity_matching").joinpath("schemas/person.yaml")
        origin, text = "ml_platform/entity_matching/schemas/person.yaml", source.read_text("utf-8")
    else:
        origin = str(path)
        try:
            text = Path(path).read_text("utf-8")
        except OSError as error:
            raise InvalidInputError(
                f"{origin}: cannot read schema file ({error.strerror})"
            ) from error
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise InvalidInputError(f"{origin}: not valid YAML: {error}") from error
    return _schema_from_mapping(raw, origin)


def _schema_from_mapping(raw: Any, origin: str) -> RecordSchema:
    if not isinstance(raw, dict):
        raise InvalidInputError(f"{origin}: expected a mapping with keys {list(_KEYS)}")
    unknown = sorted(set(raw) - set(_KEYS))
    if unknown:
        raise InvalidInputError(
            f"{origin}: unknown key(s) {unknown}; expected some of {list(_KEYS)}"
        )

    id_column = raw.get("id_column")
    if not isinstance(id_column, str) or not id_column.strip():
        raise InvalidInputError(f"{origin}: key 'id_column' must be a non-empty column name")

    columns = raw.get("columns")
    if not isinstance(columns, dict) or not columns:
        raise InvalidInputError(f"{origin}: key 'columns' must map column names to types")
    for column, kind in columns.items():
        if kind not in COLUMN_TYPES:
            raise InvalidInputError(
                f"{origin}: key 'columns.{column}' has type {kind!r}; expected one of "
                f"{list(COLUMN_TYPES)}"
            )
    if id_column in columns:
        raise InvalidInputError(
            f"{origin}: key 'columns' must not list the id column '{id_column}'"
        )

    alternatives = raw.get("id_column_alternatives") or []
    if not isinstance(alternatives, list) or not all(isinstance(a, str) for a in alternatives):
        raise InvalidInputError(f"{origin}: key 'id_column_alternatives' must be a list of names")

    blocking = raw.get("blocking") or []
    if not isinstance(blocking, list) or not all(isinstance(rule, dict) for rule in blocking):
        raise InvalidInputError(f"{origin}: key 'blocking' must be a list of rule mappings")

    date_format = raw.get("date_format", "%Y%m%d")
    if not isinstance(date_format, str) or not _is_digit_date_format(date_format):
        raise InvalidInputError(
            f"{origin}: key 'date_format' is {date_format!r}; expected %Y, %m and %d once each "
            "plus literal separators, e.g. '%Y%m%d'"
        )

    return RecordSchema(
        id_column=id_column.strip(),
        columns={str(column): kind for column, kind in columns.items()},
        id_column_alternatives=tuple(alternatives),
        blocking=tuple(blocking),
        date_format=date_format,
        comparison_groups=_comparison_groups(raw.get("comparison_groups") or {}, columns, origin),
    )


def _comparison_groups(raw: Any, columns: dict, origin: str) -> dict[str, list[str]]:
    """Groups of schema columns; a column in two groups would count as evidence twice."""
    if not isinstance(raw, dict):
        raise InvalidInputError(f"{origin}: key 'comparison_groups' must map names to column lists")
    seen: set[str] = set()
    for name, members in raw.items():
        key = f"{origin}: key 'comparison_groups.{name}'"
        if name in columns:
            raise InvalidInputError(f"{key}: a group must not be named like a column")
        if not isinstance(members, list) or not members:
            raise InvalidInputError(f"{key} must be a non-empty list of columns")
        unknown = [c for c in members if c not in columns]
        if unknown:
            raise InvalidInputError(
                f"{key}: unknown column(s) {unknown}; schema has {list(columns)}"
            )
        if seen & set(members):
            raise InvalidInputError(
                f"{key}: column(s) {sorted(seen & set(members))} already grouped"
            )
        seen |= set(members)
    return {str(name): list(members) for name, members in raw.items()}


def _is_digit_date_format(date_format: str) -> bool:
    """Only all-digit formats: the loader checks a date's shape, so it must know each part's width."""
    directives = re.findall(r"%.", date_format)
    return sorted(directives) == ["%Y", "%d", "%m"]
