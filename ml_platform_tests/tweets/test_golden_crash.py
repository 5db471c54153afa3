"""Crash safety of the golden-label import (`ml-platform tweets import-labels --csv`) on
PostgreSQL: a real process SIGKILLed while its rows are on the way into the table leaves the
table as it was — no torn import, no duplicates — and running it again completes."""

import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ml_platform.core.warehouse import Warehouse
from ml_platform.tweets import golden
from ml_platform.tweets.contract import TweetTables

ROWS = 60_000
TABLE = TweetTables().golden
FIRST_ID = 1_600_000_000_000_000_000


def write_labels(path: Path, rows: int, seed: int = 3) -> Path:
    rng = np.random.default_rng(seed)
    stamps = pd.Timestamp("2026-11-01T00:00Z") + pd.to_timedelta(np.arange(rows), unit="s")
    pd.DataFrame(
        {
            "tweet_id": np.arange(FIRST_ID, FIRST_ID + rows),
            "label": rng.choice(["ai", "not_ai"], rows),
            "annotator": rng.choice(["alice", "bob", "carol"], rows),
            "labelled_at": stamps.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "note": "imported",
        }
    ).to_csv(path, index=False)
    return path


def import_command(warehouse: Warehouse, csv: Path) -> list[str]:
    return [
        sys.executable, "-m", "ml_platform.cli", "tweets", "import-labels", "--csv", str(csv),
        "--warehouse-url", warehouse.url, "--db-schema", str(warehouse.db_schema),
    ]  # fmt: skip


def active_statement(warehouse: Warehouse, starts: str) -> int | None:
    """The backend pid running a statement of the import that begins with `starts`."""
    found = warehouse.read_sql(
        "SELECT pid FROM pg_stat_activity WHERE state = 'active' AND query ILIKE :like "
        "AND pid <> pg_backend_pid()",
        {"like": f"{starts}%"},
    )
    return int(found["pid"].iloc[0]) if len(found) else None


def kill_during(warehouse: Warehouse, csv: Path, statement: str) -> None:
    """Start the import, SIGKILL it while `statement` runs on its connection, and wait until
    PostgreSQL has ended that connection (rolling back what it had not committed)."""
    process = subprocess.Popen(
        import_command(warehouse, csv), stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 120
    backend = None
    while backend is None:
        if process.poll() is not None or time.monotonic() > deadline:
            out, err = process.communicate()
            pytest.fail(f"the import ended before its {statement!r} was seen: {out!r} {err!r}")
        backend = active_statement(warehouse, statement)
        time.sleep(0.002)
    process.send_signal(signal.SIGKILL)
    out, _ = process.communicate(timeout=30)
    assert process.returncode == -signal.SIGKILL and b"new golden labels" not in out
    while True:  # the server notices the dead client and rolls its transaction back
        gone = warehouse.read_sql(
            "SELECT COUNT(*) AS n FROM pg_stat_activity WHERE pid = :pid", {"pid": backend}
        )
        if int(gone["n"].iloc[0]) == 0:
            return
        assert time.monotonic() < deadline, "PostgreSQL kept the killed import's connection"
        time.sleep(0.05)


def run_import(warehouse: Warehouse, csv: Path) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        import_command(warehouse, csv), check=False, capture_output=True, timeout=300
    )


def stored(warehouse: Warehouse) -> pd.DataFrame:
    return golden.read(warehouse, TABLE)


def test_a_golden_label_import_killed_mid_write_leaves_nothing_torn_and_a_rerun_completes(
    postgres_warehouse, tmp_path
):
    warehouse = postgres_warehouse
    csv = write_labels(tmp_path / "labels.csv", ROWS)
    expected = golden.load_golden_csv(csv)
    # labels imported before (in this process: each CLI start imports Dagster, ~1 min when loaded)
    assert golden.store(warehouse, TABLE, expected.head(ROWS // 2)) == ROWS // 2

    # killed while the rows stream into the staging table, then while they are inserted
    for statement in ("COPY", "INSERT INTO"):
        kill_during(warehouse, csv, statement)
        after_kill = stored(warehouse)
        assert len(after_kill) == ROWS // 2, statement  # all of the import or none of it
        assert after_kill["tweet_id"].max() == FIRST_ID + ROWS // 2 - 1

    rerun = run_import(warehouse, csv)
    assert rerun.returncode == 0, rerun.stderr
    assert f"{ROWS - ROWS // 2} new golden labels of {ROWS}".encode() in rerun.stdout
    table = stored(warehouse)
    assert len(table) == ROWS
    assert not table.duplicated(["tweet_id", "annotator", "labelled_at"]).any()
    assert set(table["tweet_id"]) == set(range(FIRST_ID, FIRST_ID + ROWS))
    assert (table.sort_values("tweet_id")["label"].to_numpy() == expected["label"].to_numpy()).all()
    assert golden.store(warehouse, TABLE, expected) == 0  # and again adds nothing
