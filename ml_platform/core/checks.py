"""Data-quality checks: expectations named as great-expectations names them, run as Dagster
asset checks, evaluated with pandas.

Why pandas and not GE itself: `benchmarks/checks.py` runs every kind below through both on the
same generated tables in one run. On this shared 2-core machine (load ~4.5, two runs) GE 1.24
took 7-13 s to import, which every step process pays again (production runs a process per step),
then 4-38 ms per expectation and 50-140 ms for a suite of all eight kinds on 10,000 rows, warm,
with one ephemeral context reused; this module took under 1.5 ms per expectation and 3-4 ms for
the suite, and imports nothing beyond pandas and Dagster. At 1,000,000 rows the suite took
0.19-0.37 s against GE's 0.45-0.84 s: there the work on the data dominates, not the framework's.
The vocabulary stays GE's (`expect("column_values_to_be_unique", column="id")`, the `type` +
`kwargs` of GE's JSON suites), and so do the figures a result reports (unexpected_count,
unexpected_percent, element_count, observed value), so a suite reads the same either way. GE
expectation objects are accepted too: their configuration is read as a spec, without importing GE
here.

Semantics follow GE's: column-map expectations ignore missing values (except the null check),
`unexpected_percent` is of the non-missing values, `mostly` lets that share of values pass.
"""

import re
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeAlias

import dagster as dg
import numpy as np
import pandas as pd

from ml_platform.core.artifacts import markdown_table
from ml_platform.core.errors import InvalidInputError


@dataclass(frozen=True)
class Expect:
    """An expectation named as in GE's JSON suites: `type` is e.g. `expect_column_values_to_be_unique`."""

    type: str
    kwargs: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        rule = _RULES.get(self.type)
        if rule is None:
            raise InvalidInputError(
                f"expectation '{self.type}' is not supported; one of: {', '.join(sorted(_RULES))}"
            )
        unknown = set(self.kwargs) - rule.kwargs
        if unknown:
            raise InvalidInputError(
                f"expectation '{self.type}' takes {sorted(rule.kwargs)}, not {sorted(unknown)}"
            )


def expect(type: str, /, **kwargs: Any) -> Expect:
    """`expect("column_values_to_be_unique", column="id")`; the `expect_` prefix is optional."""
    return Expect(type if type.startswith("expect_") else f"expect_{type}", kwargs)


# A GE 1.x `Expectation` object (duck-typed: its `.configuration` has `type` and `kwargs`).
ExpectationLike: TypeAlias = "Expect | Any"
Expectations: TypeAlias = Sequence[ExpectationLike]

_DOMAIN_KWARGS = ("column", "column_A", "column_B", "column_list")
_MAX_KWARG_CHARS = 120


@dataclass(frozen=True)
class _Outcome:
    """What one expectation found: either the positions of the unexpected rows among
    `considered` values, or an observed value (table- and aggregate-level expectations)."""

    success: bool
    unexpected: np.ndarray | None = None  # positions in the frame
    considered: int = 0  # values the percentage is of
    observed: Any = None


def run_expectations(
    df: pd.DataFrame, expectations: Expectations, *, sample_rows: int = 5
) -> dg.AssetCheckResult:
    """Validate `df`; passes only if every expectation does.

    The metadata is written for the person who has to fix the data: per expectation a markdown
    line (success, unexpected_count, unexpected_percent, element_count, or the observed value of
    a table-level expectation, or the error, e.g. a missing column) followed by up to
    `sample_rows` of the failing rows themselves, plus an integer `<label> unexpected_count` that
    the UI can chart across runs, and the totals.
    """
    metadata: dict[str, Any] = {}
    failed: list[str] = []
    for expectation in map(_to_spec, expectations):
        label = _unique_label(expectation, metadata)
        text, outcome = _evaluate(df, expectation, sample_rows)
        metadata[label] = dg.MetadataValue.md(text)
        if outcome is not None and outcome.unexpected is not None:
            metadata[f"{label} unexpected_count"] = len(outcome.unexpected)
        if outcome is None or not outcome.success:
            failed.append(label)
    metadata |= {"rows": len(df), "expectations": len(expectations), "failed": len(failed)}
    summary = (
        f"{len(failed)} of {len(expectations)} expectations failed: {', '.join(failed)}"
        if failed
        else f"all {len(expectations)} expectations passed"
    )
    return dg.AssetCheckResult(
        passed=not failed,
        severity=dg.AssetCheckSeverity.ERROR,
        description=summary,
        metadata=metadata,
    )


