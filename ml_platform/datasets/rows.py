"""How validation errors point at a row, shared by every loader so messages read the same."""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ml_platform.core.errors import InvalidInputError


@dataclass(frozen=True)
class RowLocator:
    """Names a row by its file line when known, else by its position counted from 1.

    `first_line` suits files read in one piece (line of the first data row: 2 under a header,
    1 without); `line_numbers` gives each row's line where blank lines were skipped; `note` is
    appended to the location (e.g. " (header is line 1)") when the convention needs saying.
    """

    origin: str
    line_numbers: Sequence[int] | None = None
    first_line: int | None = None
    note: str = ""

    def name(self, position: int) -> str:
        if self.line_numbers is not None:
            return f"line {self.line_numbers[position]}"
        if self.first_line is not None:
            return f"line {self.first_line + position}"
        return f"row {position + 1}"

    def error(self, position: int, problem: str) -> InvalidInputError:
        return InvalidInputError(f"{self.origin}: {self.name(position)}{self.note}: {problem}")

    def fail_on_first(self, bad: pd.Series, problem: str, values: pd.Series | None = None) -> None:
        """Raise for the first bad row (its value put in `problem`'s `{value}`), saying how many
        more there are, so one run shows the scale of the problem."""
        positions = np.flatnonzero(bad.to_numpy(dtype=bool))
        if len(positions):
            first = int(positions[0])
            if values is not None:
                problem = problem.format(value=values.iloc[first])
            more = f" ({len(positions) - 1} more row(s) like this)" if len(positions) > 1 else ""
            raise self.error(first, problem + more)

    def numbers(self, values: pd.Series, column: str) -> pd.Series:
        parsed = pd.to_numeric(values, errors="coerce")
        self.fail_on_first(
            parsed.isna(), f"column '{column}' is '{{value}}', expected a number", values
        )
        return parsed.astype("float64")

    def integers(self, values: pd.Series, column: str) -> pd.Series:
        parsed = pd.to_numeric(values.where(values.str.fullmatch(r"-?\d+")), errors="coerce")
        self.fail_on_first(
            parsed.isna(), f"column '{column}' is '{{value}}', expected an integer", values
        )
        return parsed.astype("int64")
