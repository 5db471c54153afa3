"""The recommender graph materialized on the real servers, on small generated MovieLens data."""

import dagster as dg
import pytest

from ml_platform.core.storage import ObjectStore, ObjectStoreIOManager
from ml_platform.core.warehouse import WarehouseIOManager
from ml_platform.recommender import definitions as recommender
from ml_platform.recommender.resources import RecommenderSettings

# big enough that top-100 is a real cut of the catalogue (100 of 1,000 movies)
SMALL = {"generated_users": 400, "generated_movies": 1000, "generated_ratings": 40_000}


def run(warehouse, bucket: str, endpoint: str, **settings) -> dg.ExecuteInProcessResult:
    store = ObjectStore(base_uri=f"s3://{bucket}/platform", endpoint_url=endpoint)
    product = recommender.build_definitions(RecommenderSettings(**SMALL, **settings))
    defs = dg.Definitions.merge(
        product,
        dg.Definitions(
            resources={
                "io_manager": ObjectStoreIOManager(store=store),
                "warehouse_io_manager": WarehouseIOManager(warehouse=warehouse),
            }
        ),
    )
    return defs.resolve_job_def("recommender_job").execute_in_process(raise_on_error=False)


@pytest.fixture(scope="module")
def materialized(tmp_path_factory, postgres_url, s3_endpoint):
    """One full run shared by the tests below (training is the slow part)."""
    import uuid

    import boto3
    import sqlalchemy as sa

    from ml_platform.core.warehouse import Warehouse

    bucket = f"test-{uuid.uuid4().hex[:16]}"
    boto3.client("s3", endpoint_url=s3_endpoint).create_bucket(Bucket=bucket)
    warehouse = Warehouse(url=postgres_url, db_schema=f"test_{uuid.uuid4().hex[:12]}")
    with warehouse.engine().begin() as conn:
        conn.execute(sa.schema.CreateSchema(warehouse.db_schema))
    yield run(warehouse, bucket, s3_endpoint), warehouse
    with warehouse.engine().begin() as conn:
        conn.execute(sa.schema.DropSchema(warehouse.db_schema, cascade=True))


def metadata(result, asset: str) -> dict:
    event = next(
        e
        for e in result.get_asset_materialization_events()
        if e.step_materialization_data.materialization.asset_key.to_user_string() == asset
    )
    return {k: v.value for k, v in event.step_materialization_data.materialization.metadata.items()}


def test_every_asset_materializes_and_its_checks_pass(materialized):
    result, _ = materialized
    assert result.success
    done = {
        e.step_materialization_data.materialization.asset_key.to_user_string()
        for e in result.get_asset_materialization_events()
    }
    assert done == {
        "movies",
        "ratings",
        "ratings_split",
        "retrieval_model",
        "candidate_index",
        "ranking_model",
        "recommender_model",
        "recommendations",
    }
    failed = [e.check_name for e in result.get_asset_check_evaluations() if not e.passed]
    assert failed == []


def test_models_record_their_metrics_beside_the_baselines_and_a_plot(materialized):
    result, _ = materialized
    ranking = metadata(result, "ranking_model")
    assert ranking["metric/rmse"] < ranking["metric/bias_rmse"] < ranking["metric/global_mean_rmse"]
    retrieval = metadata(result, "retrieval_model")
    assert retrieval["metric/top_100_accuracy"] > retrieval["metric/popularity_top_100_accuracy"]
    assert "data:image/png;base64," in retrieval["plot/training"]


def test_recommendations_hold_top_k_unseen_movies_per_user(materialized):
    _, warehouse = materialized
    table = warehouse.read_table("recommendations")
    assert table.groupby("user_id").size().eq(10).all()
    assert table.groupby("user_id")["movie_id"].nunique().eq(10).all()
    ratings = RecommenderSettings(**SMALL).dataset().ratings
    seen = table.merge(ratings, on=["user_id", "movie_id"])
    assert seen.empty


def test_a_stage_worse_than_its_baseline_blocks_recommendations(
    postgres_warehouse, s3_bucket, s3_endpoint
):
    # one epoch cannot learn the data: a blocking check must fail and stop the export
    result = run(postgres_warehouse, s3_bucket, s3_endpoint, max_epochs=1)
    checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    done = {
        e.step_materialization_data.materialization.asset_key.to_user_string()
        for e in result.get_asset_materialization_events()
    }
    failed = {name for name, passed in checks.items() if not passed}
    assert failed & {"retrieval_beats_popularity", "ranking_beats_bias_baseline"}
    assert "recommendations" not in done and "recommender_model" not in done