def expectation_check(
    *,
    asset: dg.AssetsDefinition | dg.AssetKey | str,
    name: str,
    expectations: Expectations | Callable[[], Expectations],
    description: str,
    blocking: bool = False,
    partitions_def: dg.PartitionsDefinition | None = None,
) -> dg.AssetChecksDefinition:
    """An asset check that loads the asset through its IO manager and runs `run_expectations`.

    `expectations` may be a zero-argument callable (e.g. for GE's classes, imported inside it).

    Partitioned assets: the check takes the asset's `partitions_def` (pass `partitions_def` when
    `asset` is only a key), so it validates exactly the partition being materialised. Without it
    Dagster loads *every* partition into an unpartitioned check. Partitioned checks are a
    "preview" feature in Dagster 1.13; its warning is silenced here because this is the only way
    a check sees its own partition.
    """
    if partitions_def is None and isinstance(asset, dg.AssetsDefinition):
        partitions_def = asset.partitions_def

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.PreviewWarning)

        @dg.asset_check(
            asset=asset,
            name=name,
            description=description,
            blocking=blocking,
            partitions_def=partitions_def,
        )
        def _check(value: pd.DataFrame) -> dg.AssetCheckResult:
            return run_expectations(
                value, expectations() if callable(expectations) else expectations
            )

    return _check


# --- the expectations -------------------------------------------------------------------------

_MAP_KWARGS = frozenset({"column", "mostly"})


def _map_outcome(unexpected: np.ndarray, considered: int, mostly: float | None) -> _Outcome:
    allowed = (1.0 - (mostly if mostly is not None else 1.0)) * considered
    return _Outcome(len(unexpected) <= allowed + 1e-9, unexpected, considered)


def _column_map(test: Callable[[pd.Series, Mapping[str, Any]], pd.Series]):
    """A column-map expectation: `test` says which present values are unexpected."""

    def evaluate(df: pd.DataFrame, kwargs: Mapping[str, Any]) -> _Outcome:
        column = df[kwargs["column"]]
        present = column.notna().to_numpy()
        bad = np.zeros(len(column), dtype=bool)
        if present.any():
            bad[present] = np.asarray(test(column[present], kwargs), dtype=bool)
        return _map_outcome(np.flatnonzero(bad), int(present.sum()), kwargs.get("mostly"))

    return evaluate


def _not_null(df: pd.DataFrame, kwargs: Mapping[str, Any]) -> _Outcome:
    missing = df[kwargs["column"]].isna().to_numpy()
    return _map_outcome(np.flatnonzero(missing), len(df), kwargs.get("mostly"))


def _between_mask(values: pd.Series, kwargs: Mapping[str, Any]) -> pd.Series:
    low, high = kwargs.get("min_value"), kwargs.get("max_value")
    bad = pd.Series(False, index=values.index)
    if low is not None:
        bad |= values <= low if kwargs.get("strict_min") else values < low
    if high is not None:
        bad |= values >= high if kwargs.get("strict_max") else values > high
    return bad


def _compound_unique(df: pd.DataFrame, kwargs: Mapping[str, Any]) -> _Outcome:
    """Rows whose combination occurs more than once; rows missing every value are ignored."""
    columns = df[list(kwargs["column_list"])]
    considered = ~columns.isna().all(axis=1).to_numpy()
    bad = columns.duplicated(keep=False).to_numpy() & considered
    return _map_outcome(np.flatnonzero(bad), int(considered.sum()), kwargs.get("mostly"))


def _within(observed: Any, kwargs: Mapping[str, Any]) -> bool:
    low, high = kwargs.get("min_value"), kwargs.get("max_value")
    if observed is None or pd.isna(observed):
        return False
    too_low = low is not None and (observed <= low if kwargs.get("strict_min") else observed < low)
    too_high = high is not None and (
        observed >= high if kwargs.get("strict_max") else observed > high
    )
    return not (too_low or too_high)


def _row_count(df: pd.DataFrame, kwargs: Mapping[str, Any]) -> _Outcome:
    return _Outcome(_within(len(df), kwargs), observed=len(df))


def _column_mean(df: pd.DataFrame, kwargs: Mapping[str, Any]) -> _Outcome:
    mean = df[kwargs["column"]].mean()
    observed = None if pd.isna(mean) else float(mean)
    return _Outcome(_within(observed, kwargs), observed=observed)


@dataclass(frozen=True)
class _Rule:
    evaluate: Callable[[pd.DataFrame, Mapping[str, Any]], _Outcome]
    kwargs: frozenset[str]


