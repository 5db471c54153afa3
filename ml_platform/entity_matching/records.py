"""Record and feedback loaders: validate at the edge so matching code can trust its input.

Values are kept as written (only surrounding whitespace is stripped): spelling errors and
impossible dates are exactly what matching exists to forgive, so they are data, not errors.
Errors are for what would make a record unusable (no id, duplicate id, a date that is not a date
at all) and name the file, the line and the column. File lines count the header as line 1, so the
first record is line 2 (a record with a quoted line break shifts the count after it).
"""

import re
import warnings
from collections.abc import Collection, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ml_platform.core.errors import InvalidInputError
from ml_platform.core.rows import RowLocator
from ml_platform.entity_matching.contract import ID, MODIFIED_AT
from ml_platform.entity_matching.schema import RecordSchema

FEEDBACK_COLUMNS = ("source_id", "target_id", "label")
_LABELS = {"1": 1, "0": 0, "true": 1, "false": 0}
_ISO_DATE = r"([0-9]{4})-([0-9]{2})-([0-9]{2})"


def load_records(path: str | Path, schema: RecordSchema) -> pd.DataFrame:
    """Records from a CSV file (FEBRL's ', ' separators included), validated by `validate_records`."""
    frame, lines = _read_csv(path)
    return validate_records(frame, schema, str(path), line_numbers=lines)


def validate_records(
    df: pd.DataFrame,
    schema: RecordSchema,
    origin: str,
    *,
    line_numbers: Sequence[int] | None = None,
) -> pd.DataFrame:
    """Records as matching expects them: `id`, the schema columns in order, then `modified_at`.

    All values are strings with missing values as NaN (pandas `str` dtype); dates in ISO form
    (YYYY-MM-DD) are rewritten to the schema's format. `origin` names the table or file in error
    messages; `line_numbers` (the file line of each row) makes errors point at file lines,
    otherwise rows are counted from 1.
    """
    rows = _locator(origin, line_numbers)
    found = [str(column).strip() for column in df.columns]
    df = df.set_axis(found, axis=1)
    id_column = next(
        (c for c in (schema.id_column, *schema.id_column_alternatives) if c in found), None
    )
    if id_column is None:
        expected = " or ".join(repr(c) for c in (schema.id_column, *schema.id_column_alternatives))
        raise InvalidInputError(f"{origin}: no id column {expected}; columns found: {found}")
    missing = [column for column in schema.columns if column not in found]
    if missing:
        raise InvalidInputError(
            f"{origin}: column(s) {missing} required by the schema are missing; "
            f"columns found: {found}"
        )

    keep = [id_column, *schema.columns, *([MODIFIED_AT] if MODIFIED_AT in found else [])]
    records = pd.DataFrame({column: _clean(df[column]) for column in keep})
    records = records.rename(columns={id_column: ID}).reset_index(drop=True)

    ids = records[ID]
    rows.fail_on_first(ids.isna(), f"column '{id_column}' is empty; every record needs an id")
    repeated = ids.duplicated(keep="first").to_numpy()
    if repeated.any():
        second = int(np.flatnonzero(repeated)[0])
        first = int(np.flatnonzero((ids == ids.iloc[second]).to_numpy())[0])
        raise rows.error(
            second,
            f"column '{id_column}' repeats id '{ids.iloc[second]}' from {rows.name(first)}; "
            "ids must be unique",
        )

    for column in schema.columns_of_type("date"):
        records[column] = _dates_in_schema_format(records[column], schema.date_format, column, rows)
    return records


def load_feedback(
    path: str | Path,
    source_ids: Collection[str] | None = None,
    target_ids: Collection[str] | None = None,
) -> pd.DataFrame:
    """Labelled pairs from a CSV file `source_id,target_id,label`, validated by `validate_feedback`."""
    frame, lines = _read_csv(path)
    return validate_feedback(frame, str(path), source_ids, target_ids, line_numbers=lines)


