"""The tweet stream: sources that deliver at least once, and the micro-batch that stores them.

A source hands out a batch of tweets and is told to `commit` it only after the batch is stored;
storing is an insert that ignores tweet ids already stored (`tables.insert_new_rows`). So a
crash anywhere — while reading, mid-write (the transaction rolls back), after the write but
before the commit (the batch is delivered again and adds nothing) — never loses a tweet and
never stores one twice.

A line that is not a tweet never stops the stream: it goes to the dead-letter table
(`stream_dead_letters_<version>`) with its file or message, line, reason and text, written
(insert-if-new, like the tweets) before the commit, and the stream moves on.

Two sources:

- `LandingSource` (default, no servers): JSON-lines files arriving under a folder or an S3
  prefix, read in name order. Its committed cursor is the set of files already stored, kept in
  the warehouse (`stream_cursor_<version>`), beside the rows it describes. Writers must make a
  file appear whole (write then rename; an object-store PUT is atomic); names starting with "."
  are ignored, which is where such writers put their temporary files.
- `KafkaSource` (production): a confluent-kafka consumer in a consumer group with auto-commit
  off; the offsets of a batch are committed (synchronously) only after its rows are stored.
"""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

import pandas as pd
from upath import UPath

from ml_platform.core.warehouse import Compare, Warehouse
from ml_platform.tweets import tables
from ml_platform.tweets.contract import TweetTables
from ml_platform.tweets.parsing import RejectedLine, read_json_lines, read_messages
from ml_platform.tweets.tables import (
    CURSOR_COLUMNS,
    DEAD_LETTER_COLUMNS,
    DEAD_LETTER_KEY,
    RAW_COLUMNS,
)

logger = logging.getLogger(__name__)

LANDING_SUFFIXES = (".jsonl", ".json", ".ndjson")
# The problem is part of the dead-letter key: bounded, so it fits a btree index entry.
_MAX_PROBLEM_CHARACTERS = 1000


@dataclass
class StreamBatch:
    """Tweets read from a source (raw columns but `stored_at`), the positions that committing
    marks as done, and the lines rejected on the way, each naming where it was and why."""

    tweets: pd.DataFrame
    positions: list[str]
    rejected: list[RejectedLine] = field(default_factory=list)
    offsets: dict[tuple[str, int], int] = field(default_factory=dict)  # Kafka: next offsets

    @property
    def empty(self) -> bool:
        return not self.positions


class TweetSource(Protocol):
    """Where tweets come from; `poll` returns an empty batch when nothing new has arrived."""

    name: str

    def poll(self, max_tweets: int) -> StreamBatch: ...

    def commit(self, batch: StreamBatch) -> None: ...

    def backlog(self) -> int:
        """Positions (files, messages) that have arrived and are not committed yet: the lag."""
        ...

    def close(self) -> None: ...


def _with_arrival(tweets: pd.DataFrame, sources: Any, arrived_at: Any) -> pd.DataFrame:
    """`source` and `arrived_at` columns from scalars (one file) or per-tweet arrays."""
    return tweets.assign(
        source=pd.Series(sources, index=tweets.index, dtype="str"),
        arrived_at=pd.Series(arrived_at, index=tweets.index, dtype="datetime64[ns, UTC]"),
    )


def _empty_tweets() -> pd.DataFrame:
    frame, _ = read_json_lines([], "nothing", strict=False)
    return _with_arrival(frame, "", pd.NaT)


