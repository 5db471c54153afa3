"""The platform's data-quality checks against great-expectations 1.x, on the same tables, one run.

    .venv/bin/python benchmarks/checks.py [--rows 10000 1000000] [--repeats 3] [--seed 0]

For each table size (a generated table: ids, user/movie pairs, ratings, states, ages,
postcodes) it times every expectation kind `ml_platform/core/checks.py` supports, one at a time,
then all of them as one suite, then the recommender's real `ratings_are_valid` suite
(`RATING_EXPECTATIONS`): once through `core.checks.run_expectations` and once through
great-expectations itself (`import great_expectations as gx`, one ephemeral context and one
batch per table, reused for every validation, progress bars off). Each figure is the fastest
of `--repeats` runs, in seconds. Both engines must agree on every verdict and on the failing
count of the one expectation whose data has bad rows (ages above 120, allowed by `mostly`), or
the benchmark stops. Printed beside them: the one-off cost of importing great-expectations and
creating its context, which the platform's checks never pay.
"""

import argparse
import os
import time
from collections.abc import Callable

import numpy as np
import pandas as pd

from ml_platform.core.checks import Expect, expect, run_expectations
from ml_platform.recommender.checks import RATING_EXPECTATIONS

STATES = ["act", "nsw", "nt", "qld", "sa", "tas", "vic", "wa"]
BAD_AGE_SHARE = 0.0005  # of rows with an age out of range: counted by both engines

# Every expectation kind core/checks.py supports, with the arguments a product would give.
EVERY_KIND = [
    expect("column_values_to_not_be_null", column="id"),
    expect("column_values_to_be_unique", column="id"),
    expect("column_values_to_be_in_set", column="state", value_set=STATES),
    expect("column_values_to_be_between", column="age", min_value=0, max_value=120, mostly=0.99),
    expect("column_values_to_match_regex", column="postcode", regex=r"^\d{4}$"),
    expect("compound_columns_to_be_unique", column_list=["user_id", "movie_id"]),
    expect("table_row_count_to_be_between", min_value=1),
    expect("column_mean_to_be_between", column="rating", min_value=1, max_value=5),
]


def generate_table(rows: int, seed: int) -> pd.DataFrame:
    """A table every expectation passes on, but for a few ages that `mostly` allows."""
    rng = np.random.default_rng(seed)
    movies = max(10, int(np.sqrt(rows)) * 2)
    pairs = rng.choice(movies * movies, size=rows, replace=False)  # distinct (user, movie)
    age = rng.integers(0, 100, rows)
    age[rng.choice(rows, size=max(1, int(rows * BAD_AGE_SHARE)), replace=False)] = 430
    return pd.DataFrame(
        {
            "id": rng.permutation(rows).astype(np.int64),
            "user_id": pairs // movies,
            "movie_id": pairs % movies,
            "rating": rng.integers(1, 11, rows) / 2.0,
            "state": pd.Series(np.asarray(STATES, dtype=object)[rng.integers(0, 8, rows)]),
            "age": age,
            "postcode": pd.Series(rng.integers(1000, 10_000, rows)).astype(str),
        }
    )


def fastest(run: Callable[..., object], *args: object, repeats: int) -> tuple[float, object]:
    """The fastest of `repeats` calls `run(*args)` (the least disturbed by other work on the
    machine) and what it returned."""
    best, result = float("inf"), None
    for _ in range(repeats):
        started = time.perf_counter()
        result = run(*args)
        best = min(best, time.perf_counter() - started)
    return best, result


