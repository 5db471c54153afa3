"""kill -9 of an import batch mid-run on PostgreSQL: nothing lost, nothing doubled, a re-run finishes.

`em run-batch` runs in a child process that is killed (SIGKILL, no cleanup) as soon as the batch
has stored its first tables; the run is left STARTED in the Dagster instance, as after a crash.
"""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from ml_platform.cli import main
from ml_platform.entity_matching import batches
from ml_platform_tests.entity_matching.commands import land

RUN_BATCH = "from ml_platform.cli import main; raise SystemExit(main(['em', 'run-batch']))"


def wait_for_rows(warehouse, table: str, process: subprocess.Popen, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if warehouse.table_exists(table) and len(warehouse.read_table(table)):
            return
        if process.poll() is not None:
            pytest.fail(f"em run-batch ended (exit {process.returncode}) before writing {table}")
        time.sleep(0.05)
    pytest.fail(f"em run-batch wrote no {table} within {timeout} s")


@pytest.mark.postgres
@pytest.mark.parametrize("configured", ["postgres"], indirect=True)
@pytest.mark.parametrize("killed_after", ["em_sources", "em_target_blocks"])
def test_a_batch_killed_mid_run_loses_and_doubles_nothing_and_a_rerun_finishes_it(
    configured, numbered_people, tmp_path, capsys, killed_after
):
    targets, sources = numbered_people
    land(tmp_path, capsys, sources, targets)
    writer = subprocess.Popen(
        [sys.executable, "-c", RUN_BATCH],
        env=os.environ.copy(),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_rows(configured, killed_after, writer)
    finally:
        os.kill(writer.pid, signal.SIGKILL)
        writer.wait()
    assert writer.returncode == -signal.SIGKILL
    assert writer.stdout.read() == b""  # it never got to report the batch
    assert not configured.table_exists("em_matches") or not len(configured.read_table("em_matches"))
    (batch,) = batches.batch_keys(configured)

    assert main(["em", "run-batch"]) == 0
    rerun = json.loads(capsys.readouterr().out)

    assert rerun["batch"] == batch  # the same batch finished, not a new one
    assert (rerun["sources"], rerun["targets"]) == (len(sources), len(targets))
    assert rerun["matches"] >= 0.9 * len(sources)
    for table, rows in (("em_sources", sources), ("em_targets", targets)):
        stored = configured.read_table(table)
        assert len(stored) == len(rows) and not stored["id"].duplicated().any()
    matches = configured.read_table("em_matches")
    assert len(matches) == rerun["matches"] and not matches["source_id"].duplicated().any()
    assert len(configured.read_table(batches.LANDING_TARGETS)) == len(targets)  # landing intact
    assert main(["em", "run-batch"]) == 0
    assert json.loads(capsys.readouterr().out)["batch"] is None
