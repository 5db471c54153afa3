"""`ml-platform em run-batch`: what the daemon does on one tick of the import sensor, in this process.

It evaluates `em_new_records_sensor` (which closes the next batch and picks batches whose runs did
not succeed) and executes the runs it requests with `entity_matching_job` on the configured
resources — the sensor's and the job's own code, so a local import behaves as production does.
"""

import os
import socket
from dataclasses import dataclass

import dagster as dg

from ml_platform.core import runs
from ml_platform.core.warehouse import Warehouse
from ml_platform.entity_matching.jobs import entity_matching_job
from ml_platform.entity_matching.sensors import FINISHED, em_new_records_sensor

PID_TAG = "ml_platform/pid"
HOST_TAG = "ml_platform/host"


@dataclass(frozen=True)
class BatchRun:
    batch: str | None
    sources: int
    targets: int
    matches: int
    error: str | None = None

    def summary(self) -> dict[str, object]:
        return {
            "batch": self.batch,
            "sources": self.sources,
            "targets": self.targets,
            "matches": self.matches,
        }


def fail_dead_runs(instance: dg.DagsterInstance) -> list[str]:
    """Mark failed the runs a killed `em run-batch` left STARTED (its process is gone), so the
    sensor retries their batches: there is no daemon's run monitoring to notice locally."""
    unfinished = [s for s in dg.DagsterRunStatus if s not in FINISHED]
    left = instance.get_runs(
        filters=dg.RunsFilter(
            job_name=entity_matching_job.name,
            statuses=unfinished,
            tags={HOST_TAG: socket.gethostname()},
        )
    )
    failed = []
    for run in left:
        pid = int(run.tags[PID_TAG])
        if not _alive(pid):
            instance.report_run_failed(run, f"the em run-batch process {pid} ended mid-run")
            failed.append(run.run_id)
    return failed


def run_batches(defs: dg.Definitions, instance: dg.DagsterInstance) -> list[BatchRun]:
    """One sensor tick and its runs: the batch it closed and any left unfinished, oldest first;
    a single `BatchRun` of zeros when nothing is new."""
    fail_dead_runs(instance)
    tick = runs.tick(
        em_new_records_sensor,
        defs,
        instance,
        raise_on_error=False,
        tags={PID_TAG: str(os.getpid()), HOST_TAG: socket.gethostname()},
    )
    if not tick.runs:
        return [BatchRun(batch=None, sources=0, targets=0, matches=0)]
    warehouse: Warehouse = defs.resources["warehouse"]
    return [
        _outcome(warehouse, request.partition_key, run)
        for request, run in zip(tick.requests, tick.runs)
    ]


def _outcome(warehouse: Warehouse, key: str, run: dg.ExecuteInProcessResult) -> BatchRun:
    if not run.success:
        failure = next(e for e in run.all_events if e.is_step_failure)
        error = failure.step_failure_data.error
        return BatchRun(
            key, 0, 0, 0, error=f"step {failure.step_key}: {error.message.strip() if error else ''}"
        )

    def rows(table: str) -> int:
        return len(warehouse.read_table(table, key))

    return BatchRun(key, rows("em_sources"), rows("em_targets"), rows("em_matches"))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
