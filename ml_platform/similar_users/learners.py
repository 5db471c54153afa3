"""Learner behaviour: the four tables of the public Pluralsight "similar users" data set, and a
loader and a writer for its CSV files.

The tables, with the columns and dtypes every consumer gets:

- `course_tags`: `course_id:str, course_tags:str` — one row per (course, tag); a course without
  tags has one row with an empty tag (the public file leaves it blank).
- `user_assessment_scores`: `user_handle:str, assessment_tag:str,
  user_assessment_date:datetime64[UTC], user_assessment_score:float64` (0–300, Pluralsight IQ).
- `user_course_views`: `user_handle:str, view_date:datetime64[UTC], course_id:str,
  author_handle:str, level:str, view_time_seconds:int64` — one row per user, course and day.
- `user_interests`: `user_handle:str, interest_tag:str, date_followed:datetime64[UTC]`.

User handles are kept as text: the public data numbers them, other sources may not.

Loading checks what a file can get wrong in itself (columns, numbers, dates, blanks, a score
outside 0–300) and names the file, line and column; whether the values make sense together
(known courses) is left to the warehouse assets' checks, which see every source alike.

The seeded generator of the same tables, with community structure, lives in
`ml_platform.demo_data.learners`.
"""

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ml_platform.core.errors import InvalidInputError
from ml_platform.core.rows import RowLocator
from ml_platform.similar_users.contract import MAX_SCORE, MIN_SCORE

TABLES = ("course_tags", "user_assessment_scores", "user_course_views", "user_interests")
COLUMNS = {
    "course_tags": ("course_id", "course_tags"),
    "user_assessment_scores": (
        "user_handle",
        "assessment_tag",
        "user_assessment_date",
        "user_assessment_score",
    ),
    "user_course_views": (
        "user_handle",
        "view_date",
        "course_id",
        "author_handle",
        "level",
        "view_time_seconds",
    ),
    "user_interests": ("user_handle", "interest_tag", "date_followed"),
}
USER_TABLES = TABLES[1:]
COMMUNITIES_FILE = "user_communities.csv"  # written by the generator only
COMMUNITY_COLUMNS = ("user_handle", "community")  # and the generator's `second_community`
LEVELS = ("Beginner", "Intermediate", "Advanced")


@dataclass(frozen=True)
class LearnerTables:
    """The four tables in the shape described in the module docstring."""

    course_tags: pd.DataFrame
    user_assessment_scores: pd.DataFrame
    user_course_views: pd.DataFrame
    user_interests: pd.DataFrame

    def table(self, name: str) -> pd.DataFrame:
        return getattr(self, name)

    def users(self) -> np.ndarray:
        """Every user handle of the three user tables, sorted."""
        return np.sort(
            pd.concat([self.table(t)["user_handle"] for t in USER_TABLES]).unique().astype(str)
        )


# --- loaders ------------------------------------------------------------------------------


def load_course_tags(path: str | Path) -> pd.DataFrame:
    """`course_tags.csv`; a blank tag is kept as '' (an untagged course), a blank id is an error."""
    frame, rows = _read(Path(path), "course_tags")
    _require_text(rows, frame, "course_id")
    return pd.DataFrame(
        {
            "course_id": frame["course_id"].astype("str"),
            "course_tags": frame["course_tags"].astype("str"),
        }
    )


def load_user_assessment_scores(path: str | Path) -> pd.DataFrame:
    frame, rows = _read(Path(path), "user_assessment_scores")
    for column in ("user_handle", "assessment_tag"):
        _require_text(rows, frame, column)
    return pd.DataFrame(
        {
            "user_handle": frame["user_handle"].astype("str"),
            "assessment_tag": frame["assessment_tag"].astype("str"),
            "user_assessment_date": _dates(rows, frame, "user_assessment_date"),
            "user_assessment_score": _scores(rows, frame),
        }
    )


def load_user_course_views(path: str | Path) -> pd.DataFrame:
    frame, rows = _read(Path(path), "user_course_views")
    for column in ("user_handle", "course_id"):
        _require_text(rows, frame, column)
    return pd.DataFrame(
        {
            "user_handle": frame["user_handle"].astype("str"),
            "view_date": _dates(rows, frame, "view_date"),
            "course_id": frame["course_id"].astype("str"),
            "author_handle": frame["author_handle"].astype("str"),
            "level": frame["level"].astype("str"),
            "view_time_seconds": rows.integers(frame["view_time_seconds"], "view_time_seconds"),
        }
    )


