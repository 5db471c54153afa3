import shutil
from pathlib import Path

import dagster as dg
import pytest
from dagster._cli.utils import get_temporary_instance_for_cli
from dagster_postgres import PostgresEventLogStorage, PostgresRunStorage, PostgresScheduleStorage

from ml_platform_tests.conftest import service_env

REPO_ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_INSTANCE_CONFIG = REPO_ROOT / "deploy" / "dagster.yaml"


@pytest.fixture
def production_dagster_home(tmp_path) -> Path:
    """A DAGSTER_HOME-like folder holding the repository's production instance config."""
    service_env("DAGSTER_PG_HOST")  # the config's connection comes from the DAGSTER_PG_* variables
    shutil.copy(PRODUCTION_INSTANCE_CONFIG, tmp_path / "dagster.yaml")
    return tmp_path


@pytest.mark.postgres
def test_production_instance_keeps_runs_events_and_schedules_in_postgres(production_dagster_home):
    @dg.asset
    def tiny() -> int:
        return 1

    with dg.DagsterInstance.from_config(str(production_dagster_home)) as instance:
        result = dg.materialize(
            [tiny], instance=instance, resources={"io_manager": dg.mem_io_manager}
        )

        assert isinstance(instance.run_storage, PostgresRunStorage)
        assert isinstance(instance.event_log_storage, PostgresEventLogStorage)
        assert isinstance(instance.schedule_storage, PostgresScheduleStorage)
        assert isinstance(instance.run_coordinator, dg.QueuedRunCoordinator)
        assert instance.run_coordinator.get_run_queue_config().max_concurrent_runs == 10
        assert not instance.telemetry_enabled
        # a run whose worker died is marked failed and started again, not left STARTED
        assert instance.run_monitoring_enabled
        assert instance.run_retries_enabled and instance.run_retries_max_retries == 2
        assert instance.get_run_by_id(result.run_id).status == dg.DagsterRunStatus.SUCCESS
        materialization = instance.get_latest_materialization_event(dg.AssetKey("tiny"))
        assert materialization.run_id == result.run_id


def test_dagster_dev_from_the_repository_root_does_not_use_the_production_config(monkeypatch):
    """`dagster dev` without DAGSTER_HOME reads ./dagster.yaml, so the production file must live
    elsewhere or local development would need PostgreSQL."""
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    monkeypatch.chdir(REPO_ROOT)

    with get_temporary_instance_for_cli("dagster dev") as instance:
        assert not isinstance(instance.run_storage, PostgresRunStorage)
