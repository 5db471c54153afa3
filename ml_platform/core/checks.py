"""Data-quality checks: great-expectations 1.x expectations run as Dagster asset checks.

`dagster-ge` pins great-expectations < 1, so this module drives GE 1.x directly. GE is imported
only when a check runs: the import takes seconds, and loading the code location (every
`dagster dev`, every run worker, every CLI call) must not pay for it. That is also why
expectations can be given as `expect(...)` specs, the `type` + `kwargs` of GE's own JSON suites,
which become GE objects only at run time.
"""

import functools
import os
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeAlias

import dagster as dg
import pandas as pd

from ml_platform.core.artifacts import markdown_table

if TYPE_CHECKING:
    from great_expectations.core.batch_definition import BatchDefinition
    from great_expectations.core.expectation_validation_result import (
        ExpectationValidationResult,
    )
    from great_expectations.expectations import Expectation


@dataclass(frozen=True)
class Expect:
    """An expectation named as in GE's JSON suites, so defining it needs no GE import."""

    type: str
    kwargs: Mapping[str, Any] = field(default_factory=dict)


def expect(type: str, /, **kwargs: Any) -> Expect:
    """`expect("column_values_to_be_unique", column="id")`; the `expect_` prefix is optional."""
    return Expect(type if type.startswith("expect_") else f"expect_{type}", kwargs)


ExpectationLike: TypeAlias = "Expectation | Expect"
Expectations: TypeAlias = Sequence[ExpectationLike]

_DOMAIN_KWARGS = ("column", "column_A", "column_B", "column_list")
_MAX_KWARG_CHARS = 120


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
    # Validating a RangeIndex view makes GE's unexpected index list positional, so samples can
    # be taken with iloc whatever the frame's own index is (duplicates included). Copy-on-write
    # (pandas >= 3) makes this view free.
    batch = _batch_definition().get_batch(batch_parameters={"dataframe": df.reset_index(drop=True)})
    result_format = {"result_format": "SUMMARY", "partial_unexpected_count": sample_rows}
    metadata: dict[str, Any] = {}
    failed: list[str] = []
    # One validate call per expectation rather than a suite: a suite reorders its results
    # (errors first) and keeps no id that maps them back to the list the caller wrote.
    for expectation in map(_to_gx, expectations):
        result = batch.validate(expectation, result_format=result_format)
        label = _unique_label(expectation, metadata)
        metadata[label] = dg.MetadataValue.md(_describe(df, expectation, result))
        if "unexpected_count" in result.result:
            metadata[f"{label} unexpected_count"] = int(result.result["unexpected_count"])
        if not result.success:
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

    `expectations` may be a zero-argument callable for callers who prefer GE's classes
    (`lambda: [gxe.ExpectColumnValuesToNotBeNull(column="id")]`, importing `gxe` inside it).

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


@functools.cache
def _batch_definition() -> "BatchDefinition":
    """One in-memory GX context per process; its whole-dataframe batch accepts any DataFrame."""
    # GE 1.24 ships no usage statistics at all; the variable keeps releases that did quiet.
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    # tqdm bars would otherwise flood the captured stderr of every check step.
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return (
        context.data_sources.add_pandas("ml_platform")
        .add_dataframe_asset("dataframe")
        .add_batch_definition_whole_dataframe("whole_dataframe")
    )


def _to_gx(expectation: ExpectationLike) -> "Expectation":
    if not isinstance(expectation, Expect):
        return expectation
    from great_expectations.expectations.expectation_configuration import (
        ExpectationConfiguration,
    )

    return ExpectationConfiguration(
        type=expectation.type, kwargs=dict(expectation.kwargs)
    ).to_domain_obj()


def _domain_columns(expectation: "Expectation") -> list[Any]:
    kwargs = expectation.configuration.kwargs
    return [
        column
        for key in _DOMAIN_KWARGS
        if key in kwargs
        for column in (kwargs[key] if key == "column_list" else [kwargs[key]])
    ]


def _unique_label(expectation: "Expectation", taken: Mapping[str, Any]) -> str:
    """`column_values_to_be_unique(id)`: stable across runs so the UI can chart it."""
    label = expectation.expectation_type.removeprefix("expect_")
    if columns := _domain_columns(expectation):
        label += f"({', '.join(map(str, columns))})"
    unique, n = label, 1
    while unique in taken:
        n += 1
        unique = f"{label} #{n}"
    return unique


def _describe(
    df: pd.DataFrame, expectation: "Expectation", result: "ExpectationValidationResult"
) -> str:
    outcome = "passed" if result.success else "FAILED"
    stats = result.result
    if error := _error_message(result.exception_info):
        headline = f"**ERROR**: {error}"
    elif "unexpected_count" in stats:
        headline = (
            f"**{outcome}**: unexpected_count {stats['unexpected_count']}, "
            f"unexpected_percent {stats.get('unexpected_percent') or 0:.2f} %, "
            f"element_count {stats['element_count']}"
        )
    else:
        headline = f"**{outcome}**: observed value {stats.get('observed_value')}"
    kwargs = ", ".join(
        f"{k}={_truncate(repr(v), _MAX_KWARG_CHARS)}"
        for k, v in expectation.configuration.kwargs.items()
    )
    lines = [headline, "", f"`{expectation.expectation_type}` {kwargs}"]
    positions = stats.get("partial_unexpected_index_list") or []
    if not result.success and positions:
        lines += ["", markdown_table(_failing_rows(df, expectation, positions))]
    return "\n".join(lines)


def _error_message(exception_info: Mapping[str, Any]) -> str | None:
    """GE reports an error either flat or keyed by the metric that raised it."""
    infos = [exception_info, *(v for v in exception_info.values() if isinstance(v, Mapping))]
    messages = [
        str(i["exception_message"]).removeprefix("Error: ")
        for i in infos
        if i.get("raised_exception")
    ]
    return "; ".join(messages) or None


def _failing_rows(
    df: pd.DataFrame, expectation: "Expectation", positions: Sequence[int]
) -> pd.DataFrame:
    """The rows as they are in `df`, with the expectation's own columns first."""
    checked = [c for c in _domain_columns(expectation) if c in df.columns]
    rows = df.iloc[list(positions)]
    return rows[[*checked, *(c for c in rows.columns if c not in checked)]]


def _truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
