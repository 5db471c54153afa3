"""How long each product's job takes end to end on the embedded defaults, before and after a change.

    .venv/bin/python benchmarks/jobs.py --before c17330f [--jobs recommender_job prod2vec_job]

For each job, and for each tree (`--before REV` as a temporary `git worktree`, then this
checkout, or `--after REV` as another worktree), it runs `dagster job execute -m ml_platform.definitions -j JOB` exactly as a person
would, in a fresh temporary ML_PLATFORM_HOME and DAGSTER_HOME, with that tree first on
PYTHONPATH (step subprocesses inherit it), and no ML_PLATFORM_* variable from the caller's
environment: the embedded defaults, generated data, the local deployment. Before and after of
one job run back to back so both see about the same machine load; the load average is printed
at the start and the end. A job that fails counts as a failure, not a time.

The four product jobs are the default (the issue's "all four"); `entity_matching_job` is
partitioned by import batch and is launched by its sensor, so it is not a one-command job.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
JOBS = ("recommender_job", "prod2vec_job", "similar_users_job", "tweets_job")


@dataclass(frozen=True)
class Timing:
    seconds: float
    ok: bool
    log: Path


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def job_environment(tree: Path, home: Path) -> dict[str, str]:
    """The caller's environment without the platform's settings, pointed at `tree` and `home`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ML_PLATFORM_", "DAGSTER_"))}
    env |= {
        "PYTHONPATH": str(tree),
        "ML_PLATFORM_HOME": str(home),
        "DAGSTER_HOME": str(home / "dagster_home"),
        "TF_CPP_MIN_LOG_LEVEL": "2",
    }
    return env


def imported_from(env: dict[str, str], cwd: Path) -> Path:
    """Where `ml_platform` really comes from with this environment (the venv has it installed)."""
    out = subprocess.run(
        [sys.executable, "-c", "import ml_platform; print(ml_platform.__file__)"],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
    )
    return Path(out.stdout.strip()).parent.parent


def run_job(tree: Path, job: str, logs: Path, label: str, timeout: float) -> Timing:
    home = Path(tempfile.mkdtemp(prefix=f"jobs-{label}-"))
    try:
        env = job_environment(tree, home)
        (home / "dagster_home").mkdir()
        source = imported_from(env, home)
        if source.resolve() != tree.resolve():
            raise SystemExit(f"{label}: ml_platform is imported from {source}, not {tree}")
        log = logs / f"{job}-{label}.log"
        command = [
            sys.executable,
            "-m",
            "dagster",
            "job",
            "execute",
            "-m",
            "ml_platform.definitions",
            "-j",
            job,
        ]
        start = time.perf_counter()
        with log.open("w") as out:
            try:
                rc = subprocess.run(
                    command,
                    check=False,
                    cwd=home,
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    timeout=timeout,
                ).returncode
            except subprocess.TimeoutExpired:
                rc = -1
        return Timing(time.perf_counter() - start, rc == 0, log)
    finally:
        shutil.rmtree(home, ignore_errors=True)


def add_worktree(rev: str) -> Path:
    tree = Path(tempfile.mkdtemp(prefix="jobs-tree-")) / "tree"
    subprocess.run(
        ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(tree), rev],
        check=True,
        capture_output=True,
    )
    return tree


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--before", help="git revision to compare with (a temporary worktree)")
    parser.add_argument(
        "--after", help="git revision to measure (a temporary worktree); default: this checkout"
    )
    parser.add_argument("--jobs", nargs="+", default=list(JOBS))
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds per job run")
    parser.add_argument("--logs", type=Path, help="keep each run's output here (default: temp)")
    args = parser.parse_args()

    logs = args.logs or Path(tempfile.mkdtemp(prefix="jobs-logs-"))
    logs.mkdir(parents=True, exist_ok=True)
    worktrees = {
        label: rev for label, rev in (("before", args.before), ("after", args.after)) if rev
    }
    trees = [(label, add_worktree(rev)) for label, rev in worktrees.items()]
    if not args.after:
        trees.append(("after", ROOT))
    head = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
        check=False,
        capture_output=True,
        text=True,
    ).stdout.strip()
    after = args.after or f"{ROOT} (HEAD {head} with its uncommitted changes)"
    print(f"before = {args.before}; after = {after}")
    print(f"load average at start: {load_average()}; logs in {logs}", flush=True)
    results: dict[tuple[str, str], Timing] = {}
    try:
        for job in args.jobs:
            for label, tree in trees:
                timing = run_job(tree, job, logs, label, args.timeout)
                results[job, label] = timing
                state = "ok" if timing.ok else f"FAILED (see {timing.log})"
                print(f"  {job:<20} {label:<6} {timing.seconds:7.1f} s  {state}", flush=True)
    finally:
        for label, tree in trees:
            if label in worktrees:
                subprocess.run(
                    ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)],
                    check=False,
                )
    print(f"load average at end: {load_average()}")
    print()
    print(f"{'job':<20} {'before s':>9} {'after s':>9} {'speed-up':>9}")
    for job in args.jobs:
        after = results[job, "after"]
        before = results.get((job, "before"))
        cells = [f"{job:<20}"]
        cells.append(
            f"{before.seconds:9.1f}"
            if before and before.ok
            else f"{'-' if not before else 'FAILED':>9}"
        )
        cells.append(f"{after.seconds:9.1f}" if after.ok else f"{'FAILED':>9}")
        ratio = before.seconds / after.seconds if before and before.ok and after.ok else None
        cells.append(f"{ratio:8.2f}×" if ratio else f"{'-':>9}")
        print(" ".join(cells))


if __name__ == "__main__":
    main()
