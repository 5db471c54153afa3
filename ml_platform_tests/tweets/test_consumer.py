"""The long-running consumer: its `/metrics` after real batches, and a SIGTERM that stops it
after the batch in hand, exit code 0, nothing lost."""

import signal
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass

import numpy as np
from prometheus_client.parser import text_string_to_metric_families
from upath import UPath

from ml_platform.core.warehouse import Warehouse
from ml_platform.demo_data.tweets import generate_tweet_stream, write_tweet_stream
from ml_platform.tweets import consumer, stream, tables
from ml_platform.tweets.contract import TweetTables
from ml_platform_tests.tweets.test_kafka import free_port

NAMES = TweetTables()


@dataclass(frozen=True)
class KeywordModel:
    """Stands in for the trained classifier (TensorFlow training takes minutes here): the
    consumer only needs a version, a threshold and `predict`."""

    version: int = 7
    threshold: float = 0.5

    def predict(self, texts: list[str]) -> np.ndarray:
        return np.array([1.0 if "AI" in text else 0.0 for text in texts])


def scrape(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of `/metrics`, keyed by name and labels."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
        text = answer.read().decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_metrics_count_the_batches_rows_and_classifications_of_real_batches(tmp_path):
    generated = generate_tweet_stream(900, seed=4)
    write_tweet_stream(tmp_path / "landing", generated, tweets_per_file=300)
    warehouse = Warehouse(url=f"sqlite:///{tmp_path / 'warehouse.db'}")
    source = stream.LandingSource(UPath(tmp_path / "landing"), warehouse, NAMES)
    metrics = consumer.ConsumerMetrics()
    port = free_port()
    metrics.serve(port, host="127.0.0.1")
    lines: list[str] = []

    consumer.consume(
        source,
        warehouse,
        NAMES,
        consumer.ConsumerOptions(max_tweets=300),  # one file per batch
        metrics,
        threading.Event(),
        model=lambda: KeywordModel(),
        log=lines.append,
    )

    samples = scrape(port)
    prefix = consumer.NAMESPACE
    ai = int(
        generated.truth["tweet_id"].isin(tables.read_rows(warehouse, NAMES.ai)["tweet_id"]).sum()
    )
    assert samples[(f"{prefix}_batches_total", ())] == 3
    assert samples[(f"{prefix}_tweets_read_total", ())] == 900
    assert samples[(f"{prefix}_rows_stored_total", (("table", "raw"),))] == 900
    assert samples[(f"{prefix}_rows_stored_total", (("table", "classified"),))] == 900
    assert samples[(f"{prefix}_rows_stored_total", (("table", "ai"),))] == ai > 0
    assert samples[(f"{prefix}_rows_stored_total", (("table", "dead_letters"),))] == 0
    assert samples[(f"{prefix}_lag", ())] == 0
    assert samples[(f"{prefix}_model_version", ())] == 7
    assert samples[(f"{prefix}_batch_duration_seconds_count", ())] == 3
    # one classifier call per batch that stored tweets
    assert samples[(f"{prefix}_classification_duration_seconds_count", ())] == 3
    assert tables.count_rows(warehouse, NAMES.classified) == 900
    assert len(lines) == 6 and lines[0].startswith("stored 300 of 300 tweets")


def test_lag_is_the_files_still_waiting_after_a_batch(tmp_path):
    write_tweet_stream(
        tmp_path / "landing", generate_tweet_stream(400, seed=2), tweets_per_file=100
    )
    warehouse = Warehouse(url=f"sqlite:///{tmp_path / 'warehouse.db'}")
    source = stream.LandingSource(UPath(tmp_path / "landing"), warehouse, NAMES)
    assert source.backlog() == 4
    stream.ingest(source, warehouse, NAMES, max_tweets=100)
    assert source.backlog() == 3


def test_sigterm_stops_the_consumer_after_its_batch_with_exit_code_0_and_loses_nothing(tmp_path):
    """A real `ml-platform tweets ingest --follow` process, sent SIGTERM (what Kubernetes sends)
    once its metrics show stored batches while most files still wait."""
    landing, per_file, files = tmp_path / "landing", 20, 60
    generated = generate_tweet_stream(per_file * files, seed=11)
    write_tweet_stream(landing, generated, tweets_per_file=per_file)
    url = f"sqlite:///{tmp_path / 'warehouse.db'}"
    port = free_port()
    command = [
        sys.executable, "-m", "ml_platform.cli", "tweets", "ingest", "--landing", str(landing),
        "--max-tweets", "1", "--follow", "--warehouse-url", url, "--metrics-port", str(port),
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 180  # a start is mostly imports: slow on a loaded machine
        batches = 0.0
        while batches < 2:
            assert process.poll() is None, process.stderr.read()
            assert time.monotonic() < deadline, "no two batches in 180 s"
            try:
                batches = scrape(port).get((f"{consumer.NAMESPACE}_batches_total", ()), 0.0)
            except OSError:  # not listening yet
                pass
            time.sleep(0.05)
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()

    assert process.returncode == 0, err
    assert out.splitlines()[-1] == "stopped: the last batch is stored and committed"
    warehouse = Warehouse(url=url)
    cursor = tables.read_rows(warehouse, NAMES.stream_cursor)
    stored = tables.count_rows(warehouse, NAMES.raw)
    # every stored tweet belongs to a committed file: the batch in hand was finished, not dropped
    assert stored == cursor["tweets"].sum() == per_file * len(cursor)
    assert 2 <= len(cursor) < files  # it stopped mid-stream, not at the end
    # the next consumer takes up exactly where this one stopped
    rest = stream.ingest_available(
        stream.LandingSource(UPath(landing), warehouse, NAMES), warehouse, NAMES, 1000
    )
    assert sum(r.stored for r in rest) == per_file * (files - len(cursor))
    ids = tables.read_rows(warehouse, NAMES.raw)["tweet_id"]
    assert len(ids) == ids.nunique() == len(generated.truth)
