"""The tweet graph materialized on the real servers (PostgreSQL tables, S3 object store) from a
small generated stream, then driven by its sensors and its automation conditions as the stream
grows (what the daemon would do on each tick, evaluated in the test)."""

import uuid

import boto3
import dagster as dg
import pandas as pd
import pytest
import sqlalchemy as sa

from ml_platform.core import runs
from ml_platform.core.storage import ObjectStore, ObjectStoreIOManager
from ml_platform.core.warehouse import Warehouse, WarehouseIOManager
from ml_platform.demo_data.tweets import generate_tweet_stream, write_tweet_stream
from ml_platform.tweets import definitions, golden, tables
from ml_platform.tweets.assets import CANDIDATE, PROMOTED
from ml_platform.tweets.contract import SPLITS
from ml_platform.tweets.jobs import tweets_micro_batch_job, tweets_retrain_job
from ml_platform.tweets.resources import TweetsSettings
from ml_platform.tweets.sensors import tweets_golden_labels_sensor, tweets_stream_sensor

SMALL = {
    "prefix": "acme_",
    "generated_tweets": 4500,
    "test_size": 300,
    "dev_size": 150,
    "snorkel_train_size": 1000,
    "max_epochs": 8,
    "retrain_after_labels": 5,
}


def build(settings: TweetsSettings, store: ObjectStore, warehouse: Warehouse) -> dg.Definitions:
    return dg.Definitions.merge(
        definitions.build_definitions(settings),
        dg.Definitions(
            resources={
                "io_manager": ObjectStoreIOManager(store=store),
                "object_store": store,
                "warehouse": warehouse,
                "warehouse_io_manager": WarehouseIOManager(warehouse=warehouse),
            }
        ),
    )


@pytest.fixture(scope="module")
def platform(postgres_url, s3_endpoint):
    bucket = f"test-{uuid.uuid4().hex[:16]}"
    boto3.client("s3", endpoint_url=s3_endpoint).create_bucket(Bucket=bucket)
    store = ObjectStore(base_uri=f"s3://{bucket}/platform", endpoint_url=s3_endpoint)
    warehouse = Warehouse(url=postgres_url, db_schema=f"test_{uuid.uuid4().hex[:12]}")
    with warehouse.engine().begin() as conn:
        conn.execute(sa.schema.CreateSchema(warehouse.db_schema))
    settings = TweetsSettings(**SMALL)
    defs = build(settings, store, warehouse)
    with dg.instance_for_test() as instance:
        result = defs.resolve_job_def("tweets_job").execute_in_process(
            instance=instance, raise_on_error=False
        )
        yield result, defs, instance, settings, store, warehouse
    with warehouse.engine().begin() as conn:
        conn.execute(sa.schema.DropSchema(warehouse.db_schema, cascade=True))


@pytest.fixture(scope="module")
def automation() -> dict:
    """The automation evaluation's cursor from tick to tick, as the daemon keeps it."""
    return {}


def automation_tick(defs: dg.Definitions, instance, state: dict) -> set[str]:
    """One evaluation of the automation conditions, as the automation sensor's tick after each
    run would: the names of the assets it asks for."""
    evaluated = dg.evaluate_automation_conditions(
        defs=defs, instance=instance, cursor=state.get("cursor")
    )
    state["cursor"] = evaluated.cursor
    keys = defs.resolve_asset_graph().get_all_asset_keys()
    return {key.to_user_string() for key in keys if evaluated.get_num_requested(key)}


def test_every_asset_materializes_into_tables_named_by_prefix_and_version(platform):
    result, _, _, settings, _, warehouse = platform
    assert result.success
    assert all(check.passed for check in result.get_asset_check_evaluations())
    names = settings.tables()
    assert names.raw == "acme_raw_tweet_dataset_0"
    assert tables.count_rows(warehouse, names.raw) == 4500
    sizes = {split: tables.count_rows(warehouse, names.split(split)) for split in SPLITS}
    deduplicated = tables.count_rows(warehouse, names.deduplicated)
    assert sizes["test"] == 300 and sizes["dev"] == 150 and sizes["snorkel_train"] == 1000
    assert sum(sizes.values()) == deduplicated < 4500
    assert tables.count_rows(warehouse, names.classified) == 4500
    ai = tables.read_rows(warehouse, names.ai)
    assert 0.2 < len(ai) / 4500 < 0.5
    links = tables.read_rows(warehouse, names.urls)
    assert set(links["tweet_id"]) <= set(ai["tweet_id"])
    assert not links.duplicated(["tweet_id", "url"]).any()


