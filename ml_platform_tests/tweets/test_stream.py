"""The landing stream into PostgreSQL: every tweet stored exactly once through replays, bad
lines and a consumer process killed mid-batch."""

import json
import random
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
from upath import UPath

from ml_platform import cli
from ml_platform.demo_data.tweets import generate_tweet_stream, write_tweet_stream
from ml_platform.tweets import stream, tables
from ml_platform.tweets.contract import TweetTables
from ml_platform.tweets.tables import RAW_COLUMNS

NAMES = TweetTables()


@pytest.fixture(scope="module")
def generated():
    return generate_tweet_stream(3000, seed=21)


def stored_ids(warehouse) -> list[int]:
    return tables.read_rows(warehouse, NAMES.raw)["tweet_id"].tolist()


def test_landed_files_are_stored_once_and_remembered(tmp_path, postgres_warehouse, generated):
    write_tweet_stream(tmp_path / "landing", generated, tweets_per_file=500)
    source = stream.LandingSource(UPath(tmp_path / "landing"), postgres_warehouse, NAMES)
    reports = stream.ingest_available(source, postgres_warehouse, NAMES, max_tweets_per_batch=1000)
    assert [r.positions for r in reports] == [2, 2, 2]
    assert sum(r.stored for r in reports) == 3000
    assert source.pending() == []
    assert stream.ingest_available(source, postgres_warehouse, NAMES, 1000) == []
    ids = stored_ids(postgres_warehouse)
    assert len(ids) == 3000 and set(ids) == set(generated.truth["tweet_id"])
    raw = tables.read_rows(postgres_warehouse, NAMES.raw)
    assert (raw["stored_at"] >= raw["arrived_at"]).all()


def test_a_crash_after_the_write_but_before_the_commit_replays_without_duplicates(
    tmp_path, postgres_warehouse, generated
):
    write_tweet_stream(tmp_path / "landing", generated, tweets_per_file=1000)
    crashed = stream.LandingSource(UPath(tmp_path / "landing"), postgres_warehouse, NAMES)
    batch = crashed.poll(max_tweets=1)  # the first file
    rows = batch.tweets.assign(stored_at=batch.tweets["arrived_at"])
    tables.insert_new_rows(postgres_warehouse, NAMES.raw, rows, RAW_COLUMNS, ("tweet_id",))
    # ... the process dies here: the cursor was never committed

    restarted = stream.LandingSource(UPath(tmp_path / "landing"), postgres_warehouse, NAMES)
    assert len(restarted.pending()) == 3
    reports = stream.ingest_available(restarted, postgres_warehouse, NAMES, 1000)
    assert [(r.read, r.stored) for r in reports] == [(1000, 0), (1000, 1000), (1000, 1000)]
    ids = stored_ids(postgres_warehouse)
    assert len(ids) == len(set(ids)) == 3000


def test_bad_lines_are_dead_lettered_by_file_and_line_and_the_rest_is_stored(
    tmp_path, postgres_warehouse
):
    landing = tmp_path / "landing"
    landing.mkdir()
    good = {"id": "5", "text": "hello", "created_at": "2026-03-02T10:00:00Z"}
    (landing / "a.jsonl").write_text(json.dumps(good) + "\n{broken\n")
    (landing / ".b.jsonl.tmp").write_text("a writer's half-written file")
    source = stream.LandingSource(UPath(landing), postgres_warehouse, NAMES)
    report = stream.ingest(source, postgres_warehouse, NAMES, 100)
    assert (report.read, report.stored, report.positions, report.dead_lettered) == (1, 1, 1, 1)
    assert str(report.rejected[0]).endswith("a.jsonl: line 2: not valid JSON (Expecting property "
                                            "name enclosed in double quotes: line 1 column 2 (char 1))")  # fmt: skip
    dead = tables.read_rows(postgres_warehouse, NAMES.dead_letters)
    assert dead[["source", "origin", "line", "document"]].values.tolist() == [
        [source.name, str(landing / "a.jsonl"), 2, "{broken"]
    ]
    assert dead["problem"].str.startswith("not valid JSON (Expecting property name").all()
    assert source.pending() == []