class GreatExpectations:
    """The same expectations through great-expectations: one ephemeral context, one batch per
    table, each validation reusing them."""

    def __init__(self) -> None:
        os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")  # no network from a benchmark
        started = time.perf_counter()
        import great_expectations as gx
        import great_expectations.expectations as gxe
        from great_expectations.data_context.types.base import ProgressBarsConfig

        self.import_seconds = time.perf_counter() - started
        started = time.perf_counter()
        self.gx, self.gxe = gx, gxe
        self.context = gx.get_context(mode="ephemeral")
        self.context.variables.progress_bars = ProgressBarsConfig(globally=False)
        source = self.context.data_sources.add_pandas("benchmark")
        self.batches = source.add_dataframe_asset("table").add_batch_definition_whole_dataframe(
            "whole table"
        )
        self.context_seconds = time.perf_counter() - started
        self._suites = 0

    def batch(self, table: pd.DataFrame):
        return self.batches.get_batch(batch_parameters={"dataframe": table})

    def expectation(self, spec: Expect):
        """`expect_column_values_to_be_unique` → `gxe.ExpectColumnValuesToBeUnique(**kwargs)`."""
        name = "".join(word.title() for word in spec.type.split("_"))
        return getattr(self.gxe, name)(**spec.kwargs)

    def suite(self, specs: list[Expect]):
        self._suites += 1
        return self.gx.ExpectationSuite(
            name=f"suite {self._suites}", expectations=[self.expectation(s) for s in specs]
        )


def _platform_verdicts(result) -> list[tuple[bool, int | None]]:
    """(passed, unexpected_count) per expectation, in order, from the check's metadata."""
    metadata = result.metadata
    labels = [k for k in metadata if not k.endswith(" unexpected_count")][:-3]  # drop totals
    verdicts = []
    for label in labels:
        passed = metadata[label].value.startswith("**passed**")
        count = metadata.get(f"{label} unexpected_count")
        verdicts.append((passed, None if count is None else count.value))
    return verdicts


def _ge_verdicts(result) -> list[tuple[bool, int | None]]:
    verdicts = []
    for outcome in result.results:
        count = outcome.result.get("unexpected_count")
        verdicts.append((bool(outcome.success), None if count is None else int(count)))
    return verdicts


def _agree(name: str, ours, theirs) -> None:
    if ours != theirs:
        raise SystemExit(
            f"{name}: the engines disagree: platform {ours}, great-expectations {theirs}"
        )


def measure(table: pd.DataFrame, ge: GreatExpectations, repeats: int) -> dict[str, tuple]:
    """Seconds per check: {row label: (platform, great-expectations)}."""
    batch = ge.batch(table)
    cases = [(spec.type.removeprefix("expect_"), [spec]) for spec in EVERY_KIND]
    cases += [
        (f"suite: all {len(EVERY_KIND)} kinds", EVERY_KIND),
        ("suite: recommender ratings_are_valid", RATING_EXPECTATIONS),
    ]
    figures = {}
    for name, specs in cases:
        ours, our_result = fastest(run_expectations, table, specs, repeats=repeats)
        suite = ge.suite(specs)
        theirs, their_result = fastest(batch.validate, suite, repeats=repeats)
        _agree(name, _platform_verdicts(our_result), _ge_verdicts(their_result))
        figures[name] = (ours, theirs)
    return figures


def print_table(figures_by_rows: dict[int, dict[str, tuple]]) -> None:
    sizes = list(figures_by_rows)
    names = list(next(iter(figures_by_rows.values())))
    header = f"{'check':<40}" + "".join(
        f"  {f'platform {n:,}':>18}  {f'GE {n:,}':>14}  {'GE/platform':>11}" for n in sizes
    )
    print(header)
    print("-" * len(header))
    for name in names:
        cells = ""
        for n in sizes:
            ours, theirs = figures_by_rows[n][name]
            cells += f"  {ours:>18.5f}  {theirs:>14.5f}  {theirs / ours:>10.0f}×"
        print(f"{name:<40}{cells}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000, 1_000_000])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    ge = GreatExpectations()
    print(
        f"great-expectations {ge.gx.__version__}: import {ge.import_seconds:.1f} s, "
        f"ephemeral context + pandas batch definition {ge.context_seconds:.2f} s (once per process)"
    )
    figures = {}
    for rows in args.rows:
        started = time.perf_counter()
        table = generate_table(rows, args.seed)
        print(f"{rows:,} rows generated in {time.perf_counter() - started:.1f} s")
        figures[rows] = measure(table, ge, args.repeats)
    print(f"\nseconds per check (fastest of {args.repeats} runs)\n")
    print_table(figures)


if __name__ == "__main__":
    main()