def test_lf_analysis_and_labeller_evaluation_are_in_the_metadata(platform):
    result = platform[0]
    metadata = runs.materialized(result)
    analysis = metadata["weak_labels"]["lf_analysis"]
    for column in ("polarity", "coverage", "overlaps", "conflicts", "empirical_accuracy"):
        assert column in analysis
    evaluation = metadata["labeller_evaluation"]["evaluation"]
    assert "label_model" in evaluation and "majority_vote" in evaluation
    assert metadata["golden_labels"]["labels_in_test"] == 300
    model = metadata[CANDIDATE]
    assert model["evaluated_on"] == "golden labels of test"
    assert model["metric/f1"] > max(
        model["metric/label_model_f1"], model["metric/majority_vote_f1"]
    )
    assert metadata[PROMOTED]["saved_model"].endswith("tweet_classifier_serving/1")
    # calibrated on dev, judged on test; the dev threshold is recorded with the model
    assert model["metric/brier_score"] < 0.1
    assert "observed_ai_share" in model["reliability_diagram"]
    assert "plot/reliability" in model
    assert model["threshold_chosen_on"].startswith("golden labels of dev")
    assert model["threshold"] == model["metric/threshold"] >= 0.5


def test_the_whole_job_sets_off_no_further_run_and_classifies_with_the_served_model(
    platform, automation
):
    """Before: the golden-labels sensor retrained on the very labels the job had just trained on
    (model 2, served) and the new-model sensor re-ran classification, leaving the classified
    tweets with model 1. Now automation follows the promoted model, and the job that promoted
    it already classified with it: nothing is asked for."""
    result, defs, instance, settings, store, warehouse = platform

    golden_tick = runs.tick(tweets_golden_labels_sensor, defs, instance)
    automated = automation_tick(defs, instance, automation)
    stream_tick = runs.tick(tweets_stream_sensor, defs, instance)

    assert golden_tick.skipped == "0 new golden labels; retraining at 5"
    assert automated == set()
    assert stream_tick.skipped == "nothing new in the stream"
    metadata = runs.materialized(result)
    assert metadata[CANDIDATE]["golden_rows"] == metadata["golden_labels"]["golden_rows"]
    assert metadata["golden_labels"]["golden_rows"] == 450  # test and dev, simulated
    served = store.read_value("tweet_classifier").version
    classified = tables.read_rows(warehouse, settings.tables().classified)
    assert set(classified["model_version"]) == {served} == {1}
    assert metadata["classified_tweets"]["model_version"] == served


def test_a_new_stream_file_runs_a_micro_batch_that_classifies_only_the_new_tweets(
    platform, automation
):
    _, defs, instance, settings, store, warehouse = platform
    names = settings.tables()
    before = tables.read_rows(warehouse, names.classified)
    arriving = generate_tweet_stream(200, seed=99)  # its ids are newer: generated a day later
    write_tweet_stream(settings.landing(store), arriving, truth_path=store.path("truth-2.csv"))

    tick = runs.tick(tweets_stream_sensor, defs, instance)
    assert [r.job_name for r in tick.requests] == [tweets_micro_batch_job.name]
    assert set(runs.materialized(tick.runs[0])) == {
        "raw_tweets",
        "classified_tweets",
        "ai_tweets",
        "tweet_urls",
    }
    assert all(run.success for run in tick.runs)
    after = tables.read_rows(warehouse, names.classified)
    assert len(after) == len(before) + 200
    unchanged = after.merge(before, on="tweet_id", suffixes=("", "_before"))
    assert (unchanged["classified_at"] == unchanged["classified_at_before"]).all()
    assert runs.tick(tweets_stream_sensor, defs, instance).skipped == "nothing new in the stream"
    assert automation_tick(defs, instance, automation) == set()  # it classified them itself