def load_user_interests(path: str | Path) -> pd.DataFrame:
    frame, rows = _read(Path(path), "user_interests")
    for column in ("user_handle", "interest_tag"):
        _require_text(rows, frame, column)
    return pd.DataFrame(
        {
            "user_handle": frame["user_handle"].astype("str"),
            "interest_tag": frame["interest_tag"].astype("str"),
            "date_followed": _dates(rows, frame, "date_followed"),
        }
    )


_LOADERS = {
    "course_tags": load_course_tags,
    "user_assessment_scores": load_user_assessment_scores,
    "user_course_views": load_user_course_views,
    "user_interests": load_user_interests,
}


def load_learners(directory: str | Path) -> LearnerTables:
    """The four `<table>.csv` files of a folder (the public data set's names)."""
    directory = Path(directory)
    if not directory.is_dir():
        raise InvalidInputError(f"{directory}: not a folder holding {', '.join(TABLES)} CSVs")
    return LearnerTables(**{name: _LOADERS[name](directory / f"{name}.csv") for name in TABLES})


def load_communities(directory: str | Path) -> pd.DataFrame | None:
    """The generator's `user_communities.csv` (every column kept), or None for data that has no
    community labels. Checked here, before any training: the evaluation reads both columns
    only after the models are trained."""
    path = Path(directory) / COMMUNITIES_FILE
    if not path.is_file():
        return None
    frame, rows = _read(path, COMMUNITIES_FILE, COMMUNITY_COLUMNS, keep_other_columns=True)
    for column in COMMUNITY_COLUMNS:
        _require_text(rows, frame, column)
    return frame


def write_learners(
    directory: str | Path, tables: LearnerTables, communities: pd.DataFrame | None = None
) -> dict[str, Path]:
    """Write the four tables (and the community labels, when given) as the public CSVs are
    written: header, dates as `YYYY-MM-DD HH:MM:SS`."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name in TABLES:
        frame = tables.table(name).copy()
        for column in frame.select_dtypes(include=["datetime", "datetimetz"]).columns:
            frame[column] = frame[column].dt.strftime("%Y-%m-%d %H:%M:%S")
        paths[name] = directory / f"{name}.csv"
        frame.to_csv(paths[name], index=False)
    if communities is not None:
        paths["communities"] = directory / COMMUNITIES_FILE
        communities.to_csv(paths["communities"], index=False)
    return paths


def _read(
    path: Path,
    table: str,
    expected: tuple[str, ...] | None = None,
    keep_other_columns: bool = False,
) -> tuple[pd.DataFrame, RowLocator]:
    """All values as stripped strings under the expected header (`COLUMNS[table]` unless
    given); other columns are dropped unless kept."""
    if not path.is_file():
        raise InvalidInputError(f"{path}: file not found (expected the {table} table)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", pd.errors.ParserWarning)
            frame = pd.read_csv(
                path, dtype=str, keep_default_na=False, index_col=False, encoding="utf-8"
            )
    except pd.errors.EmptyDataError:
        raise InvalidInputError(f"{path}: file is empty") from None
    except (pd.errors.ParserError, pd.errors.ParserWarning) as error:
        raise InvalidInputError(f"{path}: a line has more fields than expected: {error}") from None
    except UnicodeDecodeError as error:
        raise InvalidInputError(f"{path}: not UTF-8 text: {error}") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    expected = list(expected or COLUMNS[table])
    missing = [c for c in expected if c not in frame.columns]
    if missing:
        raise InvalidInputError(
            f"{path}: column(s) {missing} are missing; expected {expected}, "
            f"columns found: {list(frame.columns)}"
        )
    if not keep_other_columns:
        frame = frame[expected]
    frame = frame.apply(lambda column: column.str.strip())
    return frame, RowLocator(str(path), first_line=2)


def _require_text(rows: RowLocator, frame: pd.DataFrame, column: str) -> None:
    rows.fail_on_first(frame[column] == "", f"column '{column}' is empty")


def _scores(rows: RowLocator, frame: pd.DataFrame) -> pd.Series:
    """Assessment scores, on the 0–300 scale the contract (and POST /score) states."""
    column = "user_assessment_score"
    scores = rows.numbers(frame[column], column)
    rows.fail_on_first(
        (scores < MIN_SCORE) | (scores > MAX_SCORE),
        f"column '{column}' is '{{value}}', expected a score from {MIN_SCORE:g} to {MAX_SCORE:g}",
        frame[column],
    )
    return scores


def _dates(rows: RowLocator, frame: pd.DataFrame, column: str) -> pd.Series:
    """Dates or date-times as the public files write them; naive ones are taken as UTC."""
    values = frame[column]
    parsed = pd.to_datetime(values, errors="coerce", utc=True, format="mixed")
    rows.fail_on_first(
        parsed.isna(), f"column '{column}' is '{{value}}', expected a date (YYYY-MM-DD…)", values
    )
    return parsed
