"""The Grafana dashboard (deploy/grafana/ml_platform.json) queries only what the apps export: the
names are read from each app's real `/metrics` answer, not from a list kept beside the dashboard."""

import json
import re
import threading
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from fastapi.testclient import TestClient
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families
from upath import UPath

from ml_platform.core.storage import ObjectStore, ObjectStoreIOManager
from ml_platform.core.warehouse import Warehouse
from ml_platform.demo_data.tweets import generate_tweet_stream, write_tweet_stream
from ml_platform.labelling.app import create_app as create_labelling_app
from ml_platform.labelling.settings import LabellingSettings, parse_tokens
from ml_platform.prod2vec.contract import INDEX_ASSET
from ml_platform.serving.app import create_app as create_serving_app
from ml_platform.serving.settings import ServingSettings
from ml_platform.tweets import consumer, stream
from ml_platform.tweets.contract import TweetTables
from ml_platform_tests.serving.test_app import GENRES, HISTORY, TasteRecommender, wait_until
from ml_platform_tests.tweets.test_consumer import KeywordModel

DASHBOARD = Path(__file__).resolve().parents[2] / "deploy" / "grafana" / "ml_platform.json"
METRIC = re.compile(r"\bml_platform_[a-z0-9_]+\b")
# the sample names each type of metric family is exposed under
SUFFIXES = {
    "counter": ("_total",),
    "histogram": ("_bucket", "_count", "_sum"),
    "gauge": ("",),
}


def exported(text: str) -> dict[str, set[str]]:
    """Sample name → label names, from an answer in Prometheus' text format (a family with no
    sample yet, a labelled counter before its first increment, still names its samples)."""
    names: dict[str, set[str]] = {}
    for family in text_string_to_metric_families(text):
        for suffix in SUFFIXES[family.type]:
            names.setdefault(family.name + suffix, set())
        for sample in family.samples:
            names.setdefault(sample.name, set()).update(sample.labels)
    return names


def expressions(node: object) -> list[str]:
    if isinstance(node, dict):
        found = [node["expr"]] if isinstance(node.get("expr"), str) else []
        return found + [e for value in node.values() for e in expressions(value)]
    if isinstance(node, list):
        return [e for item in node for e in expressions(item)]
    return []


def materialize(store: ObjectStore, asset: str, value: Any) -> None:
    """Store `value` as `asset` through the platform's IO manager, as the asset would."""
    dg.materialize(
        [dg.asset(name=asset)(lambda: value)],
        resources={"io_manager": ObjectStoreIOManager(store=store)},
    )


@pytest.fixture(scope="module")
def names(tmp_path_factory) -> dict[str, set[str]]:
    """/metrics of each app after it did real work, so that every labelled metric has samples:
    the serving app with one model loaded and one stored file that is no model, the labelling
    app after a signed-in page, the consumer after a batch it stored and classified."""
    tmp = tmp_path_factory.mktemp("apps")
    names: dict[str, set[str]] = {}
    store = ObjectStore(base_uri=str(tmp / "storage"))
    materialize(store, "recommender_model", TasteRecommender(GENRES, HISTORY))
    materialize(store, INDEX_ASSET, "not a model")
    settings = ServingSettings(object_store=store, reload_interval_seconds=0.05)
    with TestClient(create_serving_app(settings)) as client:
        wait_until(lambda: "reload_failures_total{" in client.get("/metrics").text)
        assert client.get("/healthz").status_code == 200
        names.update(exported(client.get("/metrics").text))

    token = "t" * 24
    warehouse = Warehouse(url=f"sqlite:///{tmp / 'warehouse.db'}")
    labelling = LabellingSettings(warehouse=warehouse, annotators=parse_tokens(f"alice:{token}"))
    with TestClient(create_labelling_app(labelling)) as client:
        assert client.get("/", headers={"Authorization": f"Bearer {token}"}).status_code == 200
        names.update(exported(client.get("/metrics").text))

    write_tweet_stream(tmp / "landing", generate_tweet_stream(50, seed=1), tweets_per_file=50)
    tweet_tables = TweetTables()
    metrics = consumer.ConsumerMetrics()
    consumer.consume(
        stream.LandingSource(UPath(tmp / "landing"), warehouse, tweet_tables),
        warehouse,
        tweet_tables,
        consumer.ConsumerOptions(),
        metrics,
        threading.Event(),
        model=lambda: KeywordModel(),
        log=lambda line: None,
    )
    names.update(exported(generate_latest(metrics.registry).decode()))
    return names


def test_every_metric_the_dashboard_queries_is_one_an_app_exports(names):
    dashboard = json.loads(DASHBOARD.read_text())
    queried = {name for expr in expressions(dashboard["panels"]) for name in METRIC.findall(expr)}
    assert queried - set(names) == set()
    # it covers the three apps, and each app's main figures
    for expected in (
        "ml_platform_serving_http_requests_total",
        "ml_platform_serving_http_request_duration_seconds_bucket",
        "ml_platform_serving_model_loaded",
        "ml_platform_serving_model_reload_failures_total",
        "ml_platform_labelling_http_requests_total",
        "ml_platform_tweets_consumer_lag",
        "ml_platform_tweets_consumer_batches_total",
        "ml_platform_tweets_consumer_rows_stored_total",
        "ml_platform_tweets_consumer_classification_duration_seconds_bucket",
    ):
        assert expected in queried, expected


def test_the_labels_the_dashboard_groups_and_filters_by_are_labels_of_the_metrics(names):
    """`route`, `status`, `table`, … are label names the apps set; `namespace` and `pod` are
    the ones Prometheus' kubernetes-pods scrape job adds to every target."""
    added_by_scrape = {"namespace", "pod", "le"}
    for expr in expressions(json.loads(DASHBOARD.read_text())["panels"]):
        metrics = METRIC.findall(expr)
        labels = set(re.findall(r"\bby \(([^)]*)\)", expr))
        grouped = {label.strip() for group in labels for label in group.split(",")}
        filtered = set(re.findall(r"[{,]\s*([a-z_]+)\s*(?:=~|!=|=)", expr))
        known = set().union(*(names.get(m, set()) for m in metrics)) | added_by_scrape
        assert (grouped | filtered) - known == set(), expr
