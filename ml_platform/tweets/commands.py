"""`ml-platform tweets …`: classify a file of tweets, train from labelled tweets, run the stream
consumer, import golden labels — the functions the assets run, without a Dagster deployment.

Imports stay inside the commands: TensorFlow loads only for the commands that use a model.
"""

import argparse
import sys
import time
from pathlib import Path

from ml_platform.core.cli_args import probability, writable_file


def _deployment(args: argparse.Namespace, *, object_store: bool = True):
    """The warehouse and object store of `$ML_PLATFORM_ENV` (as Dagster runs see them), or the
    warehouse given on the command line. Without `object_store` (None then) and with a warehouse
    given, the deployment's resources are not built: a consumer restarted after a crash starts
    storing sooner."""
    from ml_platform.core.warehouse import Warehouse

    if getattr(args, "warehouse_url", None) and not object_store:
        return Warehouse(url=args.warehouse_url, db_schema=args.db_schema), None
    from ml_platform.core.settings import build_resources

    resources = build_resources()
    store = resources["object_store"].process_config_and_initialize()
    if getattr(args, "warehouse_url", None):
        warehouse = Warehouse(url=args.warehouse_url, db_schema=args.db_schema)
    else:
        warehouse = resources["warehouse"].process_config_and_initialize()
    return warehouse, store


def _classify(args: argparse.Namespace) -> int:
    """Every non-blank input line gets its output rows (a v2 page holds several tweets) or a
    row in the rejected-lines CSV (`file,line,error,document`), never a traceback: a file from
    outside is read as leniently as the stream."""
    import pandas as pd

    from ml_platform.core.errors import InvalidInputError
    from ml_platform.tweets.classifier import TweetClassifier, load_saved_model_directory
    from ml_platform.tweets.parsing import read_json_lines
    from ml_platform.tweets.urls import links_of

    source = Path(args.input)
    if not source.is_file():
        raise InvalidInputError(f"{source}: file not found")
    output = writable_file(args.output, "--output")
    rejected_path = writable_file(
        args.rejected or str(output.with_name(f"{output.stem}.rejected.csv")), "--rejected"
    )
    if args.model:
        model = load_saved_model_directory(Path(args.model), threshold=args.threshold)
    else:
        _, store = _deployment(args)
        model = store.read_value("tweet_classifier")
        if not isinstance(model, TweetClassifier):
            raise InvalidInputError(
                "no trained tweet_classifier in the object store: materialize it, run "
                "`ml-platform tweets train`, or pass --model DIR"
            )
    lines = source.read_bytes().splitlines()
    tweets, rejected = read_json_lines(lines, str(source), strict=False)
    threshold = args.threshold if args.threshold is not None else model.threshold
    started = time.perf_counter()
    probability = model.predict(tweets["text"].tolist()) if len(tweets) else []
    seconds = time.perf_counter() - started
    out = pd.DataFrame(
        {
            "id": tweets["tweet_id"].astype(str),
            "probability": pd.Series(probability, dtype="float64").round(6).to_numpy(),
            "is_ai": pd.Series(probability, dtype="float64").to_numpy() >= threshold,
            "urls": [
                " ".join(url for url, _, _ in links_of(text, entity_urls))
                for text, entity_urls in zip(tweets["text"], tweets["entity_urls"], strict=True)
            ],
        }
    )
    out.to_csv(output, index=False)
    pd.DataFrame(
        {
            "file": [r.origin for r in rejected],
            "line": pd.array([r.line for r in rejected], dtype="Int64"),
            "error": [r.problem for r in rejected],
            "document": [r.document for r in rejected],
        }
    ).to_csv(rejected_path, index=False)
    blank = sum(1 for line in lines if not line.strip())
    print(
        f"{len(lines)} lines: {len(out)} tweets classified, {int(out['is_ai'].sum())} about AI "
        f"(threshold {threshold:.3f}, model version {model.version}) in {seconds:.2f} s → "
        f"{output}; {len(rejected)} lines rejected → {rejected_path}; {blank} blank"
    )
    for problem in rejected[:5]:
        print(f"rejected: {problem}", file=sys.stderr)
    return 0


