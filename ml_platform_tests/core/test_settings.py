import boto3
import dagster as dg
import pandas as pd
import pytest

from ml_platform.core.errors import InvalidInputError
from ml_platform.core.settings import build_executor, build_resources
from ml_platform.core.warehouse import Warehouse


@dg.asset
def raw_events() -> pd.DataFrame:
    return pd.DataFrame({"user": ["ann", "bob", "ann"]})


@dg.asset(io_manager_key="warehouse_io_manager")
def event_counts(raw_events: pd.DataFrame) -> pd.DataFrame:
    return raw_events.value_counts("user").rename("events").reset_index()


def materialize_both(resources: dict[str, object]) -> None:
    dg.materialize([raw_events, event_counts], resources=resources)


def test_local_deployment_keeps_everything_under_ml_platform_home(tmp_path, monkeypatch):
    for name in ("ML_PLATFORM_ENV", "ML_PLATFORM_STORAGE_URI", "ML_PLATFORM_WAREHOUSE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ML_PLATFORM_HOME", str(tmp_path))

    materialize_both(build_resources())

    assert (tmp_path / ".ml_platform" / "storage" / "raw_events.parquet").is_file()
    warehouse = Warehouse(url=f"sqlite:///{tmp_path / '.ml_platform' / 'warehouse.db'}")
    assert dict(warehouse.read_table("event_counts").values.tolist()) == {"ann": 2, "bob": 1}


@pytest.mark.postgres
@pytest.mark.s3
def test_production_deployment_stores_assets_in_s3_and_tables_in_postgres(
    monkeypatch, s3_bucket, s3_endpoint, postgres_url
):
    monkeypatch.setenv("ML_PLATFORM_ENV", "production")
    monkeypatch.setenv("ML_PLATFORM_STORAGE_URI", f"s3://{s3_bucket}/prod")
    monkeypatch.setenv("ML_PLATFORM_S3_ENDPOINT_URL", s3_endpoint)
    monkeypatch.setenv("ML_PLATFORM_WAREHOUSE_URL", postgres_url)
    warehouse = Warehouse(url=postgres_url)

    try:
        materialize_both(build_resources())

        listing = boto3.client("s3", endpoint_url=s3_endpoint).list_objects_v2(Bucket=s3_bucket)
        assert [obj["Key"] for obj in listing["Contents"]] == ["prod/raw_events.parquet"]
        assert dict(warehouse.read_table("event_counts").values.tolist()) == {"ann": 2, "bob": 1}
    finally:
        with warehouse.engine().begin() as conn:
            conn.exec_driver_sql("DROP TABLE IF EXISTS event_counts")


def test_production_resources_hold_environment_references_not_values(monkeypatch):
    monkeypatch.setenv(
        "ML_PLATFORM_WAREHOUSE_URL", "postgresql+psycopg2://user:secret@db/warehouse"
    )
    monkeypatch.delenv("ML_PLATFORM_S3_ENDPOINT_URL", raising=False)

    resources = build_resources("production")

    assert resources["warehouse"].url == dg.EnvVar("ML_PLATFORM_WAREHOUSE_URL")
    assert resources["object_store"].endpoint_url is None


def test_unknown_deployment_is_refused_with_the_choices(monkeypatch):
    monkeypatch.setenv("ML_PLATFORM_ENV", "staging")

    with pytest.raises(InvalidInputError, match="'staging', expected one of: local, production"):
        build_resources()


def test_local_runs_execute_their_steps_in_the_run_process_production_runs_a_process_per_step(
    monkeypatch,
):
    monkeypatch.delenv("ML_PLATFORM_ENV", raising=False)

    assert build_executor() is dg.in_process_executor
    assert build_executor("production") is dg.multiprocess_executor
    monkeypatch.setenv("ML_PLATFORM_ENV", "staging")
    with pytest.raises(InvalidInputError, match="'staging'"):
        build_executor()


def test_the_code_location_runs_every_job_with_the_deployments_executor():
    from ml_platform.definitions import defs

    executors = {job.name: job.executor_def for job in defs.resolve_all_job_defs()}

    assert executors and set(executors.values()) == {build_executor()}
