"""How validation errors point at a row, shared by every loader so messages read the same."""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ml_platform.core.errors import InvalidInputError

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


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

    def integers(self, values: pd.Series, column: str, *, minimum: int | None = None) -> pd.Series:
        """64-bit integers; a value outside that range is an error naming it, not a wrap-around
        (pandas parses a 23-digit id as a float, which casts to -9223372036854775808).
        `minimum` (0 for ids) rejects smaller values the same way."""
        text = values.astype("str")
        well_formed = text.str.fullmatch(r"-?\d+").fillna(False).astype(bool)
        self.fail_on_first(
            ~well_formed, f"column '{column}' is '{{value}}', expected an integer", values
        )
        # only a value of 19 digits or more can leave the int64 range; Python's int decides those
        long = np.flatnonzero((text.str.lstrip("-").str.len() >= 19).to_numpy())
        outside = np.zeros(len(text), dtype=bool)
        outside[long] = [not _INT64_MIN <= int(v) <= _INT64_MAX for v in text.iloc[long]]
        self.fail_on_first(
            pd.Series(outside),
            f"column '{column}' is '{{value}}', outside the 64-bit integer range "
            f"({_INT64_MIN} to {_INT64_MAX})",
            values,
        )
        parsed = pd.to_numeric(text).astype("int64")
        if minimum is not None:
            self.fail_on_first(
                parsed < minimum,
                f"column '{column}' is {{value}}, expected {minimum} or more",
                parsed,
            )
        return parsed

    def ids(self, values: pd.Series, column: str) -> pd.Series:
        """Integer ids: 64-bit and never negative."""
        return self.integers(values, column, minimum=0)
