"""The long-running stream consumer (`ml-platform tweets ingest --follow`): micro-batches until it
is told to stop, with Prometheus metrics of what it did.

SIGTERM (what Kubernetes sends a pod it stops) and SIGINT only set a flag. The batch in hand is
stored and committed (and classified, with `--classify`), then the loop ends and the process
exits 0; a poll or a wait between polls is cut short. Stopping never loses a tweet either way
(a batch is committed only after it is stored, see `stream`), but a consumer killed mid-batch
has its batch delivered again to the next one, and a rolling update would then replay a batch
per pod.

The metrics are per process, like the apps' (`core.http_metrics`): one consumer per pod, and
Prometheus sums the pods of the consumer group.
"""

import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType
from typing import Protocol

import numpy as np
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

from ml_platform.core.warehouse import Warehouse
from ml_platform.tweets import live, stream
from ml_platform.tweets.contract import TweetTables

NAMESPACE = "ml_platform_tweets_consumer"
# A micro-batch of a few tweets on SQLite (milliseconds) to 10,000 tweets into PostgreSQL and
# through the classifier (tens of seconds).
DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


class ServedModel(Protocol):
    """What the consumer needs of a loaded classifier (`TweetClassifier.load()`)."""

    version: int
    threshold: float

    def predict(self, texts: list[str]) -> np.ndarray: ...


class ConsumerMetrics:
    """The consumer's counters, in a registry of its own (tests run several in one process)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        common = {"namespace": NAMESPACE, "registry": self.registry}
        self.batches = Counter("batches", "Micro-batches stored and committed", **common)
        self.tweets_read = Counter("tweets_read", "Tweets read from the source", **common)
        self.rows_stored = Counter(
            "rows_stored",
            "New rows stored, by table (raw, dead_letters, classified, ai, urls)",
            ["table"],
            **common,
        )
        self.lag = Gauge(
            "lag",
            "Positions (Kafka messages, landing files) delivered to the source and not stored "
            "yet, after the last batch",
            **common,
        )
        self.batch_seconds = Histogram(
            "batch_duration_seconds",
            "Poll, store and commit of one non-empty micro-batch",
            buckets=DURATION_BUCKETS,
            **common,
        )
        self.classification_seconds = Histogram(
            "classification_duration_seconds",
            "One call of the classifier on the new tweets of a batch",
            buckets=DURATION_BUCKETS,
            **common,
        )
        self.model_version = Gauge(
            "model_version", "Version of the classifier in use (0: none yet)", **common
        )

    def serve(self, port: int, host: str = "0.0.0.0") -> None:
        """`/metrics` (any path, in fact) on `port`, from a daemon thread of this process."""
        start_http_server(port, addr=host, registry=self.registry)

    def timed(
        self, predict: Callable[[list[str]], np.ndarray]
    ) -> Callable[[list[str]], np.ndarray]:
        def timed_predict(texts: list[str]) -> np.ndarray:
            with self.classification_seconds.time():
                return predict(texts)

        return timed_predict


@dataclass(frozen=True)
class ConsumerOptions:
    max_tweets: int = 10_000  # per micro-batch
    follow: bool = False  # keep polling once the source is drained
    poll_seconds: float = 0.5  # wait after an empty poll


@contextmanager
def stop_on_signals(stop: threading.Event) -> Iterator[threading.Event]:
    """SIGTERM and SIGINT set `stop` (the loop then ends after its batch) instead of raising."""

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def consume(
    source: stream.TweetSource,
    warehouse: Warehouse,
    names: TweetTables,
    options: ConsumerOptions,
    metrics: ConsumerMetrics,
    stop: threading.Event,
    model: Callable[[], ServedModel | None] | None = None,
    log: Callable[[str], None] = lambda line: print(line, flush=True),
) -> None:
    """Micro-batches until the source is drained (without `follow`) or `stop` is set.

    `model` returns the classifier to use now (None: not trained yet); without it nothing is
    classified. It is asked after each batch that stored tweets, so a newer model is picked up
    between batches."""
    while not stop.is_set():
        started = time.perf_counter()
        report = stream.ingest(source, warehouse, names, options.max_tweets)
        if report.positions:
            metrics.batch_seconds.observe(time.perf_counter() - started)
            metrics.batches.inc()
            metrics.tweets_read.inc(report.read)
            metrics.rows_stored.labels("raw").inc(report.stored)
            metrics.rows_stored.labels("dead_letters").inc(report.dead_lettered)
            log(
                f"stored {report.stored} of {report.read} tweets "
                f"({report.already_stored} already stored) in {report.seconds:.2f} s; "
                f"{len(report.rejected)} lines rejected, {report.dead_lettered} new in "
                f"{names.dead_letters}"
            )
        metrics.lag.set(source.backlog())
        if model is not None and report.stored:
            _classify(warehouse, names, model(), metrics, log)
        if not report.positions:
            if not options.follow:
                return
            stop.wait(options.poll_seconds)
    log("stopped: the last batch is stored and committed")


def _classify(
    warehouse: Warehouse,
    names: TweetTables,
    served: ServedModel | None,
    metrics: ConsumerMetrics,
    log: Callable[[str], None],
) -> None:
    if served is None:
        return
    metrics.model_version.set(served.version)
    predict = metrics.timed(served.predict)
    classified = live.classify_new(warehouse, names, predict, served.version, served.threshold)
    ai = live.store_ai_tweets(warehouse, names)
    links = live.store_urls(warehouse, names)
    metrics.rows_stored.labels("classified").inc(classified.stored)
    metrics.rows_stored.labels("ai").inc(ai.stored)
    metrics.rows_stored.labels("urls").inc(links.stored)
    log(f"classified {classified.stored}, {ai.stored} about AI, {links.stored} links")