class LandingSource:
    """JSON-lines files under `root` (a local folder or any fsspec URL, e.g. an S3 prefix)."""

    def __init__(self, root: UPath, warehouse: Warehouse, tweet_tables: TweetTables) -> None:
        self.root = root
        self.name = f"landing:{root}"
        self._warehouse = warehouse
        self._cursor_table = tweet_tables.stream_cursor

    def committed(self) -> set[str]:
        rows = tables.read_rows(
            self._warehouse, self._cursor_table, [Compare("source", "==", self.name)]
        )
        return set(rows["position"]) if len(rows) else set()

    def pending(self) -> list[UPath]:
        """Landed files not stored yet, oldest name first."""
        if not self.root.exists():
            return []
        self.root.fs.invalidate_cache()  # s3fs caches listings; new objects would stay unseen
        done = self.committed()
        files = [
            path
            for path in self.root.iterdir()
            if path.name.endswith(LANDING_SUFFIXES)
            and not path.name.startswith(".")
            and path.name not in done
        ]
        return sorted(files, key=lambda path: path.name)

    def poll(self, max_tweets: int) -> StreamBatch:
        """Whole files, oldest first, until `max_tweets` are read (at least one file)."""
        frames, positions, rejected = [], [], []
        read = 0
        for path in self.pending():
            if positions and read >= max_tweets:
                break
            arrived_at = _modified_at(path)
            frame, problems = read_json_lines(
                path.read_bytes().splitlines(), str(path), strict=False
            )
            frames.append(_with_arrival(frame, path.name, arrived_at))
            positions.append(path.name)
            rejected.extend(problems)
            read += len(frame)
        tweets = pd.concat(frames, ignore_index=True) if frames else _empty_tweets()
        return StreamBatch(tweets, positions, rejected)

    def commit(self, batch: StreamBatch) -> None:
        if batch.empty:
            return
        counts = batch.tweets.groupby("source").size()
        cursor = pd.DataFrame(
            {
                "source": self.name,
                "position": batch.positions,
                "tweets": [int(counts.get(p, 0)) for p in batch.positions],
                "committed_at": datetime.now(UTC),
            }
        )
        tables.insert_new_rows(
            self._warehouse, self._cursor_table, cursor, CURSOR_COLUMNS, ("source", "position")
        )

    def backlog(self) -> int:
        return len(self.pending())

    def close(self) -> None:
        """Nothing is held open between polls."""


def _modified_at(path: UPath) -> datetime:
    """When the file landed: a local file's mtime, an S3 object's LastModified."""
    info = path.fs.info(path.path)
    for key in ("mtime", "LastModified", "last_modified", "created"):
        value = info.get(key)
        if isinstance(value, datetime):
            return value if value.tzinfo else value.replace(tzinfo=UTC)
        if isinstance(value, int | float):
            return datetime.fromtimestamp(value, UTC)
    return datetime.now(UTC)


class KafkaSource:
    """A topic read by a consumer group; offsets are committed only for stored batches.

    `config` is passed to confluent-kafka as is (security settings, timeouts); the group id and
    offset handling are fixed here because the delivery guarantee depends on them.
    """

    def __init__(
        self,
        bootstrap_servers: str,
        topic: str,
        group_id: str,
        config: dict[str, Any] | None = None,
        poll_timeout_seconds: float = 1.0,
    ) -> None:
        from confluent_kafka import Consumer

        self.name = f"kafka:{topic}"
        self.topic = topic
        self._timeout = poll_timeout_seconds
        self._consumer = Consumer(
            {
                **(config or {}),
                "bootstrap.servers": bootstrap_servers,
                "group.id": group_id,
                "enable.auto.commit": False,  # commit only what is stored
                "enable.auto.offset.store": False,
                "auto.offset.reset": "earliest",  # a new group reads the topic from its start
            }
        )
        self._consumer.subscribe([topic])

    def poll(self, max_tweets: int) -> StreamBatch:
        from confluent_kafka import KafkaError, KafkaException

        messages = self._consumer.consume(num_messages=max_tweets, timeout=self._timeout)
        lines, arrivals, origins, positions = [], [], [], []
        offsets: dict[tuple[str, int], int] = {}
        rejected = []
        for message in messages:
            error = message.error()
            if error is not None:
                if error.code() == KafkaError._PARTITION_EOF:
                    continue
                if error.fatal():
                    raise KafkaException(error)
                logger.warning("kafka: %s", error)
                continue
            origin = f"{message.topic()}/{message.partition()}/{message.offset()}"
            key = (message.topic(), message.partition())
            offsets[key] = max(offsets.get(key, 0), message.offset() + 1)
            positions.append(origin)
            if message.value() is None:
                rejected.append(RejectedLine(origin, None, "message has no value", ""))
                continue
            lines.append(message.value())
            origins.append(origin)
            _, timestamp_ms = message.timestamp()
            arrivals.append(timestamp_ms)
        tweets, problems = _read_messages(lines, origins, arrivals)
        return StreamBatch(tweets, positions, rejected + problems, offsets)

    def commit(self, batch: StreamBatch) -> None:
        from confluent_kafka import TopicPartition

        if not batch.offsets:
            return
        self._consumer.commit(
            offsets=[TopicPartition(t, p, o) for (t, p), o in batch.offsets.items()],
            asynchronous=False,
        )

    def backlog(self) -> int:
        """Over this consumer's partitions only: each replica of the group reports its share,
        and their sum is the group's lag."""
        assigned = self._consumer.assignment()
        if not assigned:
            return 0
        backlog = 0
        for position in self._consumer.position(assigned):
            low, high = self._consumer.get_watermark_offsets(position, timeout=self._timeout)
            backlog += max(high - (position.offset if position.offset >= 0 else low), 0)
        return backlog

    def close(self) -> None:
        self._consumer.close()