def validate_feedback(
    df: pd.DataFrame,
    origin: str,
    source_ids: Collection[str] | None = None,
    target_ids: Collection[str] | None = None,
    *,
    line_numbers: Sequence[int] | None = None,
    withdrawals: bool = False,
) -> pd.DataFrame:
    """Pairs people labelled: label 1 = same person, 0 = different (`true`/`false` accepted).
    With `withdrawals`, an empty label is a person taking their label back (kept as <NA>).

    With `source_ids`/`target_ids`, a pair naming an unknown record is an error: it would train
    the model on a record it can never see. A pair labelled twice keeps its last label, because
    a later row is a person correcting an earlier one.
    """
    rows = _locator(origin, line_numbers)
    found = [str(column).strip() for column in df.columns]
    df = df.set_axis(found, axis=1)
    missing = [column for column in FEEDBACK_COLUMNS if column not in found]
    if missing:
        raise InvalidInputError(
            f"{origin}: column(s) {missing} are missing; expected {list(FEEDBACK_COLUMNS)}, "
            f"columns found: {found}"
        )
    # `modified_at` is kept when present: it is the incremental import's watermark
    kept = [*FEEDBACK_COLUMNS, *(["modified_at"] if "modified_at" in found else [])]
    pairs = pd.DataFrame({column: _clean(df[column]) for column in kept})
    pairs = pairs.reset_index(drop=True)
    for column, known in (("source_id", source_ids), ("target_id", target_ids)):
        rows.fail_on_first(pairs[column].isna(), f"column '{column}' is empty")
        if known is not None:
            rows.fail_on_first(
                ~pairs[column].isin(known),
                f"column '{column}' is '{{value}}', which is not a known "
                f"{column.removesuffix('_id')} id",
                values=pairs[column],
            )
    labels = pairs["label"].str.lower().map(_LABELS)
    refused = labels.isna() & (pairs["label"].notna() if withdrawals else True)
    rows.fail_on_first(
        refused, "column 'label' is '{value}', expected 1, 0, true or false", pairs["label"]
    )
    pairs["label"] = labels.astype("Int64" if withdrawals else "int64")
    return pairs.drop_duplicates(["source_id", "target_id"], keep="last").reset_index(drop=True)


def _read_csv(path: str | Path) -> tuple[pd.DataFrame, np.ndarray]:
    """The file's rows as strings plus each row's file line; blank lines are dropped."""
    if not Path(path).is_file():
        raise InvalidInputError(f"{path}: file not found")
    try:
        with warnings.catch_warnings():
            # A first row longer than the header would silently lose values: make it an error.
            warnings.simplefilter("error", pd.errors.ParserWarning)
            frame = pd.read_csv(
                path,
                dtype=str,
                keep_default_na=False,
                skipinitialspace=True,
                skip_blank_lines=False,  # kept until line numbers are known, then dropped
                index_col=False,  # never take surplus values as an index
                encoding="utf-8",
            )
    except pd.errors.ParserWarning as error:
        raise InvalidInputError(f"{path}: line 2 has more values than the header") from error
    except pd.errors.EmptyDataError as error:
        raise InvalidInputError(f"{path}: file is empty; expected a header line") from error
    except pd.errors.ParserError as error:
        raise InvalidInputError(f"{path}: not a valid CSV file: {error}") from error
    except UnicodeDecodeError as error:
        raise InvalidInputError(f"{path}: not UTF-8 text: {error}") from error
    lines = np.arange(2, len(frame) + 2)
    blank = (frame == "").all(axis=1).to_numpy()  # skipinitialspace already emptied "   "
    frame, lines = frame[~blank], lines[~blank]
    if frame.empty:
        raise InvalidInputError(f"{path}: file has a header but no rows")
    return frame, lines


def _clean(values: pd.Series) -> pd.Series:
    """Strings with surrounding whitespace stripped and empty strings as missing."""
    text = values.astype("str").str.strip()
    return text.mask(text == "")


def _locator(origin: str, line_numbers: Sequence[int] | None) -> RowLocator:
    note = " (header is line 1)" if line_numbers is not None else ""
    return RowLocator(origin, line_numbers=line_numbers, note=note)


def _dates_in_schema_format(
    dates: pd.Series, date_format: str, column: str, rows: RowLocator
) -> pd.Series:
    """Dates of the schema's shape kept as written (even '19450493'), ISO dates rewritten to it."""
    parts = [part for part in re.split(r"(%[Ymd])", date_format) if part]
    groups = {"%Y": "([0-9]{4})", "%m": "([0-9]{2})", "%d": "([0-9]{2})"}
    shaped = dates.str.fullmatch("".join(groups.get(p, re.escape(p)) for p in parts))
    shaped = shaped.fillna(False).astype(bool)
    iso = dates.str.fullmatch(_ISO_DATE).fillna(False).astype(bool) & ~shaped
    readable = date_format.replace("%Y", "YYYY").replace("%m", "MM").replace("%d", "DD")
    rows.fail_on_first(
        dates.notna() & ~shaped & ~iso,
        f"column '{column}' is '{{value}}', expected a date as {readable} or YYYY-MM-DD",
        dates,
    )
    if not iso.any():
        return dates
    year, month, day = (dates[iso].str.extract(_ISO_DATE)[i] for i in range(3))
    pieces = {"%Y": year, "%m": month, "%d": day}
    rewritten = ""
    for part in parts:
        rewritten = rewritten + pieces.get(part, part)
    return dates.mask(iso, rewritten)