ODD_LINES = [
    "[" * 50_000 + "]" * 50_000,  # RecursionError in json.loads
    json.dumps({"data": {"id": "1", "text": "x", "created_at": "2026-03-02T10:00:00Z"},
                "includes": {"users": 5}}),  # TypeError
    json.dumps({"id_str": "2", "text": "RT", "created_at": "Wed Oct 10 20:19:24 +0000 2018",
                "retweeted_status": {"id_str": "3", "text": "y", "user": "bob",
                                     "created_at": "Wed Oct 10 20:19:24 +0000 2018"}}),  # AttributeError
    json.dumps({"id": "4", "text": "a\u0000b", "created_at": "2026-03-02T10:00:00Z"}),  # PG refuses NUL
]  # fmt: skip


def land_with_a_bad_file(landing, stream_of_tweets, per_file: int, bad=(1,)) -> int:
    """The stream in files, those numbered `bad` (the second by default) also holding the odd
    lines among their tweets; how many files."""
    paths = write_tweet_stream(landing, stream_of_tweets, tweets_per_file=per_file)
    for number in bad:
        path = paths[number]
        good = path.read_text().splitlines()
        mixed = [good[0], *ODD_LINES[:2], *good[1:-1], *ODD_LINES[2:], good[-1]]
        temporary = path.with_name("." + path.name)
        temporary.write_text("\n".join(mixed) + "\n")
        temporary.rename(path)
    return len(paths)


def test_a_bad_landed_file_does_not_stop_the_stream_and_is_dead_lettered_once(
    tmp_path, postgres_warehouse, generated
):
    """Before: the first odd line raised out of `poll`, so every restart crashed on the same
    file and nothing after it was ever stored."""
    land_with_a_bad_file(tmp_path / "landing", generated, per_file=500)
    source = stream.LandingSource(UPath(tmp_path / "landing"), postgres_warehouse, NAMES)

    reports = stream.ingest_available(source, postgres_warehouse, NAMES, 500)

    assert set(stored_ids(postgres_warehouse)) == set(generated.truth["tweet_id"])
    assert [r.dead_lettered for r in reports] == [0, 4, 0, 0, 0, 0]
    dead = tables.read_rows(postgres_warehouse, NAMES.dead_letters).sort_values("line")
    assert dead["line"].tolist() == [2, 3, 502, 503]  # the file's own line numbers
    assert dead["origin"].str.endswith("-000001.jsonl").all()
    assert dead["problem"].tolist() == [
        "not valid JSON (nested deeper than 64 levels)",
        "field 'includes.users' is a JSON number, expected an array",
        "field 'retweeted_status.user' is a JSON string, expected an object",
        "field 'text' contains a NUL character (\\u0000)",
    ]
    assert dead["document"].tolist() == ODD_LINES

    # a crash before the commit replays the bad file: nothing is stored or dead-lettered twice
    with postgres_warehouse.engine().begin() as conn:
        conn.exec_driver_sql(f"DELETE FROM {postgres_warehouse.db_schema}.{NAMES.stream_cursor}")
    replayed = stream.ingest_available(source, postgres_warehouse, NAMES, 500)
    assert sum(r.stored for r in replayed) == sum(r.dead_lettered for r in replayed) == 0
    assert tables.count_rows(postgres_warehouse, NAMES.dead_letters) == 4
    ids = stored_ids(postgres_warehouse)
    assert len(ids) == len(set(ids)) == len(generated.truth)


def test_the_ingest_command_prints_how_many_lines_went_to_the_dead_letter_table(
    tmp_path, postgres_warehouse, postgres_url, generated, capsys
):
    land_with_a_bad_file(tmp_path / "landing", generated, per_file=1500)

    code = cli.main([
        "tweets", "ingest", "--landing", str(tmp_path / "landing"), "--max-tweets", "1500",
        "--warehouse-url", postgres_url, "--db-schema", postgres_warehouse.db_schema,
    ])  # fmt: skip

    assert code == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].endswith("0 lines rejected, 0 new in stream_dead_letters_0")
    assert printed[1].startswith("stored 1500 of 1500 tweets (0 already stored)")
    assert printed[1].endswith("4 lines rejected, 4 new in stream_dead_letters_0")