def _read_messages(
    values: list[bytes], origins: list[str], arrivals_ms: list[int]
) -> tuple[pd.DataFrame, list[RejectedLine]]:
    if not values:
        return _empty_tweets(), []
    tweets, problems, message_of_tweet = read_messages(values, origins)
    arrived = pd.to_datetime(
        [arrivals_ms[i] if arrivals_ms[i] > 0 else None for i in message_of_tweet],
        unit="ms",
        utc=True,
    )
    return _with_arrival(tweets, [origins[i] for i in message_of_tweet], arrived), problems


@dataclass(frozen=True)
class IngestReport:
    read: int  # tweets in the batch
    stored: int  # new rows in the raw table (the rest were stored before)
    positions: int  # files or messages committed
    rejected: list[RejectedLine]  # lines that are not tweets
    dead_lettered: int  # new rows in the dead-letter table (a replay adds none)
    seconds: float

    @property
    def already_stored(self) -> int:
        return self.read - self.stored


def ingest(
    source: TweetSource,
    warehouse: Warehouse,
    tweet_tables: TweetTables,
    max_tweets: int,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> IngestReport:
    """One micro-batch: poll, store new tweets in the raw table, then commit the source."""
    started = time.perf_counter()
    batch = source.poll(max_tweets)
    if batch.empty:
        return IngestReport(0, 0, 0, [], 0, time.perf_counter() - started)
    now = clock()
    rows = batch.tweets.assign(stored_at=now)
    stored = tables.insert_new_rows(warehouse, tweet_tables.raw, rows, RAW_COLUMNS, ("tweet_id",))
    dead_lettered = store_dead_letters(warehouse, tweet_tables, source.name, batch.rejected, now)
    source.commit(batch)
    for problem in batch.rejected[:20]:
        logger.warning("dead-lettered: %s", problem)
    return IngestReport(
        read=len(batch.tweets),
        stored=stored,
        positions=len(batch.positions),
        rejected=batch.rejected,
        dead_lettered=dead_lettered,
        seconds=time.perf_counter() - started,
    )


def store_dead_letters(
    warehouse: Warehouse,
    tweet_tables: TweetTables,
    source: str,
    rejected: list[RejectedLine],
    rejected_at: datetime,
) -> int:
    """Keep the rejected lines with their reasons; insert-if-new, so a replay adds none."""
    if not rejected:
        return 0
    rows = pd.DataFrame(
        {
            "source": source,
            "origin": [r.origin for r in rejected],
            "line": pd.array([r.line or 1 for r in rejected], dtype="int64"),
            "problem": [r.problem[:_MAX_PROBLEM_CHARACTERS] for r in rejected],
            "document": [r.document for r in rejected],
            "rejected_at": rejected_at,
        }
    )
    return tables.insert_new_rows(
        warehouse, tweet_tables.dead_letters, rows, DEAD_LETTER_COLUMNS, DEAD_LETTER_KEY
    )


def ingest_available(
    source: TweetSource,
    warehouse: Warehouse,
    tweet_tables: TweetTables,
    max_tweets_per_batch: int,
    max_batches: int | None = None,
) -> list[IngestReport]:
    """Micro-batches until the source has nothing new (or `max_batches` ran)."""
    reports: list[IngestReport] = []
    while max_batches is None or len(reports) < max_batches:
        report = ingest(source, warehouse, tweet_tables, max_tweets_per_batch)
        if report.positions == 0:
            break
        reports.append(report)
    return reports


def kafka_backlog(
    bootstrap_servers: str, topic: str, group_id: str, config: dict[str, Any] | None = None
) -> int:
    """Messages in `topic` the group has not committed yet (what a sensor asks before starting
    a run); reads offsets only, joins no group."""
    from confluent_kafka import Consumer, TopicPartition

    consumer = Consumer(
        {**(config or {}), "bootstrap.servers": bootstrap_servers, "group.id": group_id}
    )
    try:
        metadata = consumer.list_topics(topic, timeout=10)
        partitions = [TopicPartition(topic, p) for p in metadata.topics[topic].partitions]
        backlog = 0
        for committed in consumer.committed(partitions, timeout=10):
            low, high = consumer.get_watermark_offsets(committed, timeout=10)
            backlog += high - (committed.offset if committed.offset >= 0 else low)
        return backlog
    finally:
        consumer.close()