_RANGE = frozenset({"min_value", "max_value", "strict_min", "strict_max"})
_RULES: dict[str, _Rule] = {
    "expect_column_values_to_not_be_null": _Rule(_not_null, _MAP_KWARGS),
    "expect_column_values_to_be_unique": _Rule(
        _column_map(lambda values, _: values.duplicated(keep=False)), _MAP_KWARGS
    ),
    "expect_column_values_to_be_in_set": _Rule(
        _column_map(lambda values, kw: ~values.isin(list(kw["value_set"]))),
        _MAP_KWARGS | {"value_set"},
    ),
    "expect_column_values_to_be_between": _Rule(_column_map(_between_mask), _MAP_KWARGS | _RANGE),
    "expect_column_values_to_match_regex": _Rule(
        _column_map(
            lambda values, kw: ~values.astype(str).str.contains(re.compile(kw["regex"]), regex=True)
        ),
        _MAP_KWARGS | {"regex"},
    ),
    "expect_compound_columns_to_be_unique": _Rule(
        _compound_unique, frozenset({"column_list", "mostly"})
    ),
    "expect_table_row_count_to_be_between": _Rule(_row_count, frozenset(_RANGE)),
    "expect_column_mean_to_be_between": _Rule(_column_mean, _RANGE | {"column"}),
}

# What a GE expectation object's configuration carries besides the expectation's own arguments.
_GE_BOOKKEEPING = frozenset(
    {
        "result_format",
        "catch_exceptions",
        "meta",
        "notes",
        "id",
        "description",
        "severity",
        "rendered_content",
        "windows",
        "batch_id",
        "row_condition",
        "condition_parser",
    }
)


def _to_spec(expectation: ExpectationLike) -> Expect:
    if isinstance(expectation, Expect):
        return expectation
    configuration = getattr(expectation, "configuration", None)
    if configuration is None:
        raise InvalidInputError(
            f"{expectation!r} is neither an expect(...) spec nor a GE expectation"
        )
    kwargs = {
        key: value
        for key, value in configuration.kwargs.items()
        if key not in _GE_BOOKKEEPING and value is not None
    }
    return Expect(configuration.type, kwargs)


def _evaluate(
    df: pd.DataFrame, expectation: Expect, sample_rows: int
) -> tuple[str, _Outcome | None]:
    """The markdown for one expectation and what it found (None: it could not be evaluated)."""
    kwargs = ", ".join(
        f"{k}={_truncate(repr(v), _MAX_KWARG_CHARS)}" for k, v in expectation.kwargs.items()
    )
    signature = f"`{expectation.type}` {kwargs}"
    missing = [c for c in _domain_columns(expectation) if c not in df.columns]
    if missing:
        names = ", ".join(f'"{c}"' for c in missing)
        return f"**ERROR**: column {names} not in the table\n\n{signature}", None
    outcome = _RULES[expectation.type].evaluate(df, expectation.kwargs)
    verdict = "passed" if outcome.success else "FAILED"
    if outcome.unexpected is None:
        return f"**{verdict}**: observed value {outcome.observed}\n\n{signature}", outcome
    count = len(outcome.unexpected)
    percent = 100.0 * count / outcome.considered if outcome.considered else 0.0
    lines = [
        (
            f"**{verdict}**: unexpected_count {count}, unexpected_percent {percent:.2f} %, "
            f"element_count {len(df)}"
        ),
        "",
        signature,
    ]
    if not outcome.success and count:
        rows = _failing_rows(df, expectation, outcome.unexpected[:sample_rows])
        lines += ["", markdown_table(rows)]
    return "\n".join(lines), outcome


def _domain_columns(expectation: Expect) -> list[Any]:
    kwargs = expectation.kwargs
    return [
        column
        for key in _DOMAIN_KWARGS
        if key in kwargs
        for column in (kwargs[key] if key == "column_list" else [kwargs[key]])
    ]


def _unique_label(expectation: Expect, taken: Mapping[str, Any]) -> str:
    """`column_values_to_be_unique(id)`: stable across runs so the UI can chart it."""
    label = expectation.type.removeprefix("expect_")
    if columns := _domain_columns(expectation):
        label += f"({', '.join(map(str, columns))})"
    unique, n = label, 1
    while unique in taken:
        n += 1
        unique = f"{label} #{n}"
    return unique


def _failing_rows(df: pd.DataFrame, expectation: Expect, positions: np.ndarray) -> pd.DataFrame:
    """The rows as they are in `df` (its own index, duplicates included), the expectation's
    own columns first."""
    checked = [c for c in _domain_columns(expectation) if c in df.columns]
    rows = df.iloc[positions]
    return rows[[*checked, *(c for c in rows.columns if c not in checked)]]


def _truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