def test_files_landing_under_an_s3_prefix_are_ingested(postgres_warehouse, s3_bucket, s3_endpoint):
    landing = UPath(f"s3://{s3_bucket}/stream/landing", endpoint_url=s3_endpoint)
    small = generate_tweet_stream(400, seed=3)
    write_tweet_stream(landing, small, tweets_per_file=150)
    source = stream.LandingSource(landing, postgres_warehouse, NAMES)
    reports = stream.ingest_available(source, postgres_warehouse, NAMES, 1000)
    assert sum(r.stored for r in reports) == 400
    assert source.pending() == []


# each kill costs a consumer start (~10 s of imports); 25 kills were probed by hand, and 8 keep
# the suite's time while still landing kills mid-write, between write and commit, and after
KILLS = 8


def test_consumers_killed_mid_stream_store_each_tweet_and_dead_letter_each_bad_line_once(
    tmp_path, postgres_warehouse, postgres_url
):
    """Real `ml-platform tweets ingest` processes, each SIGKILLed at a random moment once it
    has stored something, then restarted; the stream holds two files with odd lines, and more
    files land whenever few are left, so every kill falls mid-stream however fast the machine."""
    landing, per_file = tmp_path / "landing", 40
    first = generate_tweet_stream(60 * per_file, seed=5)
    land_with_a_bad_file(landing, first, per_file, bad=(1, 40))
    truth = [first.truth]
    command = [
        sys.executable, "-m", "ml_platform.cli", "tweets", "ingest",
        "--landing", str(landing), "--max-tweets", str(per_file),
        "--warehouse-url", postgres_url, "--db-schema", postgres_warehouse.db_schema,
    ]  # fmt: skip
    pending = stream.LandingSource(UPath(landing), postgres_warehouse, NAMES).pending
    moments = random.Random(25)
    kills = 0
    while kills < KILLS:
        if len(pending()) < 20:
            day = datetime(2026, 4, 1, tzinfo=UTC) + timedelta(days=len(truth))
            more = generate_tweet_stream(30 * per_file, seed=5 + len(truth), start=day)
            write_tweet_stream(landing, more, tweets_per_file=per_file, start=day,
                               truth_path=tmp_path / f"truth-{len(truth)}.csv")  # fmt: skip
            truth.append(more.truth)
        before = tables.count_rows(postgres_warehouse, NAMES.raw)
        consumer = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 180  # a start is mostly imports: slow on a loaded machine
        while tables.count_rows(postgres_warehouse, NAMES.raw) == before:
            assert consumer.poll() is None, consumer.stderr.read().decode()
            assert time.monotonic() < deadline, "the consumer stored nothing in 180 s"
            time.sleep(0.01)
        time.sleep(moments.uniform(0, 0.05))  # mid-write, between write and commit, or after
        consumer.send_signal(signal.SIGKILL)
        consumer.wait(timeout=10)
        consumer.stderr.close()
        kills += consumer.returncode == -signal.SIGKILL  # 0: it stored all before the kill

    # the last restart runs the same command in this process (the killed ones were real)
    assert cli.main(command[3:]) == 0
    landed = pd.concat(truth, ignore_index=True)["tweet_id"]
    ids = stored_ids(postgres_warehouse)
    assert len(ids) == len(set(ids)) == len(landed) == landed.nunique()
    assert set(ids) == set(landed)
    dead = tables.read_rows(postgres_warehouse, NAMES.dead_letters)
    assert len(dead) == 2 * len(ODD_LINES) and sorted(dead["document"]) == sorted(ODD_LINES * 2)
    assert dead["origin"].str.endswith(("-000001.jsonl", "-000040.jsonl")).all()
    cursor = tables.read_rows(postgres_warehouse, NAMES.stream_cursor)
    assert len(cursor) == cursor["position"].nunique() == len(list(landing.glob("*.jsonl")))
