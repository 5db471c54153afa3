"""The README's first command: generated FEBRL-style data lands in three arrivals, and each
arrival goes through the same sensor and job `dagster dev` runs, on the embedded defaults; then
the recommender group trains on data calibrated to MovieLens 100K.

The runs are recorded in the Dagster instance under `.ml_platform/dagster_home`, so `dagster dev`
started with that DAGSTER_HOME shows every materialization, check and partition afterwards.
"""

import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from ml_platform.core.quiet_tensorflow import quiet_tensorflow


def run_demo(
    home: Path, n_targets: int, n_sources: int, arrivals: int, seed: int, recommender: bool = True
) -> None:
    home = home.absolute()
    dagster_home = home / "dagster_home"
    dagster_home.mkdir(parents=True, exist_ok=True)
    instance_config = dagster_home / "dagster.yaml"
    if not instance_config.exists():  # the local instance: SQLite storage in this folder
        instance_config.write_text("telemetry:\n  enabled: false\n")
    os.environ["DAGSTER_HOME"] = str(dagster_home)
    os.environ["ML_PLATFORM_HOME"] = str(home.parent)
    os.environ.setdefault("ML_PLATFORM_ENV", "local")
    quiet_tensorflow()  # the recommender's training imports TensorFlow in this process

    import dagster as dg

    from ml_platform.definitions import defs
    from ml_platform.demo_data.persons import generate_person_records, write_person_dataset
    from ml_platform.entity_matching import batches, matching
    from ml_platform.entity_matching.sensors import em_feedback_sensor, em_new_records_sensor

    dataset = generate_person_records(n_targets, n_sources, seed=seed)
    files = write_person_dataset(home / "demo_data", dataset)
    print(
        f"generated {n_targets:,} targets, {n_sources:,} sources, "
        f"{len(dataset.feedback):,} feedback labels → {files['targets'].parent}"
    )

    resources = defs.resources
    warehouse = resources["warehouse"]
    instance = dg.DagsterInstance.get()
    batches.land(warehouse, batches.LANDING_TRUTH, dataset.truth)

    now = datetime.now(UTC)
    for arrival in range(1, arrivals + 1):
        targets, sources = (
            _share(frame, arrival, arrivals) for frame in (dataset.targets, dataset.sources)
        )
        # every arrival is newer than anything landed before, as in a live system
        stamp = now + timedelta(seconds=arrival)
        batches.land(warehouse, batches.LANDING_TARGETS, targets.assign(modified_at=stamp))
        batches.land(warehouse, batches.LANDING_SOURCES, sources.assign(modified_at=stamp))
        _tick(em_new_records_sensor, defs, instance, f"arrival {arrival}")

    feedback = dataset.feedback.assign(modified_at=now + timedelta(seconds=arrivals + 1))
    batches.land(warehouse, batches.LANDING_FEEDBACK, feedback)
    _tick(em_feedback_sensor, defs, instance, "feedback")

    matches = warehouse.read_table("em_matches")
    quality = matching.evaluate(matches, dataset.truth)
    print(f"\nmatches in the warehouse table em_matches: {len(matches):,} ({warehouse.url})")
    print(
        f"against the generated truth: precision {quality['precision']:.4f}, "
        f"recall {quality['recall']:.4f}"
    )
    print(
        f"exports: {resources['object_store'].path('exports')} "
        "(em_matches/batch=<batch>/part-0.parquet, csv/em_matches/<batch>.csv)"
    )
    if recommender:
        _recommender(defs, instance)
    print(
        "\nsee it in the Dagster UI:\n"
        f"  DAGSTER_HOME={dagster_home} .venv/bin/dagster dev\n"
        "  then open http://127.0.0.1:3000 → Assets → entity_matching"
        + (" and recommender" if recommender else "")
    )


def _recommender(defs, instance) -> None:
    """The recommender group on data calibrated to MovieLens 100K: both stages, the checks
    against the baselines, and the top-10 table, as `recommender_job` runs them."""
    from ml_platform.core import runs

    started = time.perf_counter()
    run = defs.resolve_job_def("recommender_job").execute_in_process(
        instance=instance,
        run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
    )
    assets = runs.materialized(run)
    ranking, retrieval = assets["ranking_model"], assets["retrieval_model"]
    print(
        f"\nrecommender: {len(assets)} assets materialized in {time.perf_counter() - started:.0f} s; "
        f"RMSE {ranking['metric/rmse']:.3f} (bias baseline {ranking['metric/bias_rmse']:.3f}), "
        f"top-100 accuracy {retrieval['metric/top_100_accuracy']:.3f} "
        f"(popularity {retrieval['metric/popularity_top_100_accuracy']:.3f})"
    )


def _share(frame: pd.DataFrame, part: int, parts: int) -> pd.DataFrame:
    """The `part`-th of `parts` consecutive slices (1-based)."""
    bounds = np.linspace(0, len(frame), parts + 1).astype(int)
    return frame.iloc[bounds[part - 1] : bounds[part]]


def _tick(sensor, defs, instance, what: str) -> None:
    """One sensor evaluation, and the runs it asks for, executed in this process."""
    from ml_platform.core import runs

    started = time.perf_counter()
    result = runs.tick(sensor, defs, instance)
    if result.skipped:
        print(f"{what}: sensor skipped: {result.skipped}")
    for request, run in zip(result.requests, result.runs):
        assets = runs.materialized(run)
        matches = assets.get("em_matches", {}).get("matches")
        print(
            f"{what}: batch {request.partition_key} → {len(assets)} assets materialized "
            f"in {time.perf_counter() - started:.1f} s"
            + (f"; {matches} matches" if matches is not None else "")
        )