def test_enough_new_golden_labels_retrain_once(platform, automation):
    _, defs, instance, settings, _, warehouse = platform
    table = settings.tables().golden
    seen = tables.count_rows(warehouse, table)
    first = runs.tick(tweets_golden_labels_sensor, defs, instance, cursor=str(seen))
    assert first.skipped == "0 new golden labels; retraining at 5"
    train_ids = tables.read_rows(warehouse, settings.tables().split("train"))["tweet_id"]
    people = pd.DataFrame(
        {
            "tweet_id": train_ids.head(5).to_numpy(),
            "label": 1,
            "annotator": "ana",
            "labelled_at": pd.Timestamp.now(tz="UTC"),
            "source": "ui",
        }
    )
    assert golden.store(warehouse, table, people) == 5

    retrain = runs.tick(tweets_golden_labels_sensor, defs, instance, cursor=str(seen))

    assert retrain.cursor == str(seen + 5) and all(run.success for run in retrain.runs)
    assert retrain.runs[0].dagster_run.job_name == tweets_retrain_job.name
    retrained = runs.materialized(retrain.runs[0])
    assert retrained[CANDIDATE]["golden_rows"] == seen + 5
    assert retrained[PROMOTED]["model_version"] == 2  # it passed, so the same run promoted it
    # the new promoted model sets off classification (the next test runs what is asked for)
    automation["requested"] = automation_tick(defs, instance, automation)
    assert automation["requested"] == {"classified_tweets", "ai_tweets", "tweet_urls"}
    # the labels the retrain consumed start no second one, whatever the cursor says
    again = runs.tick(tweets_golden_labels_sensor, defs, instance)
    assert again.skipped == "0 new golden labels; retraining at 5"


def test_a_model_promoted_without_classifying_classifies_the_backlog_and_nothing_twice(
    platform, automation
):
    """The retrain above ran no `classified_tweets`: automation classifies what is new with its
    promoted model, and the stream from then on is classified by the model serving loads."""
    _, defs, instance, settings, store, warehouse = platform
    live = [dg.AssetKey(name) for name in sorted(automation["requested"])]
    count = tables.count_rows(warehouse, settings.tables().classified)
    run = defs.resolve_job_def("tweets_job").execute_in_process(
        instance=instance, asset_selection=live
    )
    metadata = runs.materialized(run)
    assert metadata["classified_tweets"]["newly_classified"] == 0
    assert tables.count_rows(warehouse, settings.tables().classified) == count

    arriving = generate_tweet_stream(50, seed=123)
    write_tweet_stream(settings.landing(store), arriving, truth_path=store.path("truth-3.csv"))
    tick = runs.tick(tweets_stream_sensor, defs, instance)
    served = store.read_value("tweet_classifier").version
    new = tables.read_rows(warehouse, settings.tables().classified)
    new = new[new["tweet_id"].isin(arriving.truth["tweet_id"])]
    assert served == 2 and len(new) == 50 and set(new["model_version"]) == {served}
    assert runs.materialized(tick.runs[0])["classified_tweets"]["model_version"] == served


def test_a_new_version_writes_new_tables_and_leaves_the_old_ones(platform):
    _, _, instance, settings, store, warehouse = platform
    old = {
        table: tables.count_rows(warehouse, table)
        for table in (settings.tables().raw, settings.tables().split("test"))
    }
    next_version = TweetsSettings(**{**SMALL, "version": 1})
    run = (
        build(next_version, store, warehouse)
        .resolve_job_def("tweets_job")
        .execute_in_process(
            instance=instance,
            asset_selection=[
                dg.AssetKey(a) for a in ("raw_tweets", "deduplicated_tweets", "tweet_splits")
            ],
        )
    )
    assert run.success
    # the same landed files, all stored again in the new version's own tables
    assert tables.count_rows(warehouse, "acme_raw_tweet_dataset_1") == old[settings.tables().raw]
    assert tables.count_rows(warehouse, "acme_test_dataset_1") == 300
    assert {table: tables.count_rows(warehouse, table) for table in old} == old
