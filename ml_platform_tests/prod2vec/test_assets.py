"""The prod2vec graph materialized on the real servers (PostgreSQL, S3), on small generated data."""

import io
import uuid

import boto3
import dagster as dg
import pandas as pd
import pytest
import sqlalchemy as sa

from ml_platform.core.catalog import DataCatalog
from ml_platform.core.storage import ObjectStore, ObjectStoreIOManager
from ml_platform.core.warehouse import Warehouse, WarehouseIOManager
from ml_platform.prod2vec import definitions as prod2vec
from ml_platform.prod2vec.assets import passes_quality_gate
from ml_platform.prod2vec.resources import Prod2VecSettings
from ml_platform.prod2vec.skipgram import Hyperparameters

# 5,000 orders (~400 held-out queries): at 3,000 (245) "bought with" tied co-occurrence counts
SMALL = {"generated_orders": 5_000, "generated_products": 500, "min_pairs": 10_000}
QUICK = {"embedding_dim": 32, "learning_rate": 0.02, "epochs": 3}


def run(
    warehouse: Warehouse, bucket: str, endpoint: str, job: str = "prod2vec_job", **settings
) -> dg.ExecuteInProcessResult:
    store = ObjectStore(base_uri=f"s3://{bucket}/platform", endpoint_url=endpoint)
    product = prod2vec.build_definitions(Prod2VecSettings(**{**SMALL, **settings}))
    defs = dg.Definitions.merge(
        product,
        dg.Definitions(
            resources={
                "io_manager": ObjectStoreIOManager(store=store),
                "warehouse_io_manager": WarehouseIOManager(warehouse=warehouse),
                "object_store": store,
                "catalog": DataCatalog(),
            }
        ),
    )
    # an explicit run config replaces the job's own, so the tuning job's `tune` is restated
    tuning = {"tune": True, "trials": 3} if job == "prod2vec_tuning_job" else {}
    config = {"ops": {"prod2vec_hyperparameters": {"config": {**QUICK, **tuning}}}}
    return defs.resolve_job_def(job).execute_in_process(run_config=config, raise_on_error=False)


def materialized(result: dg.ExecuteInProcessResult) -> set[str]:
    return {
        e.step_materialization_data.materialization.asset_key.to_user_string()
        for e in result.get_asset_materialization_events()
    }


def metadata(result: dg.ExecuteInProcessResult, asset: str) -> dict:
    event = next(
        e
        for e in result.get_asset_materialization_events()
        if e.step_materialization_data.materialization.asset_key.to_user_string() == asset
    )
    return {k: v.value for k, v in event.step_materialization_data.materialization.metadata.items()}


def s3_object(endpoint: str, uri: str) -> bytes:
    bucket, key = uri.removeprefix("s3://").split("/", 1)
    return (
        boto3.client("s3", endpoint_url=endpoint).get_object(Bucket=bucket, Key=key)["Body"].read()
    )


@pytest.fixture(scope="module")
def servers(postgres_url, s3_endpoint):
    bucket = f"test-{uuid.uuid4().hex[:16]}"
    boto3.client("s3", endpoint_url=s3_endpoint).create_bucket(Bucket=bucket)
    warehouse = Warehouse(url=postgres_url, db_schema=f"test_{uuid.uuid4().hex[:12]}")
    with warehouse.engine().begin() as conn:
        conn.execute(sa.schema.CreateSchema(warehouse.db_schema))
    yield warehouse, bucket, s3_endpoint
    with warehouse.engine().begin() as conn:
        conn.execute(sa.schema.DropSchema(warehouse.db_schema, cascade=True))


@pytest.fixture(scope="module")
def plain_run(servers):
    """One run without tuning, shared by the tests below (training is the slow part)."""
    return run(*servers)


def test_without_tuning_every_asset_but_the_tuning_analysis_materializes_and_checks_pass(
    plain_run,
):
    assert plain_run.success
    assert materialized(plain_run) == {
        "orders",
        "order_products",
        "products",
        "baskets",
        "skipgram_pairs",
        "prod2vec_hyperparameters",
        "prod2vec_model",
        "product_vectors",
        "prod2vec_index",
        "similar_products",
    }
    checks = {e.check_name: e.passed for e in plain_run.get_asset_check_evaluations()}
    assert checks == {
        "baskets_are_valid": True,
        "skipgram_pairs_are_valid": True,
        "prod2vec_beats_baselines": True,
    }
    given = metadata(plain_run, "prod2vec_hyperparameters")
    assert given["source"] == "given" and given["embedding_dim"] == 32