def _train(args: argparse.Namespace) -> int:
    from dataclasses import replace

    import pandas as pd

    from ml_platform.core.errors import InvalidInputError
    from ml_platform.tweets import splits, training
    from ml_platform.tweets.classifier import ClassifierConfig, unpack_directory
    from ml_platform.tweets.parsing import load_tweets

    tweets = load_tweets(args.input, require_label=True)
    unique = splits.deduplicate(tweets)
    if len(unique) < 50:
        raise InvalidInputError(f"{args.input}: {len(unique)} distinct tweets; need at least 50")
    n = len(unique)
    sizes = splits.SplitSizes(
        test_size=min(1000, n // 5),
        dev_size=min(500, n // 10),
        snorkel_train_size=min(10_000, 2 * n // 5),
    )
    assigned = splits.assign_splits(unique, {}, sizes, args.seed)
    golden = pd.DataFrame(
        {"tweet_id": assigned["tweet_id"], "label": assigned["label"].astype("int64")}
    )
    weak = training.weak_labels(assigned, golden)
    config = ClassifierConfig()
    if args.epochs:
        config = replace(config, epochs=args.epochs)
    output = Path(args.output)
    versions = [int(p.name) for p in output.glob("*") if p.name.isdigit()]
    version = max(versions, default=0) + 1
    trained = training.train_tweet_classifier(
        assigned, weak.table, golden, config, version=version, seed=args.seed
    )
    target = output / str(version)
    target.mkdir(parents=True)
    unpack_directory(trained.classifier.saved_model, target)
    print(f"{len(tweets)} tweets, {n} distinct; split {sizes}")
    print(f"evaluated on {trained.evaluated_on}:")
    print(trained.comparison.set_index("model").round(4).to_string())
    print(f"threshold {trained.metrics['threshold']:.3f}; SavedModel version {version} → {target}")
    return 0


def _ingest(args: argparse.Namespace) -> int:
    import threading

    from upath import UPath

    from ml_platform.tweets import consumer, stream
    from ml_platform.tweets.classifier import TweetClassifier
    from ml_platform.tweets.contract import TweetTables

    warehouse, store = _deployment(args, object_store=args.classify)
    names = TweetTables(args.prefix, args.version)
    metrics = consumer.ConsumerMetrics()
    if args.metrics_port is not None:
        metrics.serve(args.metrics_port)
    if args.kafka_bootstrap_servers:
        source = stream.KafkaSource(
            args.kafka_bootstrap_servers, args.kafka_topic, args.kafka_group
        )
    else:
        source = stream.LandingSource(UPath(args.landing), warehouse, names)
    loaded: TweetClassifier | None = None

    def latest_model() -> TweetClassifier | None:
        """The stored classifier, loaded again only when its version changed."""
        nonlocal loaded
        latest = store.read_value("tweet_classifier")
        if isinstance(latest, TweetClassifier) and (
            loaded is None or latest.version != loaded.version
        ):
            loaded = latest.load()
        return loaded

    options = consumer.ConsumerOptions(args.max_tweets, args.follow, args.poll_seconds)
    try:
        with consumer.stop_on_signals(threading.Event()) as stop:
            consumer.consume(
                source,
                warehouse,
                names,
                options,
                metrics,
                stop,
                model=latest_model if args.classify else None,
            )
    finally:
        source.close()
    return 0


def _import_labels(args: argparse.Namespace) -> int:
    from ml_platform.tweets import golden
    from ml_platform.tweets.contract import TweetTables

    warehouse, _ = _deployment(args)
    labels = golden.load_golden_csv(args.csv, annotator=args.annotator)
    table = TweetTables(args.prefix, 0).golden
    added = golden.store(warehouse, table, labels)
    print(f"{added} new golden labels of {len(labels)} in {args.csv} → {table}")
    return 0


def _add_warehouse(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--prefix", default="", help="table name prefix (tweets_settings.prefix)")
    parser.add_argument(
        "--warehouse-url", help="default: the warehouse of $ML_PLATFORM_ENV (local: SQLite)"
    )
    parser.add_argument("--db-schema", help="PostgreSQL schema of --warehouse-url")


def register(products: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    tweets = products.add_parser("tweets", help="tweet stream classification")
    commands = tweets.add_subparsers(dest="command", required=True)

    classify = commands.add_parser(
        "classify", help="classify a JSON-lines file of tweets; write id,probability,is_ai,urls"
    )
    classify.add_argument("--input", required=True, help="tweets as JSON lines (API v1.1 or v2)")
    classify.add_argument(
        "--model",
        help="SavedModel directory (or TF Serving base dir); default: the latest trained model",
    )
    classify.add_argument("--output", required=True, help="CSV to write")
    classify.add_argument(
        "--rejected",
        help="CSV of the lines that are not tweets (file,line,error,document); "
        "default: <output>.rejected.csv beside --output",
    )
    classify.add_argument(
        "--threshold",
        type=probability,
        help="default: the model's (a --model directory records it)",
    )
    classify.set_defaults(run=_classify)

    train = commands.add_parser(
        "train", help="weak-label, train and evaluate from tweets carrying a `label` field"
    )
    train.add_argument("--input", required=True, help="tweets as JSON lines, each with label 1/0")
    train.add_argument(
        "--output",
        default=".ml_platform/tweet_classifier_serving",
        help="TensorFlow Serving base directory; the model lands in <output>/<next version>",
    )
    train.add_argument("--seed", type=int, default=42)
    train.add_argument("--epochs", type=int, help="cap on epochs (default: tuned)")
    train.set_defaults(run=_train)

    ingest = commands.add_parser(
        "ingest", help="store the stream in the raw table (and classify it) as a consumer"
    )
    source = ingest.add_mutually_exclusive_group(required=True)
    source.add_argument("--landing", help="folder or s3:// prefix where JSON-lines files land")
    source.add_argument("--kafka-bootstrap-servers", help="host:port[,…] of the Kafka brokers")
    ingest.add_argument("--kafka-topic", default="tweets")
    ingest.add_argument("--kafka-group", default="ml-platform-tweets")
    ingest.add_argument("--version", type=int, default=0, help="dataset version of the tables")
    ingest.add_argument("--max-tweets", type=int, default=10_000, help="per micro-batch")
    ingest.add_argument("--follow", action="store_true", help="keep polling for new tweets")
    ingest.add_argument("--poll-seconds", type=float, default=0.5)
    ingest.add_argument(
        "--classify", action="store_true", help="classify new tweets with the latest model"
    )
    ingest.add_argument(
        "--metrics-port",
        type=int,
        help="serve Prometheus metrics (lag, batches, rows stored, classification time) here",
    )
    _add_warehouse(ingest)
    ingest.set_defaults(run=_ingest)

    labels = commands.add_parser(
        "import-labels", help="add golden labels from a CSV (tweet_id,label[,annotator,…])"
    )
    labels.add_argument("--csv", required=True)
    labels.add_argument("--annotator", default="csv-import", help="when the CSV has no column")
    _add_warehouse(labels)
    labels.set_defaults(run=_import_labels)
