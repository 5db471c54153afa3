"""`ml-platform demo` as the README's first command runs it, read back from the Dagster instance
`dagster dev` shows: the runs say which sensor launched them."""

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg

from ml_platform.entity_matching.sensors import em_feedback_sensor, em_new_records_sensor

CLI = Path(sys.executable).with_name("ml-platform")


def test_the_demos_runs_are_tagged_with_the_sensor_that_requested_them(tmp_path):
    home = tmp_path / ".ml_platform"
    fresh = {k: v for k, v in os.environ.items() if not k.startswith(("DAGSTER_", "ML_PLATFORM_"))}
    done = subprocess.run(
        [str(CLI), "demo", "--home", str(home), "--targets", "120", "--sources", "120"]
        + ["--arrivals", "1", "--skip-recommender"],
        env=fresh,
        capture_output=True,
        check=False,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr

    with dg.DagsterInstance.from_config(str(home / "dagster_home")) as instance:
        runs = instance.get_runs()
        launched_by = [run.tags.get("dagster/sensor_name") for run in reversed(runs)]
    # the arrival's batch run, requested by the new-records sensor, then the feedback retrain
    assert launched_by == [em_new_records_sensor.name, em_feedback_sensor.name], [
        run.tags for run in runs
    ]