def test_the_model_records_its_figures_beside_the_baselines_and_a_loss_curve(plain_run):
    model = metadata(plain_run, "prod2vec_model")

    assert model["metric/hr_at_10"] > model["metric/popularity_hr_at_10"]
    assert model["metric/hr_at_10"] > model["metric/cooccurrence_hr_at_10"]
    assert model["similar_method"] in {"bought_with", "cosine"}
    assert model["metric/similar_hr_at_10"] >= model["metric/cosine_hr_at_10"]
    assert 0 < model["metric/cooccurrence_hr_at_10"] <= 1
    assert model["metric/aisle_share_at_10"] > 2 * model["metric/aisle_share_chance"]
    assert model["metric/pairs_per_second"] > 0
    assert "data:image/png;base64," in model["plot/loss"]


def test_vectors_and_similar_products_land_in_the_warehouse_and_the_export(plain_run, servers):
    warehouse, _, endpoint = servers
    vectors = warehouse.read_table("product_vectors")
    similar = warehouse.read_table("similar_products")

    assert {"product_id", "product_name", "aisle", "purchases", "v_0", "v_31"} <= set(vectors)
    assert vectors["product_id"].is_unique and (vectors["product_name"] != "").all()
    assert similar.groupby("product_id").size().eq(10).all()
    assert not (similar["product_id"] == similar["neighbour_id"]).any()
    exported = metadata(plain_run, "product_vectors")
    parquet = pd.read_parquet(io.BytesIO(s3_object(endpoint, exported["parquet"])))
    assert exported["parquet"].endswith("part-0.parquet") and "/version=" in exported["parquet"]
    pd.testing.assert_series_equal(
        parquet["product_id"].sort_values(ignore_index=True),
        vectors["product_id"].sort_values(ignore_index=True),
    )


def test_tuning_runs_a_search_whose_trials_and_plots_become_the_analysis(servers):
    result = run(*servers, job="prod2vec_tuning_job")

    assert result.success
    assert {"prod2vec_tuning_analysis", "similar_products"} <= materialized(result)
    chosen = metadata(result, "prod2vec_hyperparameters")
    assert chosen["source"] == "tuned" and 0 < chosen["validation_hr_at_10"] <= 1
    analysis = metadata(result, "prod2vec_tuning_analysis")
    assert analysis["trials"] == 3
    trials = pd.read_csv(io.BytesIO(s3_object(servers[2], analysis["csv"])))
    assert len(trials) == 3 and {"embedding_dim", "learning_rate", "hr_at_10"} <= set(trials)
    defaults = Hyperparameters()  # the first trial, so the pick is never below them
    first = trials.iloc[0]
    assert (first["embedding_dim"], first["learning_rate"], first["blend_strength"]) == (
        defaults.embedding_dim,
        defaults.learning_rate,
        defaults.blend_strength,
    )
    assert first["state"] == "COMPLETE"  # never pruned: the pruner waits for 3 trials
    assert chosen["validation_hr_at_10"] >= first["hr_at_10"]
    assert "data:image/png;base64," in analysis["plot/search_history"]
    assert "data:image/png;base64," in analysis["plot/parameters"]


def test_the_gate_needs_co_occurrence_beaten_not_only_popularity_and_a_servable_similar():
    passing = {
        "hr_at_10": 0.55,
        "popularity_hr_at_10": 0.45,
        "cooccurrence_hr_at_10": 0.52,
        "similar_hr_at_10": 0.55,
    }

    assert passes_quality_gate(passing)
    assert not passes_quality_gate({**passing, "cooccurrence_hr_at_10": 0.55})  # a tie fails
    assert not passes_quality_gate({**passing, "hr_at_10": 0.50, "similar_hr_at_10": 0.50})
    assert not passes_quality_gate({**passing, "similar_hr_at_10": 0.14})  # cosine at 0.14


def test_too_few_pairs_block_tuning_and_training(postgres_warehouse, s3_bucket, s3_endpoint):
    result = run(postgres_warehouse, s3_bucket, s3_endpoint, min_pairs=10**9)

    checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    assert checks["skipgram_pairs_are_valid"] is False
    assert "skipgram_pairs" in materialized(result)
    assert not materialized(result) & {"prod2vec_hyperparameters", "prod2vec_model"}
